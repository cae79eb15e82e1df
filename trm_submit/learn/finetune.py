"""Per-task test-time fine-tuning (TTFT): a fresh copy of the base weights adapted to one task's demonstrations.

Every view (augmented version) of the task is its own puzzle with its own embedding row (view i <-> puzzle
id `checkpoint.view_puzzle_id(i)`, the layout of `checkpoint.build_model`). Training rows are the task's
demonstration pairs in every view, placed on the canvas by the official train-split rule (per view one
randomly chosen pair at (0, 0), the others at random offsets; drawn afresh each epoch when `translate`),
served in shuffled epochs to the deep supervisor (one optimiser step per ACT step, carry kept). The first
`warmup_fraction` of the steps trains the embedding rows only, then the whole model. A non-finite loss stops
fine-tuning and restores the last snapshot of the weights. Results depend only on the seed (unless the step
count is fitted to the budget at the measured speed).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from tqdm import tqdm

from trm_submit.budget import Budget, Costs
from trm_submit.config import InferConfig, ModelConfig, TTFTConfig
from trm_submit.grids import canvas, encoding
from trm_submit.grids.augment import Aug
from trm_submit.learn.optim import Optimizers, lr_schedule
from trm_submit.learn.supervision import DeepSupervisor, autocast_dtype
from trm_submit.trm import checkpoint
from trm_submit.trm.model import TRM


@dataclass
class FineTuneResult:
    model: TRM  # eval mode
    losses: list[float]  # loss per finite step (per batch row)
    steps_done: int  # optimiser steps reflected in the returned weights
    stopped_by: str  # "done", "deadline" (the budget was over) or "nan" (non-finite loss; weights restored)


class TaskRows:
    """RowSource over a task's demonstration pairs in every view, in shuffled epochs."""

    def __init__(self, task: Any, augs: Sequence[Aug], side: int, rng: np.random.Generator, translate: bool = True):
        if not task.train:
            raise ValueError(f"task {task.task_id} has no demonstration pairs to fine-tune on")
        self.side, self.rng, self.translate = side, rng, translate
        self.views = [[(a.apply(i), a.apply(o)) for i, o in task.train] for a in augs]
        for j, (inp, out) in enumerate(self.views[0]):
            largest = max(inp.shape + out.shape)
            if largest > side:
                raise ValueError(f"task {task.task_id}: demonstration pair {j} (side {largest}) does not fit a "
                                 f"{side}x{side} canvas")
        self._epoch: dict[str, np.ndarray] | None = None
        self._cursor = 0

    def _offset(self, pair: tuple[np.ndarray, np.ndarray], keep: bool) -> tuple[int, int]:
        if keep or not self.translate:
            return (0, 0)
        return encoding.random_offset(self.rng, pair[0].shape, pair[1].shape, self.side)

    def _new_epoch(self) -> dict[str, np.ndarray]:
        inputs, labels, ids = [], [], []
        for view, pairs in enumerate(self.views):
            keep = int(self.rng.integers(len(pairs)))
            for j, pair in enumerate(pairs):
                x, y = encoding.encode_pair(pair[0], pair[1], self.side, self._offset(pair, j == keep))
                inputs.append(x)
                labels.append(y)
                ids.append(checkpoint.view_puzzle_id(view))
        order = self.rng.permutation(len(inputs))
        return {"inputs": np.stack(inputs)[order], "labels": np.stack(labels)[order],
                "puzzle_identifiers": np.asarray(ids, dtype=np.int32)[order]}

    def take(self, n: int) -> dict[str, np.ndarray]:
        parts: list[dict[str, np.ndarray]] = []
        while n > 0:
            if self._epoch is None or self._cursor >= len(self._epoch["inputs"]):
                self._epoch, self._cursor = self._new_epoch(), 0
            k = min(n, len(self._epoch["inputs"]) - self._cursor)
            parts.append({key: v[self._cursor:self._cursor + k] for key, v in self._epoch.items()})
            self._cursor += k
            n -= k
        return {key: np.concatenate([p[key] for p in parts]) for key in ("inputs", "labels", "puzzle_identifiers")}


