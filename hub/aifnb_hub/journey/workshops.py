"""Workshops a trainer or an admin declares on the hub (the trainers' page form), beside those in
the settings: one JSON file under the hub's data_dir, written atomically, each record validated
by the job layer's :class:`~aifnb_slurm.profiles.Workshop` on write and on read. The spawner
reads the same file (``FactorySlurmSpawner.workshops_file``) when it checks a workshop start."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from aifnb_slurm.profiles import Workshop

#: Workshops kept at most (old ones are deleted by their trainers; the file stays small).
MAX_WORKSHOPS = 200


class WorkshopStore:
    """The declared workshops in ``path`` (0600, the hub's)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def all(self) -> list[Workshop]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        return [Workshop.model_validate(item) for item in raw]

    def add(self, workshop: Workshop) -> None:
        current = self.all()
        if len(current) >= MAX_WORKSHOPS:
            raise ValueError(f"workshops: at most {MAX_WORKSHOPS} may be declared on the hub; delete old ones")
        self._write([*current, workshop])

    def remove(self, slug: str) -> bool:
        current = self.all()
        kept = [w for w in current if w.slug != slug]
        if len(kept) == len(current):
            return False
        self._write(kept)
        return True

    def _write(self, workshops: list[Workshop]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump([w.model_dump(mode="json", exclude_none=True) for w in workshops], out)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
