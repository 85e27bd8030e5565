"""The embedded demo's catalogue on disk: real small datasets and the tiny models, locked to their groups.

``python -m aifnb_data.demo provision [ROOT]`` (root; default /var/lib/aifnb/data) writes each
entry of ``demo_catalogue.yaml`` below ROOT: the scikit-learn datasets as CSV, a synthetic credit
dataset for each sector sandbox from its own generator, the tiny GPT-2 and T5 models. Each belongs to
``root:<its Unix group>`` with mode 0640 (folders 0750), nothing for others; an entry shared with
several hub groups gets its own Unix group whose members are those of the groups' Unix groups.
Then ROOT/catalogue.yaml is written with ``root: ROOT``, ready for the settings'
``data_catalogue.files``. Idempotent: files already there are kept (ownership is reset).
"""

from __future__ import annotations

import grp
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import yaml

from aifnb_data.cards import CatalogueError, CatalogueFile, Entry
from aifnb_data.config import SETTINGS_ENV, from_settings_file

DEMO_CATALOGUE = Path(__file__).with_name("demo_catalogue.yaml")
DEFAULT_ROOT = Path("/var/lib/aifnb/data")


def _sklearn_csv(loader_name: str) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader_name)(as_frame=True)
        bunch.frame.to_csv(path, index=False)

    return build


def _credit(path: Path) -> None:
    from aifnb_widgets.sandboxes.synthetic.credit import make_credit_applicants

    make_credit_applicants(3000, seed=0).to_csv(path, index=False)


def _network_flows(path: Path) -> None:
    from aifnb_widgets.sandboxes.synthetic.network import make_network_flows

    make_network_flows(3000, attack_share=0.05, seed=0).to_csv(path, index=False)


def _energy_load(path: Path) -> None:
    from aifnb_widgets.sandboxes.synthetic.energy import make_energy_load

    make_energy_load(60, seed=0, forecast_error=1.0).to_csv(path, index=False)


def _land_cover(path: Path) -> None:
    import numpy as np

    from aifnb_widgets.sandboxes.synthetic.satellite import CLASSES, make_satellite_patches

    images, labels = make_satellite_patches(1000, size=16, seed=0)
    with path.open("wb") as out:
        np.savez_compressed(out, images=images, labels=labels, classes=np.array(CLASSES))


def _tiny_gpt2(path: Path) -> None:
    from aifnb_widgets.models.tiny import build_tiny_causal_lm

    build_tiny_causal_lm(path)


def _tiny_t5(path: Path) -> None:
    from aifnb_widgets.models.tiny import build_tiny_seq2seq

    build_tiny_seq2seq(path)


#: How each demo entry is made; a test checks every entry of the demo file has one.
BUILDERS: dict[str, Callable[[Path], None]] = {
    "iris": _sklearn_csv("load_iris"),
    "wine": _sklearn_csv("load_wine"),
    "breast-cancer-wisconsin": _sklearn_csv("load_breast_cancer"),
    "digits": _sklearn_csv("load_digits"),
    "credit-applications": _credit,
    "network-flows": _network_flows,
    "energy-load": _energy_load,
    "land-cover-patches": _land_cover,
    "tiny-gpt2": _tiny_gpt2,
    "tiny-t5": _tiny_t5,
}


def _group_members(group: str) -> set[str]:
    try:
        return set(grp.getgrnam(group).gr_mem)
    except KeyError:
        raise CatalogueError(
            f"demo catalogue: Unix group {group} does not exist; run python -m aifnb_hub.unix_groups provision first"
        ) from None


def ensure_shared_group(group: str, members: set[str]) -> None:
    """Create ``group`` if needed and add ``members`` to it (members added elsewhere are kept)."""
    try:
        grp.getgrnam(group)
    except KeyError:
        subprocess.run(["groupadd", group], check=True)
    for user in sorted(members - set(grp.getgrnam(group).gr_mem)):
        subprocess.run(["usermod", "-aG", group, user], check=True)


def lock_down(path: Path, gid: int) -> None:
    """``path`` and everything below it: root's, group ``gid``, files 0640, folders 0750, no symlinks."""
    targets = [path]
    if path.is_dir() and not path.is_symlink():
        for folder, dirs, files in os.walk(path, followlinks=False):
            targets += [Path(folder, name) for name in [*dirs, *files]]
    for target in targets:
        if target.is_symlink():
            target.unlink()
            continue
        os.chown(target, 0, gid, follow_symlinks=False)
        target.chmod(0o750 if target.is_dir() else 0o640)


def _build(entry: Entry, target: Path) -> None:
    """Build into a sibling and rename, so a half-written entry never appears under its name."""
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{entry.name}-") as scratch:
        made = Path(scratch, target.name)
        BUILDERS[entry.name](made)
        made.rename(target)


def provision(root: Path = DEFAULT_ROOT, unix_groups: Mapping[str, str] | None = None) -> Path:
    """Write the demo entries below ``root`` with their groups and modes, and ``root``/catalogue.yaml
    (returned). ``unix_groups`` maps hub groups to Unix groups (default ``aifnb-<group>``)."""
    unix_groups = unix_groups or {}
    raw = yaml.safe_load(DEMO_CATALOGUE.read_text())
    raw["root"] = str(root)
    layer = CatalogueFile.model_validate(raw)
    root.mkdir(parents=True, exist_ok=True)
    os.chown(root, 0, 0)
    root.chmod(0o755)
    for entry in layer.entries:
        owners = [unix_groups.get(g, f"aifnb-{g}") for g in entry.groups]
        group = entry.unix_group or owners[0]
        if entry.unix_group:
            ensure_shared_group(entry.unix_group, set().union(*(_group_members(g) for g in owners)))
        target = root / entry.path  # type: ignore[operator]  (every demo entry has a path)
        if not target.exists():
            _build(entry, target)
        lock_down(target, grp.getgrnam(group).gr_gid)
    catalogue = root / "catalogue.yaml"
    staged = root / ".catalogue.yaml.new"
    staged.write_text(
        "# Written by python -m aifnb_data.demo provision from aifnb_data/demo_catalogue.yaml.\n"
        + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)
    )
    staged.chmod(0o644)
    staged.rename(catalogue)
    return catalogue


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "provision" or len(args) > 2:
        print("usage: python -m aifnb_data.demo provision [ROOT]", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("demo catalogue: run as root (it sets files' owners and creates Unix groups)", file=sys.stderr)
        return 2
    unix_groups = from_settings_file(os.environ[SETTINGS_ENV])[1] if os.environ.get(SETTINGS_ENV) else {}
    try:
        print(provision(Path(args[1]).absolute() if len(args) == 2 else DEFAULT_ROOT, unix_groups))
    except CatalogueError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
