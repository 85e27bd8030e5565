"""Session profiles as data, and the one place where a user's choices are checked against them.

A profile is what an admin offers (partition, resources, who may use it, what may be adjusted);
a user's options are a profile slug plus choices inside that profile's limits. Everything that
reaches the batch script passes through :func:`resolve_request`, which returns only values taken
from the profile or checked against an allow-list, so the template never sees raw user text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from .validate import DIGITS, GROUPNAME, SLURM_NAME, checked_str, matches

# Slurm names (partitions, accounts, QoS, reservations, GPU types) and profile slugs:
# letters, digits, '_', '-', '.', never a space, quote, newline or shell metacharacter.
SLUG = r"[a-z0-9][a-z0-9-]{0,31}"
MEMORY = r"[1-9][0-9]{0,6}[KMGT]"
WALLTIME = r"(?:([0-9]{1,2})-)?([0-9]{1,3}):([0-5][0-9]):([0-5][0-9])"

SlurmName = checked_str(SLURM_NAME, "Slurm names are 1-64 of A-Z, a-z, 0-9, '_', '.', '-'")
Slug = checked_str(SLUG, "slugs are 1-32 of a-z, 0-9, '-'")
Memory = checked_str(MEMORY, "memory is a whole number with a unit K, M, G or T, e.g. 32G")
GroupName = checked_str(GROUPNAME, "group names are 1-32 of a-z, 0-9, '_', '-', starting with a letter")

#: Keys a user may send (form or REST ``user_options``); anything else is refused.
USER_OPTION_KEYS = ("profile", "partition", "cpus", "gpus", "walltime", "workshop")


class OptionError(ValueError):
    """A user's choice that the profile does not allow; the message says what is allowed."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def walltime_seconds(value: str) -> int:
    """Seconds in a Slurm walltime ``[D-]HH:MM:SS``; raises ValueError on any other shape."""
    match = re.fullmatch(WALLTIME, value, flags=re.ASCII) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} is not a walltime of the form HH:MM:SS or D-HH:MM:SS")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def format_walltime(seconds: int) -> str:
    """The canonical ``HH:MM:SS`` (hours may exceed 24) that Slurm accepts for ``--time``."""
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


class Range(BaseModel):
    """An inclusive integer range a user may choose within."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    min: int = Field(ge=0)
    max: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Limits(BaseModel):
    """What the user may adjust; an absent entry means the profile's value is fixed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cpus: Range | None = None
    gpus: Range | None = None
    walltime_max: str | None = Field(None, description="Longest walltime a user may ask for, HH:MM:SS")
    partitions: tuple[SlurmName, ...] = Field((), description="Other partitions the user may pick")

    @field_validator("walltime_max")
    @classmethod
    def _walltime(cls, value: str | None) -> str | None:
        if value is not None:
            walltime_seconds(value)
        return value


