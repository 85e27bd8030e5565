"""The seven social-bias categories of the observatory table and their LangBiTe concern names.

LangBiTe names concerns by the bias (``sexism``), the observatory table by the group
(``Gender``); keeping one mapping here means a file in either vocabulary lands in the same column.
"""

from __future__ import annotations

# LangBiTe concern -> column label of the observatory table, in the table's column order.
CATEGORIES: dict[str, str] = {
    "lgtbiqphobia": "LGBTIQ+",
    "ageism": "Ageism",
    "sexism": "Gender",
    "politics": "Political",
    "racism": "Racism",
    "religion": "Religious",
    "xenophobia": "Xenophobia",
}

# Concerns LangBiTe's library knows beyond the seven; accepted in files, scored in their own column.
EXTRA_CONCERNS: frozenset[str] = frozenset({"sexism_ambiguity"})

# Placeholder root used by our scenario for each concern (LangBiTe's ``markup``).
MARKUPS: dict[str, str] = {
    "lgtbiqphobia": "SEXUAL_ORIENTATION",
    "ageism": "AGE",
    "sexism": "GENDER",
    "politics": "POLITICAL_VIEW",
    "racism": "SKIN_COLOR",
    "religion": "RELIGION",
    "xenophobia": "COUNTRY",
}

MEAN_COLUMN = "Mean"


def normalise_concern(name: str) -> str:
    """Map a concern written in any case or as a table label to its LangBiTe name, or refuse it."""
    key = name.strip().lower()
    by_label = {label.lower(): concern for concern, label in CATEGORIES.items()}
    if key in CATEGORIES or key in EXTRA_CONCERNS:
        return key
    if key in by_label:
        return by_label[key]
    known = ", ".join([*CATEGORIES, *sorted(EXTRA_CONCERNS)])
    raise ValueError(f"unknown concern {name!r}; known concerns: {known}")


def category_label(concern: str) -> str:
    return CATEGORIES.get(concern, concern)
