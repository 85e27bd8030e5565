"""Benchmark baseline: the platform's hub, but sessions spawned by stock batchspawner.SlurmSpawner.

Same partition, CPUs, memory and walltime as the cpu-course profile; only `--get-user-env=L` is
dropped from batchspawner's template (Slurm refuses it for non-root submitters).
"""

import batchspawner

c = get_config()  # noqa: F821
load_subconfig(str(__import__("pathlib").Path(__file__).resolve().parents[1] / "hub" / "aifnb_hub" / "jupyterhub_config.py"))  # noqa: F821
c.JupyterHub.spawner_class = "batchspawner.SlurmSpawner"
c.SlurmSpawner.exec_prefix = "runuser -u {username} --"
c.SlurmSpawner.batch_script = batchspawner.SlurmSpawner.batch_script.default_value.replace("#SBATCH --get-user-env=L\n", "")
c.SlurmSpawner.req_partition = "cpu"
c.SlurmSpawner.req_nprocs = "2"
c.SlurmSpawner.req_memory = "4G"
c.SlurmSpawner.req_runtime = "02:00:00"
c.SlurmSpawner.startup_poll_interval = 0.5
