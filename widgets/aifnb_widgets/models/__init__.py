"""Small models built locally (no hub access): for tests, course notebooks and demos."""
