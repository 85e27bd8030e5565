"""FactorySlurmSpawner: batchspawner's SlurmSpawner with profiles as data and its weak spots fixed.

What changes against batchspawner 1.3.0, and why:

* the batch script is rendered from a template file with only server-side values: a
  :class:`~aifnb_slurm.profiles.JobRequest` checked against the profile (batchspawner merges
  ``user_options`` straight into its template);
* Slurm commands run as argv lists with a time limit (batchspawner formats shell strings and
  waits forever), and a transient ``squeue`` failure reads as "unknown", not "job gone"
  (batchspawner #315), so a Slurm hiccup does not drop a running server;
* a job that ends before its server reports a port fails the spawn at once with the tail of the
  job's log (batchspawner waits for ``start_timeout``);
* progress shows Slurm's state, pending reason and expected start time;
* all sessions share one ``squeue`` call per tick (:class:`~aifnb_slurm.slurm.SlurmClient`),
  so the hub polls every 5 s and a session killed with ``scancel`` is marked stopped within
  seconds (JupyterHub's 30 s ``poll_interval`` left it "running" for ~25 s);
* ``stop`` retries ``scancel`` until Slurm confirms the job is gone (batchspawner sends one and
  forgets the job after 10 s, leaving an orphan when it was lost);
* batchspawner settings it does not read (``req_partition``, ``batch_script``, ``exec_prefix``...)
  stop the hub naming what replaces them (:data:`REPLACED_SETTINGS`) instead of being ignored;
* a spawn link (``/hub/spawn/NAME?opt-profile=...``) may name only a profile and a workshop, checked
  like the form's options (JupyterHub's default hands the query to ``options_from_form``);
* only people's accounts run jobs: a hub user named ``root``, ``slurm`` or ``nobody`` (or any
  uid outside ``min_uid``-``max_uid``) is refused with a 403 before anything reaches Slurm
  (batchspawner runs ``sudo -u NAME`` for whatever name the hub has).
"""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from pathlib import Path

import batchspawner
from batchspawner.batchspawner import JobStatus
from jupyterhub.spawner import SpawnException
from traitlets import Bool, Float, Integer, List, Unicode, default, validate

from aifnb_slurm.accounts import DENIED_USERS, AccountError, AccountPolicy, login_defs_uid_range
from aifnb_slurm.jobs import job_name
from aifnb_slurm.profiles import (
    USER_OPTION_KEYS,
    JobRequest,
    OptionError,
    Profile,
    ProfileList,
    Workshop,
    resolve_request,
)
from aifnb_slurm.slurm import SlurmClient, SlurmCommandError, run_as_prefix, run_slurm
from aifnb_slurm.templates import TEMPLATES, render
from aifnb_slurm.usage_log import record_session_event

from . import callback  # noqa: F401  (installs the port-only job callback)

#: Jupyter configuration of every session (news prompt off, resource monitor against the job).
SESSION_CONFIG = Path(__file__).with_name("session_config")

