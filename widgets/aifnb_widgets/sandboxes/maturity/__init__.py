"""AI-maturity self-assessment: the model (YAML) and its scoring."""
