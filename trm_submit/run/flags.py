"""Checks of a `submit` run's settings before any work: every number finite and in its range, the limit
named in the one-line message (`FlagError`, exit code 2); and the worker count capped at what can help."""

from __future__ import annotations

import math
from typing import Any

from .. import devices
from ..config import ConfigError, RunConfig
from ..grids.vote import MERGE_RULES

MAX_BUDGET_S = 30 * 24 * 3600.0  # a month: far beyond any competition limit, far from float overflow
MAX_VIEWS = 16384
MAX_STEPS = 1_000_000
MAX_BATCH = 65536
MAX_THREADS = 4096
MAX_MEMORY_MB = 1 << 24  # 16 TiB
MAX_ACT_STEPS = 1024
MAX_CANVAS_MARGIN = 29
MAX_LR = 10.0


MAX_SEARCH_DEPTH = 4
SCOPES = ("task", "joint")
PROTOCOLS = ("ttft", "official")


class FlagError(ConfigError):
    """A flag value that cannot be used; its message is one line naming the flag, the value and the limit."""


def _show(value: Any) -> str:
    return f"{value:.15g}" if isinstance(value, float) else str(value)


def check_number(flag: str, value: Any, low: float, high: float, *, low_open: bool = False,
                 integer: bool = False) -> None:
    """FlagError unless `value` is a finite number in [low, high] ((low, high] with `low_open`)."""
    if integer and (isinstance(value, bool) or not isinstance(value, int)):
        raise FlagError(f"{flag} {value!r}: expected a whole number")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise FlagError(f"{flag} {_show(value)}: expected a finite number in "
                        f"{'(' if low_open else '['}{_show(low)}, {_show(high)}]")
    below = value <= low if low_open else value < low
    if below or value > high:
        bound = f"more than {_show(low)}" if low_open else f"at least {_show(low)}"
        raise FlagError(f"{flag} {_show(value)}: must be {bound} and at most {_show(high)}")


def check_choice(flag: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise FlagError(f"{flag} {value!r}: expected one of {', '.join(choices)}")


def _optional(flag: str, value: Any, low: float, high: float) -> None:
    if value is not None:
        check_number(flag, value, low, high, integer=True)


def check_budget(time_budget: Any, safety_margin: Any, model: bool = True) -> None:
    """The run's time: a finite budget that, when a `model` will run, leaves it time after the safety margin."""
    check_number("--safety-margin", safety_margin, 0.0, MAX_BUDGET_S)
    check_number("--time-budget", time_budget, 0.0, MAX_BUDGET_S, low_open=True)
    if model and time_budget <= safety_margin:
        raise FlagError(f"--time-budget {_show(time_budget)} leaves the model no time: it must exceed "
                        f"--safety-margin ({_show(safety_margin)} s, kept for the final write)")


def check_run_config(cfg: RunConfig) -> None:
    """Every numeric setting of a `submit` run in range; FlagError (one line) for the first that is not."""
    check_budget(cfg.time_budget, cfg.safety_margin, model=bool(cfg.weights))
    check_number("--workers", cfg.workers, 1, MAX_THREADS, integer=True)
    check_number("--views", cfg.infer.views, 1, MAX_VIEWS, integer=True)
    _optional("--ttft-steps", cfg.ttft_steps, 0, MAX_STEPS)
    check_number("--ttft-batch", cfg.ttft_batch, 1, MAX_BATCH, integer=True)
    check_number("--ttft-lr", cfg.ttft_lr, 0.0, MAX_LR)
    check_number("--ttft-emb-lr", cfg.ttft_emb_lr, 0.0, MAX_LR)
    check_number("--ttft-share", cfg.ttft_share, 0.0, 1.0)
    check_number("--threads", cfg.threads, 0, MAX_THREADS, integer=True)
    _optional("--infer-steps", cfg.infer.steps, 1, MAX_ACT_STEPS)
    _optional("--early-stop", cfg.infer.early_stop_k, 1, MAX_ACT_STEPS)
    check_number("--memory-mb", cfg.infer.memory_budget_mb, 1, MAX_MEMORY_MB, integer=True)
    check_number("--canvas-margin", cfg.infer.canvas_margin, 0, MAX_CANVAS_MARGIN, integer=True)
    check_number("--seed", cfg.seed, -(2**63), 2**63 - 1, integer=True)
    check_number("--search-share", cfg.search_share, 0.0, 1.0)
    check_number("--search-depth", cfg.search_depth, 1, MAX_SEARCH_DEPTH, integer=True)
    check_number("--search-workers", cfg.search_workers, 0, MAX_THREADS, integer=True)
    _optional("--joint-steps", cfg.joint_steps, 0, MAX_STEPS)
    _optional("--joint-batch", cfg.joint_batch, 1, MAX_BATCH)
    check_number("--joint-checkpoint-seconds", cfg.joint_checkpoint_seconds, 0.0, MAX_BUDGET_S, low_open=True)
    check_choice("--ttft-scope", cfg.ttft_scope, SCOPES)
    check_choice("--protocol", cfg.protocol, PROTOCOLS)
    if cfg.protocol == "official":
        if not cfg.official_data:
            raise FlagError("--protocol official needs --official-data (the official dataset builder's output folder)")
        if cfg.ttft_scope != "task":
            raise FlagError("--ttft-scope joint fine-tunes at test time; --protocol official answers with the rows "
                            "the checkpoint already trained: choose one")
    elif cfg.official_data:
        raise FlagError("--official-data is read by --protocol official only")
    if cfg.merge_rule not in MERGE_RULES:
        raise FlagError(f"--merge-rule {cfg.merge_rule!r}: expected one of {', '.join(sorted(MERGE_RULES))}")


def cap_workers(requested: int, n_tasks: int, device: str) -> tuple[int, str | None]:
    """Workers that can help: at most one per pending task and one per device (CUDA device or CPU core).
    Returns (workers, the line saying why a request was reduced, or None)."""
    n_dev, what = devices.usable(device)
    limit = max(1, min(n_tasks, n_dev))
    if requested <= limit:
        return requested, None
    why = f"{n_tasks} task{'s' if n_tasks != 1 else ''} to run" if n_tasks <= n_dev else f"{n_dev} {what}"
    return limit, f"trm-submit: --workers {requested} reduced to {limit} ({why})"
