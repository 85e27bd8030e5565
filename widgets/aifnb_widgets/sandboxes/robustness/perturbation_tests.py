"""Score a text classifier under character-level perturbations: does its decision survive an evasion attempt?"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from aifnb_widgets.sandboxes.robustness.perturbations import Perturbation


def perturbation_pass_rates(
    predict: Callable[[Sequence[str]], np.ndarray],
    texts: Sequence[str],
    labels: np.ndarray,
    perturbations: Mapping[str, Perturbation],
    *,
    target_label: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """Per perturbation: accuracy on perturbed inputs, pass rate (prediction unchanged) and evasion rate.

    The evasion rate is the share of ``target_label`` inputs caught when clean that escape once perturbed:
    for a phishing filter, the attacker's success rate.
    """
    labels = np.asarray(labels)
    clean = np.asarray(predict(texts))
    caught = (labels == target_label) & (clean == target_label)
    rows = [{"perturbation": "none (clean)", "accuracy": float((clean == labels).mean()), "pass_rate": 1.0, "evasion_rate": 0.0}]
    for i, (name, perturb) in enumerate(tqdm(perturbations.items(), desc="perturbations", unit="test")):
        rng = np.random.default_rng([seed, i])
        pred = np.asarray(predict([perturb(t, rng) for t in texts]))
        rows.append(
            {
                "perturbation": name,
                "accuracy": float((pred == labels).mean()),
                "pass_rate": float((pred == clean).mean()),
                "evasion_rate": float((pred[caught] != target_label).mean()) if caught.any() else 0.0,
            }
        )
    return pd.DataFrame(rows).set_index("perturbation")
