"""Pretraining throughput: sample-steps/s (rows x optimiser steps per second) of candidate `cpu`-preset
models on compact bucketed canvases vs the 30x30 canvas, on the real training set, with one torch thread.

    python benchmarks/bench_train.py [--threads 1] [--steps 4] [--candidates tiny,base,wide,deep] [--full]

Each row: a fresh Trainer (`trm_submit.learn.pretrain`) on the real training set; every canvas bucket is timed
on its own (optimiser steps: deep supervision with ACT, EMA, AdamW + sign-SGD), and the compact figure
is the rate over the real mix of buckets (a bucket is visited in proportion to its examples).
"""

from __future__ import annotations

import argparse
import time

import torch

from trm_submit.config import ModelConfig
from trm_submit.learn import pretrain as train
from trm_submit.learn import ranks as train_ranks
from trm_submit.learn import trainer as train_state

BASE = dict(num_heads=4, L_layers=2, puzzle_emb_len=1, pos_encodings="rope2d", mask_pad=True)
CANDIDATES = {
    "tiny": ModelConfig(**{**BASE, "num_heads": 2}, hidden_size=64, puzzle_emb_ndim=64, H_cycles=2, L_cycles=2,
                        halt_max_steps=6),
    "base": train.CPU_MODEL,
    "wide": ModelConfig(**BASE, hidden_size=256, puzzle_emb_ndim=256, H_cycles=2, L_cycles=2, halt_max_steps=6),
    "deep": ModelConfig(**BASE, hidden_size=128, puzzle_emb_ndim=128, H_cycles=3, L_cycles=4, halt_max_steps=6),
    "prefix16": ModelConfig(**{**BASE, "puzzle_emb_len": 16}, hidden_size=128, puzzle_emb_ndim=128, H_cycles=2,
                            L_cycles=2, halt_max_steps=6),
}


def measure(model: ModelConfig, compact: bool, batch: int, steps: int, dtype: str) -> tuple[float, dict]:
    """(sample-steps/s over the real bucket mix, {side: sample-steps/s}). Each bucket is timed on its own
    (`steps` steps after one warm-up step) and the mix is the expected step time sum_b p_b * t_b, so the
    random order of buckets adds no noise."""
    model = model.replace(forward_dtype="bfloat16" if dtype == "bf16" else "float32")
    cfg = train.preset("cpu", model=model, compact=compact, n_aug=2, global_batch_size=batch,
                       autocast="bf16" if dtype == "bf16" else "off", progress=False)
    data, _ = train.build_data(cfg)
    trainer = train_state.Trainer(cfg, data, train_ranks.DistEnv(0, 1, torch.device("cpu")), total_steps=10**6)
    per_side, expected = {}, 0.0
    for b, bucket in enumerate(data.buckets):
        trainer.bucket_for = lambda step, b=b: b
        trainer.train_step()
        start = time.perf_counter()
        for _ in range(steps):
            trainer.train_step()
        seconds = (time.perf_counter() - start) / steps
        per_side[bucket.side] = batch / seconds
        expected += trainer.bucket_p[b] * seconds
    return batch / expected, per_side


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=4, help="timed steps per bucket")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--candidates", default="tiny,base,wide,deep")
    ap.add_argument("--dtypes", default="bf16,fp32")
    ap.add_argument("--full", action="store_true", help="also measure the 30x30 canvas")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {a.threads} thread(s), batch {a.batch}")
    print(f"{'model':<9} {'D':>4} {'H/L':>5} {'halt':>4} {'P':>3} {'dtype':>5} {'canvas':>8} "
          f"{'sample-steps/s':>15}  per bucket side")
    for name in a.candidates.split(","):
        m = CANDIDATES[name]
        for dtype in a.dtypes.split(","):
            for compact in (True, False) if a.full else (True,):
                rate, per_side = measure(m, compact, a.batch, a.steps, dtype)
                sides = " ".join(f"{s}:{r:.1f}" for s, r in per_side.items())
                print(f"{name:<9} {m.hidden_size:>4} {m.H_cycles}/{m.L_cycles:<3} {m.halt_max_steps:>4} "
                      f"{m.puzzle_emb_len:>3} {dtype:>5} {'compact' if compact else '30x30':>8} "
                      f"{rate:>15.1f}  {sides}", flush=True)


if __name__ == "__main__":
    main()
