"""End-to-end `submit` runs with both candidate sources (program search at depth 1, a tiny random TRM) on real ARC
tasks: validity, determinism across workers and task order, resume after kill -9, the deadline, SIGTERM, and
per-task faults."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from trm_submit.budget import Budget
from trm_submit.config import InferConfig, RunConfig
from trm_submit.io import records, submission, tasks
from trm_submit.io.records import RunSummary
from trm_submit.run import pipeline, solve, sources

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("search", "trm")
FIXED = ["--views", "8", "--ttft-steps", "3", "--fixed-work", "--quiet", "--search-depth", "1",
         "--sources", ",".join(SOURCES)]


def _cfg(ch: Path, out: Path, weights: Path, **kw) -> RunConfig:
    base = dict(challenges=str(ch), out=str(out), weights=str(weights), time_budget=600, ttft_steps=3,
                fixed_work=True, quiet=True, infer=InferConfig(views=8), search_depth=1, sources=SOURCES)
    base.update(kw)
    return RunConfig(**base)


def _cli(*args: str, **popen) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "trm_submit", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def _wait(proc: subprocess.Popen, timeout: float) -> tuple[str, str]:
    """communicate(), killing the process if it overruns so no run outlives its test."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise


def _journal(out: Path) -> dict:
    """Each task's combined journal view (every source's record, the merged attempts)."""
    return records.Journal(pipeline.side_paths(out)["journal"]).read()


def _with_candidates(journal: dict) -> set[str]:
    return {t for t, v in journal.items() if any(any(s.get("candidates") or []) for s in v["sources"].values())}


@pytest.fixture(scope="module")
def reference_run(tiny_weights, tmp_path_factory):
    """One uninterrupted in-process run that other tests compare against."""
    from conftest import small_eval_tasks

    d = tmp_path_factory.mktemp("ref")
    ch, sol = small_eval_tasks(3)
    (d / "ch.json").write_text(json.dumps(ch))
    (d / "sol.json").write_text(json.dumps(sol))
    out = d / "submission.json"
    summary = pipeline.run(_cfg(d / "ch.json", out, tiny_weights, solutions=str(d / "sol.json")))
    return d, out, summary


def test_run_writes_valid_complete_file_journal_and_score(reference_run):
    d, out, summary = reference_run
    ch = tasks.load_challenges(d / "ch.json")
    sub = submission.load_submission(out)
    assert submission.validate(sub, ch) == []
    journal = _journal(out)
    assert summary.valid and summary.model_ran and summary.tasks_model == len(_with_candidates(journal))
    assert summary.score is not None and summary.score["n_tasks"] == 3
    truth = tasks.load_solutions(d / "sol.json")
    assert {k: v for k, v in summary.score.items() if k != "input_copies"} == \
        submission.score_record(submission.score(sub, truth))
    assert summary.score["input_copies"] == submission.score_record(submission.score(submission.skeleton(ch), truth))
    assert set(journal) == set(ch.order)
    for tid, rec in journal.items():
        assert rec["status"] == "model" and set(rec["sources"]) == set(SOURCES)
        trm = rec["sources"]["trm"]
        assert trm["ttft_steps"] == 3 and trm["views"] == [8] * ch.tasks[tid].n_test
        if tid in _with_candidates(journal):  # the file holds exactly the journal's merged attempts
            assert [[e["attempt_1"], e["attempt_2"]] for e in sub[tid]] == rec["attempts"]
            assert rec["attempts"][0][0] != rec["attempts"][0][1]
    cfg = json.loads(pipeline.side_paths(out)["config"].read_text())
    assert cfg["ttft_steps"] == 3 and cfg["infer"]["views"] == 8


def test_two_workers_and_reversed_task_order_give_the_same_file(reference_run, tiny_weights, tmp_path):
    d, out, _ = reference_run
    ch = json.loads((d / "ch.json").read_text())
    rev = tmp_path / "reversed.json"
    rev.write_text(json.dumps(dict(reversed(list(ch.items())))))
    out2 = tmp_path / "w2.json"
    pipeline.run(_cfg(rev, out2, tiny_weights, workers=2))
    a, b = submission.load_submission(out), submission.load_submission(out2)
    assert list(b) == list(reversed(list(a)))  # the file follows the input's order...
    assert {k: a[k] for k in b} == b  # ...and every task's attempts are the same


