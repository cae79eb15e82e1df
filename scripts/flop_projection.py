"""FLOP accounting of a `submit` run and its projection onto Kaggle's 4 x L4 machine (used by dry_run.py).

Forward FLOPs of one sample through one ACT step: per block 2*S*(4*D^2 + 3*D*F) + 4*S^2*D (q/k/v/o
projections, SwiGLU MLP, the two attention matmuls), times L_layers * H_cycles * (L_cycles + 1) block
applications, plus lm_head over the grid cells and q_head on position 0; S = puzzle prefix + side^2 and
F = the SwiGLU width. A fine-tuning sample-step counts as 3 forwards (forward + backward, an upper bound:
the official model back-propagates through the last H cycle only).

Per-task scope (`--ttft-scope task`), per task: TTFT steps x batch x 3 x forward + views x ACT steps x forward
(views summed over test inputs). Joint scope (`--ttft-scope joint`): ONE fine-tuning run of joint steps x joint
batch x 3 x forward, the forward averaged over the rows it draws (every demonstration pair of every task in every
view is a row, so a task weighs by its number of pairs; each at its task's canvas side), plus the same inference
of every task's views.

    python scripts/flop_projection.py [--set arc-agi-2] [--split evaluation] [--weights weights/trm.pt]

prints the 240-task table on 4 x L4 for both scopes, for the bundled model and the official architecture.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from trm_submit.config import InferConfig, JointConfig, ModelConfig, TTFTConfig
from trm_submit.grids import canvas
from trm_submit.io.records import Journal
from trm_submit.trm.layers import swiglu_width
from trm_submit.trm.model import prefix_length

L4_BF16_PEAK = 121e12  # FLOP/s, dense bf16 tensor-core peak of one NVIDIA L4
DEFAULT_UTILIZATION = 0.30  # assumed share of that peak a small-matrix recursive model sustains
TRAIN_FORWARD_MULTIPLE = 3  # a training sample-step ~ forward + backward (2 x forward)
KAGGLE_TASKS = 240
KAGGLE_GPUS = 4
TARGET_S = 6 * 3600  # the model's share of Kaggle's 12 h; the rest is for the program search and slack


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


def joint_flops(cfg: ModelConfig, rows: Iterable[tuple[int, int]], steps: int, batch: int) -> float:
    """FLOPs of one joint fine-tuning run: steps x batch x 3 x the forward averaged over the rows drawn;
    `rows` = (canvas side, demonstration pairs) per task (the views multiply every task's rows alike)."""
    weighted, count = 0.0, 0
    for side, pairs in rows:
        weighted, count = weighted + pairs * forward_flops(cfg, side), count + pairs
    return steps * batch * TRAIN_FORWARD_MULTIPLE * (weighted / count) if count else 0.0


def read_journal(path: Path) -> list[dict[str, Any]]:
    """TRM source records of the tasks the model ran on (`side`, `ttft_steps`, `views`, and `seconds` = its
    fine-tuning + inference time); a missing journal or torn line gives none."""
    out = []
    for view in Journal(path).read().values():
        trm = view["sources"].get("trm")
        if isinstance(trm, dict) and trm.get("status") == "ok" and "side" in trm:
            t = trm.get("timings") if isinstance(trm.get("timings"), dict) else {}
            out.append({**trm, "task_id": view.get("task_id"),
                        "seconds": float(sum(v for v in t.values() if isinstance(v, (int, float))))})
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
    """Work the journal says was done: each record's `ttft_steps`, `views` (per test input) and `side`; in the
    joint scope its one fine-tuning (`joint`: steps x batch, the forward averaged over the tasks' sides alike)
    counted once, with its loop seconds."""
    n, ttft, infer, secs = 0, 0.0, 0.0, 0.0
    records = list(records)
    joint = next((r["joint"] for r in records if isinstance(r.get("joint"), dict)), None)
    if joint is not None:
        ttft = joint_flops(cfg, [(int(r["side"]), 1) for r in records], int(joint["steps"]), int(joint["batch"]))
        secs = float(joint.get("seconds", 0.0))
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


def joint_work(tasks: Iterable[Any], cfg: ModelConfig, joint: JointConfig = JointConfig(),
               infer: InferConfig = InferConfig(), sides: dict[str, int] | None = None) -> Work:
    """Work of the joint scope at the default caps: `ttft` = the one fine-tuning run (all its steps, whatever
    the number of tasks), `infer` = all views of every task."""
    act = infer.steps or cfg.halt_max_steps
    rows, n, infer_sum = [], 0, 0.0
    for task in tasks:
        side = (sides or {}).get(task.task_id) or default_side(task, cfg, infer.canvas_margin)
        rows.append((side, len(task.train)))
        n, infer_sum = n + 1, infer_sum + infer.views * task.n_test * act * forward_flops(cfg, side)
    return Work(n, joint_flops(cfg, rows, joint.steps, joint.batch_size), infer_sum)


@dataclass(frozen=True)
class Projection:
    """Time of `fixed` FLOPs plus `tasks` tasks of `per_task` FLOPs each on `gpus` GPUs at `utilization` of
    `peak` (`fixed`: work that does not grow with the tasks, the joint scope's one fine-tuning run)."""

    per_task: float
    tasks: int
    gpus: int
    peak: float
    utilization: float
    budget_s: float
    fixed: float = 0.0

    @property
    def total(self) -> float:
        return self.fixed + self.per_task * self.tasks

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
            peak: float = L4_BF16_PEAK, utilization: float = DEFAULT_UTILIZATION, fixed: float = 0.0) -> Projection:
    if not 0 < utilization <= 1:
        raise ValueError(f"utilization must be in (0, 1], got {utilization}")
    return Projection(per_task, tasks, gpus, peak, utilization, budget_s, fixed)


