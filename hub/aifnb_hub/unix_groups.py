"""Platform groups as Unix groups, so that Slurm and the filesystem enforce what the hub decides.

The spawn form offers a learner only CPU profiles, but inside a session the learner has a shell
and can call ``sbatch -p gpu`` directly. So each platform group has a Unix group (``unix_group``
in the settings, default ``aifnb-<group>``) and each Slurm partition admits only the Unix groups
of the profiles that use it (``AllowGroups``). The embedded Slurm is configured from here; a
centre maps the same groups to its Slurm associations and QOS (README, "Slurm-side limits").

    python -m aifnb_hub.unix_groups partitions   # "PARTITION GROUP,GROUP" per line, for slurm.conf
    python -m aifnb_hub.unix_groups provision    # create the groups, the demo users and memberships
"""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
import sys

from .settings import Settings, load_settings


def unix_group(settings: Settings, group: str) -> str:
    """The Unix group of the platform group ``group``."""
    return settings.groups[group].unix_group or f"aifnb-{group}"


def partition_groups(settings: Settings) -> dict[str, list[str]]:
    """For each partition a profile uses, the Unix groups of the profiles' groups (sorted).

    A partition that several profiles use admits the union of their groups; admins always may.
    """
    allowed: dict[str, set[str]] = {}
    for profile in settings.profiles:
        for partition in profile.partitions:
            allowed.setdefault(partition, {unix_group(settings, "admins")}).update(
                unix_group(settings, g) for g in profile.groups
            )
    return {partition: sorted(groups) for partition, groups in allowed.items()}


def provision(settings: Settings) -> None:
    """Create the Unix groups, the settings' users (the embedded demo's) and their memberships.

    Idempotent; for the embedded default and the tests. A centre manages accounts and groups in
    its own identity management instead.
    """
    for name in settings.groups:
        group = unix_group(settings, name)
        try:
            grp.getgrnam(group)
        except KeyError:
            subprocess.run(["groupadd", group], check=True)
    for name, group in settings.groups.items():
        for user in group.users:
            try:
                pwd.getpwnam(user)
            except KeyError:
                subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", user], check=True)
            if user not in grp.getgrnam(unix_group(settings, name)).gr_mem:
                subprocess.run(["usermod", "-aG", unix_group(settings, name), user], check=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["partitions"], ["provision"]):
        print("usage: python -m aifnb_hub.unix_groups partitions|provision", file=sys.stderr)
        return 2
    settings = load_settings(os.environ.get("AIFNB_SETTINGS") or None)
    if args == ["partitions"]:
        for partition, groups in partition_groups(settings).items():
            print(partition, ",".join(groups))
    else:
        provision(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