class Profile(BaseModel):
    """One kind of session an admin offers: the Slurm request and who may make it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    slug: Slug
    display_name: str = Field(min_length=1, max_length=80)
    description: str = ""
    partition: SlurmName
    cpus: int = Field(ge=1, le=1024)
    memory: Memory
    gpus: int = Field(0, ge=0, le=64)
    gpu_type: SlurmName | None = None
    walltime: str
    account: SlurmName | None = None
    qos: SlurmName | None = None
    reservation: SlurmName | None = None
    groups: tuple[str, ...] = Field(min_length=1, description="Groups whose members may pick it")
    idle_timeout: int = Field(3600, ge=60, description="Seconds of inactivity before the session stops itself")
    limits: Limits = Limits()

    @field_validator("walltime")
    @classmethod
    def _walltime(cls, value: str) -> str:
        walltime_seconds(value)
        return value

    @model_validator(mode="after")
    def _defaults_within_limits(self) -> Profile:
        for field in ("cpus", "gpus"):
            bounds = getattr(self.limits, field)
            if bounds and not bounds.min <= getattr(self, field) <= bounds.max:
                raise ValueError(f"{self.slug}: default {field} {getattr(self, field)} is outside limits")
        if self.limits.walltime_max and walltime_seconds(self.walltime) > walltime_seconds(self.limits.walltime_max):
            raise ValueError(f"{self.slug}: default walltime is above walltime_max")
        return self

    @property
    def partitions(self) -> tuple[str, ...]:
        """The default partition first, then the alternatives the profile allows."""
        return (self.partition, *(p for p in self.limits.partitions if p != self.partition))

    def allowed_for(self, groups: Iterable[str]) -> bool:
        return bool(set(self.groups) & set(groups))


class ProfileList(BaseModel):
    """The profiles file: a list whose slugs are unique."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    profiles: tuple[Profile, ...] = Field(min_length=1)

    @field_validator("profiles")
    @classmethod
    def _unique(cls, profiles: tuple[Profile, ...]) -> tuple[Profile, ...]:
        slugs = [p.slug for p in profiles]
        duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
        if duplicates:
            raise ValueError(f"duplicate profile slugs: {', '.join(duplicates)}")
        return profiles


