"""Joint fine-tuning scope (`--ttft-scope joint`): 2 gloo processes == 1 process over the same steps, kill -9
mid-fine-tuning then --resume == an uninterrupted run (--fixed-work), the deadline held with every task
answered or given fallbacks, SIGTERM, NaN restore, the buckets rule."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from conftest import FixedRows, make_tiny_weights, nan_loss_at, one_error_line, run_cli, small_eval_tasks, tiny_config

from trm_submit.budget import Budget
from trm_submit.config import ConfigError, InferConfig, RunConfig
from trm_submit.io.records import joint_folder
from trm_submit.io.tasks import Task
from trm_submit.learn import joint, trainset
from trm_submit.learn import trainer as train_state
from trm_submit.learn.train_checkpoints import latest_checkpoint
from trm_submit.run import solve
from trm_submit.trm import checkpoint
from trm_submit.trm.model import PUZZLE_TABLE_KEY

DDP_MODEL = tiny_config(halt_max_steps=1, halt_exploration_prob=0.0)  # every row halts after each step


def test_bucket_sides_hold_a_task_per_process():
    assert joint.bucket_sides([5, 7, 11, 29], 1) == (8, 12, 30)
    assert joint.bucket_sides([5, 7, 11, 29], 2) == (8, 30)  # 12 and 30 hold one task each: one bucket
    assert joint.bucket_sides([5, 9, 11, 13, 14], 2) == (12, 16)  # the single 8 joins the 12s
    assert joint.bucket_sides([5, 6, 7, 13], 2) == (16,)  # the single 16 takes the 8s up with it
    with pytest.raises(ConfigError, match="at least 3 tasks"):
        joint.bucket_sides([5, 6], 3)


def synthetic_tasks(n: int = 4) -> list[Task]:
    rng = np.random.default_rng(0)
    return [Task(f"t{i}", tuple((rng.integers(0, 10, (3, 4)).astype(np.uint8),
                                 rng.integers(0, 10, (4, 2)).astype(np.uint8)) for _ in range(2)),
                 (rng.integers(0, 10, (3, 4)).astype(np.uint8),)) for i in range(n)]


def joint_cfg(weights: Path, **kw) -> RunConfig:
    base = dict(challenges="unused", weights=str(weights), ttft_scope="joint", joint_steps=4, joint_batch=4,
                fixed_work=True, seed=0, infer=InferConfig(views=3))
    return RunConfig(**{**base, **kw})


def fixed_half(rows: dict[str, np.ndarray]):
    """A BucketSource stand-in: rank r of `world` takes its slice of the same global rows at every step."""

    def source(bucket, seed, rank=0, world=1):
        n = len(rows["inputs"]) // world
        return FixedRows({k: v[rank * n:(rank + 1) * n] for k, v in rows.items()})

    return source


def global_rows(weights: Path) -> dict[str, np.ndarray]:
    data = joint.joint_data(synthetic_tasks(), joint_cfg(weights), DDP_MODEL, 2)
    assert len(data.buckets) == 1
    return trainset.BucketSource(data.buckets[0], seed=1).take(4)


def fine_tune(weights: Path, folder: Path, rank: int, world: int, rendezvous: str | None) -> dict[str, torch.Tensor]:
    bundle = checkpoint.load_bundled(weights)
    solver = solve.JointSolver.fine_tuned(joint_cfg(weights), torch.device("cpu"), Budget(math.inf), bundle,
                                          synthetic_tasks(), folder, rank, world, rendezvous)
    assert solver.outcome.steps == 4 and solver.outcome.stopped_by == "done"
    return {k: v.detach().clone() for k, v in solver.trainer.model.state_dict().items()}


def ddp_worker(rank: int, weights: str, rows: dict[str, np.ndarray], out: str) -> None:
    torch.set_num_threads(1)
    patch = pytest.MonkeyPatch()
    patch.setattr(trainset, "BucketSource", fixed_half(rows))
    patch.setattr(train_state, "autocast_dtype", lambda choice, device: None)
    params = fine_tune(Path(weights), Path(out) / "joint", rank, 2, f"file://{out}/rendezvous")
    torch.save(params, os.path.join(out, f"rank{rank}.pt"))


def test_two_gloo_processes_equal_one_process_over_the_same_steps(tmp_path, monkeypatch):
    """The real joint fine-tuning (1 embeddings-only step, then 3 full steps) on the same global rows: two
    gloo ranks with half the rows each end with the weights of one process with all of them (1e-6)."""
    weights = make_tiny_weights(tmp_path / "w.pt", DDP_MODEL)
    rows = global_rows(weights)
    monkeypatch.setattr(trainset, "BucketSource", fixed_half(rows))
    monkeypatch.setattr(train_state, "autocast_dtype", lambda choice, device: None)
    single = fine_tune(weights, tmp_path / "single", 0, 1, None)
    mp.spawn(ddp_worker, args=(str(weights), rows, str(tmp_path)), nprocs=2, join=True)
    base = checkpoint.load_bundled(weights)
    assert not torch.equal(single["inner.lm_head.weight"], base.trunk_state["inner.lm_head.weight"])  # trained
    moved = single[PUZZLE_TABLE_KEY].ne(base.initial_puzzle_emb).any(dim=1)
    assert moved.sum() >= 2  # rows of both halves of the batch were updated
    for rank in range(2):
        ranked = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        for name, value in single.items():
            torch.testing.assert_close(ranked[name], value, atol=1e-6, rtol=0, msg=name)
    assert (tmp_path / "joint" / "group-formed").exists()


def test_non_finite_loss_restores_the_snapshot(tmp_path, monkeypatch):
    """A non-finite loss at step 3 (before the first snapshot at step 20): the weights go back to the base."""
    weights = make_tiny_weights(tmp_path / "w.pt", DDP_MODEL)
    nan_loss_at(monkeypatch, 3)
    bundle = checkpoint.load_bundled(weights)
    solver = solve.JointSolver.fine_tuned(joint_cfg(weights, joint_steps=30), torch.device("cpu"), Budget(math.inf),
                                          bundle, synthetic_tasks(), tmp_path / "joint")
    assert (solver.outcome.stopped_by, solver.outcome.steps) == ("nan", 0)
    state = solver.trainer.model.state_dict()
    for name, value in bundle.trunk_state.items():
        assert torch.equal(state[name], value), name
    assert torch.equal(state[PUZZLE_TABLE_KEY], bundle.initial_puzzle_emb.expand_as(state[PUZZLE_TABLE_KEY]))
    record = solver.solve(synthetic_tasks()[1], Budget(math.inf), 0)
    assert record["status"] == "ok" and record["joint"]["stopped_by"] == "nan" and record["views"] == [3]


# ---------------------------------------------------------------------------------------------- end to end


@pytest.fixture
def run_files(tmp_path):
    ch, sol = small_eval_tasks(3)
    (tmp_path / "c.json").write_text(json.dumps(ch))
    (tmp_path / "s.json").write_text(json.dumps(sol))
    make_tiny_weights(tmp_path / "w.pt")
    return tmp_path


def submit_args(d: Path, out: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "trm_submit", "submit", "--challenges", str(d / "c.json"), "--weights",
            str(d / "w.pt"), "--out", str(d / out), "--sources", "trm", "--ttft-scope", "joint", "--views", "4",
            "--joint-batch", "8", "--quiet", "--threads", "1", *extra]


def run(args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def wait_for_checkpoint(folder: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while latest_checkpoint(folder) is None:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else "exited"
        assert time.monotonic() < end, "no joint checkpoint was written"
        time.sleep(0.1)


def test_kill_9_mid_fine_tuning_then_resume_equals_an_uninterrupted_run(run_files):
    d = run_files
    fixed = ("--fixed-work", "--joint-steps", "120", "--time-budget", "600")
    straight = run(submit_args(d, "a/sub.json", *fixed))
    assert straight.returncode == 0, straight.stderr
    proc = subprocess.Popen(submit_args(d, "b/sub.json", *fixed, "--joint-checkpoint-seconds", "0.5"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    folder = joint_folder(d / "b/sub.json")
    wait_for_checkpoint(folder, proc)
    proc.kill()
    proc.wait()
    killed_at = int(latest_checkpoint(folder).name.split("_")[1])
    assert 0 < killed_at < 120, "the kill came after fine-tuning had ended"
    resumed = run(submit_args(d, "b/sub.json", *fixed, "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed from step {killed_at}" in resumed.stderr
    assert (d / "b/sub.json").read_bytes() == (d / "a/sub.json").read_bytes()
    a = torch.load(latest_checkpoint(joint_folder(d / "a/sub.json")) / "shared.pt", weights_only=True)
    b = torch.load(latest_checkpoint(folder) / "shared.pt", weights_only=True)
    assert a["step"] == b["step"] == 120
    for name, value in a["model"].items():
        assert torch.equal(b["model"][name], value), name


def test_deadline_holds_and_every_task_is_answered(run_files):
    d = run_files
    t0 = time.monotonic()
    res = run(submit_args(d, "sub.json", "--time-budget", "30", "--safety-margin", "5"))
    wall = time.monotonic() - t0
    assert res.returncode == 0, res.stderr
    assert wall < 30 + 10, f"a 30 s run took {wall:.1f} s"  # + interpreter start-up and exit
    sub = json.loads((d / "sub.json").read_text())
    ch = json.loads((d / "c.json").read_text())
    assert set(sub) == set(ch) and all(len(sub[t]) == len(ch[t]["test"]) for t in ch)
    assert "joint fine-tuning: " in res.stdout and " over 1 process(es)" in res.stdout
    lines = [json.loads(line) for line in (d / "sub.journal.jsonl").read_text().splitlines()]
    steps = {r["sources"]["trm"]["joint"]["steps"] for r in lines if r["sources"]["trm"]["status"] == "ok"}
    assert len(steps) == 1 and steps.pop() > 0  # one fine-tuning, shared by every task
    assert {r["sources"]["trm"]["joint"]["stopped_by"] for r in lines} <= {"done", "deadline"}
    report = run([sys.executable, "-m", "trm_submit", "report", "--submission", str(d / "sub.json"), "--challenges",
                  str(d / "c.json"), "--out", str(d / "report.html")])
    assert report.returncode == 0, report.stderr
    assert "joint fine-tuning (all tasks): steps " in (d / "report.html").read_text()


def test_sigterm_mid_fine_tuning_writes_a_valid_file_and_resume_continues(run_files):
    d = run_files
    fixed = ("--fixed-work", "--joint-steps", "100000", "--time-budget", "600")
    proc = subprocess.Popen(submit_args(d, "sub.json", *fixed, "--joint-checkpoint-seconds", "0.5"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    folder = joint_folder(d / "sub.json")
    wait_for_checkpoint(folder, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "(signal)" in err and "interrupted by signal" in out
    sub = json.loads((d / "sub.json").read_text())
    assert set(sub) == set(json.loads((d / "c.json").read_text()))
    saved = torch.load(latest_checkpoint(folder) / "shared.pt", weights_only=True)
    assert saved["finished"] is False and saved["stopped_by"] == "signal"
    resumed = run(submit_args(d, "sub.json", "--joint-steps", str(saved["step"] + 5), "--fixed-work",
                              "--time-budget", "600", "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed from step {saved['step']}" in resumed.stderr
    assert torch.load(latest_checkpoint(folder) / "shared.pt", weights_only=True)["step"] == saved["step"] + 5


def test_a_worker_restarted_after_the_group_formed_infers_with_the_newest_checkpoint(tmp_path):
    """A TRM worker that died and was restarted cannot rejoin the group: it loads the newest checkpoint (here
    one written by a single process, so only the weights and step, not the row streams) and trains nothing."""
    weights = make_tiny_weights(tmp_path / "w.pt", DDP_MODEL)
    folder = tmp_path / "joint"
    bundle = checkpoint.load_bundled(weights)
    first = solve.JointSolver.fine_tuned(joint_cfg(weights, joint_steps=6), torch.device("cpu"), Budget(math.inf),
                                         bundle, synthetic_tasks(), folder)
    (folder / "group-formed").write_text("")
    again = solve.JointSolver.fine_tuned(joint_cfg(weights, joint_steps=6), torch.device("cpu"), Budget(math.inf),
                                         bundle, synthetic_tasks(), folder, rank=1, world=2,
                                         rendezvous=f"file://{tmp_path}/never")
    assert again.outcome.stopped_by == "solo: newest checkpoint" and again.trainer.step == 6
    trained, restarted = first.trainer.model.state_dict(), again.trainer.model.state_dict()
    for name, value in trained.items():
        assert torch.equal(restarted[name], value), name
    task = synthetic_tasks()[2]
    assert again.solve(task, Budget(math.inf), 0)["candidates"] == first.solve(task, Budget(math.inf), 0)["candidates"]


def test_joint_plan_is_refitted_to_the_time_and_grows_back(monkeypatch):
    """Measured from each phase's first step: 1 s per step with 100 s left fits 106 steps (a quarter of them
    embeddings-only); when steps get faster, the re-fit 20 steps later grows the plan again, up to the cap,
    and the trunk keeps the start it already had."""
    from trm_submit.config import TTFTConfig
    from trm_submit.learn.finetune import StepPlan
    from trm_submit.learn.ranks import DistEnv

    clock = {"t": 0.0}
    monkeypatch.setattr(joint.time, "monotonic", lambda: clock["t"])

    class Left:
        seconds = 100.0

        def left(self) -> float:
            return self.seconds

    budget = Left()
    plan = StepPlan(TTFTConfig(warmup_fraction=0.25), 1000)
    fit = joint.JointFit(plan, 1000, budget, DistEnv(0, 1, torch.device("cpu")))  # type: ignore[arg-type]
    fit.after_step(1)  # the phase's first step: the mark
    for step in range(2, 7):
        clock["t"] += 1.0
        fit.after_step(step)
    assert (plan.total, plan.frozen_steps) == (6 + 100, 26)
    budget.seconds = 200.0
    for step in range(7, 27):
        clock["t"] += 0.5
        fit.after_step(step)
    assert plan.total == 26 + int(200 / (15 / 25)) and plan.frozen_steps == 26  # 359: grown back
    budget.seconds = 1e9
    for step in range(27, 47):
        clock["t"] += 0.5
        fit.after_step(step)
    assert plan.total == 1000 and plan.frozen_steps == 26  # capped; the trunk started at 26


@pytest.mark.parametrize("flags, words", [
    (["--protocol", "official"], ["--protocol official needs --official-data"]),
    (["--official-data", "x"], ["--official-data is read by --protocol official only"]),
    (["--protocol", "official", "--official-data", "x", "--ttft-scope", "joint"], ["--ttft-scope joint", "choose one"]),
    (["--joint-batch", "0"], ["--joint-batch 0", "at least 1"]),
    (["--joint-steps", "-1"], ["--joint-steps -1", "at least 0"]),
    (["--joint-checkpoint-seconds", "0"], ["--joint-checkpoint-seconds 0", "more than 0"]),
])
def test_scope_and_protocol_flags_are_checked_before_any_work(capsys, tmp_path, flags, words):
    weights = make_tiny_weights(tmp_path / "w.pt")
    (tmp_path / "c.json").write_text(json.dumps(small_eval_tasks(1)[0]))
    code, _, err = run_cli(capsys, "submit", "--challenges", str(tmp_path / "c.json"), "--weights", str(weights),
                           "--out", str(tmp_path / "sub.json"), *flags)
    assert code == 2
    one_error_line(err, *words)
    assert not (tmp_path / "sub.json").exists()


def test_kill_9_of_a_two_process_run_then_resume_in_one_process(run_files):
    """Two gloo workers fine-tune jointly; kill -9 of the parent takes them down (lifeline); a resume with one
    worker loads the 2-process checkpoint's weights, optimiser and step (its row streams start afresh) and
    finishes the fine-tuning and every task."""
    d = run_files
    fixed = ("--fixed-work", "--joint-steps", "100000", "--time-budget", "600")
    proc = subprocess.Popen(submit_args(d, "sub.json", *fixed, "--workers", "2", "--joint-checkpoint-seconds", "0.5"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    folder = joint_folder(d / "sub.json")
    wait_for_checkpoint(folder, proc)
    proc.kill()
    proc.wait()
    saved = torch.load(latest_checkpoint(folder) / "shared.pt", weights_only=True)
    assert saved["world"] == 2 and sorted(p.name for p in latest_checkpoint(folder).iterdir()) == [
        "rank0.pt", "rank1.pt", "shared.pt"]
    resumed = run(submit_args(d, "sub.json", "--fixed-work", "--joint-steps", str(saved["step"] + 4),
                              "--time-budget", "600", "--resume", "--workers", "1"))
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed from step {saved['step']}" in resumed.stderr and "over 1 process(es)" in resumed.stdout
    final = torch.load(latest_checkpoint(folder) / "shared.pt", weights_only=True)
    assert final["step"] == saved["step"] + 4 and final["world"] == 1 and final["finished"] is True
    sub = json.loads((d / "sub.json").read_text())
    assert set(sub) == set(json.loads((d / "c.json").read_text()))
