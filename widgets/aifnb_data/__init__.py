"""The models and datasets catalogue: cards, access by group, and the access log.

Its own package because both sides need it and neither may import the other: the hub validates
the catalogue at start (an invalid one stops it), answers what a user may see and resolves names
for sessions (writing the access log); sessions, batch jobs and sandboxes read the catalogue
through the hub with their token (:mod:`aifnb_data.client`). The schema and the access rule are
written once, here, and have no JupyterHub or ipywidgets imports.

    from aifnb_data import open_dataset, model_path
    frame = open_dataset("iris")                      # a DataFrame (csv, jsonl, parquet); npz: a dict of arrays
    model = AutoModelForCausalLM.from_pretrained(model_path("tiny-gpt2"))
"""

from __future__ import annotations

from aifnb_data.client import entries, model_path, open_dataset, show

__all__ = ["entries", "model_path", "open_dataset", "show"]