def test_resume_after_kill9_ends_with_the_same_file(reference_run, tiny_weights, tmp_path):
    d, ref_out, _ = reference_run
    out = tmp_path / "submission.json"
    journal = pipeline.side_paths(out)["journal"]
    args = ["submit", "--challenges", str(d / "ch.json"), "--weights", str(tiny_weights), "--out", str(out), *FIXED]
    proc = _cli(*args)
    t0 = time.time()
    while time.time() - t0 < 120 and not (journal.exists() and journal.read_text().count("\n") >= 1):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    _wait(proc, 60)
    n_before = journal.read_text().count("\n")
    assert n_before >= 1, "the run never finished a task"
    assert submission.validate(submission.load_submission(out), tasks.load_challenges(d / "ch.json")) == []
    proc = _cli(*args, "--resume")
    _, err = _wait(proc, 300)
    assert proc.returncode == 0, err
    assert out.read_bytes() == ref_out.read_bytes()
    summary = json.loads(pipeline.side_paths(out)["summary"].read_text())
    assert summary["tasks_resumed"] <= min(n_before, 3)
    assert summary["not_reached"] == 0 and not summary["errors"]


def test_deadline_is_held_when_a_task_would_overrun(small_task_files, tiny_weights, tmp_path):
    ch, _ = small_task_files
    out = tmp_path / "s.json"
    t0 = time.time()
    proc = _cli("submit", "--challenges", str(ch), "--weights", str(tiny_weights), "--out", str(out),
                "--time-budget", "12", "--safety-margin", "2", "--ttft-steps", "1000000", "--views", "8",
                "--fixed-work", "--quiet", "--search-depth", "1")
    _, err = _wait(proc, 120)
    wall = time.time() - t0
    assert proc.returncode == 0, err
    assert wall < 12 + 30
    sub = submission.load_submission(out)
    assert submission.validate(sub, tasks.load_challenges(ch)) == []
    recs = list(_journal(out).values())
    assert recs and recs[0]["sources"]["trm"]["ttft_stopped_by"] != "done" and recs[0]["cut"] is True


def test_sigterm_writes_the_file_and_exits_cleanly(small_task_files, tiny_weights, tmp_path):
    ch, _ = small_task_files
    out = tmp_path / "s.json"
    proc = _cli("submit", "--challenges", str(ch), "--weights", str(tiny_weights), "--out", str(out),
                "--ttft-steps", "1000000", "--views", "8", "--fixed-work", "--quiet", "--search-depth", "1")
    t0 = time.time()
    while not out.exists() and time.time() - t0 < 60:
        time.sleep(0.05)
    time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    stdout, err = _wait(proc, 60)
    assert proc.returncode == 0, err
    assert "interrupted by signal" in stdout
    summary = json.loads(pipeline.side_paths(out)["summary"].read_text())
    assert summary["interrupted"] == f"signal {int(signal.SIGTERM)}"
    assert submission.validate(submission.load_submission(out), tasks.load_challenges(ch)) == []


def test_a_task_that_raises_keeps_fallbacks_and_the_run_goes_on(small_task_files, tiny_weights, tmp_path,
                                                                 monkeypatch):
    ch_path, _ = small_task_files
    ch = tasks.load_challenges(ch_path)
    bad = ch.order[1]
    real_adapt = solve.finetune.adapt

    def adapt(base, task, *a, **kw):
        if task.task_id == bad:
            raise RuntimeError("boom")
        return real_adapt(base, task, *a, **kw)

    monkeypatch.setattr(solve.finetune, "adapt", adapt)
    out = tmp_path / "s.json"
    summary = pipeline.run(_cfg(ch_path, out, tiny_weights))
    journal = _journal(out)
    assert summary.valid and summary.not_reached == 0 and set(journal) == set(ch.order)
    assert "trm: RuntimeError: boom" in summary.errors[bad] and len(summary.errors) == 1
    assert journal[bad]["sources"]["trm"] == {"status": "error", "reason": "RuntimeError: boom"}
    sub = submission.load_submission(out)
    x = ch.tasks[bad].test_inputs[0]
    if bad not in _with_candidates(journal):  # no other source answered: the fallbacks stand
        assert [sub[bad][0]["attempt_1"], sub[bad][0]["attempt_2"]] == list(submission.fallback_attempts(x))


