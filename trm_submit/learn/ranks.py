"""Data-parallel ranks of pretraining: this process's device and rank (one process per device under
`torchrun`, gloo on CPU, nccl on CUDA), optimisers whose gradients are averaged over ranks, and the small
collective helpers (barrier, flags agreed over ranks, messages from rank 0 only).
"""

from __future__ import annotations

import datetime
import os
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist

from .. import devices
from .optim import Optimizers


@dataclass(frozen=True)
class DistEnv:
    rank: int
    world: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str = "auto") -> DistEnv:
    """Device and rank of this process; joins the process group when `WORLD_SIZE` > 1 (torchrun)."""
    use_cuda = devices.wants_cuda(device)
    if use_cuda and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but no CUDA device is available")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    dev = torch.device(f"cuda:{local}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo", timeout=datetime.timedelta(minutes=30))
    return DistEnv(rank, world, dev)


def join_group(rank: int, world: int, device: torch.device, init_method: str, timeout_s: float) -> DistEnv:
    """Join a process group of `world` processes at `init_method` (e.g. `file://...`) as `rank`: nccl on CUDA,
    gloo on the CPU (the submit workers' joint fine-tuning, which torchrun does not start)."""
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", init_method=init_method, rank=rank,
                                world_size=world, timeout=datetime.timedelta(seconds=max(1.0, timeout_s)))
    return DistEnv(rank, world, device)


def leave_group(env: DistEnv) -> None:
    """Tear down the process group (after a barrier when it is healthy); errors of a broken group are ignored."""
    if env.world > 1 and dist.is_initialized():
        try:
            dist.barrier()
        except Exception:  # a peer is gone: nothing left to wait for
            pass
        dist.destroy_process_group()


class SyncedOptimizers(Optimizers):
    """`Optimizers` whose gradients are averaged over all ranks when the supervisor asks for the norm
    (between backward and the optimiser step), so clipping and the step see the global gradient.

    The ranks agree on finiteness before backward (`agree_finite`), so a non-finite loss on any rank makes
    every rank skip backward, this all-reduce and the step together instead of leaving the others waiting
    here; the gradient norm is taken after the all-reduce, so it is the same number on every rank."""

    def agree_finite(self, finite: bool) -> bool:
        device = (self.trunk_params + self.puzzle_params)[0].device  # nccl reduces CUDA tensors only
        flag = torch.tensor([1.0 if finite else 0.0], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
        return bool(flag.item())

    def clip_trunk_grads(self, max_norm: float | None) -> float:
        self.all_reduce_grads()
        return super().clip_trunk_grads(max_norm)

    @torch.no_grad()
    def all_reduce_grads(self) -> None:
        world = dist.get_world_size()
        trunk = [p for p in self.trunk_params if p.requires_grad]
        for p in trunk + self.puzzle_params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        if trunk:
            flat = torch.cat([_grad(p).reshape(-1) for p in trunk])
            dist.all_reduce(flat)
            flat /= world
            for p, g in zip(trunk, torch.split(flat, [p.numel() for p in trunk])):
                _grad(p).copy_(g.view_as(p))
        for p in self.puzzle_params:
            grad = _grad(p)
            dist.all_reduce(grad)
            grad /= world


def _grad(p: torch.Tensor) -> torch.Tensor:
    """`p.grad`, which all_reduce_grads has made present (zeros where backward left none)."""
    assert p.grad is not None
    return p.grad


def say(env: DistEnv, message: str) -> None:
    """A progress line on stderr from rank 0 only."""
    if env.main:
        print(f"trm-submit train: {message}", file=sys.stderr, flush=True)


def barrier(env: DistEnv) -> None:
    if env.world > 1:
        dist.barrier()


def agree_min(env: DistEnv, value: int) -> int:
    """The smallest of every rank's `value`."""
    if env.world == 1:
        return value
    t = torch.tensor([float(value)], dtype=torch.float64, device=env.device)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return int(t.item())


def agree(env: DistEnv, *flags: bool) -> list[bool]:
    """Flags OR-ed over ranks, so every rank stops or checkpoints at the same step."""
    if env.world == 1:
        return list(flags)
    t = torch.tensor([float(f) for f in flags], device=env.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v) for v in t.tolist()]
