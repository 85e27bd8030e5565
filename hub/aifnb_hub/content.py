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


def _published_files(source: Path) -> set[Path]:
    """Regular files under ``source``, relative to it: symbolic links (to files or folders) are
    skipped, so a link placed in the content source cannot publish a file from elsewhere."""
    wanted: set[Path] = set()
    for folder, dirs, files in os.walk(source):  # os.walk does not descend into linked folders
        here = Path(folder)
        dirs[:] = [d for d in dirs if d != ".ipynb_checkpoints" and not (here / d).is_symlink()]
        wanted.update((here / f).relative_to(source) for f in files if not (here / f).is_symlink() and (here / f).is_file())
    return wanted


def _mirror(source: Path, target: Path) -> None:
    """Make ``target`` hold exactly ``source``'s regular files, touching only what differs."""
    if source.is_symlink():
        return
    if source.is_file():
        if not target.exists() or not filecmp.cmp(source, target, shallow=False):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target, follow_symlinks=False)
        return
    wanted = _published_files(source)
    if target.exists():
        for existing in sorted(target.rglob("*"), reverse=True):
            rel = existing.relative_to(target)
            if (existing.is_file() or existing.is_symlink()) and rel not in wanted:
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
