"""Frozen configuration records: the single source of defaults for the model, TTFT, inference and a run."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelConfig:
    """TRM architecture. Field names follow the official `arch` block; defaults are the paper's ARC config.

    Our own additions (not in the official code, off by default so official checkpoints keep parity):
    `pos_encodings="rope2d"` (row/column rotary positions) and `mask_pad` (attention ignores PAD keys),
    which together make predictions independent of the canvas side (compact canvases).
    """

    hidden_size: int = 512
    num_heads: int = 8
    expansion: float = 4.0
    L_layers: int = 2
    H_cycles: int = 3
    L_cycles: int = 4
    puzzle_emb_ndim: int = 512
    puzzle_emb_len: int = 16
    halt_max_steps: int = 16
    halt_exploration_prob: float = 0.1
    no_ACT_continue: bool = True
    pos_encodings: str = "rope"  # "rope" (official), "rope2d" (ours), "learned", "none"
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-5
    vocab_size: int = 12
    seq_len: int = 900
    forward_dtype: str = "bfloat16"
    mlp_t: bool = False
    mask_pad: bool = False

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        """Build from an official `arch` block or our own dict; unknown keys are ignored (as officially)."""
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **kw: Any) -> "ModelConfig":
        return dataclasses.replace(self, **kw)


@dataclass(frozen=True)
class InferConfig:
    """Inference and voting over augmented views of each test input."""

    views: int = 256  # upper bound on views per task (identity + distinct augmentations)
    steps: int | None = None  # ACT steps at inference; None = the model's halt_max_steps
    early_stop_k: int | None = None  # stop a row whose argmax is unchanged for k steps
    memory_budget_mb: int = 2048  # activation memory for one inference batch
    canvas_margin: int = 1  # canvas side = largest grid side of the task + margin (compact models)
    full_canvas: bool = False  # force the 30x30 canvas
    permute_zero: bool = False  # also permute colour 0 in augmentations
    vote_rule: str = "count_then_confidence"


@dataclass(frozen=True)
class RunConfig:
    """One `trm-submit submit` run. Flags of the CLI map 1:1 onto these fields."""

    challenges: str
    out: str = "submission.json"
    weights: str | None = None
    solutions: str | None = None
    time_budget: float = 3600.0  # wall-clock seconds for the whole run, loading included
    safety_margin: float = 20.0  # seconds kept for the final write and summary
    workers: int = 1
    resume: bool = False
    seed: int = 0
    device: str = "auto"  # "auto", "cpu", "cuda"
    quiet: bool = False
    ttft_steps: int | None = None  # fixed fine-tuning steps per task (None = from the time share)
    ttft_share: float = 0.6  # fraction of a task's time share spent fine-tuning when steps are not fixed
    fixed_work: bool = False  # run all views and TTFT steps; only the run deadline cuts (reproducible runs)
    infer: InferConfig = field(default_factory=InferConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