class StepPlan:
    """Total steps, the embeddings-only phase and the learning rates of each step."""

    def __init__(self, cfg: TTFTConfig, total: int):
        self.cfg = cfg
        self.set_total(total)

    def set_total(self, total: int) -> None:
        self.total = max(0, int(total))
        self.frozen_steps = int(math.floor(self.total * self.cfg.warmup_fraction))

    def fit_to_time(self, step: int, seconds_per_step: float, seconds_left: float) -> None:
        """Shrink the plan so the remaining steps fit in `seconds_left` at the measured speed."""
        if seconds_per_step > 0:
            self.resize(step, min(self.total, step + int(max(0.0, seconds_left) / seconds_per_step)))

    def resize(self, step: int, total: int) -> None:
        """A new total (at least `step`, the steps already taken); a phase boundary already passed stays put."""
        trunk_started, frozen = step >= self.frozen_steps, self.frozen_steps
        self.set_total(max(step, total))
        if trunk_started:
            self.frozen_steps = frozen

    def lrs(self, step: int) -> tuple[float, float]:
        """(trunk lr, embedding lr) of 0-based `step`; the trunk schedule starts when its training does."""
        cfg = self.cfg
        emb = lr_schedule(step + 1, self.total, cfg.lr_warmup_steps, cfg.emb_lr, cfg.min_lr_ratio)
        if step < self.frozen_steps:
            return 0.0, emb
        trunk_step, trunk_total = step - self.frozen_steps + 1, self.total - self.frozen_steps
        return lr_schedule(trunk_step, trunk_total, cfg.lr_warmup_steps, cfg.lr, cfg.min_lr_ratio), emb


def resolve_side(task: Any, config: ModelConfig, side: int | None) -> int:
    """The given side; else the canvas policy's side at the default margin (canvas.model_canvas_side)."""
    if side is not None:
        if not 1 <= int(side) <= encoding.MAX_SIDE:
            raise ValueError(f"canvas side must be in 1..{encoding.MAX_SIDE}, got {side}")
        return int(side)
    return canvas.model_canvas_side(config, task, InferConfig.canvas_margin)


def fresh_model(base: checkpoint.Bundle | TRM, num_views: int, device: str | torch.device | None) -> TRM:
    """A model the caller's base is safe from: built from a bundle, or a deep copy of a TRM."""
    if isinstance(base, checkpoint.Bundle):
        return checkpoint.build_model(base, num_views, device or "cpu")
    if not isinstance(base, TRM):
        raise TypeError(f"adapt needs a checkpoint.Bundle or a TRM, got {type(base).__name__}")
    model = copy.deepcopy(base)
    rows = sum(p.shape[0] for p in model.puzzle_parameters())
    needed = checkpoint.view_puzzle_id(num_views - 1) + 1
    if model.puzzle_parameters() and rows < needed:
        raise ValueError(f"model has {rows} puzzle rows, {num_views} views need {needed}")
    return model.to(device) if device is not None else model


