"""Publishing the platform's courses and sandboxes as a git repository that sessions pull from.

Sessions get their copy with nbgitpuller (its merge keeps every file the user changed and
updates the rest), and nbgitpuller pulls from git. A centre can point the spawner at its own
content repository; the embedded default publishes the checkout's ``notebooks/`` into a local
repository at each hub start, committing only when something changed.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
from pathlib import Path

#: What of notebooks/ reaches users' homes.
PUBLISHED = ("courses", "sandboxes", "catalogue.yaml")

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "AI Factory platform",
    "GIT_AUTHOR_EMAIL": "platform@localhost",
    "GIT_COMMITTER_NAME": "AI Factory platform",
    "GIT_COMMITTER_EMAIL": "platform@localhost",
}


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, **_GIT_ENV}
    result = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env)
    return result.stdout.strip()


def _mirror(source: Path, target: Path) -> None:
    """Make ``target`` hold exactly ``source``'s files, touching only what differs."""
    if source.is_file():
        if not target.exists() or not filecmp.cmp(source, target, shallow=False):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        return
    wanted = {p.relative_to(source) for p in source.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts}
    if target.exists():
        for existing in sorted(target.rglob("*"), reverse=True):
            rel = existing.relative_to(target)
            if existing.is_file() and rel not in wanted:
                existing.unlink()
            elif existing.is_dir() and not any(existing.iterdir()):
                existing.rmdir()
    for rel in wanted:
        _mirror(source / rel, target / rel)


def trust_config(repo: Path) -> Path:
    """A git config file that makes other users' git trust ``repo``, which root owns.

    Sessions pass it as GIT_CONFIG_GLOBAL to nbgitpuller only: git refuses to read a repository
    another user owns, and its environment-level config is dropped for local clones.
    """
    return repo.parent / f"{repo.name}.gitconfig"


def publish_content(source: Path, repo: Path, branch: str = "main") -> str:
    """Mirror ``source``'s published parts into the git repo ``repo``; return the commit id."""
    repo.mkdir(parents=True, exist_ok=True)
    if not (repo / ".git").exists():
        subprocess.run(["git", "init", "-q", "-b", branch, str(repo)], check=True)
    for name in PUBLISHED:
        if (source / name).exists():
            _mirror(source / name, repo / name)
        elif (repo / name).exists():
            shutil.rmtree(repo / name) if (repo / name).is_dir() else (repo / name).unlink()
    _git(repo, "add", "-A")
    if _git(repo, "status", "--porcelain"):
        _git(repo, "commit", "-q", "-m", "Publish courses and sandboxes")
    # Sessions run as other users: they must be able to read (and git must trust) this repository.
    for path in [repo, *repo.rglob("*")]:
        path.chmod(path.stat().st_mode | (0o555 if path.is_dir() else 0o444))
    trust = trust_config(repo)
    trust.write_text(f"[safe]\n\tdirectory = {repo}\n\tdirectory = {repo}/.git\n")
    trust.chmod(0o644)
    return _git(repo, "rev-parse", "HEAD")
