"""Joint test-time fine-tuning (`submit --ttft-scope joint`): one fine-tuning run over every task's
demonstration pairs in every view together, then inference of each task with its own puzzle rows.

Layout: the run's tasks (the challenges file's order, every task, so a resumed run builds the same set) are
encoded like a pretraining set (`trainset.build_training_set`: per task its views from `augment.plan`, each
view its own puzzle row; demonstration pairs only; per view one example at (0, 0), the others translated), on
canvas buckets that each hold at least one task per process. Every row starts as the bundle's initial (mean)
embedding, the trunk as the bundle's. The first `JointConfig.warmup_fraction` of the steps trains the rows
only, then the whole model, with the pretraining `Trainer` (data-parallel over the processes of the TRM lane:
one process group per lane, nccl on CUDA, gloo on the CPU; gradients averaged, every rank takes the same step).

Time: the steps are fitted to the fine-tuning budget (`--ttft-share` of the run's time left when it starts) at
the measured speed unless `--joint-steps` fixes them; the deadline is checked before every step (agreed over
ranks), so inference always gets the rest. Checkpoints (the pretraining format, in `<submission>.joint/`) are
written by time and by steps and when fine-tuning ends; `--resume` continues from the newest one, or goes
straight to inference when fine-tuning had ended. A non-finite loss restores the last snapshot of the weights
and ends fine-tuning.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from ..budget import Budget
from ..config import ConfigError, JointConfig, RunConfig, TrainConfig, TTFTConfig
from ..grids import canvas, encoding
from ..io.records import GROUP_FORMED, MAX_LOSS_POINTS
from ..io.tasks import Task
from ..trm import checkpoint
from . import trainset
from .finetune import StepPlan, snapshot
from .ranks import DistEnv, agree, agree_min, join_group, leave_group
from .train_checkpoints import check_resumable, latest_checkpoint, load_state, save_checkpoint
from .trainer import Trainer

JOIN_TIMEOUT_S = 120.0


def bucket_sides(sides: list[int], world: int, choices: tuple[int, ...] = canvas.BUCKET_SIDES) -> tuple[int, ...]:
    """Canvas buckets for tasks of these sides such that every used bucket holds >= `world` tasks (each rank
    needs a task of every bucket): sides round up to `choices`; a bucket with too few tasks merges upwards."""
    if len(sides) < world:
        raise ConfigError(f"joint fine-tuning over {world} processes needs at least {world} tasks, got {len(sides)}")
    counts: dict[int, int] = {}
    for s in sides:
        b = trainset.bucket_side(s, choices)
        counts[b] = counts.get(b, 0) + 1
    kept: list[int] = []
    pending = 0
    for side in sorted(counts):
        pending += counts[side]
        if pending >= world:
            kept.append(side)
            pending = 0
    if pending:  # the largest sides are too few for a bucket of their own: the last bucket grows to hold them
        kept[-1] = max(counts)
    return tuple(kept)


def buckets_hold(buckets: tuple[int, ...], sides: list[int], world: int) -> bool:
    """True when every side fits a bucket and every used bucket holds >= `world` of the tasks."""
    if not buckets or max(sides, default=0) > max(buckets):
        return False
    counts: dict[int, int] = {}
    for s in sides:
        b = trainset.bucket_side(s, buckets)
        counts[b] = counts.get(b, 0) + 1
    return all(n >= world for n in counts.values())


def joint_data(tasks: list[Task], cfg: RunConfig, model: Any, world: int,
               earlier: tuple[int, ...] | None = None) -> trainset.TrainingSet:
    """The joint fine-tuning set: every task's demonstration pairs in every view (ids from 1; 0 = blank).
    `earlier`: the buckets of a checkpoint being resumed, kept when they still hold a task per process (the
    buckets depend on the number of processes, and a resume may have another)."""
    compact = canvas.is_compact(model) and not cfg.infer.full_canvas
    sides = [canvas.side_for(t, cfg.infer.canvas_margin, compact=compact) for t in tasks]
    if compact and earlier is not None and buckets_hold(earlier, sides, world):
        buckets = earlier
    else:
        buckets = bucket_sides(sides, world) if compact else (encoding.MAX_SIDE,)
    if not compact and len(tasks) < world:
        bucket_sides(sides, world)  # the same refusal
    return trainset.build_training_set(tasks, cfg.infer.views - 1, cfg.seed, buckets, compact=compact,
                                       margin=cfg.infer.canvas_margin, permute_zero=cfg.infer.permute_zero)


def joint_batch(cfg: RunConfig, device: torch.device) -> int:
    """Rows per step over all processes: as asked, else the device's default."""
    if cfg.joint_batch is not None:
        return cfg.joint_batch
    return JointConfig.batch_size if device.type == "cuda" else JointConfig.cpu_batch_size


