"""Append-only JSONL records of every model call: the raw material a run is scored from.

Records carry the model id and revision, the exact prompt, the decoding parameters, the seed
and the raw answer, so a run can be re-scored under a new spec without the model, and a
resumed run skips every call that already has an answer.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

RECORDS_DIR = "records"


def call_key(model_id: str, plan_digest: str, test_index: int, prompt_index: int, sample: int) -> str:
    raw = f"{model_id}\x00{plan_digest}\x00{test_index}\x00{prompt_index}\x00{sample}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def model_slug(model_id: str) -> str:
    """A file name for a model id that stays unique: readable stem plus a short hash."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id.rstrip("/").split("/")[-1] or "model")[:48]
    return f"{stem}-{hashlib.sha256(model_id.encode()).hexdigest()[:8]}"


def records_path(run_dir: str | Path, model_id: str) -> Path:
    return Path(run_dir) / RECORDS_DIR / f"{model_slug(model_id)}.jsonl"


def append_records(path: Path, records: Iterable[dict]) -> None:
    """One write and flush per batch: a crash loses at most the batch in flight."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(lines)
        handle.flush()


def read_records(path: Path) -> list[dict]:
    """All complete records; a line cut short by a crash is skipped, not fatal."""
    if not path.is_file():
        return []
    records = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def read_run_records(run_dir: str | Path) -> list[dict]:
    return [r for path in sorted((Path(run_dir) / RECORDS_DIR).glob("*.jsonl")) for r in read_records(path)]


def latest_answers(records: Iterable[dict]) -> dict[str, dict]:
    """The last successful record per call key (failed calls are kept on file but retried)."""
    answers = {}
    for record in records:
        if record.get("answer") is not None:
            answers[record["key"]] = record
    return answers


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
