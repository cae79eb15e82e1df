"""Deep supervision with a persistent ACT carry: the training step shared by fine-tuning and pretraining.

Official semantics: one optimiser step per ACT step. The model keeps a carry across steps; rows
that halted at the previous step are reset by the model and take the NEW batch row, the others keep their
own data and state. So each step only the halted rows need fresh examples: the supervisor asks its
`RowSource` for exactly that many and fills the remaining rows with placeholders the model ignores.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np
import torch
from torch import nn

from trm_submit.grids.encoding import IGNORE_LABEL
from trm_submit.learn.losses import Q_LOSS_WEIGHT, act_loss
from trm_submit.learn.optim import Optimizers

if TYPE_CHECKING:
    from trm_submit.trm.model import TRM

ROW_KEYS = ("inputs", "labels", "puzzle_identifiers")
AUTOCAST_CHOICES = ("auto", "bf16", "off")  # the one autocast vocabulary (TTFTConfig and TrainConfig)


def autocast_dtype(choice: str, device: torch.device) -> torch.dtype | None:
    """bf16 for "bf16", and for "auto" where the device supports it; None for "off"."""
    if choice not in AUTOCAST_CHOICES:
        raise ValueError(f"autocast must be one of {AUTOCAST_CHOICES}, got {choice!r}")
    if choice == "off":
        return None
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        if choice == "bf16":
            raise ValueError(f"bf16 autocast is not supported on {device}")
        return None
    return torch.bfloat16


class RowSource(Protocol):
    def take(self, n: int) -> dict[str, np.ndarray]:
        """n fresh examples: inputs uint8 [n, L], labels int32 [n, L] (-100 = ignore), puzzle_identifiers
        int32 [n]."""
        ...


@dataclass(frozen=True)
class StepMetrics:
    """One deep-supervision step. Losses are per batch row (the batch sums divided by the batch size)."""

    loss: float
    lm_loss: float
    q_loss: float
    accuracy: float  # mean cell accuracy over rows with labels
    exact_accuracy: float  # fraction of rows entirely correct
    grad_norm: float  # trunk gradient norm before clipping (0 when the trunk is frozen)
    finite: bool  # False: loss or gradient not finite; no parameter was updated
    rows_taken: int  # fresh rows loaded from the source this step


class DeepSupervisor:
    """Holds the model's carry for a fixed batch size and sequence length and runs training steps."""

    def __init__(
        self,
        model: nn.Module,
        batch_size: int,
        seq_len: int,
        device: torch.device | str,
        autocast_dtype: torch.dtype | None = None,
    ):
        if batch_size < 1 or seq_len < 1:
            raise ValueError(f"batch_size and seq_len must be >= 1, got {batch_size} and {seq_len}")
        self.model = model
        self.batch_size = batch_size
        self.seq_len = seq_len
        self.device = torch.device(device)
        self.autocast_dtype = autocast_dtype
        self.carry: Any = None

    def reset(self) -> None:
        """Drop the carry: at the next step every row takes a fresh example."""
        self.carry = None

    def _autocast(self):
        if self.autocast_dtype is None:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def _check_rows(self, rows: dict[str, np.ndarray], n: int) -> None:
        missing = [k for k in ROW_KEYS if k not in rows]
        if missing:
            raise ValueError(f"row source returned no {', '.join(missing)}")
        expected = {"inputs": (n, self.seq_len), "labels": (n, self.seq_len), "puzzle_identifiers": (n,)}
        for key, shape in expected.items():
            if tuple(np.shape(rows[key])) != shape:
                raise ValueError(f"row source returned {key} of shape {tuple(np.shape(rows[key]))}, expected {shape}")

    def next_batch(self, source: RowSource) -> tuple[dict[str, torch.Tensor], int]:
        """The batch for the next step: fresh rows at halted positions, placeholders elsewhere."""
        if self.carry is None:
            need = np.ones(self.batch_size, dtype=bool)
        else:
            need = self.carry.halted.cpu().numpy().astype(bool)
        n = int(need.sum())
        inputs = np.zeros((self.batch_size, self.seq_len), dtype=np.int32)
        labels = np.full((self.batch_size, self.seq_len), IGNORE_LABEL, dtype=np.int32)
        ids = np.zeros(self.batch_size, dtype=np.int32)
        if n:
            rows = source.take(n)
            self._check_rows(rows, n)
            inputs[need] = rows["inputs"]
            labels[need] = rows["labels"]
            ids[need] = rows["puzzle_identifiers"]
        batch = {
            "inputs": torch.from_numpy(inputs),
            "labels": torch.from_numpy(labels),
            "puzzle_identifiers": torch.from_numpy(ids),
        }
        return {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}, n

    def step(self, source: RowSource, optimizers: Optimizers, grad_clip: float | None = None) -> StepMetrics:
        """One ACT step in training mode and one optimiser step on its loss (act_loss / batch_size).

        A non-finite loss or trunk gradient norm updates nothing, drops the carry and reports finite=False.
        """
        batch, taken = self.next_batch(source)
        self.model.train()
        optimizers.zero_grad()
        if self.carry is None:
            core = cast("TRM", getattr(self.model, "module", self.model))  # unwrap DistributedDataParallel
            self.carry = core.initial_carry(batch)
        with self._autocast():
            self.carry, outputs = self.model(self.carry, batch)
        total, m = act_loss(outputs, self.carry.current_data["labels"])
        scale = 1.0 / self.batch_size
        finite = optimizers.agree_finite(math.isfinite(m["lm_loss"]) and math.isfinite(m["q_loss"]))
        norm = float("nan")
        if finite:
            (total * scale).backward()
            norm = optimizers.clip_trunk_grads(grad_clip)
            finite = math.isfinite(norm)
        if finite:
            optimizers.step()
        else:
            self.reset()
        optimizers.zero_grad()
        return StepMetrics(
            loss=(m["lm_loss"] + Q_LOSS_WEIGHT * m["q_loss"]) * scale,
            lm_loss=m["lm_loss"] * scale,
            q_loss=m["q_loss"] * scale,
            accuracy=m["accuracy"],
            exact_accuracy=m["exact_accuracy"],
            grad_norm=norm,
            finite=finite,
            rows_taken=taken,
        )