def train_config(cfg: RunConfig, bundle: checkpoint.Bundle, data: trainset.TrainingSet, world: int,
                 folder: Path, device: torch.device) -> TrainConfig:
    """The Trainer's settings: the run's fine-tuning rates, TTFT's optimiser settings, no EMA, constant lr."""
    ttft = TTFTConfig()
    local = max(1, joint_batch(cfg, device) // world)
    return TrainConfig(run_dir=str(folder), preset="joint", model=bundle.config, sources=(), exclude=(),
                       n_aug=cfg.infer.views - 1, compact=bool(data.info["compact"]),
                       buckets=tuple(b.side for b in data.buckets), canvas_margin=cfg.infer.canvas_margin,
                       global_batch_size=local * world, max_steps=cfg.joint_steps or JointConfig.steps,
                       lr=cfg.ttft_lr, lr_warmup_steps=0, lr_min_ratio=1.0, weight_decay=ttft.weight_decay,
                       betas=ttft.betas, puzzle_emb_lr=cfg.ttft_emb_lr, puzzle_emb_weight_decay=ttft.emb_weight_decay,
                       ema_rate=0.0, grad_clip=ttft.grad_clip, autocast=ttft.autocast, seed=cfg.seed,
                       keep_checkpoints=2, progress=False)


class JointFit:
    """Fits the joint plan to the fine-tuning budget: per phase (embeddings-only, whole model) the speed is
    measured from the phase's first step on and the plan re-fitted after `TTFTConfig.calibration_steps` steps
    and every `REFIT_EVERY` steps after, growing back up to `cap` or shrinking (bucket sizes differ, so one
    early measurement is not enough). Every rank re-fits at the same steps and the smallest plan wins; the
    embeddings-only phase keeps its share of the plan until the trunk has started."""

    REFIT_EVERY = 20

    def __init__(self, plan: StepPlan, cap: int, budget: Budget | None, env: DistEnv):
        self.plan, self.cap, self.budget, self.env = plan, cap, budget, env
        self.mark: tuple[int, float] | None = None

    def new_phase(self) -> None:
        self.mark = None

    def after_step(self, step: int) -> None:
        if self.budget is None:
            return
        now = time.monotonic()
        if self.mark is None:
            self.mark = (step, now)  # the phase's first step paid its one-off costs: measure from here
            return
        done = step - self.mark[0]
        if done < TTFTConfig.calibration_steps or (done - TTFTConfig.calibration_steps) % self.REFIT_EVERY:
            return
        per_step = (now - self.mark[1]) / done
        fits = step + int(max(0.0, self.budget.left()) / max(per_step, 1e-9))
        self.plan.resize(step, agree_min(self.env, min(self.cap, max(step, fits))))


@dataclass
class Outcome:
    """How joint fine-tuning ended: optimiser steps in the weights, why it stopped, the loss per step."""

    steps: int = 0
    stopped_by: str = "done"  # done | deadline | nan | signal | error: ...
    losses: list[float] = field(default_factory=list)
    resumed_from: int | None = None
    seconds: float = 0.0  # wall time of this process's fine-tuning loop (steps and checkpoints)


def say(env: DistEnv, line: str) -> None:
    if env.main:
        print(f"trm-submit: joint fine-tuning: {line}", file=sys.stderr, flush=True)


class JointFineTune:
    """One process's part of the joint fine-tuning: built, it has joined the lane's group (or gone solo) and holds
    the data and the trainer; `fit()` fine-tunes (every process of the TRM lane together) and leaves the model,
    the data's per-task groups and the `outcome` for inference (`run.solve.JointSolver`)."""

    def __init__(self, cfg: RunConfig, device: torch.device, run: Budget, bundle: checkpoint.Bundle,
                 tasks: list[Task], folder: Path, rank: int = 0, world: int = 1, rendezvous: str | None = None,
                 progress: bool = False):
        self.cfg, self.device, self.run, self.folder, self.progress = cfg, device, run, Path(folder), progress
        self._solo = False  # a worker that infers with the newest checkpoint without fine-tuning
        self.rank = rank
        env = DistEnv(0, 1, device)
        if world > 1:
            env = self._join(rank, world, device, rendezvous)
        usable = [t for t in tasks if t.train]
        self._latest = self._newest_checkpoint() if cfg.resume or self._solo else None
        earlier = tuple(self._latest[1]["config"]["buckets"]) if self._latest is not None else None
        self.data = joint_data(usable, cfg, bundle.config, env.world, earlier)
        self.tcfg = train_config(cfg, bundle, self.data, env.world, self.folder, device)
        self.fingerprint = self.data.fingerprint()
        self.trainer = Trainer(self.tcfg, self.data, env, self.tcfg.max_steps)
        checkpoint.load_base(self.trainer.model, bundle)
        self.outcome = Outcome(self.trainer.step, "not started")
        self.model = self.trainer.model
        say(env, f"{len(usable)} tasks, {self.data.info['puzzles']} views (rows), {self.data.info['examples']} "
                 f"examples, buckets {list(self.data.info['buckets'])}, batch {self.tcfg.global_batch_size} over "
                 f"{env.world} process(es)")

    def fit(self) -> Outcome:
        """Fine-tune (minutes: the run's fine-tuning share), leave the group, put the model in eval mode."""
        env, rank = self.trainer.env, self.rank
        try:
            self.outcome = self._fine_tune()
        except Exception as exc:  # a peer gone mid-step: infer with the weights of the last completed step
            self.outcome = Outcome(self.trainer.step, f"error: {type(exc).__name__}: {str(exc)[:200]}")
            print(f"trm-submit: joint fine-tuning rank {rank} stopped: {self.outcome.stopped_by}", file=sys.stderr)
        finally:
            self.trainer.optimizers.trunk_frozen = False
        leave_group(env)
        say(env, f"{self.outcome.steps} steps ({self.outcome.stopped_by})")
        self.model = self.trainer.model.eval()
        return self.outcome

    def _join(self, rank: int, world: int, device: torch.device, rendezvous: str | None) -> DistEnv:
        """Join the lane's group; a worker restarted after the group formed (or one that cannot join) goes solo
        and infers with the newest checkpoint."""
        solo = DistEnv(0, 1, device)  # alone: its own group of one
        if rendezvous is None or (self.folder / GROUP_FORMED).exists():
            self._solo = True
            return solo
        try:
            env = join_group(rank, world, device, rendezvous, JOIN_TIMEOUT_S)
        except Exception as exc:
            print(f"trm-submit: joint fine-tuning: rank {rank} could not join the group ({exc}); it infers alone "
                  "with the newest checkpoint", file=sys.stderr)
            self._solo = True
            return solo
        if env.main:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / GROUP_FORMED).write_text("")
        return env

    # ------------------------------------------------------------------------------------- fine-tuning

    def _newest_checkpoint(self) -> tuple[Path, dict[str, Any]] | None:
        """The newest checkpoint folder of the joint folder and its shared state, or None."""
        latest = latest_checkpoint(self.folder)
        return (latest, load_state(latest / "shared.pt")) if latest is not None else None

    def _resume(self, plan: StepPlan) -> dict[str, Any] | None:
        """Load the newest checkpoint of this run's data (resumed runs, restarted workers); its extra fields."""
        if self._latest is None:
            return None
        latest, shared = self._latest
        try:
            check_resumable(shared, self.tcfg, self.fingerprint)
        except ConfigError as exc:
            say(self.trainer.env, f"not resuming {latest.name}: {exc}")
            return None
        trainer, env = self.trainer, self.trainer.env
        mine = latest / f"rank{env.rank}.pt"
        if shared["world"] == env.world and mine.is_file():
            trainer.load(shared, load_state(mine))
        else:  # another number of processes: weights, optimisers and step; the row streams start afresh
            trainer.step = int(shared["step"])
            trainer.model.load_state_dict(shared["model"])
            trainer.optimizers.load_state_dict(shared["optimizers"])
        saved_plan = shared["plan"]
        plan.set_total(int(saved_plan["total"]) if self.cfg.joint_steps is None else plan.total)
        if trainer.step >= int(saved_plan["frozen"]):
            plan.frozen_steps = int(saved_plan["frozen"])
        say(env, f"resumed from step {trainer.step} ({latest.name})")
        return dict(shared)

    def _save(self, plan: StepPlan, outcome: Outcome, finished: bool) -> None:
        extra = {"config": self.tcfg.to_dict(), "data": {"fingerprint": self.fingerprint},
                 "plan": {"total": plan.total, "frozen": plan.frozen_steps}, "finished": finished,
                 "stopped_by": outcome.stopped_by, "steps_done": outcome.steps,
                 "losses": [float(v) for v in outcome.losses[-10 * MAX_LOSS_POINTS:]]}
        save_checkpoint(self.trainer, self.folder, extra)

    def _fine_tune(self) -> Outcome:
        cfg, trainer = self.cfg, self.trainer
        env, opt = trainer.env, trainer.optimizers
        plan = StepPlan(TTFTConfig(warmup_fraction=JointConfig.warmup_fraction), self.tcfg.max_steps)
        saved = self._resume(plan) if cfg.resume or self._solo else None
        self._latest = None  # its tensors were copied into the trainer
        if self._solo:  # a restarted worker: no training of its own
            return Outcome(trainer.step, "solo: newest checkpoint" if saved else "solo: base weights")
        outcome = Outcome(trainer.step, "done", list(saved["losses"]) if saved else [],
                          trainer.step if saved else None)
        if saved is not None and saved.get("finished"):
            return Outcome(int(saved["steps_done"]), str(saved["stopped_by"]), outcome.losses, trainer.step)
        budget = self.run if cfg.fixed_work else self.run.fraction(cfg.ttft_share)
        fit = JointFit(plan, self.tcfg.max_steps, None if cfg.fixed_work or cfg.joint_steps is not None else budget,
                       env)
        t0 = time.monotonic()
        last_good, good_step, start = snapshot(trainer.model), trainer.step, trainer.step
        last_save = time.monotonic()
        bar = tqdm(total=plan.total, initial=trainer.step, desc="joint fine-tuning", leave=False,
                   disable=not (self.progress and env.main))
        try:
            while trainer.step < plan.total:  # one agreement per step: deadline, stop signal, checkpoint due
                due = time.monotonic() - last_save >= cfg.joint_checkpoint_seconds
                over, signal, due = agree(env, budget.over(), self.run.stop(), due)
                if over or signal:
                    outcome.stopped_by = "signal" if signal else "deadline"
                    break
                if trainer.step > start and (due or trainer.step % JointConfig.checkpoint_steps == 0):
                    self._save(plan, Outcome(trainer.step, "running", outcome.losses), finished=False)
                    last_save = time.monotonic()
                frozen = trainer.step < plan.frozen_steps
                if trainer.step > start and frozen != opt.trunk_frozen:
                    fit.new_phase()
                opt.trunk_frozen = frozen
                _, metrics = trainer.train_step()
                if not metrics.finite:  # every rank agreed (SyncedOptimizers): restore the snapshot together
                    trainer.model.load_state_dict(last_good)
                    outcome.stopped_by, outcome.steps = "nan", good_step
                    break
                outcome.losses.append(metrics.loss)
                if trainer.step % TTFTConfig.snapshot_every == 0:
                    last_good, good_step = snapshot(trainer.model), trainer.step
                fit.after_step(trainer.step)
                bar.total = plan.total
                bar.update(1)
        finally:
            bar.close()
        if outcome.stopped_by != "nan":
            outcome.steps = trainer.step
        outcome.seconds = time.monotonic() - t0
        self._save(plan, outcome, finished=outcome.stopped_by != "signal")
        return outcome
