"""The TRM candidate source on one task, in three scopes that share one per-test loop and one record builder
(`records.trm_record`): per task (plan views, fine-tune a fresh copy of the base weights, infer), joint (infer
with the rows of one fine-tuning over every task, `learn.joint`) and the official protocol
(`official.protocol.OfficialSolver`). Each `solve(task, budget, seed)` returns the source record as JSON."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..budget import Budget, Costs
from ..config import RunConfig, TTFTConfig
from ..grids import augment, canvas, encoding, kernels, vote
from ..io.records import InputOutcome, SourceRecord, candidate, downsample, trm_record
from ..io.tasks import Task
from ..learn import finetune
from ..learn.joint import JointFineTune, Outcome
from ..trm import checkpoint, infer
from ..trm.model import TRM

FIRST_CHUNK = 8  # views in the first inference call of a test input (it times the rest)
MAX_CHUNK = 256  # most views per inference call; the time limit is checked between calls
VIEW = "infer-view"  # the kind of one view's inference in `Costs`


def canvas_side(task: Task, bundle: checkpoint.Bundle, cfg: RunConfig) -> int:
    """The canvas side of `task` in this run (canvas.model_canvas_side with the run's margin and full_canvas)."""
    return canvas.model_canvas_side(bundle.config, task, cfg.infer.canvas_margin, full=cfg.infer.full_canvas)


def infer_test_input(model: TRM, x: np.ndarray, augs: list[augment.Aug], side: int, cfg: RunConfig,
                     device: torch.device, budget: Budget, first_id: int = 0,
                     costs: Costs | None = None) -> dict[str, Any]:
    """Every view of one test input through the model (view v with puzzle row `first_id + v`), in chunks sized
    to the time left at the cost per view measured on the chunks before (and in `costs`, on earlier tasks): a
    chunk is not started when not one view of it fits; then decode and vote. The attempts come later, from
    every source's candidates (sources.task_attempts); with no view run in time there are no candidates."""
    tokens = np.stack([encoding.encode_grid(a.apply(x), side) for a in augs])
    ids = np.asarray([first_id + checkpoint.view_puzzle_id(v) for v in range(len(augs))], dtype=np.int32)
    fixed = cfg.fixed_work  # fixed chunks: the same batches whatever the speed, for reproducible runs
    costs = costs if costs is not None else Costs()
    preds, confs, batch, n, wanted = [], [], None, 0, MAX_CHUNK if fixed else FIRST_CHUNK
    while n < len(augs):
        wanted = min(wanted, len(augs) - n)
        chunk = _affordable_chunk(costs, budget, side * side, wanted)
        if chunk == 0 or (fixed and chunk < wanted):  # a fixed chunk runs whole or not at all
            break
        t0 = time.monotonic()
        pred, batch = infer.predict_with_retry(model, tokens[n:n + chunk], ids[n:n + chunk], cfg, device, batch)
        costs.record(VIEW, side * side, (time.monotonic() - t0) / len(pred.tokens))
        preds.append(pred.tokens)
        confs.append(pred.q_halt_prob)
        n += len(pred.tokens)
        wanted = MAX_CHUNK
    if n == 0:
        return {"views": 0, "valid_views": 0, "candidates": []}
    dih, inv = augment.aug_arrays(augs[:n])
    grids, shapes, hashes, valid = kernels.decode_views(np.concatenate(preds), side, dih, inv)
    cands = vote.rank(grids, shapes, hashes, valid, np.concatenate(confs), rule=cfg.infer.vote_rule)
    return {"views": n, "valid_views": int(valid.sum()),
            "candidates": [candidate(c.grid, c.count, round(c.mean_conf, 4)) for c in cands]}


def _affordable_chunk(costs: Costs, budget: Budget, tokens: int, wanted: int) -> int:
    """Views of the next chunk that fit the time left at their measured cost. Before any view's cost is
    measured, the chunk is charged the measured cost of one fine-tuning step on the same canvas (when there is
    one) and starts whole or not at all: a task whose fine-tuning stopped because its next step did not fit
    starts no view in what is left."""
    if costs.estimate(VIEW, tokens) is None and (step := costs.estimate(finetune.STEP, tokens)) is not None:
        return wanted if not budget.over() and step <= budget.left() else 0
    return costs.affordable(budget, VIEW, tokens, wanted)


def infer_task(model: TRM, task: Task, augs: list[augment.Aug], side: int, cfg: RunConfig, device: torch.device,
               budget: Budget, first_id: int = 0, costs: Costs | None = None) -> list[InputOutcome]:
    """`infer_test_input` for every test input of `task`, each its fair share of the time left (with
    `fixed_work`, `budget` is the run's and every input may use it)."""
    n, out = task.n_test, []
    for i, x in enumerate(task.test_inputs):
        r = infer_test_input(model, x, augs, side, cfg, device, budget if cfg.fixed_work else budget.share(n - i),
                             first_id=first_id, costs=costs)
        out.append(InputOutcome(r["candidates"], r["views"], r["valid_views"]))
    return out


class TaskSolver:
    """Holds the base weights of one worker; `solve(task, budget, seed)` -> the TRM source record (per-task scope).

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
        self.costs = Costs()  # a fine-tuning step's and a view's measured cost, kept from task to task
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
                            budget=ttft_budget, fit_to_budget=cfg.ttft_steps is None, progress=self.progress,
                            costs=self.costs)
        t1 = time.time()
        per_test = infer_task(ft.model.eval(), task, augs, side, cfg, self.device, task_budget, costs=self.costs)
        t2 = time.time()
        return trm_record(per_test, len(augs), side=side, ttft_steps=ft.steps_done, ttft_stopped_by=ft.stopped_by,
                          losses=downsample(ft.losses),
                          timings={"ttft": round(t1 - t0, 3), "infer_vote": round(t2 - t1, 3)}).to_json()


class JointSolver:
    """Infers each task with its rows of the joint fine-tuning (`fine_tuned` runs that fine-tuning first, every
    process of the TRM lane together) -> the TRM source record (the per-task shape, `ttft_steps` 0 and the joint
    run's outcome under `joint`)."""

    def __init__(self, cfg: RunConfig, device: torch.device, run: Budget, tuned: JointFineTune):
        self.cfg, self.device, self.run, self.tuned = cfg, device, run, tuned
        self.costs = Costs()  # a view's measured cost, kept from task to task

    @classmethod
    def fine_tuned(cls, cfg: RunConfig, device: torch.device, run: Budget, bundle: checkpoint.Bundle,
                   tasks: list[Task], folder: Path, rank: int = 0, world: int = 1, rendezvous: str | None = None,
                   progress: bool = False) -> JointSolver:
        """Join the lane's group, fine-tune jointly (minutes), then a solver of the fine-tuned model."""
        tuned = JointFineTune(cfg, device, run, bundle, tasks, folder, rank, world, rendezvous, progress)
        tuned.fit()
        return cls(cfg, device, run, tuned)

    @property
    def outcome(self) -> Outcome:
        return self.tuned.outcome

    @property
    def trainer(self) -> Any:
        return self.tuned.trainer

    def solve(self, task: Task, budget: Budget, seed: int) -> dict[str, Any]:
        tuned = self.tuned
        group = tuned.data.groups.get(task.task_id)
        if group is None:
            return SourceRecord.failed("not in the joint fine-tuning (no demonstration pairs)").to_json()
        task_budget = self.run if self.cfg.fixed_work else budget
        t0 = time.time()
        per_test = infer_task(tuned.model, task, list(group.augs), group.side, self.cfg, self.device, task_budget,
                              first_id=group.first_id, costs=self.costs)
        o = tuned.outcome
        joint = {"steps": o.steps, "stopped_by": o.stopped_by, "rows": tuned.data.info["puzzles"],
                 "batch": tuned.tcfg.global_batch_size, "world": tuned.trainer.env.world,
                 "resumed_from": o.resumed_from, "seconds": round(o.seconds, 3), "losses": downsample(o.losses)}
        return trm_record(per_test, len(group.augs), side=group.side, ttft_steps=0, ttft_stopped_by="joint",
                          losses=[], timings={"ttft": 0.0, "infer_vote": round(time.time() - t0, 3)},
                          joint=joint).to_json()
