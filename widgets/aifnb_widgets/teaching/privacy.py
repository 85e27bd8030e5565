"""Data-protection teaching aids for the "Data for AI under EU rules" course: keyed-hash
pseudonymisation (GDPR Art. 4(5)), a k-anonymity check, a small synthetic personal dataset,
dataset licences and a data card. NOT legal advice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "LICENCES",
    "DataCard",
    "Licence",
    "k_anonymity",
    "l_diversity",
    "licence",
    "make_key",
    "plain_hash",
    "pseudonymise",
    "suppress_small_groups",
    "synthetic_customers",
]


def make_key(nbytes: int = 32) -> bytes:
    """A fresh random secret key (keep it apart from the data: it is the 'additional information')."""
    if nbytes < 16:
        raise ValueError("use at least 16 bytes (128 bits)")
    return secrets.token_bytes(nbytes)


def _normalise(value: object) -> bytes:
    return str(value).strip().casefold().encode("utf-8")


def pseudonymise(value: object, key: bytes, length: int = 16) -> str:
    """Keyed hash (HMAC-SHA256) of ``value``: stable for the same key, not reversible or
    linkable without it. Values are normalised (trimmed, case-folded) first."""
    if not key:
        raise ValueError("a non-empty secret key is required")
    if not 8 <= length <= 64:
        raise ValueError("length must be between 8 and 64 hex characters")
    return hmac.new(key, _normalise(value), hashlib.sha256).hexdigest()[:length]


def plain_hash(value: object, length: int = 16) -> str:
    """Unkeyed SHA-256 — shown only to demonstrate why it is NOT enough (dictionary attack)."""
    return hashlib.sha256(_normalise(value)).hexdigest()[:length]


def k_anonymity(df: pd.DataFrame, quasi_identifiers: Sequence[str]) -> int:
    """Size of the smallest group of rows sharing the same quasi-identifier values (the k of
    k-anonymity). 0 for an empty table."""
    missing = [c for c in quasi_identifiers if c not in df.columns]
    if missing:
        raise KeyError(f"no such column(s): {missing}")
    if df.empty:
        return 0
    return int(df.groupby(list(quasi_identifiers), dropna=False).size().min())


def l_diversity(df: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: str) -> int:
    """Smallest number of distinct ``sensitive`` values within any quasi-identifier group (the l of
    l-diversity, Machanavajjhala et al. 2007). Why it exists: a k-anonymous group whose members all share
    the same sensitive value (l = 1) discloses that value for everyone in it (the homogeneity attack).
    0 for an empty table."""
    missing = [c for c in [*quasi_identifiers, sensitive] if c not in df.columns]
    if missing:
        raise KeyError(f"no such column(s): {missing}")
    if df.empty:
        return 0
    return int(df.groupby(list(quasi_identifiers), dropna=False)[sensitive].nunique(dropna=False).min())


def suppress_small_groups(df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int) -> pd.DataFrame:
    """Drop the rows of every quasi-identifier group smaller than ``k`` (suppression), so the rest is
    k-anonymous. The caller must report how many rows were lost: suppression biases what remains."""
    if k < 1:
        raise ValueError("k must be at least 1")
    sizes = df.groupby(list(quasi_identifiers), dropna=False)[next(iter(quasi_identifiers))].transform("size")
    return df[sizes >= k]


_FIRST = ["Anna", "Luc", "Marie", "Jonas", "Sofia", "Paul", "Lea", "Tom", "Elena", "Marc", "Nora", "Ivan"]
_LAST = ["Schmit", "Muller", "Weber", "Hoffmann", "Klein", "Wagner", "Reuter", "Thill", "Martin", "Rossi"]
_HEALTH = ["none", "none", "none", "diabetes", "asthma", "hypertension"]
_RELIGION = ["none", "catholic", "protestant", "muslim", "jewish", "other"]


def synthetic_customers(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """A made-up loan-customer table with direct identifiers, quasi-identifiers, special
    categories (health, religion) and a target. Entirely synthetic: no real person."""
    if n < 1:
        raise ValueError("n must be at least 1")
    rng = np.random.default_rng(seed)
    first = rng.choice(_FIRST, n)
    last = rng.choice(_LAST, n)
    birth_year = rng.integers(1950, 2005, n)
    income = np.round(rng.lognormal(10.6, 0.4, n), -2)
    debt_ratio = np.clip(rng.beta(2, 5, n), 0, 1).round(3)
    risk = 1.5 * debt_ratio - (income / income.max()) + rng.normal(0, 0.15, n)
    return pd.DataFrame(
        {
            "customer_id": [f"C{100000 + i}" for i in range(n)],
            "name": [f"{f} {s}" for f, s in zip(first, last)],
            "email": [f"{f.lower()}.{s.lower()}{i}@example.org" for i, (f, s) in enumerate(zip(first, last))],
            "birth_year": birth_year,
            "postcode": [f"L-{v}" for v in rng.integers(1000, 9999, n)],
            "income_eur": income,
            "debt_ratio": debt_ratio,
            "health_condition": rng.choice(_HEALTH, n),
            "religion": rng.choice(_RELIGION, n),
            "defaulted": (risk > np.quantile(risk, 0.8)).astype(int),
        }
    )


class Licence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    spdx: str
    name: str
    commercial_use: bool
    attribution: bool
    share_alike: bool
    note: str = ""


LICENCES: dict[str, Licence] = {
    lic.spdx: lic
    for lic in (
        Licence(
            spdx="CC0-1.0",
            name="Creative Commons Zero (public domain dedication)",
            commercial_use=True,
            attribution=False,
            share_alike=False,
        ),
        Licence(
            spdx="CC-BY-4.0", name="Creative Commons Attribution 4.0", commercial_use=True, attribution=True, share_alike=False
        ),
        Licence(
            spdx="CC-BY-SA-4.0",
            name="Creative Commons Attribution-ShareAlike 4.0",
            commercial_use=True,
            attribution=True,
            share_alike=True,
            note="adapted material must be shared under the same licence",
        ),
        Licence(
            spdx="CC-BY-NC-4.0",
            name="Creative Commons Attribution-NonCommercial 4.0",
            commercial_use=False,
            attribution=True,
            share_alike=False,
            note="no use primarily intended for commercial advantage",
        ),
        Licence(
            spdx="ODbL-1.0",
            name="Open Data Commons Open Database License",
            commercial_use=True,
            attribution=True,
            share_alike=True,
            note="share-alike applies to adapted databases made public",
        ),
        Licence(spdx="Apache-2.0", name="Apache License 2.0", commercial_use=True, attribution=True, share_alike=False),
        Licence(spdx="MIT", name="MIT License", commercial_use=True, attribution=True, share_alike=False),
    )
}


def licence(spdx: str) -> Licence:
    """The licence by SPDX id; unknown ids raise (an unknown licence means: ask before using)."""
    try:
        return LICENCES[spdx]
    except KeyError:
        raise KeyError(
            f"unknown licence {spdx!r}: treat as 'all rights reserved' until clarified; known: {', '.join(LICENCES)}"
        ) from None


class DataCard(BaseModel):
    """A short, structured description that travels with a dataset."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    source: str
    licence: str
    created: str
    rows: int = Field(ge=0)
    columns: dict[str, str] = Field(description="column -> meaning")
    personal_data: bool
    special_categories: list[str] = []
    lawful_basis: str = ""
    pseudonymised_columns: list[str] = []
    quasi_identifiers: list[str] = []
    k_anonymity: int | None = None
    intended_uses: list[str] = []
    out_of_scope_uses: list[str] = []
    known_limitations: list[str] = []
    retention: str = ""
    contact: str = ""

    def to_markdown(self) -> str:
        def items(values: Iterable[str]) -> str:
            values = list(values)
            return "\n".join(f"- {v}" for v in values) if values else "- none"

        lines = [
            f"# Data card: {self.name}",
            "",
            self.description,
            "",
            f"- **Source / provenance:** {self.source}",
            f"- **Licence:** {self.licence}",
            f"- **Created:** {self.created}",
            f"- **Rows:** {self.rows}",
            f"- **Personal data:** {'yes' if self.personal_data else 'no'}",
            f"- **Lawful basis (GDPR Art. 6):** {self.lawful_basis or 'n/a'}",
            f"- **Special categories (GDPR Art. 9):** {', '.join(self.special_categories) or 'none'}",
            f"- **Pseudonymised columns (GDPR Art. 4(5)):** {', '.join(self.pseudonymised_columns) or 'none'}",
            f"- **Quasi-identifiers:** {', '.join(self.quasi_identifiers) or 'none'} (k-anonymity: {self.k_anonymity if self.k_anonymity is not None else 'n/a'})",
            f"- **Retention:** {self.retention or 'n/a'}",
            f"- **Contact:** {self.contact or 'n/a'}",
            "",
            "## Columns",
            "",
            "| column | meaning |",
            "|---|---|",
            *[f"| {c} | {m} |" for c, m in self.columns.items()],
            "",
            "## Intended uses",
            items(self.intended_uses),
            "",
            "## Out-of-scope uses",
            items(self.out_of_scope_uses),
            "",
            "## Known limitations",
            items(self.known_limitations),
            "",
        ]
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(), indent=2)
