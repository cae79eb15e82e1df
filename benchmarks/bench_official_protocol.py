"""Cost of `--protocol official` per view (one test-split row of an official build) on this machine:
the evaluator-style post-processing (crop, inverse, key; then the vote) in numpy, and the model itself
(fixture's tiny checkpoint; optionally the paper's ARC architecture, random weights, fp32).

Command: `python benchmarks/bench_official_protocol.py [--paper-rows N]`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from trm_submit.config import ModelConfig
from trm_submit.official import protocol as official_protocol
from trm_submit.official.checkpoints import load_official_model
from trm_submit.trm import infer
from trm_submit.trm.model import TRM

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "official-protocol"


def post_processing(n: int = 1000) -> float:
    """Seconds per row of crop + invert + key + vote over `n` rows of random-ish predictions."""
    rng = np.random.default_rng(0)
    tokens = rng.integers(2, 12, size=(n, 900)).astype(np.uint8)
    tokens[:, 30 * 12:] = 0  # 12 rows of colours, then PAD
    tokens[:, 15::30] = 1  # an EOS column: 12x15 crops
    name = "abc|||t5|||0612397845"
    t0 = time.perf_counter()
    preds = []
    for row in tokens:
        _, k, inv = official_protocol.parse_name(name)
        grid = official_protocol.invert(official_protocol.crop(row), k, inv)
        official_protocol.grid_key(grid)
        preds.append((grid, 0.5))
    official_protocol.vote(preds)
    return (time.perf_counter() - t0) / n


def model_per_row(model: TRM, rows: int, reps: int = 3) -> float:
    build = official_protocol.read_build(FIXTURE / "official-data")
    tokens = np.asarray(build.inputs[:rows])
    ids = np.ones(rows, np.int32)
    infer.predict(model, tokens, ids)  # warm-up
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        infer.predict(model, tokens, ids)
        best = min(best, time.perf_counter() - t0)
    return best / rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paper-rows", type=int, default=2, help="rows for the paper-architecture model (0: skip)")
    a = ap.parse_args()
    print(f"torch threads {torch.get_num_threads()}")
    print(f"post-processing (crop, inverse, key, vote): {post_processing() * 1e6:.1f} us per row")
    tiny = load_official_model(FIXTURE / "checkpoint")
    print(f"fixture checkpoint (D {tiny.config.hidden_size}, {tiny.config.halt_max_steps} ACT steps): "
          f"{model_per_row(tiny, 25) * 1e3:.1f} ms per row (batch 25)")
    if a.paper_rows:
        torch.manual_seed(0)
        paper = TRM(ModelConfig(forward_dtype="float32"), 2).eval()
        print(f"paper ARC architecture (D 512, 16 ACT steps, fp32, random): "
              f"{model_per_row(paper, a.paper_rows, reps=1):.2f} s per row (batch {a.paper_rows})")


if __name__ == "__main__":
    main()
