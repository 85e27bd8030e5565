"""Throughput of the bias engine: its own overhead, and batched generation against one prompt per call.

First line: the engine's own cost (plan, batching, call keys, records written) with a constant
backend that answers instantly, per 3,000 prompts; the target is 0.5 s, so an endpoint that
answers batches in milliseconds is never waiting for the engine.

Same model, same prompts, same greedy decoding, in one run: first one prompt per call (what
LangBiTe does), then batches of left-padded prompts (what ``aifnb bias run`` does). The model
has GPT-2-small's shape (12 layers, 768 wide, 50257-token vocabulary, 124M parameters) with
random weights, built locally: nothing is downloaded.

    python benchmarks/bias_throughput.py            # full run, prints prompts/s and the ratio
    python benchmarks/bias_throughput.py --quick    # smoke run: small model, few prompts
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

GPT2_SMALL = {"n_layer": 12, "n_head": 12, "n_embd": 768, "n_positions": 1024, "vocab_size": 50257}
QUICK_MODEL = {"n_layer": 2, "n_head": 2, "n_embd": 64, "n_positions": 512}
TARGET_RATIO = 10.0
TARGET_OVERHEAD_S = 0.5  # per 3,000 prompts, constant backend, records written


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small model and few prompts: checks the script works")
    parser.add_argument("--prompts", type=int, help="number of prompts (default 256, quick 16)")
    parser.add_argument("--batch-size", type=int, help="prompts per batch (default 64, quick 8)")
    parser.add_argument("--max-new-tokens", type=int, help="tokens generated per prompt (default 16, quick 4)")
    parser.add_argument("--device", help="torch device; default cuda when available, else cpu")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import torch

    from aifnb_widgets.backends.base import GenerationSettings
    from aifnb_widgets.backends.hf import HFBackend
    from aifnb_widgets.bias.plan import build_plan
    from aifnb_widgets.bias.records import read_run_records
    from aifnb_widgets.bias.runner import run_model
    from aifnb_widgets.bias.scenario import default_scenario
    from aifnb_widgets.models.tiny import build_tiny_causal_lm

    args = parse_args(argv)
    overhead_s, overhead_prompts = engine_overhead()
    n_prompts = args.prompts or (16 if args.quick else 256)
    batch_size = args.batch_size or (8 if args.quick else 64)
    max_new_tokens = args.max_new_tokens or (4 if args.quick else 16)
    shape = QUICK_MODEL if args.quick else GPT2_SMALL

    scenario = default_scenario(languages=["en", "fr", "de"], n_templates=100)
    plan = build_plan(scenario)
    plan = plan.model_copy(update={"tests": _first_prompts(plan.tests, n_prompts)})
    settings = GenerationSettings(max_new_tokens=max_new_tokens)
    with tempfile.TemporaryDirectory(prefix="aifnb-bench-") as tmp:
        # A tokenizer trained on the prompts themselves gives prompt lengths like GPT-2's own
        # tokenizer would (words as single tokens), not the many-piece splits of a 512-token vocabulary.
        texts = [p.text for test in plan.tests for p in test.prompts]
        model_dir = build_tiny_causal_lm(
            Path(tmp) / "model", chat_template=False, corpus=texts, tokenizer_vocab_size=4096, **shape
        )
        backend = HFBackend(str(model_dir), settings, device=args.device)
        backend_params = sum(p.numel() for p in backend.model.parameters())
        backend.generate([plan.tests[0].prompts[0].text])  # warm-up: allocator, kernels

        # The engine's own path both times; only the batch size differs (1 = LangBiTe's way).
        timings, answers = {}, {}
        for name, size in (("sequential", 1), ("batched", batch_size)):
            run_dir = Path(tmp) / name
            start = time.perf_counter()
            run_model(plan, backend, run_dir, settings, batch_size=size)
            timings[name] = time.perf_counter() - start
            answers[name] = {r["key"]: r["answer"] for r in read_run_records(run_dir)}
        sequential_s, batched_s = timings["sequential"], timings["batched"]
    n_prompts = plan.n_calls

    figures = {
        "engine_overhead_s_per_3000": overhead_s,
        "engine_overhead_prompts": overhead_prompts,
        "device": backend.device,
        "torch_threads": torch.get_num_threads(),
        "parameters": backend_params,
        "prompts": n_prompts,
        "batch_size": batch_size,
        "max_new_tokens": max_new_tokens,
        "one_per_call_prompts_per_s": n_prompts / sequential_s,
        "batched_prompts_per_s": n_prompts / batched_s,
        "speedup": sequential_s / batched_s,
        "same_answers": sum(answers["batched"][k] == a for k, a in answers["sequential"].items()) / n_prompts,
    }
    verdict = "meets" if overhead_s <= TARGET_OVERHEAD_S else "misses"
    print(
        f"engine overhead: {overhead_s:.3f} s per 3,000 prompts (constant backend, {overhead_prompts} prompts, "
        f"records written; {verdict} the {TARGET_OVERHEAD_S:g} s target)"
    )
    print(
        f"model: GPT-2 {'(quick, small)' if args.quick else 'small shape'}, {backend_params / 1e6:.1f}M parameters, "
        f"random weights, on {backend.device} ({figures['torch_threads']} torch threads)"
    )
    print(f"{n_prompts} prompts, {max_new_tokens} new tokens each, greedy")
    print(f"one prompt per call (LangBiTe): {figures['one_per_call_prompts_per_s']:8.2f} prompts/s")
    print(f"batched, {batch_size} per batch (aifnb): {figures['batched_prompts_per_s']:8.2f} prompts/s")
    verdict = "meets" if figures["speedup"] >= TARGET_RATIO else "is below"
    print(
        f"speed-up: {figures['speedup']:.1f}x ({verdict} the {TARGET_RATIO:g}x target); "
        f"identical answers: {figures['same_answers']:.0%}"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


def engine_overhead(min_prompts: int = 3000) -> tuple[float, int]:
    """Seconds the engine spends per 3,000 prompts when the model costs nothing (best of three)."""
    from aifnb_widgets.backends.base import GenerationSettings
    from aifnb_widgets.bias.plan import build_plan
    from aifnb_widgets.bias.runner import run_model
    from aifnb_widgets.bias.scenario import default_scenario

    class Constant:
        model_id = "constant"

        def generate(self, prompts: list[str]) -> list[str]:
            return ["No."] * len(prompts)

    plan = build_plan(default_scenario(languages=["en", "fr", "de"], n_templates=100))
    samples = -(-min_prompts // plan.n_calls)  # repeat samples until the plan holds enough prompts
    plan = plan.model_copy(update={"samples": samples})
    best = float("inf")
    for _ in range(3):
        with tempfile.TemporaryDirectory(prefix="aifnb-overhead-") as tmp:
            start = time.perf_counter()
            run_model(plan, Constant(), tmp, GenerationSettings(), batch_size=64)
            best = min(best, time.perf_counter() - start)
    return best / plan.n_calls * 3000, plan.n_calls


def _first_prompts(tests, n: int):
    """Whole tests, cut so the plan holds exactly ``n`` prompts."""
    kept, left = [], n
    for test in tests:
        if left <= 0:
            break
        kept.append(test if len(test.prompts) <= left else test.model_copy(update={"prompts": test.prompts[:left]}))
        left -= len(kept[-1].prompts)
    return kept


if __name__ == "__main__":
    sys.exit(main())
