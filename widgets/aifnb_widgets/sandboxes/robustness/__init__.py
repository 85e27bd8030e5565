"""Robustness and security test sets (perturbations, prompt injection) and their pass-rate scoring."""
