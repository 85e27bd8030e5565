"""Facts about Regulation (EU) 2024/1689 (the AI Act) used by the AI Act course: the
application timeline and the compute threshold of Art. 51(2). NOT legal advice; the
risk-tier rules live in :mod:`aifnb_widgets.sandboxes.ai_act.triage`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["SYSTEMIC_RISK_FLOP", "TIMELINE", "Milestone", "in_force_on", "presumed_systemic_risk", "training_flops"]

#: Art. 51(2): a general-purpose AI model is presumed to have high-impact capabilities (and so
#: systemic risk) when the cumulative compute used for its training exceeds 10^25 FLOP.
SYSTEMIC_RISK_FLOP = 1e25


@dataclass(frozen=True)
class Milestone:
    date: dt.date
    what: str
    provision: str


#: Publication, entry into force, the staggered dates of application (Art. 113) and the transitional
#: deadlines for systems and models already on the market (Art. 111(1)-(3)).
TIMELINE: tuple[Milestone, ...] = (
    Milestone(dt.date(2024, 7, 12), "Published in the Official Journal of the EU (OJ L, 12.7.2024)", "—"),
    Milestone(dt.date(2024, 8, 1), "Entry into force (twentieth day after publication)", "Art. 113, first paragraph"),
    Milestone(
        dt.date(2025, 2, 2),
        "Chapters I and II apply: general provisions incl. AI literacy (Art. 4) and the prohibited practices (Art. 5)",
        "Art. 113, point (a)",
    ),
    Milestone(
        dt.date(2025, 8, 2),
        "Obligations for general-purpose AI models (Chapter V), governance, notified bodies and penalties apply (except Art. 101)",
        "Art. 113, point (b)",
    ),
    Milestone(
        dt.date(2026, 8, 2),
        "General date of application: most obligations, incl. Annex III high-risk systems and the Art. 50 transparency duties",
        "Art. 113, second paragraph",
    ),
    Milestone(
        dt.date(2027, 8, 2),
        "Art. 6(1) high-risk (safety components of Annex I products) and the corresponding obligations apply",
        "Art. 113, point (c)",
    ),
    Milestone(dt.date(2027, 8, 2), "General-purpose AI models placed on the market before 2 Aug 2025 must comply", "Art. 111(3)"),
    Milestone(
        dt.date(2030, 8, 2),
        "High-risk systems already on the market before 2 Aug 2026 and intended for use by public authorities must comply (others only after a significant change in design, Art. 111(2))",
        "Art. 111(2)",
    ),
    Milestone(
        dt.date(2030, 12, 31),
        "AI systems that are components of the large-scale IT systems of Annex X, placed on the market before 2 Aug 2027, must comply",
        "Art. 111(1)",
    ),
)


def training_flops(n_parameters: float, n_tokens: float) -> float:
    """Rule-of-thumb training compute of a dense transformer: about 6 FLOP per parameter per
    training token (forward + backward pass)."""
    if n_parameters < 0 or n_tokens < 0:
        raise ValueError("parameters and tokens must be non-negative")
    return 6.0 * n_parameters * n_tokens


def presumed_systemic_risk(training_flop: float) -> bool:
    """Art. 51(2) presumption: cumulative training compute greater than 10^25 FLOP."""
    return training_flop > SYSTEMIC_RISK_FLOP


def in_force_on(day: dt.date) -> list[Milestone]:
    """Milestones reached on ``day`` (what already applies)."""
    return [m for m in TIMELINE if m.date <= day]
