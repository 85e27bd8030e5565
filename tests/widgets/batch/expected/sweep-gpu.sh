#!/bin/bash
#SBATCH --job-name=aifnb-batch-train
#SBATCH --output=/home/alice/ai-factory-runs/train/20261123T180000Z-%A_%a/job.log
#SBATCH --chdir=/home/alice
#SBATCH --export=NONE
#SBATCH --partition=gpu
#SBATCH --time=04:00:00
#SBATCH --cpus-per-task=8
#SBATCH --mem=32G
#SBATCH --gres=gpu:1
#SBATCH --array=0-2
set -euo pipefail
# The run's start as Slurm sees it, for job.json: the runner's own clock starts after Python's imports.
export AIFNB_STARTED_AT="$(date +%s.%N)"
trap 'echo "aifnb: batch job received SIGTERM, stopping"' TERM
run_dir=/home/alice/ai-factory-runs/train/20261123T180000Z-"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
echo "aifnb: batch job ${SLURM_JOB_ID} (profile gpu-sandbox) on $(hostname) at $(date -Is); outputs in ${run_dir}"
module load cuda
/opt/aifnb/venv/bin/python -m aifnb_widgets.batch.runner "${run_dir}"
