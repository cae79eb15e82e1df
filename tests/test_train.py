"""Pretraining: exact resume (straight run == run, checkpoint, resume), stop on SIGTERM, the JSONL log,
data-parallel step == single-process step on the same global batch (2 gloo processes), bucket sampling,
presets, and export of the bundled weights."""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from conftest import FixedRows, nan_loss_at, tiny_config

from trm_submit.config import ConfigError, ModelConfig, TrainConfig
from trm_submit.io.tasks import Task
from trm_submit.learn import export as train_export
from trm_submit.learn import loop as train_loop
from trm_submit.learn import pretrain as train
from trm_submit.learn import ranks as train_ranks
from trm_submit.learn import train_checkpoints, trainset
from trm_submit.learn import trainer as train_state
from trm_submit.trm import checkpoint
from trm_submit.trm.model import PUZZLE_TABLE_KEY

TINY = tiny_config(expansion=4.0, halt_max_steps=3)


_SELECTION: list = []


@pytest.fixture(autouse=True)
def one_thread_and_cached_selection(monkeypatch):
    """One torch thread (the machine is shared); the public-set selection is read once per module."""
    if not _SELECTION:
        _SELECTION.append(trainset.load_training_tasks())
    monkeypatch.setattr(trainset, "load_training_tasks", lambda *a, **k: _SELECTION[0])
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_cfg(run_dir, **kw) -> TrainConfig:
    base = dict(model=TINY, run_dir=str(run_dir), n_aug=2, max_tasks=6, max_task_side=10, global_batch_size=4,
                max_steps=12, log_every=4, lr=3e-4, lr_warmup_steps=3, autocast="off", progress=False,
                checkpoint_every_steps=1000, checkpoint_every_seconds=1e9, keep_checkpoints=3)
    return train.preset("cpu", **{**base, **kw})


def load_shared(run_dir) -> dict:
    return torch.load(train_checkpoints.latest_checkpoint(run_dir) / "shared.pt", map_location="cpu", weights_only=True)


def assert_states_equal(a, b):
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_states_equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_states_equal(x, y)
    else:
        assert a == b


def strip_timing(path) -> list[dict]:
    recs = [json.loads(line) for line in open(path)]
    return [{k: v for k, v in r.items() if k not in ("sample_steps_per_s", "wall_time")} for r in recs]


