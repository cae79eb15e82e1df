"""Fine-tuning time per optimiser step with compact canvases (task side + margin) against the full 30x30
canvas, for the bundled model on real ARC-AGI-1 training and evaluation tasks.

Run: python benchmarks/bench_ttft_canvas.py [--tasks 6] [--steps 4] [--threads 1] [--weights weights/trm.pt]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from trm_submit.config import TTFTConfig
from trm_submit.grids import augment, canvas
from trm_submit.io import datasets
from trm_submit.learn import finetune
from trm_submit.trm import checkpoint


def seconds_per_step(bundle, task, side: int, steps: int, batch: int) -> float:
    augs = augment.plan(task, 16, 0)
    cfg = TTFTConfig(steps=steps + 1, batch_size=batch, warmup_fraction=0.0)
    t0 = time.perf_counter()
    finetune.adapt(bundle, task, augs, cfg.replace(steps=1), seed=0, side=side)  # warm-up, one step
    t1 = time.perf_counter()
    finetune.adapt(bundle, task, augs, cfg, seed=0, side=side)
    t2 = time.perf_counter()
    return ((t2 - t1) - (t1 - t0)) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tasks", type=int, default=6, help="tasks per split (evenly spaced over the split)")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--weights", default="weights/trm.pt")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bundle = checkpoint.load_bundled(args.weights)
    print(f"{'split':<12}{'task':<10}{'side':>5}{'s/step compact':>16}{'s/step 30x30':>14}{'speed-up':>10}")
    for split in ("training", "evaluation"):
        ch, _ = datasets.load_tasks("arc-agi-1", split)
        ids = sorted(ch.tasks)
        pick = [ids[i] for i in np.linspace(0, len(ids) - 1, args.tasks).astype(int)]
        ratios = []
        for tid in pick:
            task = ch.tasks[tid]
            side = canvas.fit_side(task, 1)
            small = seconds_per_step(bundle, task, side, args.steps, args.batch)
            full = seconds_per_step(bundle, task, 30, args.steps, args.batch)
            ratios.append(full / small)
            print(f"{split:<12}{tid:<10}{side:>5}{small:>16.3f}{full:>14.3f}{full / small:>9.1f}x")
        print(f"{split:<12}{'mean':<10}{'':>5}{'':>16}{'':>14}{np.mean(ratios):>9.1f}x")


if __name__ == "__main__":
    main()
