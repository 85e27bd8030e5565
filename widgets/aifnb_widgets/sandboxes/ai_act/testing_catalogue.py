"""Catalogue of AI testing capabilities: the AI Act's requirements (Art. 9-15) mapped to runnable notebooks.

The mapping is data (``testing_catalogue.yaml``) checked against the notebook catalogue, so a capability can never
point at a notebook that does not exist. Latest results are read from the metrics JSON each notebook writes
(its METRICS_PATH), stored as ``<results_dir>/<notebook stem>.json``; a capability with no file reads "not run".
An aid to plan and collect evidence, NOT legal advice.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from enum import StrEnum
from functools import cache
from pathlib import Path, PurePosixPath

import pandas as pd
from pydantic import Field, model_validator

from aifnb_hub.catalogue import Catalogue, load_catalogue
from aifnb_widgets.sandboxes.ai_act.triage import DISCLAIMER
from aifnb_widgets.sandboxes.validated_data import Strict, load_yaml

CATALOGUE_PATH = Path(__file__).with_name("testing_catalogue.yaml")

#: The articles of Chapter III, Section 2 (requirements for high-risk systems) the catalogue must cover.
REQUIRED_ARTICLES = frozenset(range(9, 16))


class Coverage(StrEnum):
    runnable = "runnable"
    partial = "partial"
    manual = "manual"


class Capability(Strict):
    id: str
    notebook: str
    coverage: Coverage
    kind: str
    measures: str
    result_keys: tuple[str, ...] = ()


class MappedRequirement(Strict):
    id: str
    cites: str
    title: str
    capabilities: tuple[Capability, ...] = Field(min_length=1)


class CapabilityCatalogue(Strict):
    title: str
    requirements: tuple[MappedRequirement, ...]

    @model_validator(mode="after")
    def _covers_art_9_to_15(self) -> CapabilityCatalogue:
        cited = {int(n) for r in self.requirements for n in re.findall(r"Art\. ([0-9]+)", r.cites)}
        missing = sorted(REQUIRED_ARTICLES - cited)
        if missing:
            raise ValueError(f"the testing catalogue must cover Art. {missing}")
        ids = [c.id for r in self.requirements for c in r.capabilities]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate capability ids")
        return self

    def check_notebooks(self, catalogue: Catalogue) -> None:
        """Refuse a capability whose notebook is not in the notebook catalogue (it would be a dead link)."""
        missing = sorted({c.notebook for r in self.requirements for c in r.capabilities} - set(catalogue.paths()))
        if missing:
            raise ValueError(f"capabilities point at notebooks that are not in the catalogue: {missing}")


@cache
def load_testing_catalogue(path: Path = CATALOGUE_PATH) -> CapabilityCatalogue:
    return CapabilityCatalogue.model_validate(load_yaml(path))


def results_file(results_dir: str | Path, notebook: str) -> Path:
    """Where a notebook's latest metrics JSON is expected: ``<results_dir>/<notebook stem>.json``."""
    return Path(results_dir) / f"{PurePosixPath(notebook).stem}.json"


def latest_result(results_dir: str | Path, capability: Capability) -> tuple[str, str]:
    """(date, figures) of the capability's latest run, or ("", "not run") when no metrics file exists."""
    path = results_file(results_dir, capability.notebook)
    if not path.is_file():
        return "", "not run"
    metrics = json.loads(path.read_text(encoding="utf-8"))
    date = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date().isoformat()
    shown = []
    for key in capability.result_keys:
        if key in metrics:
            value = metrics[key]
            shown.append(f"{key}={value:.3g}" if isinstance(value, float) else f"{key}={value}")
    return date, ", ".join(shown) or "ran (no headline figure)"


def capability_table(
    results_dir: str | Path, catalogue: Catalogue | None = None, testing: CapabilityCatalogue | None = None
) -> pd.DataFrame:
    """One row per (requirement, capability): article, coverage, notebook title and link, latest result."""
    catalogue = catalogue or load_catalogue()
    testing = testing or load_testing_catalogue()
    testing.check_notebooks(catalogue)
    rows = []
    for req in testing.requirements:
        for cap in req.capabilities:
            date, figures = latest_result(results_dir, cap)
            rows.append(
                {
                    "requirement": f"{req.cites}: {req.title}",
                    "capability": cap.id,
                    "kind": cap.kind,
                    "coverage": cap.coverage.value,
                    "measures": cap.measures,
                    "notebook": catalogue.get(cap.notebook).title,
                    "link": f"../{cap.notebook}",
                    "last_run": date,
                    "latest_result": figures,
                }
            )
    return pd.DataFrame(rows)


def to_markdown(table: pd.DataFrame) -> str:
    """The table as Markdown with links, for a report or the hub; ends with the disclaimer."""
    lines = ["| Requirement | Capability | Coverage | Run it | Latest result |", "|---|---|---|---|---|"]
    for row in table.itertuples():
        result = f"{row.latest_result} ({row.last_run})" if row.last_run else row.latest_result
        lines.append(f"| {row.requirement} | {row.measures} | {row.coverage} | [{row.notebook}]({row.link}) | {result} |")
    return "\n".join([*lines, "", f"*{DISCLAIMER}*", ""])
