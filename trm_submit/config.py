"""Frozen configuration records: the single source of defaults for the model, TTFT, inference and a run."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .errors import UserError


class ConfigError(UserError, ValueError):
    """A configuration that cannot work (a flag value out of range, a source without what it needs); the CLI
    prints it as one line and exits 2."""


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
class TTFTConfig:
    """Per-task test-time fine-tuning (deep supervision on the task's demonstration pairs in every view)."""

    steps: int = 1000  # optimiser steps per task (an upper bound when the steps are fitted to a budget)
    batch_size: int = 16  # rows per optimiser step (`trm-submit submit --ttft-batch`)
    lr: float = 1e-4  # trunk AdamW
    emb_lr: float = 1e-2  # puzzle-embedding rows
    weight_decay: float = 0.1
    emb_weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    emb_optimizer: str = "signsgd"  # "signsgd" (official) or "adam"
    warmup_fraction: float = 0.25  # first fraction of the steps trains the embeddings only
    lr_warmup_steps: int = 0  # linear lr warm-up (trunk: counted from the end of the embeddings-only phase)
    min_lr_ratio: float = 1.0  # cosine decay to lr * min_lr_ratio at the last step (1.0 = constant)
    grad_clip: float = 1.0  # trunk gradient-norm clip (<= 0: off)
    autocast: str = "auto"  # supervision.AUTOCAST_CHOICES: "auto" (bf16 where supported), "bf16", "off"
    snapshot_every: int = 20  # steps between copies of the weights restored after a non-finite loss
    translate: bool = True  # random placement of demonstration pairs (one per view stays at (0, 0))
    calibration_steps: int = 5  # fitting to a budget: steps timed before the step count is fitted to it

    def replace(self, **kw: Any) -> "TTFTConfig":
        return dataclasses.replace(self, **kw)


@dataclass(frozen=True)
class JointConfig:
    """Joint test-time fine-tuning (`submit --ttft-scope joint`): one run over every task's demonstration pairs
    in every view together (each task x view its own puzzle row, new rows set to the bundle's mean embedding),
    embeddings only for the first `warmup_fraction` of the steps, then the whole model; then inference."""

    steps: int = 12500  # optimiser steps (an upper bound when fitted to the time; one published Kaggle run)
    batch_size: int = 384  # global rows per optimiser step on CUDA, split over the processes
    cpu_batch_size: int = 32  # the same on the CPU (one step of 384 rows takes ~30 s there: more than a deadline
    # check can wait for)
    warmup_fraction: float = 0.25  # first fraction of the steps trains the embedding rows only
    checkpoint_seconds: float = 300.0  # seconds between fine-tuning checkpoints (kill -9 then --resume continues)
    checkpoint_steps: int = 1000  # steps between fine-tuning checkpoints

    def replace(self, **kw: Any) -> "JointConfig":
        return dataclasses.replace(self, **kw)


@dataclass(frozen=True)
class InferConfig:
    """Inference and voting over augmented views of each test input."""

    views: int = 256  # upper bound on views per task (identity + distinct augmentations)
    steps: int | None = None  # ACT steps at inference; None = the model's halt_max_steps
    early_stop_k: int | None = None  # stop a row whose argmax is unchanged for k steps
    memory_budget_mb: int = 2048  # activation memory for one inference batch
    canvas_margin: int = 1  # compact models: canvas side = largest grid side of the task + margin (canvas.py);
    # the margin of submit and of fine-tuning alike
    full_canvas: bool = False  # force the 30x30 canvas
    permute_zero: bool = False  # also permute colour 0 in augmentations
    vote_rule: str = "count_then_confidence"
    input_copy_last: bool = True  # a candidate equal to the test input ranks last (vote.demote_copies)


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
    ttft_batch: int = TTFTConfig.batch_size  # fine-tuning batch (rows per optimiser step)
    ttft_lr: float = TTFTConfig.lr  # fine-tuning lr of the trunk (AdamW)
    ttft_emb_lr: float = TTFTConfig.emb_lr  # fine-tuning lr of the task's puzzle-embedding rows
    threads: int = 0  # torch/numba threads per worker (0 = the cores divided among the workers)
    ttft_share: float = 0.6  # fraction of a task's time share spent fine-tuning when steps are not fixed
    fixed_work: bool = False  # run all views and TTFT steps; only the run deadline cuts (reproducible runs)
    sources: tuple[str, ...] = ()  # candidate sources ("search", "trm"); () = both with weights, search alone without
    merge_rule: str = "confidence"  # how the sources' candidates become two attempts (vote.MERGE_RULES)
    # of a task's time share the search spends (on its runs) when it runs before TRM in one lane (a CPU run): on
    # ARC-AGI-1 training the search gained 1 task in 100 from 2 s to 8 s, TRM with the bundled weights none
    # (benchmarks/README.md, "Where a CPU task's time goes")
    search_share: float = 0.8
    search_depth: int = 3  # deepest composition the program search tries
    search_workers: int = 0  # >0: search in its own lane of that many CPU processes beside the TRM workers;
    # 0 = its own lane only when TRM runs on CUDA (then the CPU cores the TRM workers leave)
    protocol: str = "ttft"  # "ttft": fine-tune at test time (scope below); "official": the paper's protocol, the
    # test inputs answered with the rows an official build trained for them (`official_data`), no fine-tuning
    official_data: str | None = None  # output folder of the official dataset builder (protocol "official")
    ttft_scope: str = "task"  # "task": a fresh fine-tuning per task; "joint": one run over every task together
    joint_steps: int | None = None  # fixed joint fine-tuning steps (None = fitted to the time, <= JointConfig.steps)
    joint_batch: int | None = None  # joint fine-tuning rows per optimiser step, all processes together (None =
    # JointConfig.batch_size on CUDA, JointConfig.cpu_batch_size on the CPU)
    joint_checkpoint_seconds: float = JointConfig.checkpoint_seconds  # between joint fine-tuning checkpoints
    infer: InferConfig = field(default_factory=InferConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TrainConfig:
    """One pretraining run (`trm-submit train`); `train.preset(name)` gives the `paper` and `cpu` presets.

    Fields that define the data and the optimisation (`DATA_FIELDS`) must not change when a run resumes.
    """

    run_dir: str = "runs/train"
    preset: str = "custom"
    model: ModelConfig = field(default_factory=ModelConfig)
    # training data
    sources: tuple[tuple[str, str], ...] = (("arc-agi-1", "training"), ("arc-agi-2", "training"))
    exclude: tuple[tuple[str, str], ...] = (
        ("arc-agi-1", "evaluation"), ("arc-agi-2", "evaluation"), ("kaggle-2025", "evaluation"))
    n_aug: int = 1000  # augmented versions per task besides the identity (official 1000)
    compact: bool = False  # compact canvases (largest grid side + margin, bucketed); False = 30x30 (official)
    buckets: tuple[int, ...] = (30,)  # canvas sides of the buckets (a task goes to the smallest that fits)
    canvas_margin: int = InferConfig.canvas_margin  # compact: canvas = largest grid side + margin, then bucketed
    max_tasks: int = 0  # keep only the first N training tasks (0 = all; smoke runs)
    max_task_side: int = 30  # keep only tasks whose grids all fit this side
    # optimisation (official values)
    global_batch_size: int = 768
    max_steps: int = 0  # 0 = from `epochs` (official: epochs * groups * mean examples / global batch)
    epochs: int = 100000
    lr: float = 1e-4
    lr_warmup_steps: int = 2000
    lr_min_ratio: float = 1.0
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    puzzle_emb_lr: float = 1e-2
    puzzle_emb_weight_decay: float = 0.1
    ema_rate: float = 0.999  # EMA of the trunk parameters (0 = off)
    grad_clip: float = 0.0  # trunk gradient-norm clip (<= 0: off, as officially)
    autocast: str = "bf16"  # supervision.AUTOCAST_CHOICES: "auto", "bf16", "off"
    seed: int = 0
    # runtime (may change between a run and its resume)
    device: str = "auto"  # "auto", "cpu", "cuda"
    num_threads: int = 0  # torch threads per process (0 = torch's default)
    checkpoint_every_steps: int = 10000
    checkpoint_every_seconds: float = 1800.0
    keep_checkpoints: int = 2
    log_every: int = 50
    resume: bool = False
    progress: bool = True  # tqdm bar on rank 0

    DATA_FIELDS = ("model", "sources", "exclude", "n_aug", "compact", "buckets", "canvas_margin", "max_tasks",
                   "max_task_side", "global_batch_size", "seed")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown training config fields: {', '.join(unknown)}")
        kw = dict(d)
        if kw.get("autocast") == "bfloat16":  # the spelling of run folders written before one vocabulary
            kw["autocast"] = "bf16"
        if isinstance(kw.get("model"), dict):
            kw["model"] = ModelConfig.from_dict(kw["model"])
        for key in ("sources", "exclude"):
            if key in kw:
                kw[key] = tuple(tuple(x) for x in kw[key])
        for key in ("buckets", "betas"):
            if key in kw:
                kw[key] = tuple(kw[key])
        return cls(**kw)

    def replace(self, **kw: Any) -> "TrainConfig":
        return dataclasses.replace(self, **kw)
