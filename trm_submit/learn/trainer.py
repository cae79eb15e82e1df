"""The state of a pretraining run in memory: `Trainer` (model, optimisers, EMA of the trunk, one row source and
one deep supervisor per canvas bucket) with its step, and its exact serialisation for checkpoints: the state
all ranks share (weights, optimisers, EMA, step) and each rank's own (row streams, ACT carries, RNG states).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from ..config import TrainConfig
from ..trm.model import PUZZLE_TABLE_KEY, TRM, Carry, InnerCarry
from . import trainset
from .optim import Optimizers, lr_schedule
from .ranks import DistEnv, SyncedOptimizers
from .supervision import DeepSupervisor, StepMetrics, autocast_dtype


class EMA:
    """Exponential moving average of the trunk parameters (the puzzle table is not averaged)."""

    def __init__(self, model: TRM, rate: float) -> None:
        self.rate = float(rate)
        self.shadow = {n: p.detach().clone() for n, p in model.named_parameters() if n != PUZZLE_TABLE_KEY}

    @torch.no_grad()
    def update(self, model: TRM) -> None:
        params = dict(model.named_parameters())
        for name, s in self.shadow.items():
            s.lerp_(params[name].detach(), 1.0 - self.rate)

    def state_dict(self) -> dict[str, Any]:
        return {"rate": self.rate, "shadow": self.shadow}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, s in self.shadow.items():
            s.copy_(state["shadow"][name])


def carry_state(carry: Carry | None) -> dict[str, Any] | None:
    if carry is None:
        return None
    return {"z_H": carry.inner_carry.z_H, "z_L": carry.inner_carry.z_L, "steps": carry.steps,
            "halted": carry.halted, "current_data": dict(carry.current_data)}


def carry_from_state(state: dict[str, Any] | None, device: torch.device) -> Carry | None:
    if state is None:
        return None
    to = lambda t: t.to(device)  # noqa: E731
    data = {k: to(v) for k, v in state["current_data"].items()}
    return Carry(InnerCarry(to(state["z_H"]), to(state["z_L"])), to(state["steps"]), to(state["halted"]), data)


# ---------------------------------------------------------------------------------------------- trainer


class Trainer:
    """Model, optimisers, EMA, one row source and one deep supervisor (own carry) per canvas bucket."""

    def __init__(self, cfg: TrainConfig, data: trainset.TrainingSet, env: DistEnv, total_steps: int) -> None:
        if cfg.global_batch_size % env.world:
            raise ValueError(f"global_batch_size {cfg.global_batch_size} is not divisible by {env.world} ranks")
        self.cfg, self.env, self.total_steps = cfg, env, total_steps
        torch.manual_seed(cfg.seed)
        self.model = TRM(cfg.model, data.num_puzzle_identifiers).to(env.device)
        if env.world > 1:
            for t in list(self.model.parameters()) + list(self.model.buffers()):
                dist.broadcast(t.data, src=0)
        torch.manual_seed(cfg.seed + 1 + env.rank)  # ACT exploration draws differ per rank
        if env.device.type == "cuda":
            torch.cuda.manual_seed(cfg.seed + 1 + env.rank)
        opt_cls = SyncedOptimizers if env.world > 1 else Optimizers
        self.optimizers = opt_cls.for_model(
            self.model, lr=cfg.lr, emb_lr=cfg.puzzle_emb_lr, weight_decay=cfg.weight_decay,
            emb_weight_decay=cfg.puzzle_emb_weight_decay, betas=tuple(cfg.betas))
        self.ema = EMA(self.model, cfg.ema_rate) if cfg.ema_rate > 0 else None
        autocast = autocast_dtype(cfg.autocast, env.device)
        local_batch = cfg.global_batch_size // env.world
        self.sources = [trainset.BucketSource(b, cfg.seed, env.rank, env.world) for b in data.buckets]
        self.supervisors = [DeepSupervisor(self.model, local_batch, b.side * b.side, env.device, autocast)
                            for b in data.buckets]
        counts = np.array([b.num_examples for b in data.buckets], dtype=np.float64)
        self.bucket_p = counts / counts.sum()
        self.step, self.elapsed = 0, 0.0

    def bucket_for(self, step: int) -> int:
        """Bucket of optimiser step `step`: drawn in proportion to example counts, from (seed, step) only."""
        if len(self.bucket_p) == 1:
            return 0
        return int(np.random.default_rng([self.cfg.seed, step]).choice(len(self.bucket_p), p=self.bucket_p))

    def lrs(self, step: int) -> tuple[float, float]:
        cfg = self.cfg
        sched = lambda base: lr_schedule(step + 1, self.total_steps, cfg.lr_warmup_steps, base,  # noqa: E731
                                         cfg.lr_min_ratio)
        return sched(cfg.lr), sched(cfg.puzzle_emb_lr)

    def train_step(self) -> tuple[int, StepMetrics]:
        """One optimiser step (one ACT step of one bucket's batch); returns (bucket index, metrics)."""
        start = time.perf_counter()
        self.optimizers.set_lr(*self.lrs(self.step))
        b = self.bucket_for(self.step)
        clip = self.cfg.grad_clip if self.cfg.grad_clip > 0 else None
        metrics = self.supervisors[b].step(self.sources[b], self.optimizers, clip)
        if self.ema is not None:
            self.ema.update(self.model)
        self.step += 1
        self.elapsed += time.perf_counter() - start
        return b, metrics

    def shared_state(self) -> dict[str, Any]:
        return {"step": self.step, "elapsed": self.elapsed, "world": self.env.world,
                "model": self.model.state_dict(), "optimizers": self.optimizers.state_dict(),
                "ema": self.ema.state_dict() if self.ema is not None else None}

    def rank_state(self) -> dict[str, Any]:
        cuda = torch.cuda.get_rng_state(self.env.device) if self.env.device.type == "cuda" else None
        return {"rank": self.env.rank, "sources": [s.state_dict() for s in self.sources],
                "carries": [carry_state(s.carry) for s in self.supervisors],
                "rng_cpu": torch.get_rng_state(), "rng_cuda": cuda}

    def load(self, shared: dict[str, Any], mine: dict[str, Any]) -> None:
        if shared["world"] != self.env.world:
            raise ValueError(f"checkpoint was written by {shared['world']} ranks, this run has {self.env.world}")
        self.step, self.elapsed = int(shared["step"]), float(shared["elapsed"])
        self.model.load_state_dict(shared["model"])
        self.optimizers.load_state_dict(shared["optimizers"])
        if self.ema is not None:
            self.ema.load_state_dict(shared["ema"])
        for source, state in zip(self.sources, mine["sources"], strict=True):
            source.load_state_dict(state)
        for sup, state in zip(self.supervisors, mine["carries"], strict=True):
            sup.carry = carry_from_state(state, self.env.device)
        torch.set_rng_state(mine["rng_cpu"])
        if mine["rng_cuda"] is not None and self.env.device.type == "cuda":
            torch.cuda.set_rng_state(mine["rng_cuda"], self.env.device)