def snapshot(model: TRM) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def adapt(
    base: checkpoint.Bundle | TRM,
    task: Any,
    augs: Sequence[Aug],
    cfg: TTFTConfig,
    *,
    seed: int,
    side: int | None = None,
    device: str | torch.device | None = None,
    budget: Budget | None = None,
    fit_to_budget: bool = False,
    progress: bool | None = None,
    costs: Costs | None = None,
) -> FineTuneResult:
    """Fine-tune a fresh copy of `base` on `task` seen through `augs` (view i <-> view_puzzle_id(i)).

    `budget.over()` is checked before every step (None: no limit); with `costs` (a worker's measured costs)
    a step is also not started when its cost, measured on an earlier step of this task or of an earlier
    task, exceeds the time left (every step's cost is recorded there). With `fit_to_budget` the step count shrinks
    to what fits in `budget.left()` at the speed measured over the first `cfg.calibration_steps` steps
    (re-measured once the trunk trains). `progress`: None/True = a tqdm bar on a TTY, False = none.
    """
    budget = budget if budget is not None else Budget(math.inf)
    if not augs:
        raise ValueError(f"task {task.task_id}: adapt needs at least one view")
    if cfg.snapshot_every < 1 or cfg.batch_size < 1 or cfg.steps < 0:
        raise ValueError(f"TTFTConfig needs snapshot_every >= 1, batch_size >= 1, steps >= 0: {cfg}")
    model = fresh_model(base, len(augs), device)
    dev = next(model.parameters()).device
    side = resolve_side(task, model.config, side)
    cuda_devices = [dev.index if dev.index is not None else torch.cuda.current_device()] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        rng = np.random.default_rng(seed)
        torch.manual_seed(int(rng.integers(2**62)))
        source = TaskRows(task, augs, side, rng, cfg.translate)
        opt = Optimizers.for_model(model, lr=cfg.lr, emb_lr=cfg.emb_lr, weight_decay=cfg.weight_decay,
                                   emb_weight_decay=cfg.emb_weight_decay, betas=tuple(cfg.betas),
                                   emb_optimizer=cfg.emb_optimizer)
        sup = DeepSupervisor(model, cfg.batch_size, side * side, dev, autocast_dtype(cfg.autocast, dev))
        bar = tqdm(total=cfg.steps, desc=f"ttft {task.task_id}", leave=False, disable=(progress is False) or None)
        try:
            result = _train(model, sup, source, opt, cfg, budget, bar, fit_to_budget, costs, side * side)
        finally:
            bar.close()
            opt.trunk_frozen = False  # restore requires_grad
    losses, steps_done, stopped_by = result
    return FineTuneResult(model.eval(), losses, steps_done, stopped_by)


class TimeFit:
    """Fits the plan to the budget: per phase (embeddings-only, full) the speed is measured on the budget's
    clock over `calibration` steps, starting after the phase's first step (which pays one-off costs)."""

    def __init__(self, plan: StepPlan, budget: Budget | None, calibration: int):
        self.plan, self.budget = plan, budget
        self.calibration = max(1, calibration)
        self.new_phase()

    def new_phase(self) -> None:
        self.mark: tuple[int, float] | None = None
        self.fitted = False

    def after_step(self, step: int) -> None:
        if self.budget is None or self.fitted:
            return
        now = time.monotonic()
        if self.mark is None:
            self.mark = (step, now)
        elif step - self.mark[0] >= self.calibration:
            per_step = (now - self.mark[1]) / (step - self.mark[0])
            self.plan.fit_to_time(step, per_step, self.budget.left())
            self.fitted = True


STEP = "ttft-step"  # the kind of a fine-tuning step in `Costs`


def _train(model: TRM, sup: DeepSupervisor, source: TaskRows, opt: Optimizers, cfg: TTFTConfig, budget: Budget,
           bar: Any, fit_to_budget: bool, costs: Costs | None, tokens: int) -> tuple[list[float], int, str]:
    """The step loop: (losses, steps reflected in the weights, stopped_by)."""
    plan = StepPlan(cfg, cfg.steps)
    fit = TimeFit(plan, budget if fit_to_budget else None, cfg.calibration_steps)
    last_good, good_step = snapshot(model), 0
    losses: list[float] = []
    step = 0
    while step < plan.total:
        if budget.over() or (costs is not None and not costs.fits(budget, STEP, tokens)):
            return losses, step, "deadline"
        frozen = step < plan.frozen_steps
        if step > 0 and frozen != opt.trunk_frozen:
            fit.new_phase()
        opt.trunk_frozen = frozen
        opt.set_lr(*plan.lrs(step))
        started = time.monotonic()
        metrics = sup.step(source, opt, cfg.grad_clip)
        if costs is not None:
            costs.record(STEP, tokens, time.monotonic() - started)
        if not metrics.finite:
            model.load_state_dict(last_good)
            return losses, good_step, "nan"
        step += 1
        losses.append(metrics.loss)
        if step % cfg.snapshot_every == 0:
            last_good, good_step = snapshot(model), step
        fit.after_step(step)
        bar.total = plan.total
        bar.update(1)
        bar.set_postfix(loss=f"{metrics.loss:.3f}", acc=f"{metrics.accuracy:.2f}", refresh=False)
    return losses, step, "done"