class Workshop(BaseModel):
    """A class session: one group's members start one profile during a time window, optionally on a
    Slurm reservation the centre made for it. The user names only the workshop's slug; the profile
    and the reservation come from here."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    slug: Slug
    title: checked_str(r"[^\x00-\x1f\x7f]{1,120}", "titles are one line of 1-120 characters")
    group: GroupName = Field(description="Hub group whose members attend (and see it on their home)")
    start: AwareDatetime = Field(description="Opens at, with its time zone (2026-12-01T09:00:00+01:00)")
    end: AwareDatetime = Field(description="Closes at; sessions may no longer be started on it after")
    profile: Slug = Field(description="Slug of the profile its sessions run (one the group may use)")
    reservation: SlurmName | None = Field(None, description="Slurm reservation its jobs run in (sbatch --reservation)")

    @model_validator(mode="after")
    def _window(self) -> Workshop:
        if self.end <= self.start:
            raise ValueError(f"{self.slug}: end {self.end.isoformat()} is not after start {self.start.isoformat()}")
        return self

    def is_open(self, now: datetime) -> bool:
        return self.start <= now < self.end


def open_workshop(workshops: Iterable[Workshop], slug: Any, groups: Iterable[str], now: datetime) -> Workshop:
    """The workshop named ``slug`` when it is open now and for one of ``groups``; else :class:`OptionError`."""
    found = next((w for w in workshops if w.slug == slug), None) if matches(SLUG, slug) else None
    if found is None or found.group not in set(groups):
        raise OptionError("workshop", f"{str(slug)[:40]!r} is not a workshop of your groups")
    if not found.is_open(now):
        # Also what a later start that reuses the last options (JupyterHub keeps them) reads.
        raise OptionError(
            "workshop",
            f"{found.slug} is open from {found.start.isoformat()} to {found.end.isoformat()}, not now; "
            "start a session from the home page (choose a profile) instead",
        )
    return found


@dataclass(frozen=True)
class JobRequest:
    """The resolved Slurm request: every value is from the profile or checked against it."""

    profile: str
    partition: str
    cpus: int
    memory: str
    gpus: int
    gpu_type: str | None
    walltime: str
    account: str | None
    qos: str | None
    reservation: str | None
    idle_timeout: int

    @property
    def gres(self) -> str:
        """``gpu:N`` or ``gpu:TYPE:N``; empty when no GPU is requested."""
        if not self.gpus:
            return ""
        return f"gpu:{self.gpu_type}:{self.gpus}" if self.gpu_type else f"gpu:{self.gpus}"


def profiles_for(profiles: Iterable[Profile], groups: Iterable[str]) -> list[Profile]:
    """The profiles a member of ``groups`` may pick, in the order the admin listed them."""
    groups = set(groups)
    return [p for p in profiles if p.allowed_for(groups)]


def _integer(field: str, raw: Any, bounds: Range | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool) or not (isinstance(raw, int) or (matches(DIGITS, raw) and len(raw) < 5)):
        raise OptionError(field, f"{raw!r} is not a whole number")
    value = int(raw)
    if bounds is None:
        if value != default:
            raise OptionError(field, f"this profile fixes {field} at {default}")
        return value
    if not bounds.min <= value <= bounds.max:
        raise OptionError(field, f"{value} is outside this profile's range {bounds.min}-{bounds.max}")
    return value


def resolve_request(
    profiles: Iterable[Profile],
    groups: Iterable[str],
    options: Mapping[str, Any],
    workshops: Iterable[Workshop] = (),
    now: datetime | None = None,
) -> JobRequest:
    """Check a user's options against the profile they name and return the job to submit.

    Unknown keys, unknown or forbidden profiles, and values outside the profile's limits raise
    :class:`OptionError` naming the field and what is allowed; nothing is ever passed through.
    A ``workshop`` option must name one of ``workshops`` open at ``now`` (default: the current
    time) for the user's groups; it fixes the profile and adds the workshop's reservation.
    """
    if not isinstance(options, Mapping):
        raise OptionError("options", "must be a mapping of option names to values")
    unknown = sorted(set(options) - set(USER_OPTION_KEYS))
    if unknown:
        raise OptionError(unknown[0], f"unknown option; allowed options are {', '.join(USER_OPTION_KEYS)}")
    groups = set(groups)
    allowed = profiles_for(profiles, groups)
    slugs = [p.slug for p in allowed]
    if not allowed:
        raise OptionError("profile", "no profile is available to your groups; ask the Factory's admins")
    slug = options.get("profile") or allowed[0].slug
    workshop = None
    if options.get("workshop") not in (None, ""):
        workshop = open_workshop(workshops, options["workshop"], groups, now or datetime.now(UTC))
        if options.get("profile") not in (None, "", workshop.profile):
            raise OptionError("profile", f"workshop {workshop.slug} runs on profile {workshop.profile}")
        slug = workshop.profile
    profile = next((p for p in allowed if p.slug == slug), None)
    if profile is None:
        raise OptionError("profile", f"{str(slug)[:40]!r} is not available to you; choose one of {', '.join(slugs)}")

    partition = options.get("partition") or profile.partition
    if partition not in profile.partitions:
        raise OptionError("partition", f"{str(partition)[:40]!r} is not allowed; choose one of {', '.join(profile.partitions)}")

    cpus = _integer("cpus", options.get("cpus"), profile.limits.cpus, profile.cpus)
    gpus = _integer("gpus", options.get("gpus"), profile.limits.gpus, profile.gpus)

    walltime = profile.walltime
    raw_walltime = options.get("walltime")
    if raw_walltime not in (None, ""):
        if not isinstance(raw_walltime, str):
            raise OptionError("walltime", "must be a string HH:MM:SS")
        try:
            seconds = walltime_seconds(raw_walltime)
        except ValueError:
            raise OptionError("walltime", f"{raw_walltime[:40]!r} is not of the form HH:MM:SS") from None
        limit = profile.limits.walltime_max or profile.walltime
        if seconds > walltime_seconds(limit) or seconds == 0:
            raise OptionError("walltime", f"{raw_walltime} exceeds this profile's limit of {limit}")
        walltime = format_walltime(seconds)

    return JobRequest(
        profile=profile.slug,
        partition=partition,
        cpus=cpus,
        memory=profile.memory,
        gpus=gpus,
        gpu_type=profile.gpu_type,
        walltime=walltime,
        account=profile.account,
        qos=profile.qos,
        reservation=workshop.reservation if workshop and workshop.reservation else profile.reservation,
        idle_timeout=profile.idle_timeout,
    )
