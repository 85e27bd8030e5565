"""AI Act (Regulation (EU) 2024/1689) triage and conformity self-assessment: rules and checklists as data."""