#: batchspawner settings this spawner does not read, and what replaces each: set one and the hub
#: stops at start-up naming the replacement, instead of ignoring it silently.
REPLACED_SETTINGS = {
    "req_partition": "the profile's partition (profiles[].partition)",
    "req_queue": "the profile's partition (profiles[].partition)",
    "req_memory": "the profile's memory (profiles[].memory)",
    "req_nprocs": "the profile's cpus (profiles[].cpus, limits.cpus)",
    "req_ngpus": "the profile's gpus (profiles[].gpus, limits.gpus)",
    "req_gres": "the profile's gpus and gpu_type (profiles[].gpus, profiles[].gpu_type)",
    "req_runtime": "the profile's walltime (profiles[].walltime, limits.walltime_max)",
    "req_account": "the profile's account (profiles[].account)",
    "req_qos": "the profile's qos (profiles[].qos)",
    "req_reservation": "the profile's reservation (profiles[].reservation)",
    "req_cluster": "one hub per cluster (sbatch's default cluster)",
    "req_host": "hub.hub_connect_ip (where jobs reach the hub)",
    "req_options": "profile fields (free-form sbatch options are not accepted)",
    "req_keepvars_extra": "Spawner.environment (what the job receives)",
    "batch_script": "FactorySlurmSpawner.batch_script_template (a template file)",
    "batch_submit_cmd": "argv-only Slurm commands (aifnb_slurm.slurm)",
    "batch_query_cmd": "argv-only Slurm commands (aifnb_slurm.slurm)",
    "batch_cancel_cmd": "argv-only Slurm commands (aifnb_slurm.slurm)",
    "exec_prefix": "runuser as root, sudo otherwise (aifnb_slurm.slurm.run_as_prefix)",
    "batchspawner_singleuser_cmd": "FactorySlurmSpawner.python_prefix (its bin/ holds the commands)",
    "state_exechost_re": "the node squeue reports (aifnb_slurm.slurm.SqueueBatcher)",
    "state_exechost_exp": "the node squeue reports (aifnb_slurm.slurm.SqueueBatcher)",
    "state_unknown_re": "Slurm's transient errors (aifnb_slurm.slurm.SlurmCommandError.transient)",
    "cmd": "FactorySlurmSpawner.python_prefix (jupyterhub-singleuser from its bin/)",
    "availability_ttl": "SlurmClient.sinfo_ttl",
}
_SECTIONS = ("FactorySlurmSpawner", "SlurmSpawner", "BatchSpawnerRegexStates", "BatchSpawnerBase", "Spawner")


def replaced_settings(config) -> list[str]:
    """Messages for each setting in ``config`` (a traitlets Config) that this spawner replaces."""
    return [
        f"{section}.{name} is not used by FactorySlurmSpawner; set {instead} instead"
        for section in _SECTIONS
        for name, instead in REPLACED_SETTINGS.items()
        if f"{section}.{name}" in config
    ]


