"""The platform's notebooks are published as a git repository that nbgitpuller merges into homes."""

from __future__ import annotations

import subprocess

from aifnb_hub.content import publish_content, trust_config


def make_source(tmp_path):
    source = tmp_path / "notebooks"
    (source / "courses").mkdir(parents=True)
    (source / "sandboxes").mkdir()
    (source / "courses" / "a.ipynb").write_text("one")
    (source / "sandboxes" / "b.ipynb").write_text("two")
    (source / "catalogue.yaml").write_text("notebooks: []\n")
    return source


def test_publish_commits_only_on_change_and_mirrors_deletions(tmp_path):
    """Re-publishing unchanged content makes no commit; removed files disappear from the repo."""
    source, repo = make_source(tmp_path), tmp_path / "content"
    first = publish_content(source, repo)
    assert publish_content(source, repo) == first
    (source / "sandboxes" / "b.ipynb").unlink()
    (source / "courses" / "c.ipynb").write_text("three")
    second = publish_content(source, repo)
    assert second != first
    files = subprocess.run(["git", "-C", str(repo), "ls-files"], capture_output=True, text=True, check=True).stdout.split()
    assert sorted(files) == ["catalogue.yaml", "courses/a.ipynb", "courses/c.ipynb"]
    assert str(repo) in trust_config(repo).read_text()


def test_symlinks_in_the_source_publish_nothing(tmp_path):
    """A link to a secret file or to a folder outside the source is skipped, not followed."""
    source, repo = make_source(tmp_path), tmp_path / "content"
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "shadow").write_text("root:hash")
    (source / "courses" / "shadow.ipynb").symlink_to(secret / "shadow")
    (source / "sandboxes" / "outside").symlink_to(secret, target_is_directory=True)
    publish_content(source, repo)
    files = subprocess.run(["git", "-C", str(repo), "ls-files"], capture_output=True, text=True, check=True).stdout.split()
    assert sorted(files) == ["catalogue.yaml", "courses/a.ipynb", "sandboxes/b.ipynb"]
    assert not any("root:hash" in p.read_text() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts)


def test_nbgitpuller_keeps_user_edits_and_brings_updates(tmp_path):
    """A user's edit survives a platform update of another file, which still arrives (nbgitpuller's merge)."""
    import sys
    from pathlib import Path

    source, repo, home = make_source(tmp_path), tmp_path / "content", tmp_path / "home"
    publish_content(source, repo)
    gitpuller = Path(sys.executable).parent / "gitpuller"
    pull = [str(gitpuller), str(repo), "main", str(home)]
    subprocess.run(pull, check=True, capture_output=True)
    (home / "courses" / "a.ipynb").write_text("my answer")
    (source / "sandboxes" / "b.ipynb").write_text("two, updated")
    (source / "courses" / "a.ipynb").write_text("one, updated upstream")
    publish_content(source, repo)
    subprocess.run(pull, check=True, capture_output=True)
    assert (home / "courses" / "a.ipynb").read_text() == "my answer"
    assert (home / "sandboxes" / "b.ipynb").read_text() == "two, updated"