def test_out_of_memory_halves_the_batch_and_retries(monkeypatch):
    seen = []

    def predict(model, tokens, ids, *, batch_size=None, **kw):
        seen.append(batch_size)
        if batch_size is None or batch_size > 2:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return solve.infer.Prediction(np.zeros_like(tokens), np.zeros(len(tokens), np.float32),
                                      np.zeros(len(tokens), np.int32))

    monkeypatch.setattr(solve.infer, "predict", predict)
    cfg = RunConfig(challenges="-")
    tokens = np.zeros((8, 16), np.uint8)
    pred, batch = solve.infer.predict_with_retry(None, tokens, np.zeros(8, np.int32), cfg, torch.device("cpu"), None)
    assert seen == [None, 4, 2] and batch == 2 and pred.tokens.shape == (8, 16)


def test_out_of_memory_at_batch_one_is_raised(monkeypatch):
    def predict(*a, **kw):
        raise torch.OutOfMemoryError("out of memory (simulated)")

    monkeypatch.setattr(solve.infer, "predict", predict)
    with pytest.raises(torch.OutOfMemoryError):
        solve.infer.predict_with_retry(None, np.zeros((1, 4), np.uint8), np.zeros(1, np.int32),
                                 RunConfig(challenges="-"), torch.device("cpu"), None)


def test_no_weights_runs_the_search_alone(small_task_files, tmp_path):
    ch, sol = small_task_files
    out = tmp_path / "s.json"
    proc = _cli("submit", "--challenges", str(ch), "--solutions", str(sol), "--out", str(out), "--quiet",
                "--search-depth", "1", "--time-budget", "60")
    stdout, err = _wait(proc, 120)
    assert proc.returncode == 0, err
    assert "sources: search;" in stdout and "Traceback" not in err
    summary = json.loads(pipeline.side_paths(out)["summary"].read_text())
    assert summary["sources_run"] == ["search"] and summary["not_reached"] == 0
    c = tasks.load_challenges(ch)
    sub = submission.load_submission(out)
    journal = _journal(out)
    for tid in c.order:
        rec = journal[tid]
        assert set(rec["sources"]) == {"search"} and "trm" not in rec["lanes"][0]
        search = rec["sources"]["search"]["candidates"][0]
        pair = [sub[tid][0]["attempt_1"], sub[tid][0]["attempt_2"]]
        if search:  # the program's answer first, then the search's second or the input
            assert pair[0] == search[0]["grid"]
        else:
            assert pair == list(submission.fallback_attempts(c.tasks[tid].test_inputs[0]))


def test_trm_source_without_weights_is_one_line_exit_2(small_task_files, tmp_path):
    ch, _ = small_task_files
    proc = _cli("submit", "--challenges", str(ch), "--out", str(tmp_path / "s.json"), "--sources", "trm")
    _, err = _wait(proc, 60)
    assert proc.returncode == 2 and err.strip() == "trm-submit: error: --sources trm needs --weights"
    assert not (tmp_path / "s.json").exists()


def test_search_lane_beside_trm_workers_gives_the_same_file(reference_run, tiny_weights, tmp_path):
    """--search-workers 1: the search in a lane of its own, concurrently with a TRM worker, same attempts."""
    d, out, _ = reference_run
    out2 = tmp_path / "lanes.json"
    summary = pipeline.run(_cfg(d / "ch.json", out2, tiny_weights, search_workers=1))
    assert summary.valid and summary.not_reached == 0
    assert out2.read_bytes() == out.read_bytes()
    assert {tuple(v["lanes"]) for v in _journal(out2).values()} == {("search", "trm")}


@pytest.mark.parametrize("content", [b"", b"not json", b"[1, 2]"])
def test_broken_challenges_file_exits_2_with_one_line(tmp_path, content):
    bad = tmp_path / "c.json"
    bad.write_bytes(content)
    proc = _cli("submit", "--challenges", str(bad), "--out", str(tmp_path / "s.json"))
    _, err = _wait(proc, 120)
    assert proc.returncode == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and str(bad) in err