class FactorySlurmSpawner(batchspawner.SlurmSpawner):
    """Spawns a JupyterLab session as a Slurm job, shaped by the profile the user picked."""

    profiles = List(
        help="Profiles offered in the spawn form: dicts validated by aifnb_slurm.profiles.Profile.",
    ).tag(config=True)

    workshops = List(
        help="Workshops (class sessions) members of a group may start during a window, on a profile and "
        "optionally a Slurm reservation: dicts validated by aifnb_slurm.profiles.Workshop. A user picks one "
        "by slug (the user option 'workshop'); the profile and the reservation come from here.",
    ).tag(config=True)

    workshops_file = Unicode(
        "",
        help="JSON file of the workshops trainers declare on the hub (aifnb_hub.journey.workshops), "
        "read with `workshops` at each start. Empty: the settings' workshops only.",
    ).tag(config=True)

    batch_script_template = Unicode(
        str(TEMPLATES / "session.sh.j2"),
        help="Path of the Jinja2 batch-script template, rendered by the job layer's one environment "
        "(aifnb_slurm.templates). It receives username, job_name, homedir, log_path, keepvars, "
        "request (a JobRequest), prologue, epilogue, content (repo, branch, target, "
        "gitpuller, git_config, or None), srun, session_config and cmd; the filter `quote` "
        "shell-quotes a value.",
    ).tag(config=True)

    session_config_dir = Unicode(
        str(SESSION_CONFIG),
        help="Folder of the sessions' Jupyter configuration (JupyterLab's news prompt off, the "
        "resource monitor against the job's allocation), as the compute nodes see it. Default: "
        "the spawner package's session_config/; set it when the nodes' python_prefix is not the "
        "hub's own environment.",
    ).tag(config=True)

    python_prefix = Unicode(
        sys.prefix,
        help="Prefix of the Python environment on the compute nodes (its bin/ holds "
        "jupyterhub-singleuser, batchspawner-singleuser and gitpuller).",
    ).tag(config=True)

    content_repo = Unicode(
        "",
        help="Git URL or path of the platform's courses and sandboxes, pulled into the user's home "
        "by nbgitpuller at each start (the user's edits win). Empty: no content sync.",
    ).tag(config=True)

    content_branch = Unicode("main", help="Branch of content_repo to pull.").tag(config=True)

    content_git_config = Unicode(
        "",
        help="Git config file given to nbgitpuller as GIT_CONFIG_GLOBAL (e.g. to trust a content "
        "repository owned by root on a shared filesystem). Empty: the user's own git config.",
    ).tag(config=True)

    content_dir = Unicode(
        "ai-factory",
        help="Folder under the user's home that receives the content.",
    ).tag(config=True)

    log_dir = Unicode(
        ".aifnb/logs",
        help="Folder under the user's home where session job logs go (created before submission).",
    ).tag(config=True)

    slurm_timeout = Float(
        30.0,
        help="Seconds to wait for sbatch, squeue or scancel before treating Slurm as unavailable.",
    ).tag(config=True)

    usage_log = Unicode(
        "",
        help="JSONL file where session starts and stops are appended (aifnb_slurm.usage_log), "
        "for usage reports on clusters without Slurm accounting. Empty: no log.",
    ).tag(config=True)

    usage_recorded = Bool(False, help="Whether this session's start is in the usage log (kept in the hub's state).")

    log_tail_lines = Integer(
        30,
        help="Lines of the job's log shown to the user when the job ends before the server is up.",
    ).tag(config=True)

    cancel_attempts = Integer(
        3,
        help="scancel attempts, each followed by up to cancel_confirm_timeout seconds of waiting for "
        "Slurm to confirm the job is gone, before the stop is logged as an error with the job id.",
    ).tag(config=True)

    cancel_confirm_timeout = Float(
        10.0,
        help="Seconds to wait after each scancel for squeue to stop listing the job as running.",
    ).tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        problems = replaced_settings(self.config)
        if problems:
            raise ValueError("; ".join(problems))

    @default("req_srun")
    def _req_srun_default(self) -> str:
        # srun inherits sbatch's --export list (SLURM_EXPORT_ENV): without --export=ALL what the
        # prologue (module load) and the script export would not reach the notebook server.
        return "srun --export=ALL"

    @default("poll_interval")
    def _poll_interval_default(self) -> int:
        # JupyterHub's 30 s left a session killed by scancel marked running for ~25 s; polls cost
        # little here, since all sessions share one squeue call per SlurmClient.squeue_tick.
        return 5

    @property
    def slurm(self) -> SlurmClient:
        """The hub's shared Slurm client (batched squeue, cached sinfo)."""
        return SlurmClient.instance(config=self.config)

    min_uid = Integer(
        help="Lowest uid whose owner may run session jobs; default UID_MIN from /etc/login.defs.",
    ).tag(config=True)

    max_uid = Integer(
        help="Highest uid whose owner may run session jobs; default UID_MAX from /etc/login.defs (keeps nobody, 65534, out).",
    ).tag(config=True)

    denied_users = List(
        Unicode(),
        sorted(DENIED_USERS),
        help="Account names that never run jobs, whatever their uid (root, slurm, munge, ...).",
    ).tag(config=True)

    @default("min_uid")
    def _min_uid_default(self) -> int:
        return login_defs_uid_range()[0]

    @default("max_uid")
    def _max_uid_default(self) -> int:
        return login_defs_uid_range()[1]

    @property
    def account_policy(self) -> AccountPolicy:
        return AccountPolicy(min_uid=self.min_uid, max_uid=self.max_uid, denied=frozenset(self.denied_users))

    @validate("profiles")
    def _validate_profiles(self, proposal: dict) -> list:
        ProfileList(profiles=proposal["value"])  # raises with the offending key named
        return proposal["value"]

    @validate("workshops")
    def _validate_workshops(self, proposal: dict) -> list:
        for workshop in proposal["value"]:
            Workshop.model_validate(workshop)  # raises with the offending key named
        return proposal["value"]

    @default("options_form")
    def _options_form_default(self):
        return self._render_options_form

    @default("apply_user_options")
    def _apply_user_options_default(self):
        # JupyterHub (>= 5.3) runs this before start(), for the form and the REST API alike,
        # and answers 400 with our message when it raises.
        return lambda spawner, options: spawner.job_request(options)

    # -- profiles and options ------------------------------------------------------------

    @property
    def profile_list(self) -> tuple[Profile, ...]:
        return ProfileList(profiles=self.profiles).profiles

    @property
    def user_groups(self) -> list[str]:
        return [g.name for g in self.user.groups]

    async def _render_options_form(self, spawner: FactorySlurmSpawner) -> str:
        allowed = [p for p in self.profile_list if p.allowed_for(self.user_groups)]
        if not allowed:
            return "<p>No session profile is available to your groups. Please contact the Factory's admins.</p>"
        return render(
            "options_form.html.j2",
            extra_dirs=self._template_dirs,
            profiles=allowed,
            availability=await self.slurm.availability.get(),
        )

    @property
    def _template_dirs(self) -> tuple[str, ...]:
        """The site's template folder (that of batch_script_template), searched before the platform's."""
        return (str(Path(self.batch_script_template).parent),)

    def options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, str]:
        """Keep the chosen profile and that profile's own fields; check them at once."""
        profile = (formdata.get("profile") or [""])[0]
        options = {"profile": profile}
        for key in USER_OPTION_KEYS[1:]:
            value = formdata.get(f"{key}-{profile}")
            if value:
                options[key] = value[0]
        self.job_request(options)
        return options

    def options_from_query(self, query_data: dict[str, list[str]]) -> dict[str, str]:
        """Options from a link (``/hub/spawn/NAME?opt-profile=...&opt-workshop=...``): only a
        profile and a workshop, one value each, checked at once as the form's are."""
        unknown = sorted(set(query_data) - {"profile", "workshop"})
        if unknown:
            raise SpawnException(
                f"{unknown[0][:40]}: unknown option in the link; a link may name only profile and workshop",
                reason="invalid_options",
                status_code=400,
            )
        options = {key: values[0] for key in ("profile", "workshop") if (values := query_data.get(key))}
        self.job_request(options)
        return options

    @property
    def workshop_list(self) -> tuple[Workshop, ...]:
        declared = []
        if self.workshops_file:
            try:
                declared = json.loads(Path(self.workshops_file).read_text(encoding="utf-8"))
            except FileNotFoundError:
                pass
        return tuple(Workshop.model_validate(w) for w in [*self.workshops, *declared])

    def job_request(self, options: dict) -> JobRequest:
        """The job the options ask for, or a SpawnException: 403 for a system account, 400 naming
        the field and what is allowed for bad options."""
        try:
            self.account_policy.check(self.user.name)
        except AccountError as exc:
            raise SpawnException(str(exc), reason="system_account", status_code=403) from None
        try:
            return resolve_request(self.profile_list, self.user_groups, options or {}, self.workshop_list)
        except OptionError as exc:
            raise SpawnException(str(exc), reason="invalid_options", status_code=400) from None

    # -- the batch script ----------------------------------------------------------------

    @property
    def log_path(self) -> str:
        return f"{self.req_homedir}/{self.log_dir}/session-%j.log"

    def render_batch_script(self) -> str:
        """The script for the current user and options; raises SpawnException on bad options."""
        request = self.job_request(self.user_options)
        bin_dir = Path(self.python_prefix) / "bin"
        server_cmd = [
            str(bin_dir / "batchspawner-singleuser"),
            str(bin_dir / "jupyterhub-singleuser"),
            # The profile's idle limit, enforced by the server itself (GPU sessions stop sooner).
            f"--ServerApp.shutdown_no_activity_timeout={request.idle_timeout}",
            f"--MappingKernelManager.cull_idle_timeout={request.idle_timeout}",
            "--MappingKernelManager.cull_interval=60",
            # The GPU dashboard only where there is a GPU to show.
            *([] if request.gpus else ["--ServerApp.jpserver_extensions=jupyterlab_nvdashboard=False"]),
            *self.args,
        ]
        content = None
        if self.content_repo:
            content = {
                "repo": self.content_repo,
                "branch": self.content_branch,
                "target": f"{self.req_homedir}/{self.content_dir}",
                "gitpuller": str(bin_dir / "gitpuller"),
                "git_config": self.content_git_config,
            }
        return render(
            Path(self.batch_script_template).name,
            extra_dirs=self._template_dirs,
            username=self.user.name,
            job_name=job_name("session", self.user.name),
            homedir=self.req_homedir,
            log_path=self.log_path,
            keepvars=",".join(self.get_env().keys()),
            request=request,
            prologue=self.req_prologue,
            epilogue=self.req_epilogue,
            content=content,
            srun=f"{self.req_srun} " if self.req_srun else "",
            session_config=self.session_config_dir,
            cmd=shlex.join(server_cmd),
        )

    # -- Slurm conversation -----------------------------------------------------------------

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        # batchspawner looks the user up in passwd on every call; req_homedir already holds it.
        env.update(USER=self.user.name, HOME=self.req_homedir, SHELL="/bin/bash")
        return env

    def _as_user(self, *argv: str) -> list[str]:
        return [*run_as_prefix(self.user.name, self.account_policy), *argv]

    async def submit_batch_script(self) -> str:
        # Replaces batchspawner's: its version merges user_options into the template and runs a
        # shell string.
        script = self.render_batch_script()
        env = self.get_env()
        try:
            prefix = run_as_prefix(self.user.name, self.account_policy)
        except AccountError as exc:
            raise SpawnException(str(exc), reason="system_account", status_code=403) from None
        try:
            await run_slurm([*prefix, "mkdir", "-p", f"{self.req_homedir}/{self.log_dir}"], env=env, timeout=self.slurm_timeout)
            out = await run_slurm([*prefix, "sbatch", "--parsable"], env=env, stdin=script, timeout=self.slurm_timeout)
        except SlurmCommandError as exc:
            raise SpawnException(f"Slurm refused the session job: {exc.stderr}", reason="sbatch_failed") from None
        self.job_id = self.parse_job_id(out)
        self.log.info("Submitted session job %s for %s", self.job_id, self._log_name)
        return self.job_id

    async def query_job_status(self) -> JobStatus:
        if not self.job_id:
            self.job_status = ""
            return JobStatus.NOTFOUND
        try:
            out = await self.slurm.squeue.status(self.job_id)
        except SlurmCommandError as exc:
            # Slurm's trouble, not the job's: keep the server (batchspawner #315).
            self.log.warning("squeue failed for job %s, treating its state as unknown: %s", self.job_id, exc)
            return JobStatus.UNKNOWN
        self.job_status = out
        if self.state_isrunning():
            return JobStatus.RUNNING
        if self.state_ispending():
            return JobStatus.PENDING
        return JobStatus.NOTFOUND

    async def cancel_batch_job(self) -> None:
        if not self.job_id:
            return
        self.log.info("Cancelling session job %s of %s", self.job_id, self._log_name)
        try:
            await run_slurm(self._as_user("scancel", self.job_id), env=self.get_env(), timeout=self.slurm_timeout)
        except SlurmCommandError as exc:
            self.log.error("scancel %s failed: %s", self.job_id, exc)

    async def stop(self, now: bool = False) -> None:
        # Replaces batchspawner's: it sends one scancel, waits 10 s and then forgets the job
        # whatever Slurm says, so a lost scancel left an orphan job holding its node or GPUs.
        if not self.job_id:
            return
        attempts = 1 if now else self.cancel_attempts
        for attempt in range(1, attempts + 1):
            await self.cancel_batch_job()
            if now or await self._cancel_confirmed():
                return
            self.log.warning("Session job %s still listed after scancel attempt %d of %d", self.job_id, attempt, attempts)
        self.log.error(
            "Session job %s of %s did not end after %d scancel attempts; cancel it by hand (scancel %s)",
            self.job_id,
            self._log_name,
            attempts,
            self.job_id,
        )

    async def _cancel_confirmed(self) -> bool:
        """Whether squeue stops listing the job as live within cancel_confirm_timeout."""
        deadline = asyncio.get_running_loop().time() + self.cancel_confirm_timeout
        while asyncio.get_running_loop().time() < deadline:
            status = await self.query_job_status()
            if status == JobStatus.NOTFOUND or self.job_status.startswith(("COMPLETING", "CANCELLED")):
                return True
            await asyncio.sleep(self.startup_poll_interval)
        return False

    def state_gethost(self) -> str:
        return self.job_status.split()[-1]

    @property
    def pending_reason(self) -> tuple[str, str]:
        """Slurm's reason for waiting and its expected start ('N/A' when it does not know)."""
        parts = self.job_status.split()
        return (parts[1], parts[2]) if len(parts) >= 4 else ("", "N/A")

    async def _log_tail(self) -> str:
        path = self.log_path.replace("%j", self.job_id)
        try:
            return await run_slurm(self._as_user("tail", "-n", str(self.log_tail_lines), path), timeout=self.slurm_timeout)
        except SlurmCommandError as exc:
            return f"(could not read {path}: {exc.stderr})"

    async def _job_ended(self, when: str) -> SpawnException:
        job_id = self.job_id
        tail = await self._log_tail()
        self.clear_state()
        return SpawnException(
            f"Session job {job_id} ended {when}. Last lines of its log:\n{tail}",
            reason="job_ended",
        )

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> tuple[str, int]:
        # Replaces batchspawner's start: its loop waits for the port until start_timeout even when
        # the job is already dead.
        self.port = 0
        await self.submit_batch_script()
        while True:
            status = await self.query_job_status()
            if status == JobStatus.RUNNING:
                break
            if status == JobStatus.NOTFOUND:
                raise await self._job_ended("before it started running")
            await asyncio.sleep(self.startup_poll_interval)
        self.ip = self.state_gethost()
        self._record_usage("start")
        self.usage_recorded = bool(self.usage_log)
        while self.port == 0:
            await asyncio.sleep(self.startup_poll_interval)
            if await self.query_job_status() == JobStatus.NOTFOUND:
                raise await self._job_ended("before its notebook server reported a port")
        self.log.info("Session job %s of %s is up at %s:%s", self.job_id, self._log_name, self.ip, self.port)
        return self.ip, self.port

    def _record_usage(self, event: str) -> None:
        if not self.usage_log:
            return
        try:
            request = self.job_request(self.user_options)
            record_session_event(
                self.usage_log,
                event,
                user=self.user.name,
                job_id=self.job_id,
                profile=request.profile,
                cpus=request.cpus,
                gpus=request.gpus,
            )
        except Exception:  # accounting must never break a session
            self.log.exception("could not record session %s of job %s in %s", event, self.job_id, self.usage_log)

    def clear_state(self) -> None:
        # Every way a session ends (stopped, job gone, failed start) passes here.
        if self.usage_recorded:
            self._record_usage("stop")
            self.usage_recorded = False
        super().clear_state()

    def get_state(self) -> dict:
        state = super().get_state()
        if self.usage_recorded:
            state["usage_recorded"] = True
        return state

    def load_state(self, state: dict) -> None:
        super().load_state(state)
        self.usage_recorded = bool(state.get("usage_recorded"))

    async def progress(self):
        while True:
            if self.state_ispending():
                reason, start = self.pending_reason
                message = f"Slurm job {self.job_id} is pending ({reason})"
                if start not in ("N/A", "Unknown", ""):
                    message += f", expected to start at {start.replace('T', ' ')}"
                yield {"progress": 20, "message": message}
            elif self.state_isrunning():
                yield {
                    "progress": 60,
                    "message": f"Slurm job {self.job_id} is running on {self.state_gethost()}; waiting for JupyterLab",
                }
                return
            elif self.job_id:
                yield {"progress": 10, "message": f"Slurm job {self.job_id} submitted"}
            else:
                yield {"progress": 5, "message": "Submitting the session job to Slurm"}
            await asyncio.sleep(1)
