"""Export of a pretraining run: the bundled weights file made from its latest checkpoint."""

from __future__ import annotations

import datetime
from pathlib import Path

import torch

from ..config import TrainConfig
from ..trm import checkpoint
from ..trm.model import PUZZLE_TABLE_KEY
from .train_checkpoints import CKPT_DIR, latest_checkpoint, load_state


def export_bundled(run_dir: str | Path, out_path: str | Path) -> Path:
    """Bundled weights from a run's latest checkpoint: EMA trunk weights (live ones without EMA), initial
    puzzle embedding = mean of the trained table rows (row 0, the blank, and never-trained rows excluded),
    provenance (data counts, removed tasks, steps, wall time, hardware, date)."""
    latest = latest_checkpoint(run_dir)
    if latest is None:
        raise FileNotFoundError(f"no checkpoint in {Path(run_dir) / CKPT_DIR}")
    shared = load_state(latest / "shared.pt")
    cfg = TrainConfig.from_dict(shared["config"])
    state = dict(shared["model"])
    table = state.pop(PUZZLE_TABLE_KEY)
    if shared["ema"] is not None:
        state.update(shared["ema"]["shadow"])
    trained = table[1:][table[1:].ne(0).any(dim=1)]
    initial = checkpoint.slim_puzzle_table(torch.cat([table[:1], trained])) if len(trained) else table[0] * 0
    provenance = {
        "source": "trm-submit train", "preset": cfg.preset, "steps": shared["step"],
        "train_wall_time_s": round(shared["elapsed"], 1), "ema_rate": cfg.ema_rate if shared["ema"] else None,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hardware": shared["hardware"], "training_data": shared["data"], "train_config": shared["config"],
        "trained_puzzle_rows": int(len(trained)), "checkpoint": latest.name,
    }
    return checkpoint.save_bundled(out_path, cfg.model, state, initial, provenance)
