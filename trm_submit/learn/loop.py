"""The pretraining loop: optimiser steps until the planned total or a stop signal (SIGTERM/SIGINT checkpoint
and stop), metrics averaged over steps and ranks into the JSONL log, checkpoints by steps, by time and at
the end.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
import torch.distributed as dist

from .ranks import agree
from .supervision import StepMetrics
from .train_checkpoints import save_checkpoint
from .trainer import Trainer

METRICS_FILE = "metrics.jsonl"


class MetricsWindow:
    """Sums of step metrics since the last log line; averaged over steps and ranks when logged."""

    KEYS = ("loss", "lm_loss", "q_loss", "accuracy", "exact_accuracy", "grad_norm")

    def __init__(self) -> None:
        self.sums = np.zeros(len(self.KEYS) + 3)  # + finite steps, non-finite steps, fresh rows
        self.start = time.perf_counter()

    def add(self, m: StepMetrics) -> None:
        if m.finite:
            self.sums[: len(self.KEYS)] += [getattr(m, k) for k in self.KEYS]
        self.sums[len(self.KEYS):] += [m.finite, not m.finite, m.rows_taken]

    def record(self, trainer: Trainer) -> dict[str, Any]:
        sums = torch.tensor(self.sums, dtype=torch.float64)
        if trainer.env.world > 1:
            sums = sums.to(trainer.env.device)
            dist.all_reduce(sums)
        vals = sums.cpu().numpy()
        k = len(self.KEYS)
        finite, nonfinite, rows = vals[k:]
        seconds = time.perf_counter() - self.start
        steps = (finite + nonfinite) / trainer.env.world
        lr, emb_lr = trainer.lrs(trainer.step - 1)
        rec = {"step": trainer.step, **{key: float(v / max(finite, 1)) for key, v in zip(self.KEYS, vals[:k])}}
        rec.update(nonfinite_steps=int(round(nonfinite / trainer.env.world)), lr=lr, emb_lr=emb_lr, examples=int(rows),
                   sample_steps_per_s=float(steps * trainer.cfg.global_batch_size / max(seconds, 1e-9)),
                   wall_time=round(trainer.elapsed, 3))
        return rec


@contextmanager
def _stop_requests() -> Iterator[dict[str, bool]]:
    """SIGTERM/SIGINT set a flag (the loop checkpoints and stops); a second signal interrupts at once."""
    flag = {"stop": False}

    def handler(signum: int, frame: Any) -> None:
        if flag["stop"]:
            raise KeyboardInterrupt
        flag["stop"] = True

    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def train_loop(trainer: Trainer, run_dir: Path, extra: dict[str, Any]) -> None:
    """Steps until `total_steps` or a stop signal; logs every `log_every` steps, checkpoints by steps and
    by time and at the end."""
    from tqdm import tqdm

    cfg, env = trainer.cfg, trainer.env
    bar = tqdm(total=trainer.total_steps, initial=trainer.step, disable=not (env.main and cfg.progress),
               mininterval=1.0 if os.isatty(2) else 60.0, dynamic_ncols=True)
    window, last_save, saved_step = MetricsWindow(), time.monotonic(), trainer.step
    with _stop_requests() as stop:
        while trainer.step < trainer.total_steps:
            _, metrics = trainer.train_step()
            window.add(metrics)
            bar.update(1)
            if trainer.step % cfg.log_every == 0 or trainer.step == trainer.total_steps:
                rec = window.record(trainer)
                if env.main:
                    with open(run_dir / METRICS_FILE, "a") as fh:
                        fh.write(json.dumps(rec) + "\n")
                    bar.set_postfix(loss=f"{rec['loss']:.3f}", acc=f"{rec['accuracy']:.3f}")
                window = MetricsWindow()
            stop_now, time_due = agree(env, stop["stop"], time.monotonic() - last_save >= cfg.checkpoint_every_seconds)
            if stop_now or time_due or trainer.step % cfg.checkpoint_every_steps == 0:
                save_checkpoint(trainer, run_dir, extra)
                last_save, saved_step = time.monotonic(), trainer.step
            if stop_now:
                break
    if saved_step != trainer.step:
        save_checkpoint(trainer, run_dir, extra)
    bar.close()