def test_resume_is_bitwise_exact_and_log_is_written(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    train.run_train(tiny_cfg(straight))
    train.run_train(tiny_cfg(split, max_steps=5))
    assert train_checkpoints.list_checkpoints(split)[-1][0] == 5
    train.run_train(tiny_cfg(split, resume=True))
    a, b = load_shared(straight), load_shared(split)
    assert a["step"] == b["step"] == 12
    for key in ("model", "ema", "optimizers"):
        assert_states_equal(a[key], b[key])
    rank_a, rank_b = (torch.load(train_checkpoints.latest_checkpoint(d) / "rank0.pt", weights_only=True)
                      for d in (straight, split))
    assert_states_equal(rank_a, rank_b)  # carries, data positions, RNG states
    log = strip_timing(straight / train_loop.METRICS_FILE)
    assert [r["step"] for r in log] == [4, 8, 12]
    resumed = strip_timing(split / train_loop.METRICS_FILE)
    assert [r["step"] for r in resumed] == [4, 5, 8, 12]  # 5: the first run's last (partial) window
    assert [log[0], log[2]] == [resumed[0], resumed[3]]  # whole windows agree exactly
    first = json.loads(open(straight / train_loop.METRICS_FILE).readline())
    for key in ("loss", "lm_loss", "q_loss", "accuracy", "exact_accuracy", "lr", "sample_steps_per_s", "wall_time"):
        assert np.isfinite(first[key])
    assert first["examples"] >= 4 and first["lr"] == pytest.approx(3e-4)  # warm-up (3 steps) is over


def test_sigterm_checkpoints_then_resume_finishes(tmp_path, monkeypatch):
    original = train_state.Trainer.train_step

    def step_then_signal(self):
        out = original(self)
        if self.step == 4:
            os.kill(os.getpid(), signal.SIGTERM)
        return out

    monkeypatch.setattr(train_state.Trainer, "train_step", step_then_signal)
    train.run_train(tiny_cfg(tmp_path))
    assert [s for s, _ in train_checkpoints.list_checkpoints(tmp_path)] == [4]
    assert not list((tmp_path / train_checkpoints.CKPT_DIR).glob("*.tmp"))
    monkeypatch.setattr(train_state.Trainer, "train_step", original)
    train.run_train(tiny_cfg(tmp_path, resume=True))
    assert load_shared(tmp_path)["step"] == 12


def test_train_cli_user_errors_are_one_line_exit_2(tmp_path, capsys):
    from trm_submit import cli

    assert cli.main(["train", "--run-dir", str(tmp_path / "none"), "--resume", "--device", "cpu"]) == 2
    missing = tmp_path / "none" / train.CKPT_DIR
    assert capsys.readouterr().err.strip().splitlines() == [f"trm-submit: error: nothing to resume: no checkpoint in "
                                                            f"{missing}"]
    train.run_train(tiny_cfg(tmp_path, max_steps=1))
    capsys.readouterr()
    assert cli.main(["train", "--run-dir", str(tmp_path), "--max-steps", "1", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"trm-submit: error: {tmp_path} already holds checkpoints; resume it or choose another run folder"]


def test_resume_refuses_missing_or_changed_runs(tmp_path):
    with pytest.raises(ConfigError, match="nothing to resume"):
        train.run_train(tiny_cfg(tmp_path, resume=True))
    train.run_train(tiny_cfg(tmp_path, max_steps=2))
    with pytest.raises(ConfigError, match="already holds checkpoints"):
        train.run_train(tiny_cfg(tmp_path, max_steps=4))
    with pytest.raises(ValueError, match="n_aug"):
        train.run_train(tiny_cfg(tmp_path, max_steps=4, n_aug=3, resume=True))


def test_export_bundled_writes_ema_trunk_and_mean_embedding(tmp_path):
    run = tmp_path / "run"
    train.run_train(tiny_cfg(run, max_steps=6, autocast="bf16", ema_rate=0.9))
    out = train_export.export_bundled(run, tmp_path / "w" / "tiny.pt")
    bundle = checkpoint.load_bundled(out)
    shared = load_shared(run)
    assert bundle.config == TINY
    for name, value in shared["ema"]["shadow"].items():
        assert torch.equal(bundle.trunk_state[name], value)
        assert not torch.equal(value, shared["model"][name]) or "q_head" in name or "embed" in name
    assert torch.equal(bundle.trunk_state["inner.H_init"], shared["model"]["inner.H_init"])
    table = shared["model"][PUZZLE_TABLE_KEY]
    rows = table[1:][table[1:].ne(0).any(dim=1)]
    assert 0 < len(rows) < len(table) - 1  # a short run trains some rows only
    torch.testing.assert_close(bundle.initial_puzzle_emb, rows.double().mean(0).float())
    prov = bundle.provenance
    assert prov["steps"] == 6 and prov["training_data"]["trained_tasks"] == 6
    assert prov["training_data"]["selection"]["removed_overlapping_evaluation"] == 377
    assert {"date", "hardware", "train_wall_time_s"} <= prov.keys()
    model = checkpoint.build_model(bundle, num_views=2)
    batch = {"inputs": torch.full((2, 64), 2), "labels": torch.full((2, 64), 2),
             "puzzle_identifiers": torch.tensor([0, 1])}
    _, outputs = model(model.initial_carry(batch), batch)
    assert outputs["logits"].shape == (2, 64, 12)


def test_buckets_are_drawn_in_proportion_to_examples():
    tasks = [Task(f"t{i}", ((np.full((s, s), 1, np.uint8), np.full((s, s), 2, np.uint8)),) * (1 + i % 2), ())
             for i, s in enumerate([3, 3, 3, 9, 9, 20])]
    data = trainset.build_training_set(tasks, n_aug=2, seed=0, buckets=(8, 12, 30), compact=True, margin=1)
    cfg = tiny_cfg("unused", global_batch_size=2, ema_rate=0.0)
    trainer = train_state.Trainer(cfg, data, train_ranks.DistEnv(0, 1, torch.device("cpu")), total_steps=10)
    draws = np.array([trainer.bucket_for(s) for s in range(6000)])
    freq = np.bincount(draws, minlength=3) / len(draws)
    np.testing.assert_allclose(freq, trainer.bucket_p, atol=0.02)
    assert np.array_equal(draws, [trainer.bucket_for(s) for s in range(6000)])


def test_presets():
    paper = train.preset("paper")
    assert paper.model == ModelConfig() and paper.model.pos_encodings == "rope" and not paper.compact
    assert (paper.global_batch_size, paper.lr, paper.lr_warmup_steps, paper.ema_rate) == (768, 1e-4, 2000, 0.999)
    assert (paper.weight_decay, paper.puzzle_emb_lr, paper.puzzle_emb_weight_decay) == (0.1, 1e-2, 0.1)
    assert paper.betas == (0.9, 0.95) and paper.n_aug == 1000 and paper.buckets == (30,)
    assert paper == TrainConfig(preset="paper", run_dir="runs/paper")  # the paper's values are the defaults
    cpu = train.preset("cpu", max_steps=7)
    assert cpu.compact and cpu.model.pos_encodings == "rope2d" and cpu.model.mask_pad and cpu.max_steps == 7
    assert TrainConfig.from_dict(cpu.to_dict()) == cpu
    old_spelling = {**cpu.to_dict(), "autocast": "bfloat16"}  # run folders written before one vocabulary
    assert TrainConfig.from_dict(old_spelling) == cpu and cpu.autocast == "bf16"
    with pytest.raises(ValueError, match="unknown training preset"):
        train.preset("gpu")
    with pytest.raises(ValueError, match="rope2d"):
        train.build_data(train.preset("cpu", model=ModelConfig()))


# ---------------------------------------------------------------------------------------------- data parallel


def ddp_data() -> trainset.TrainingSet:
    rng = np.random.default_rng(0)
    tasks = [Task(f"t{i}", tuple((rng.integers(0, 10, (3, 4)).astype(np.uint8),
                                  rng.integers(0, 10, (4, 2)).astype(np.uint8))
                                 for _ in range(2)), ()) for i in range(4)]
    return trainset.build_training_set(tasks, n_aug=3, seed=0, buckets=(8,), compact=True, margin=1)


def ddp_cfg() -> TrainConfig:
    return tiny_cfg("unused", model=TINY.replace(halt_exploration_prob=0.0), lr=1e-3, lr_warmup_steps=0)


def run_steps(env: train_ranks.DistEnv, rows: dict[str, np.ndarray], steps: int) -> tuple[train_state.Trainer, dict]:
    """`steps` optimiser steps on fixed rows; returns the trainer and the logged record of those steps."""
    trainer = train_state.Trainer(ddp_cfg(), ddp_data(), env, total_steps=10)
    trainer.sources = [FixedRows(rows, cycle=False)]
    window = train_loop.MetricsWindow()
    for _ in range(steps):
        window.add(trainer.train_step()[1])
    return trainer, window.record(trainer)


def params_of(trainer: train_state.Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


def ddp_worker(rank: int, port: int, rows: dict[str, np.ndarray], out_dir: str) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2")
    env = train_ranks.init_distributed("cpu")
    half = len(rows["inputs"]) // 2
    mine = {k: v[rank * half : (rank + 1) * half] for k, v in rows.items()}
    trainer, record = run_steps(env, mine, steps=2)
    train_checkpoints.save_checkpoint(trainer, Path(out_dir) / "run", {"config": trainer.cfg.to_dict()})
    torch.save({"params": params_of(trainer), "record": record}, os.path.join(out_dir, f"rank{rank}.pt"))
    torch.distributed.barrier()  # no rank tears the group down while the other still has traffic in flight
    torch.distributed.destroy_process_group()


def ddp_nonfinite_worker(rank: int, port: int, rows: dict[str, np.ndarray], out_dir: str) -> None:
    """Rank 1 alone sees a non-finite loss at step 1; each rank takes 2 rows per step."""
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2")
    env = train_ranks.init_distributed("cpu")
    if rank == 1:
        nan_loss_at(pytest.MonkeyPatch(), 1)
    pick = np.r_[2 * rank : 2 * rank + 2, 4 + 2 * rank : 6 + 2 * rank]
    trainer, record = run_steps(env, {k: v[pick] for k, v in rows.items()}, steps=2)
    torch.save({"params": params_of(trainer), "record": record}, os.path.join(out_dir, f"rank{rank}.pt"))
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_data_parallel_step_equals_single_process_step(tmp_path):
    """Two gloo ranks with 2 rows each == one process with the same 4 rows (two optimiser steps, the
    second on the carried rows); checks trunk and puzzle-table updates."""
    rows = trainset.BucketSource(ddp_data().buckets[0], seed=1).take(4)
    trainer, record = run_steps(train_ranks.DistEnv(0, 1, torch.device("cpu")), rows, steps=2)
    single = params_of(trainer)
    mp.spawn(ddp_worker, args=(free_port(), rows, str(tmp_path)), nprocs=2, join=True)
    initial = train_state.Trainer(ddp_cfg(), ddp_data(), train_ranks.DistEnv(0, 1, torch.device("cpu")),
                                  10).model.state_dict()
    for rank in range(2):
        ranked = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        for name, value in single.items():
            torch.testing.assert_close(ranked["params"][name], value, atol=1e-6, rtol=0, msg=name)
        for key in ("loss", "accuracy", "grad_norm"):  # gradients were averaged, not summed
            assert ranked["record"][key] == pytest.approx(record[key], rel=1e-5)
    moved = single[PUZZLE_TABLE_KEY].ne(initial[PUZZLE_TABLE_KEY]).any(dim=1)
    assert moved.sum() >= 2  # rows of both halves of the batch were updated
    assert not torch.equal(single["inner.lm_head.weight"], initial["inner.lm_head.weight"])
    saved = train_checkpoints.latest_checkpoint(tmp_path / "run")
    assert sorted(p.name for p in saved.iterdir()) == ["rank0.pt", "rank1.pt", "shared.pt"]


def test_data_parallel_ranks_skip_a_non_finite_step_together(tmp_path, monkeypatch):
    """A non-finite loss on one rank only: both ranks skip that step (no rank waits on the other's
    all-reduce) and end equal to one process that saw the non-finite loss on the whole batch."""
    rows = trainset.BucketSource(ddp_data().buckets[0], seed=1).take(8)
    nan_loss_at(monkeypatch, 1)
    trainer, record = run_steps(train_ranks.DistEnv(0, 1, torch.device("cpu")), rows, steps=2)
    monkeypatch.undo()
    assert record["nonfinite_steps"] == 1
    single = params_of(trainer)
    mp.spawn(ddp_nonfinite_worker, args=(free_port(), rows, str(tmp_path)), nprocs=2, join=True)
    for rank in range(2):
        ranked = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        assert ranked["record"]["nonfinite_steps"] == 1
        for name, value in single.items():
            torch.testing.assert_close(ranked["params"][name], value, atol=1e-6, rtol=0, msg=name)
    initial = train_state.Trainer(ddp_cfg(), ddp_data(), train_ranks.DistEnv(0, 1, torch.device("cpu")),
                                  10).model.state_dict()
    assert not torch.equal(single["inner.lm_head.weight"], initial["inner.lm_head.weight"])  # step 2 trained
