"""Seeded synthetic data per priority sector: the sandboxes run with no download and no personal data."""