def test_a_copy_of_the_test_input_goes_last_through_the_real_decode(monkeypatch):
    """10 views, each predicting in its own augmented frame: 5 say the input x, 3 say y1, 2 say y2. The copy
    wins the vote but the attempts are y1, y2; with --keep-input-first they are x, y1."""
    from trm_submit.grids import augment, encoding
    from trm_submit.trm import infer

    x = np.array([[1, 2, 0], [0, 3, 3]], np.uint8)
    y1, y2 = np.array([[3, 3], [2, 1]], np.uint8), np.array([[4]], np.uint8)
    augs = [augment.IDENTITY] + [augment.Aug(d % 8, tuple(np.roll(np.arange(10), d))) for d in range(1, 10)]
    says = [x] * 5 + [y1] * 3 + [y2] * 2
    side = 5

    def fake_predict(model, tokens, ids, cfg, device, batch):
        rows = np.stack([encoding.encode_grid(augs[i].apply(says[i]), side) for i in ids.tolist()])
        n = len(rows)
        return infer.Prediction(rows.astype(np.uint8), np.full(n, 0.5, np.float32), np.ones(n, np.int32)), batch

    monkeypatch.setattr(solve.infer, "predict_with_retry", fake_predict)
    limits = Budget.seconds(60)
    cfg = _cfg(Path("c.json"), Path("s.json"), Path("w.pt"))
    got = solve.infer_test_input(None, x, augs, side, cfg, torch.device("cpu"), limits)
    assert [c["count"] for c in got["candidates"]] == [5, 3, 2] and got["candidates"][0]["grid"] == x.tolist()
    trm = {"trm": {"status": "ok", "candidates": [got["candidates"]]}}
    assert sources.task_attempts((x,), trm, cfg)[0] == [[y1.tolist(), y2.tolist()]]
    keep = dataclasses.replace(cfg, infer=dataclasses.replace(cfg.infer, input_copy_last=False))
    assert sources.task_attempts((x,), trm, keep)[0] == [[x.tolist(), y1.tolist()]]


def test_fine_tuning_learning_rates_reach_the_solver_from_the_cli(monkeypatch, tiny_weights):
    from trm_submit import cli
    from trm_submit.trm import checkpoint

    seen: list[RunConfig] = []
    monkeypatch.setattr(pipeline, "main", lambda cfg: seen.append(cfg) or 0)
    assert cli.main(["submit", "--challenges", "c.json", "--ttft-lr", "3e-3", "--ttft-emb-lr", "0.05"]) == 0
    solver = solve.TaskSolver(seen[0], torch.device("cpu"), Budget.seconds(60),
                              bundle=checkpoint.load_bundled(tiny_weights))
    assert (solver.ttft.lr, solver.ttft.emb_lr) == (3e-3, 0.05)
    assert cli.main(["submit", "--challenges", "c.json"]) == 0
    assert (seen[1].ttft_lr, seen[1].ttft_emb_lr) == (solve.TTFTConfig.lr, solve.TTFTConfig.emb_lr)


def test_a_run_cut_with_many_tasks_still_queued_exits(tiny_weights, tmp_path):
    """Two workers, 120 large tasks, a deadline that leaves most of them in the queue: the run writes its file
    and the process exits (the tasks still queued are abandoned, not flushed into a pipe nobody reads)."""
    datasets = pytest.importorskip("trm_submit.io.datasets")
    ch, _ = datasets.load_split("arc-agi-2", "evaluation")
    path = tmp_path / "ch.json"
    path.write_text(json.dumps(ch))
    out = tmp_path / "s.json"
    proc = _cli("submit", "--challenges", str(path), "--weights", str(tiny_weights), "--out", str(out),
                "--time-budget", "15", "--safety-margin", "5", "--workers", "2", "--quiet", "--search-depth", "1",
                "--fixed-work")  # every task works until the run's deadline: steps that do not fit are not started
    _, err = _wait(proc, 150)  # a process that never exits fails here
    assert proc.returncode == 0, err
    summary = json.loads(pipeline.side_paths(out)["summary"].read_text())
    assert summary["valid"] and summary["not_reached"] > 0  # the deadline did leave tasks queued


def test_summary_lists_at_most_ten_tasks_without_views():
    s = RunSummary(no_views=[f"t{i:02d}" for i in range(15)], valid=True)
    line = [x for x in pipeline.format_summary(s, "sub.json").splitlines() if "before any view" in x][0]
    assert line.startswith("15 tasks where TRM ran out of time before any view: t00, t01")
    assert "t09, ... (5 more in the summary file)" in line and "t10" not in line
