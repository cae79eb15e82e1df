"""Pretraining (`trm-submit train`): the presets, the training data of a config, and `run_train`, which starts
or resumes a run in its folder. The parts live beside it: train_ranks (data-parallel ranks), train_state
(the Trainer and its serialisation), train_checkpoints (checkpoint folders, resume rule), train_loop (the
step loop, metrics log, stop signals) and train_export (bundled weights from a run).

One process on CPU or GPU, or one process per device under `torchrun` (gloo on CPU, nccl on CUDA): each
rank holds `global_batch_size / world` rows, and gradients (trunk and the dense puzzle-table gradient) are
averaged over ranks before clipping and the optimiser step, so every rank takes the same step.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from ..config import ConfigError, ModelConfig, TrainConfig
from ..grids import canvas
from . import trainset
from .loop import METRICS_FILE, train_loop
from .ranks import DistEnv, barrier, init_distributed, say
from .train_checkpoints import CKPT_DIR, check_resumable, latest_checkpoint, load_state
from .trainer import Trainer

CPU_MODEL = ModelConfig(hidden_size=128, num_heads=4, L_layers=2, H_cycles=2, L_cycles=2, puzzle_emb_ndim=128,
                        puzzle_emb_len=1, halt_max_steps=6, pos_encodings="rope2d", mask_pad=True)
PRESETS: dict[str, dict[str, Any]] = {  # differences from TrainConfig's defaults
    # The paper's ARC run (spec 3): TrainConfig's defaults are its values (official architecture, 1-D rope,
    # 30x30 canvases, batch 768, lr 1e-4 with 2000 warm-up steps, EMA 0.999).
    "paper": dict(run_dir="runs/paper"),
    # A small compact-canvas model chosen by measured sample-steps/s on a 2-core CPU (benchmarks/README.md,
    # "Training"); runs until stopped (SIGTERM checkpoints) and resumes with `resume=True`.
    "cpu": dict(model=CPU_MODEL, n_aug=32, compact=True, buckets=canvas.BUCKET_SIDES, global_batch_size=32,
                lr=2e-4, lr_warmup_steps=500, max_steps=10_000_000, checkpoint_every_steps=5000,
                checkpoint_every_seconds=300.0, log_every=25, run_dir="runs/cpu-main"),
}


def preset(name: str, **overrides: Any) -> TrainConfig:
    """The named preset (`paper` or `cpu`) with field overrides."""
    if name not in PRESETS:
        raise ConfigError(f"unknown training preset {name!r}; choose one of {', '.join(PRESETS)}")
    return TrainConfig(**{"preset": name, **PRESETS[name], **overrides})


def build_data(cfg: TrainConfig) -> tuple[trainset.TrainingSet, dict[str, Any]]:
    """The training set of a config and its description (selection report, counts, fingerprint)."""
    if cfg.compact and not canvas.is_compact(cfg.model):
        raise ConfigError("compact canvases need a compact model: pos_encodings='rope2d' and mask_pad "
                         "(1-D rope positions and attention to PAD depend on the side)")
    chosen = trainset.load_training_tasks(cfg.sources, cfg.exclude)
    tasks = [t for t in chosen.tasks if t.max_side <= cfg.max_task_side]
    tasks = tasks[: cfg.max_tasks] if cfg.max_tasks > 0 else tasks
    buckets = cfg.buckets if cfg.compact else (30,)
    data = trainset.build_training_set(tasks, cfg.n_aug, cfg.seed, buckets, compact=cfg.compact,
                                       margin=cfg.canvas_margin)
    info = {"selection": chosen.summary(), "trained_tasks": len(tasks), "max_task_side": cfg.max_task_side,
            "max_tasks": cfg.max_tasks, "set": data.info, "fingerprint": data.fingerprint()}
    return data, info


def total_steps(cfg: TrainConfig, data: trainset.TrainingSet) -> int:
    if cfg.max_steps > 0:
        return cfg.max_steps
    mean_examples = data.info["examples"] / max(1, data.info["puzzles"])
    return max(1, int(cfg.epochs * data.info["tasks"] * mean_examples / cfg.global_batch_size))


def hardware(env: DistEnv) -> dict[str, Any]:
    info = {"platform": platform.platform(), "python": platform.python_version(), "torch": str(torch.__version__),
            "device": env.device.type, "world_size": env.world, "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "cpu": platform.processor()}
    try:
        names = [ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")]
        info["cpu"] = names[0] if names else info["cpu"]
    except OSError:
        pass
    if env.device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(env.device)
    return info


def _truncate_log(path: Path, step: int) -> None:
    """Drop log lines written after the checkpoint a run resumes from."""
    if path.is_file():
        lines = [ln for ln in path.read_text().splitlines() if ln.strip() and json.loads(ln)["step"] <= step]
        path.write_text("".join(ln + "\n" for ln in lines))


def run_train(cfg: TrainConfig) -> Path:
    """Train (or resume with `cfg.resume`) in `cfg.run_dir`; returns the run folder."""
    joined = dist.is_initialized()
    env = init_distributed(cfg.device)
    if cfg.num_threads > 0:
        torch.set_num_threads(cfg.num_threads)
    run_dir = Path(cfg.run_dir)
    latest = latest_checkpoint(run_dir)
    if cfg.resume and latest is None:
        raise ConfigError(f"nothing to resume: no checkpoint in {run_dir / CKPT_DIR}")
    if not cfg.resume and latest is not None:
        raise ConfigError(f"{run_dir} already holds checkpoints; resume it or choose another run folder")
    data, data_info = build_data(cfg)
    trainer = Trainer(cfg, data, env, total_steps(cfg, data))
    extra = {"config": cfg.to_dict(), "data": data_info, "hardware": hardware(env)}
    if cfg.resume:
        assert latest is not None  # refused above when there is nothing to resume
        shared = load_state(latest / "shared.pt")
        check_resumable(shared, cfg, data_info["fingerprint"])
        trainer.load(shared, load_state(latest / f"rank{env.rank}.pt"))
    if env.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        if cfg.resume:
            _truncate_log(run_dir / METRICS_FILE, trainer.step)
        (run_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1) + "\n")
        (run_dir / "data.json").write_text(json.dumps(data_info, indent=1) + "\n")
    sel, info = data_info["selection"], data.info
    say(env, f"{data_info['trained_tasks']} tasks ({sel['removed_overlapping_evaluation']} removed as overlapping "
              f"evaluation, {sel['removed_duplicates']} duplicates), {info['puzzles']} puzzles, {info['examples']} "
              f"examples, buckets {info['buckets']}; step {trainer.step} of {trainer.total_steps}, {env.world} "
              f"rank(s) on {env.device}, {torch.get_num_threads()} thread(s)")
    barrier(env)
    train_loop(trainer, run_dir, extra)
    say(env, f"stopped at step {trainer.step}; checkpoint {latest_checkpoint(run_dir)}")
    if env.world > 1 and not joined:
        dist.barrier()  # no rank tears the group down while another still has traffic in flight
        dist.destroy_process_group()
    return run_dir
