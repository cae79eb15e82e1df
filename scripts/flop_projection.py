"""FLOP accounting of a `submit` run and its projection onto Kaggle's 4 x L4 machine (used by dry_run.py).

Forward FLOPs of one sample through one ACT step: per block 2*S*(4*D^2 + 3*D*F) + 4*S^2*D (q/k/v/o
projections, SwiGLU MLP, the two attention matmuls), times L_layers * H_cycles * (L_cycles + 1) block
applications, plus lm_head over the grid cells and q_head on position 0; S = puzzle prefix + side^2 and
F = the SwiGLU width. A fine-tuning sample-step counts as 3 forwards (forward + backward, an upper bound:
the official model back-propagates through the last H cycle only).

Per task: TTFT steps x batch x 3 x forward + views x ACT steps x forward (views summed over test inputs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from trm_submit import canvas
from trm_submit.config import InferConfig, ModelConfig, TTFTConfig
from trm_submit.layers import swiglu_width
from trm_submit.model import prefix_length
from trm_submit.records import Journal

L4_BF16_PEAK = 121e12  # FLOP/s, dense bf16 tensor-core peak of one NVIDIA L4
DEFAULT_UTILIZATION = 0.30  # assumed share of that peak a small-matrix recursive model sustains
TRAIN_FORWARD_MULTIPLE = 3  # a training sample-step ~ forward + backward (2 x forward)
KAGGLE_TASKS = 240
KAGGLE_GPUS = 4


def forward_flops(cfg: ModelConfig, side: int) -> float:
    """FLOPs of one sample through one ACT step on a `side` x `side` canvas."""
    d, f = cfg.hidden_size, swiglu_width(cfg.hidden_size, cfg.expansion)
    cells = side * side
    s = prefix_length(cfg) + cells
    block = 2 * s * (4 * d * d + 3 * d * f) + 4 * s * s * d
    applications = cfg.L_layers * cfg.H_cycles * (cfg.L_cycles + 1)
    heads = 2 * cells * d * cfg.vocab_size + 2 * d * 2
    return float(block * applications + heads)


def task_flops(cfg: ModelConfig, side: int, ttft_steps: int, batch: int, views: int, act_steps: int
               ) -> tuple[float, float]:
    """(fine-tuning, inference) FLOPs of one task; `views` summed over its test inputs."""
    fwd = forward_flops(cfg, side)
    return ttft_steps * batch * TRAIN_FORWARD_MULTIPLE * fwd, views * act_steps * fwd


def default_side(task: Any, cfg: ModelConfig, margin: int = InferConfig.canvas_margin) -> int:
    """Canvas side the pipeline uses for `task` (canvas.model_canvas_side)."""
    return canvas.model_canvas_side(cfg, task, margin)


def read_journal(path: Path) -> list[dict[str, Any]]:
    """TRM source records of the tasks the model ran on (`side`, `ttft_steps`, `views`, and `seconds` = its
    fine-tuning + inference time); a missing journal or torn line gives none."""
    out = []
    for view in Journal(path).read().values():
        trm = view["sources"].get("trm")
        if isinstance(trm, dict) and trm.get("status") == "ok" and "side" in trm:
            t = trm.get("timings") if isinstance(trm.get("timings"), dict) else {}
            out.append({**trm, "seconds": float(sum(v for v in t.values() if isinstance(v, (int, float))))})
    return out


@dataclass(frozen=True)
class Work:
    """FLOPs of a set of tasks, split into fine-tuning and inference."""

    tasks: int
    ttft: float
    infer: float
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return self.ttft + self.infer

    @property
    def per_task(self) -> float:
        return self.total / self.tasks if self.tasks else 0.0


def measured_work(records: Iterable[dict[str, Any]], cfg: ModelConfig, batch: int, act_steps: int) -> Work:
    """Work the journal says was done: each record's `ttft_steps`, `views` (per test input) and `side`."""
    n, ttft, infer, secs = 0, 0.0, 0.0, 0.0
    for rec in records:
        views = rec.get("views", 0)
        views = sum(views) if isinstance(views, list) else int(views)
        a, b = task_flops(cfg, int(rec["side"]), int(rec.get("ttft_steps", 0)), batch, views, act_steps)
        n, ttft, infer = n + 1, ttft + a, infer + b
        secs += float(rec.get("seconds", 0.0))
    return Work(n, ttft, infer, secs)


def default_work(tasks: Iterable[Any], cfg: ModelConfig, ttft: TTFTConfig = TTFTConfig(),
                 infer: InferConfig = InferConfig(), sides: dict[str, int] | None = None) -> Work:
    """Work of `tasks` at the default caps: all TTFT steps and all views (the time limits never cut)."""
    act = infer.steps or cfg.halt_max_steps
    n, a_sum, b_sum = 0, 0.0, 0.0
    for task in tasks:
        side = (sides or {}).get(task.task_id) or default_side(task, cfg, infer.canvas_margin)
        a, b = task_flops(cfg, side, ttft.steps, ttft.batch_size, infer.views * task.n_test, act)
        n, a_sum, b_sum = n + 1, a_sum + a, b_sum + b
    return Work(n, a_sum, b_sum)


@dataclass(frozen=True)
class Projection:
    """Time of `tasks` tasks of `per_task` FLOPs each on `gpus` GPUs at `utilization` of `peak`."""

    per_task: float
    tasks: int
    gpus: int
    peak: float
    utilization: float
    budget_s: float

    @property
    def total(self) -> float:
        return self.per_task * self.tasks

    @property
    def seconds(self) -> float:
        return self.total / (self.gpus * self.peak * self.utilization)

    @property
    def fits(self) -> bool:
        return self.seconds <= self.budget_s

    @property
    def needed_utilization(self) -> float:
        return self.total / (self.gpus * self.peak * self.budget_s)


def project(per_task: float, budget_s: float, tasks: int = KAGGLE_TASKS, gpus: int = KAGGLE_GPUS,
            peak: float = L4_BF16_PEAK, utilization: float = DEFAULT_UTILIZATION) -> Projection:
    if not 0 < utilization <= 1:
        raise ValueError(f"utilization must be in (0, 1], got {utilization}")
    return Projection(per_task, tasks, gpus, peak, utilization, budget_s)


def human(flops: float) -> str:
    """FLOPs with an SI prefix: 2.39e11 -> '239 GFLOP'."""
    for scale, prefix in ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M")):
        if flops >= scale:
            return f"{flops / scale:.3g} {prefix}FLOP"
    return f"{flops:.3g} FLOP"


def format_projection(label: str, p: Projection) -> str:
    verdict = "FITS" if p.fits else "DOES NOT FIT"
    return (f"{label}: {human(p.per_task)}/task x {p.tasks} tasks = {human(p.total)}; "
            f"{p.gpus} x L4 at {p.peak / 1e12:.0f} TFLOP/s x {p.utilization:.0%} -> {p.seconds / 3600:.2f} h "
            f"vs budget {p.budget_s / 3600:.2f} h: {verdict} (needs {p.needed_utilization:.1%} of peak)")