def project_work(work: Work, scope: str, budget_s: float, utilization: float = DEFAULT_UTILIZATION,
                 tasks: int = KAGGLE_TASKS) -> Projection:
    """`work` of a sample of tasks scaled to `tasks` tasks: per-task scope scales all of it; the joint scope
    scales the inference only (its fine-tuning run has a fixed number of steps)."""
    n = max(work.tasks, 1)
    if scope == "joint":
        return project(work.infer / n, budget_s, tasks, utilization=utilization, fixed=work.ttft)
    return project(work.total / n, budget_s, tasks, utilization=utilization)


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


# ---- the Kaggle table: both scopes, bundled and official architecture ----------------------------------------

@dataclass(frozen=True)
class Scenario:
    """One row of the table: a model, a scope and its recipe (steps x batch; per task or once), views."""

    model: str
    cfg: ModelConfig
    scope: str  # "task" or "joint"
    steps: int
    batch: int
    views: int
    note: str = ""

    def work(self, tasks: list[Any], steps: int | None = None) -> Work:
        steps = self.steps if steps is None else steps
        infer = InferConfig(views=self.views)
        if self.scope == "joint":
            return joint_work(tasks, self.cfg, JointConfig(steps=steps, batch_size=self.batch), infer)
        return default_work(tasks, self.cfg, TTFTConfig(steps=steps, batch_size=self.batch), infer)

    def recipe(self) -> str:
        return f"{self.steps:,} x {self.batch} " + ("once" if self.scope == "joint" else "per task")


def default_scenarios(models: dict[str, ModelConfig]) -> list[Scenario]:
    """Both scopes at the defaults (TTFTConfig, JointConfig, InferConfig) for every model."""
    views = InferConfig.views
    return [s for label, cfg in models.items() for s in (
        Scenario(label, cfg, "task", TTFTConfig.steps, TTFTConfig.batch_size, views),
        Scenario(label, cfg, "joint", JointConfig.steps, JointConfig.batch_size, views))]


