"""The TRM candidate source on one task: plan views, fine-tune a fresh copy of the base weights, infer every view
of every test input, decode, vote. Returns a plain, picklable source record (see records.py)."""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
import torch

from ..budget import Budget
from ..config import RunConfig, TTFTConfig
from ..grids import augment, canvas, encoding, kernels, vote
from ..io.tasks import Task, grid_to_list
from ..learn import finetune
from ..trm import checkpoint, infer
from ..trm.model import TRM
from .sources import TOP_CANDIDATES

MAX_LOSS_POINTS = 100  # loss-curve points kept per task
FIRST_CHUNK = 8  # views in the first inference call of a test input (it times the rest)
MAX_CHUNK = 256  # most views per inference call; the time limit is checked between calls


def is_oom(exc: BaseException) -> bool:
    """True for an out-of-memory error of torch on any device."""
    oom = getattr(torch, "OutOfMemoryError", ())
    return (oom and isinstance(exc, oom)) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc))


def canvas_side(task: Task, bundle: checkpoint.Bundle, cfg: RunConfig) -> int:
    """The canvas side of `task` in this run (canvas.model_canvas_side with the run's margin and full_canvas)."""
    return canvas.model_canvas_side(bundle.config, task, cfg.infer.canvas_margin, full=cfg.infer.full_canvas)


def _downsample(values: list[float], n: int) -> list[float]:
    if len(values) <= n:
        return [float(v) for v in values]
    idx = np.linspace(0, len(values) - 1, n).round().astype(int)
    return [float(values[i]) for i in idx]


def predict_with_retry(model: TRM, tokens: np.ndarray, ids: np.ndarray, cfg: RunConfig,
                       device: torch.device, batch_size: int | None) -> tuple[infer.Prediction, int | None]:
    """infer.predict; on out-of-memory halve the batch and retry (down to 1), then give up."""
    while True:
        try:
            pred = infer.predict(model, tokens, ids, steps=cfg.infer.steps, batch_size=batch_size,
                                 memory_budget_bytes=cfg.infer.memory_budget_mb * 2**20,
                                 early_stop_k=cfg.infer.early_stop_k, device=device)
            return pred, batch_size
        except Exception as exc:
            if not is_oom(exc):
                raise
            if device.type == "cuda":
                torch.cuda.empty_cache()
            current = batch_size or len(tokens)
            if current <= 1:
                raise
            batch_size = max(1, current // 2)
            print(f"trm-submit: out of memory, retrying with batch {batch_size}", file=sys.stderr)


def infer_test_input(model: TRM, x: np.ndarray, augs: list[augment.Aug], side: int,
                     cfg: RunConfig, device: torch.device, budget: Budget, first_id: int = 0) -> dict[str, Any]:
    """Every view of one test input through the model (view v with puzzle row `first_id + v`), in chunks sized
    to the time left (the limit is checked before each chunk); then decode and vote. The attempts come later,
    from every source's candidates (sources.task_attempts); with no view run in time there are no candidates."""
    tokens = np.stack([encoding.encode_grid(a.apply(x), side) for a in augs])
    ids = np.asarray([first_id + checkpoint.view_puzzle_id(v) for v in range(len(augs))], dtype=np.int32)
    fixed = cfg.fixed_work  # fixed chunks: the same batches whatever the speed, for reproducible runs
    preds, confs, batch, n, chunk = [], [], None, 0, MAX_CHUNK if fixed else FIRST_CHUNK
    while n < len(augs) and not budget.over():
        t0 = time.time()
        pred, batch = predict_with_retry(model, tokens[n:n + chunk], ids[n:n + chunk], cfg, device, batch)
        per_view = (time.time() - t0) / len(pred.tokens)
        preds.append(pred.tokens)
        confs.append(pred.q_halt_prob)
        n += len(pred.tokens)
        left = budget.left()
        chunk = MAX_CHUNK if fixed else int(max(1, min(MAX_CHUNK, left / max(per_view, 1e-6))))
    if n == 0:
        return {"views": 0, "valid_views": 0, "candidates": []}
    dih, inv = augment.aug_arrays(augs[:n])
    grids, shapes, hashes, valid = kernels.decode_views(np.concatenate(preds), side, dih, inv)
    cands = vote.rank(grids, shapes, hashes, valid, np.concatenate(confs), rule=cfg.infer.vote_rule)
    return {"views": n, "valid_views": int(valid.sum()),
            "candidates": [{"grid": grid_to_list(c.grid), "count": c.count, "conf": round(c.mean_conf, 4)}
                           for c in cands[:TOP_CANDIDATES]]}


class TaskSolver:
    """Holds the base weights of one worker; `solve(task, budget, seed)` -> the TRM source record.

    `run` is the whole run's budget: with `fixed_work` it is the only limit, and a task it cuts is marked
    `cut` (redone on resume)."""

    def __init__(self, cfg: RunConfig, device: torch.device, run: Budget, progress: bool = False,
                 bundle: checkpoint.Bundle | None = None):
        self.cfg, self.device, self.run, self.progress = cfg, device, run, progress
        if bundle is None:
            if cfg.weights is None:
                raise ValueError("a TRM solver needs weights: cfg.weights or a loaded bundle")
            bundle = checkpoint.load_bundled(cfg.weights)
        self.bundle = bundle
        self.ttft = TTFTConfig(batch_size=cfg.ttft_batch, lr=cfg.ttft_lr, emb_lr=cfg.ttft_emb_lr)
        if cfg.ttft_steps is not None:
            self.ttft = self.ttft.replace(steps=cfg.ttft_steps)

    def solve(self, task: Task, budget: Budget, seed: int) -> dict[str, Any]:
        cfg = self.cfg
        task_budget = self.run if cfg.fixed_work else budget  # fixed work: only the run deadline cuts
        ttft_budget = task_budget if cfg.fixed_work else task_budget.fraction(cfg.ttft_share)
        side = canvas_side(task, self.bundle, cfg)
        augs = augment.plan(task, cfg.infer.views, seed, permute_zero=cfg.infer.permute_zero)
        t0 = time.time()
        ft = finetune.adapt(self.bundle, task, augs, self.ttft, seed=seed, side=side, device=self.device,
                            budget=ttft_budget, fit_to_budget=cfg.ttft_steps is None, progress=self.progress)
        t1 = time.time()
        model = ft.model.eval()
        n = task.n_test
        per_test = [infer_test_input(model, x, augs, side, cfg, self.device,
                                     task_budget if cfg.fixed_work else task_budget.share(n - i))
                    for i, x in enumerate(task.test_inputs)]
        t2 = time.time()
        return {"status": "ok", "candidates": [p["candidates"] for p in per_test], "side": side,
                "views_planned": len(augs), "views": [p["views"] for p in per_test],
                "valid_views": [p["valid_views"] for p in per_test], "ttft_steps": ft.steps_done,
                "ttft_stopped_by": ft.stopped_by, "losses": _downsample(ft.losses, MAX_LOSS_POINTS),
                "timings": {"ttft": round(t1 - t0, 3), "infer_vote": round(t2 - t1, 3)}}
