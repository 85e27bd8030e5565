#!/bin/bash
#SBATCH --job-name=aifnb-batch-train
#SBATCH --output=/home/alice/ai-factory-runs/train/20261123T180000Z-%j/job.log
#SBATCH --chdir=/home/alice
#SBATCH --export=NONE
#SBATCH --partition=cpu
#SBATCH --time=02:00:00
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
set -euo pipefail
# The run's start as Slurm sees it, for job.json: the runner's own clock starts after Python's imports.
export AIFNB_STARTED_AT="$(date +%s.%N)"
trap 'echo "aifnb: batch job received SIGTERM, stopping"' TERM
run_dir=/home/alice/ai-factory-runs/train/20261123T180000Z-"${SLURM_JOB_ID}"
echo "aifnb: batch job ${SLURM_JOB_ID} (profile cpu-course) on $(hostname) at $(date -Is); outputs in ${run_dir}"
/opt/aifnb/venv/bin/python -m aifnb_widgets.batch.runner "${run_dir}"
