"""Canvas policy: the side of the square canvas a task is encoded on, for submit, fine-tuning, the pretraining
buckets and the FLOP projection alike.

A model is compact when its predictions do not depend on the canvas side (row/column rotary positions and
attention that ignores PAD keys: `pos_encodings="rope2d"` with `mask_pad`). A compact model runs a task on a
canvas the task's size, every other model on the official 30x30 canvas. The size rule: the test output is
unknown, so it is assumed to be no larger than the largest known grid of the task (train inputs, train
outputs, test inputs) plus a margin; with margin >= 1 the largest known grid keeps its EOS markers, and a
test output larger than the canvas cannot be predicted.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config import ModelConfig
from .encoding import MAX_SIDE

BUCKET_SIDES = (8, 12, 16, 20, 24, 30)  # canvas sides of the buckets of compact training sets (a task takes the
# smallest that fits): pretraining and joint fine-tuning


def is_compact(config: ModelConfig) -> bool:
    """True when the model's predictions do not depend on the canvas side (rope2d positions + PAD mask)."""
    return config.pos_encodings == "rope2d" and config.mask_pad


def fit_side(task: Any, margin: int) -> int:
    """The largest side of any of the task's grids plus `margin`, capped at MAX_SIDE."""
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    grids = [g for pair in task.train for g in pair] + list(task.test_inputs)
    if not grids:
        raise ValueError(f"task {getattr(task, 'task_id', '?')} has no grids")
    largest = max(max(np.shape(g)) for g in grids)
    return min(MAX_SIDE, int(largest) + int(margin))


def side_for(task: Any, margin: int, *, compact: bool) -> int:
    """The side rule: `fit_side(task, margin)` on compact canvases, else MAX_SIDE."""
    return fit_side(task, margin) if compact else MAX_SIDE


def model_canvas_side(config: ModelConfig, task: Any, margin: int, *, full: bool = False) -> int:
    """The policy: the side `task` runs on with a model of `config` (`full`: force the 30x30 canvas)."""
    return side_for(task, margin, compact=is_compact(config) and not full)
