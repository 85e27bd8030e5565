#!/bin/bash
#SBATCH --job-name=aifnb-session-alice
#SBATCH --output=/home/alice/.aifnb/logs/session-%j.log
#SBATCH --chdir=/home/alice
#SBATCH --export=JUPYTERHUB_API_TOKEN,JPY_API_TOKEN,JUPYTERHUB_CLIENT_ID,JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED,JUPYTERHUB_HOST,JUPYTERHUB_OAUTH_CALLBACK_URL,JUPYTERHUB_OAUTH_SCOPES,JUPYTERHUB_OAUTH_ACCESS_SCOPES,JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES,JUPYTERHUB_USER,JUPYTERHUB_SERVER_NAME,JUPYTERHUB_API_URL,JUPYTERHUB_ACTIVITY_URL,JUPYTERHUB_BASE_URL,JUPYTERHUB_SERVICE_URL,JUPYTERHUB_PUBLIC_URL,JUPYTERHUB_PUBLIC_HUB_URL,PATH,USER,HOME,SHELL
#SBATCH --partition=gpu
#SBATCH --time=04:00:00
#SBATCH --cpus-per-task=8
#SBATCH --mem=32G
#SBATCH --gres=gpu:1
set -euo pipefail
trap 'echo "aifnb: session job received SIGTERM, stopping"' TERM
echo "aifnb: session ${SLURM_JOB_ID} (profile gpu-sandbox) on $(hostname) at $(date -Is)"
# Courses and sandboxes: new and untouched files update, the user's edits are kept (nbgitpuller).
# In a subshell, so these git settings do not reach the user's session.
sync_content() {
    (
        export GIT_CONFIG_GLOBAL=/var/lib/aifnb/content.gitconfig
        if [ -d /home/alice/ai-factory/.git ]; then
            # The platform's content repository may have moved since the last session.
            git -C /home/alice/ai-factory remote set-url origin /var/lib/aifnb/content
        fi
        /opt/aifnb/venv/bin/gitpuller /var/lib/aifnb/content main /home/alice/ai-factory
    ) || echo "aifnb: content sync failed; the session starts with the files already there"
}
if [ -d /home/alice/ai-factory/.git ]; then
    sync_content &  # an update merges while the server starts
else
    sync_content    # the first session waits: the folder it opens must exist
fi
# The session's JupyterLab settings (checked in beside the spawner); the resource monitor shows
# use against this job's allocation, not the whole node's.
export JUPYTER_CONFIG_PATH=/opt/aifnb/session_config${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}
export MEM_LIMIT=$(( ${SLURM_MEM_PER_NODE:-0} * 1024 * 1024 )) CPU_LIMIT=${SLURM_CPUS_PER_TASK:-0}
srun --export=ALL /opt/aifnb/venv/bin/batchspawner-singleuser /opt/aifnb/venv/bin/jupyterhub-singleuser --ServerApp.shutdown_no_activity_timeout=1800 --MappingKernelManager.cull_idle_timeout=1800 --MappingKernelManager.cull_interval=60
echo "aifnb: notebook server ended"