def fitting_steps(sc: Scenario, tasks: list[Any], target_s: float, utilization: float) -> int:
    """Most fine-tuning steps of `sc` whose projection stays within `target_s` (0 if inference alone exceeds)."""
    p0 = project_work(sc.work(tasks, 0), sc.scope, target_s, utilization)
    p1 = project_work(sc.work(tasks, 1), sc.scope, target_s, utilization)
    capacity = target_s * p0.gpus * p0.peak * p0.utilization
    return max(0, int((capacity - p0.total) // (p1.total - p0.total))) if p1.total > p0.total else 0


def table_rows(scenarios: list[Scenario], tasks: list[Any], target_s: float, utilization: float,
               fit_views: tuple[int, ...] = (256, 64)) -> list[Scenario]:
    """The scenarios, each that does not fit followed by the steps that fit at each of `fit_views`."""
    out = []
    for sc in scenarios:
        out.append(sc)
        if project_work(sc.work(tasks), sc.scope, target_s, utilization).fits:
            continue
        for views in fit_views:
            trial = Scenario(sc.model, sc.cfg, sc.scope, sc.steps, sc.batch, views)
            steps = fitting_steps(trial, tasks, target_s, utilization)
            steps = steps // 100 * 100 if steps >= 100 else steps
            out.append(Scenario(sc.model, sc.cfg, sc.scope, steps, sc.batch, views, note="fitted"))
    return out


def format_table(rows: list[Scenario], tasks: list[Any], target_s: float, utilization: float) -> list[str]:
    """Markdown table: FLOPs and hours of 240 tasks on 4 x L4 per scenario, and whether it fits `target_s`."""
    lines = ["| model | scope | fine-tuning (steps x batch) | views x ACT steps | fine-tuning | inference | "
             f"hours | <= {target_s / 3600:g} h |", "|---|---|---|---|---|---|---|---|"]
    for sc in rows:
        work = sc.work(tasks)
        p = project_work(work, sc.scope, target_s, utilization)
        inf = work.infer / max(work.tasks, 1) * p.tasks
        ft = p.total - inf
        verdict = ("yes" if p.fits else "NO") + (f" ({sc.note})" if sc.note else "")
        lines.append(f"| {sc.model} | {sc.scope} | {sc.recipe()} | {sc.views} x {sc.cfg.halt_max_steps} | "
                     f"{human(ft)} | {human(inf)} | {p.seconds / 3600:.2f} | {verdict} |")
    return lines


def assumptions(tasks: list[Any], source: str, utilization: float, target_s: float) -> str:
    n_test = sum(t.n_test for t in tasks) / max(len(tasks), 1)
    pairs = sum(len(t.train) for t in tasks) / max(len(tasks), 1)
    return (f"Assumptions: {KAGGLE_TASKS} tasks like the {len(tasks)} of {source} (mean {n_test:.2f} test inputs, "
            f"{pairs:.2f} demonstration pairs per task); {KAGGLE_GPUS} x NVIDIA L4 at {L4_BF16_PEAK / 1e12:.0f} "
            f"TFLOP/s bf16 dense peak each, {utilization:.0%} utilisation; a fine-tuning sample-step = "
            f"{TRAIN_FORWARD_MULTIPLE} forwards; inference = views per test input (upper bound) x ACT steps "
            f"(halt_max_steps); canvas side per task by the canvas policy (compact models: largest grid side + "
            f"{InferConfig.canvas_margin}; official rope: 30x30); target {target_s / 3600:g} h of Kaggle's 12 h "
            "(the rest: program search and slack).")


def model_label(name: str, cfg: ModelConfig) -> str:
    canvas_kind = "compact canvas" if canvas.is_compact(cfg) else "30x30"
    return (f"{name} (D {cfg.hidden_size}, {cfg.L_layers} layers, H {cfg.H_cycles}, L {cfg.L_cycles}, "
            f"{canvas_kind})")


def kaggle_table(tasks: list[Any], models: dict[str, ModelConfig], source: str,
                 utilization: float = DEFAULT_UTILIZATION, target_s: float = TARGET_S) -> list[str]:
    """Assumptions line and the table for both scopes of every model (fitted rows where one does not fit)."""
    labelled = {model_label(name, cfg): cfg for name, cfg in models.items()}
    rows = table_rows(default_scenarios(labelled), tasks, target_s, utilization)
    return [assumptions(tasks, source, utilization, target_s), ""] + format_table(rows, tasks, target_s, utilization)


def main(argv: list[str] | None = None) -> int:
    from trm_submit.io import datasets
    from trm_submit.io.tasks import challenges_from_dict
    from trm_submit.trm import checkpoint

    p = argparse.ArgumentParser(description="FLOP projection of a 240-task Kaggle run on 4 x L4, both scopes")
    p.add_argument("--set", default="arc-agi-2", choices=sorted(datasets.DATASETS))
    p.add_argument("--split", default="evaluation", choices=sorted(datasets.SPLITS))
    p.add_argument("--weights", type=Path, default=Path(__file__).resolve().parent.parent / "weights" / "trm.pt")
    p.add_argument("--utilization", type=float, default=DEFAULT_UTILIZATION)
    p.add_argument("--target-hours", type=float, default=TARGET_S / 3600)
    a = p.parse_args(argv)
    challenges, _ = datasets.load_split(a.set, a.split)
    tasks = list(challenges_from_dict(challenges, log=lambda m: None).tasks.values())
    models = {"official": ModelConfig()}
    if a.weights.is_file():
        models = {"bundled": checkpoint.load_bundled(a.weights).config, **models}
    print("\n".join(kaggle_table(tasks, models, f"{a.set} {a.split}", a.utilization, a.target_hours * 3600)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
