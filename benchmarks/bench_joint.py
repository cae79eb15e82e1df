"""Joint fine-tuning throughput (`--ttft-scope joint`): sample-steps/s (rows x optimiser steps per second) of
the real joint fine-tuning loop with the bundled weights, on the demonstration pairs of the first N tasks of an
evaluation set, in 1 process and in 2 gloo processes (the CPU cores split between them).

    python benchmarks/bench_joint.py [--tasks 40] [--steps 30] [--batch 32] [--views 64] [--set arc-agi-1]

Each row builds the joint set and fine-tunes `--steps` steps (the first quarter embeddings-only, as in a run);
the rate counts the loop only (data building and model loading excluded), timed by the solver itself.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path

import orjson
import torch
import torch.multiprocessing as mp

from trm_submit.budget import Budget
from trm_submit.config import InferConfig, RunConfig
from trm_submit.io import datasets, tasks
from trm_submit.run.solve import JointSolver
from trm_submit.trm import checkpoint

REPO = Path(__file__).resolve().parent.parent


def first_tasks(name: str, n: int) -> list[tasks.Task]:
    ch, _ = datasets.load_split(name, "evaluation")
    loaded = tasks.parse_challenges(orjson.dumps({t: ch[t] for t in list(ch)[:n]}), f"{name} evaluation")
    return [loaded.tasks[t] for t in loaded.order if t in loaded.tasks]


def fine_tune(rank: int, world: int, a: argparse.Namespace, folder: str) -> float:
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    cfg = RunConfig(challenges="unused", weights=a.weights, ttft_scope="joint", joint_steps=a.steps,
                    joint_batch=a.batch, fixed_work=True, infer=InferConfig(views=a.views))
    solver = JointSolver.fine_tuned(cfg, torch.device("cpu"), Budget(math.inf), checkpoint.load_bundled(a.weights),
                         first_tasks(a.set, a.tasks), Path(folder) / f"w{world}", rank, world,
                         f"file://{folder}/rendezvous{world}" if world > 1 else None)
    rate = solver.outcome.steps * solver.tcfg.global_batch_size / solver.outcome.seconds
    if rank == 0:
        print(f"| {world} | {torch.get_num_threads()} | {a.steps} | {solver.tcfg.global_batch_size} | "
              f"{solver.outcome.seconds:.1f} | {rate:.1f} |", flush=True)
    return rate


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", type=int, default=40)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--views", type=int, default=64)
    p.add_argument("--set", default="arc-agi-1")
    p.add_argument("--weights", default=str(REPO / "weights" / "trm.pt"))
    a = p.parse_args()
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    print(f"{a.tasks} tasks of {a.set} evaluation, {a.views} views, {cpu}, {os.cpu_count()} cores", file=sys.stderr)
    print("| processes | threads each | steps | batch (all processes) | loop seconds | sample-steps/s |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        fine_tune(0, 1, a, folder)
        mp.spawn(fine_tune, args=(2, a, folder), nprocs=2, join=True)


if __name__ == "__main__":
    main()
