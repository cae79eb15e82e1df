"""Optimisers and learning-rate schedule for TRM training and test-time fine-tuning.

- `SignSGD`: the official puzzle-embedding optimiser (decoupled decay, then a step of -lr * sign(grad)),
  applied only to rows that received a gradient in this step; other rows are untouched, decay included.
- `Optimizers`: AdamW for the trunk + SignSGD (or Adam) for the puzzle table, one object with
  zero_grad / clip / step / set_lr / state_dict, and a `trunk_frozen` switch (embeddings-only phases).
- `lr_schedule`: the official linear warm-up followed by cosine decay to `min_ratio * base_lr`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable

import torch
from torch import nn

if TYPE_CHECKING:
    from trm_submit.trm.model import TRM

EMB_OPTIMIZERS = ("signsgd", "adam")


class SignSGD(torch.optim.Optimizer):
    """Row-sparse sign-SGD with decoupled weight decay (official sparse puzzle-embedding optimiser).

    For every row r (index along dim 0) whose gradient is not all zero:
    `w[r] <- w[r] * (1 - lr * weight_decay) - lr * sign(grad[r])`. Rows with an all-zero gradient
    (puzzles absent from the batch) and parameters without a gradient are left exactly as they are.
    """

    def __init__(self, params: Iterable[nn.Parameter], lr: float = 1e-2, weight_decay: float = 0.1):
        if lr < 0 or weight_decay < 0:
            raise ValueError(f"SignSGD needs lr >= 0 and weight_decay >= 0, got lr={lr}, weight_decay={weight_decay}")
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure: Any = None) -> None:  # type: ignore[override]
        if closure is not None:
            raise ValueError("SignSGD.step does not take a closure")
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.reshape(p.shape[0], -1) if p.dim() > 0 else p.grad.reshape(1, 1)
                rows = (grad != 0).any(dim=1).nonzero().squeeze(1)
                if rows.numel() == 0:
                    continue
                w = p.data.reshape(grad.shape)
                updated = w[rows] * (1.0 - lr * wd) - lr * torch.sign(grad[rows]).to(w.dtype)
                w[rows] = updated


class Optimizers:
    """AdamW on the trunk and SignSGD (or Adam) on the puzzle table, driven as one optimiser.

    `trunk_frozen=True` gives the trunk no update at all (no step, no decay) and turns its gradients off
    (`requires_grad=False`) so backward does not compute them; the puzzle table keeps training.
    """

    def __init__(
        self,
        trunk_params: Iterable[nn.Parameter],
        puzzle_params: Iterable[nn.Parameter],
        *,
        lr: float = 1e-4,
        emb_lr: float = 1e-2,
        weight_decay: float = 0.1,
        emb_weight_decay: float = 0.1,
        betas: tuple[float, float] = (0.9, 0.95),
        emb_optimizer: str = "signsgd",
        trunk_frozen: bool = False,
    ):
        self.trunk_params = [p for p in trunk_params]
        self._trainable = [p.requires_grad for p in self.trunk_params]
        self.puzzle_params = [p for p in puzzle_params]
        if emb_optimizer not in EMB_OPTIMIZERS:
            raise ValueError(f"emb_optimizer must be one of {EMB_OPTIMIZERS}, got {emb_optimizer!r}")
        self.emb_optimizer = emb_optimizer
        self.trunk = (
            torch.optim.AdamW(self.trunk_params, lr=lr, betas=betas, weight_decay=weight_decay)
            if self.trunk_params else None
        )
        self.puzzle: torch.optim.Optimizer | None = None  # stays None without a puzzle table
        if self.puzzle_params and emb_optimizer == "signsgd":
            self.puzzle = SignSGD(self.puzzle_params, lr=emb_lr, weight_decay=emb_weight_decay)
        elif self.puzzle_params:
            # Dense AdamW: unlike SignSGD, rows absent from the batch still move (momentum, decay).
            self.puzzle = torch.optim.AdamW(self.puzzle_params, lr=emb_lr, betas=betas, weight_decay=emb_weight_decay)
        self._trunk_frozen = False
        self.trunk_frozen = trunk_frozen

    @classmethod
    def for_model(cls, model: TRM, **kw: Any) -> "Optimizers":
        """Build from a TRM's `trunk_parameters()` and `puzzle_parameters()`."""
        return cls(model.trunk_parameters(), model.puzzle_parameters(), **kw)

    @property
    def trunk_frozen(self) -> bool:
        return self._trunk_frozen

    @trunk_frozen.setter
    def trunk_frozen(self, frozen: bool) -> None:
        self._trunk_frozen = bool(frozen)
        for p, trainable in zip(self.trunk_params, self._trainable):
            p.requires_grad_(trainable and not frozen)
            if frozen:
                p.grad = None

    def zero_grad(self) -> None:
        for p in self.trunk_params + self.puzzle_params:
            p.grad = None

    def agree_finite(self, finite: bool) -> bool:
        """Whether every process sees a finite loss; one process: its own flag (see train.SyncedOptimizers)."""
        return finite

    def clip_trunk_grads(self, max_norm: float | None) -> float:
        """Clip the trunk's gradient norm to `max_norm` (None or <= 0: measure only); return the norm before
        clipping (0.0 when the trunk is frozen or has no gradient; may be inf/nan)."""
        grads = [p for p in self.trunk_params if p.grad is not None]
        if self._trunk_frozen or not grads:
            return 0.0
        if max_norm is None or max_norm <= 0:
            norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in grads]))
        else:
            norm = torch.nn.utils.clip_grad_norm_(grads, max_norm)
        return float(norm)

    def step(self) -> None:
        """Update the puzzle table, and the trunk unless it is frozen."""
        if self.trunk is not None and not self._trunk_frozen:
            self.trunk.step()
        if self.puzzle is not None:
            self.puzzle.step()

    def set_lr(self, trunk_lr: float, emb_lr: float) -> None:
        if self.trunk is not None:
            for g in self.trunk.param_groups:
                g["lr"] = trunk_lr
        if self.puzzle is not None:
            for g in self.puzzle.param_groups:
                g["lr"] = emb_lr

    def state_dict(self) -> dict[str, Any]:
        return {
            "trunk": self.trunk.state_dict() if self.trunk is not None else None,
            "puzzle": self.puzzle.state_dict() if self.puzzle is not None else None,
            "emb_optimizer": self.emb_optimizer,
            "trunk_frozen": self._trunk_frozen,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("emb_optimizer") != self.emb_optimizer:
            raise ValueError(
                f"optimiser state is for emb_optimizer={state.get('emb_optimizer')!r}, "
                f"this one uses {self.emb_optimizer!r}"
            )
        for part in ("trunk", "puzzle"):
            if (state[part] is None) != (getattr(self, part) is None):
                raise ValueError(f"optimiser state and this optimiser disagree on whether the {part} is trained")
        if self.trunk is not None:
            self.trunk.load_state_dict(state["trunk"])
        if self.puzzle is not None:
            self.puzzle.load_state_dict(state["puzzle"])
        self.trunk_frozen = bool(state["trunk_frozen"])


def lr_schedule(step: int, total: int, warmup: int, base_lr: float, min_ratio: float = 1.0) -> float:
    """Official schedule: linear warm-up over `warmup` steps, then half-cosine from base_lr down to
    base_lr * min_ratio at `total`. min_ratio 1.0 (the official ARC setting) = constant after warm-up."""
    if step < warmup:
        return base_lr * step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return base_lr * (min_ratio + max(0.0, (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))))
