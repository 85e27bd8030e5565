"""Slurm spawner of the AI Factory notebook platform: profiles as data, validated options, one batch template."""
