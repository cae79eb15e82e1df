"""Workers and deadlines under a hostile probe: a worker leaves only when no task is left for its lane, a
SIGSTOPped worker does not keep the run alive past its budget, a torn journal tail is dropped and named once,
one bad number or id in one task rejects that task only, the output folder removed mid-run, and a
fine-tuning step that cannot fit is not started."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from instant_solvers import Item, instant_solver, quitting_everywhere, quitting_solver

from trm_submit import devices
from trm_submit.budget import Budget
from trm_submit.io import outpath, records, submission, tasks
from trm_submit.run import pipeline, schedule

ROOT = Path(__file__).resolve().parents[1]
two_cores = pytest.mark.skipif(devices.usable("cpu")[0] < 2,
                               reason="one CPU core: --workers 2 is reduced to 1, no worker process runs")


# ---- a worker leaves only when no task is left for its lane -----------------------------------------------------

def test_two_workers_solve_every_one_of_500_instant_tasks_20_runs_in_a_row():
    items = [Item(f"t{i:03d}") for i in range(500)]
    expected = {t.task_id: schedule.task_seed(7, t.task_id) for t in items}
    lines: list[str] = []
    for run in range(20):
        lane = schedule.Lane("instant", items, instant_solver, workers=2)
        results = list(schedule.run_lanes([lane], Budget.seconds(120), 7, notify=lines.append))
        assert len(results) == 500, f"run {run}: {len(results)} of 500 tasks answered"
        assert {r["task_id"]: r["seed"] for r in results} == expected, f"run {run}"
    assert lines == []  # no worker died, none left early


def test_a_worker_that_exits_without_saying_done_is_named_and_the_other_answers_every_task():
    items = [Item(f"t{i:03d}") for i in range(200)]
    lines: list[str] = []
    lane = schedule.Lane("instant", items, quitting_solver, workers=2)
    results = list(schedule.run_lanes([lane], Budget.seconds(120), 7, notify=lines.append))
    assert sorted(r["task_id"] for r in results) == [t.task_id for t in items]
    assert {r["rank"] for r in results} == {1}
    assert lines == ["instant worker 0 left without saying done (exit code 0) while holding no task"]


def test_a_lane_whose_workers_all_leave_with_tasks_untaken_is_an_error_line():
    items = [Item(f"t{i:03d}") for i in range(50)]
    lines: list[str] = []
    lane = schedule.Lane("instant", items, quitting_everywhere, workers=2)
    run = Budget.seconds(120)
    results = list(schedule.run_lanes([lane], run, 7, notify=lines.append))
    assert results == [] and run.left() > 60  # the run did not wait for its deadline
    assert sorted(lines[:2]) == [f"instant worker {r} left without saying done (exit code 0) while holding no task"
                                 for r in (0, 1)]
    assert len(lines) == 3 and lines[2].startswith("error: every instant worker left with 50 of its tasks never "
                                                   "started and ")


# ---- a SIGSTOPped worker does not hold the run past its budget --------------------------------------------------

def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmd:
                kids.append(int(entry.name))
    return kids


def _training_tasks(n: int) -> dict:
    datasets = pytest.importorskip("trm_submit.io.datasets")
    try:
        ch, _ = datasets.load_split("arc-agi-1", "training")
    except datasets.DatasetError as exc:
        pytest.skip(f"public ARC data unavailable: {exc}")
    return {t: ch[t] for t in sorted(ch)[:n]}


@two_cores
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process parents from /proc")
def test_a_sigstopped_worker_does_not_keep_the_run_past_its_budget(tmp_path):
    ch = tmp_path / "challenges.json"
    ch.write_text(json.dumps(_training_tasks(60)))
    out = tmp_path / "submission.json"
    budget = 25
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "trm_submit", "submit", "--challenges", str(ch), "--out", str(out),
                             "--workers", "2", "--quiet", "--time-budget", str(budget), "--safety-margin", "5"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = pipeline.side_paths(out)["journal"]
    stopped: list[int] = []
    try:
        while not (journal.exists() and journal.read_text().count("\n") >= 1):
            assert time.monotonic() - t0 < budget and proc.poll() is None, "no task finished in time"
            time.sleep(0.05)
        stopped = _children(proc.pid)[:1]
        assert stopped, "no worker process found"
        os.kill(stopped[0], signal.SIGSTOP)
        _, err = proc.communicate(timeout=budget + 10 - (time.monotonic() - t0))
        wall = time.monotonic() - t0
    finally:
        for pid in stopped:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert wall < budget + 10
    assert not Path(f"/proc/{stopped[0]}").exists() or "Z" in Path(f"/proc/{stopped[0]}/stat").read_text().split()[2]
    assert "leaked semaphore" not in err
    assert submission.validate(submission.load_submission(out), tasks.load_challenges(ch)) == []


def run_lane_in_a_fresh_process(solver: str, items: str, seconds: float) -> subprocess.CompletedProcess:
    """`schedule.run_lanes` over one lane of 2 workers (`solver` from instant_solvers, `items` a Python list
    expression) with a budget of `seconds` and a grace of 0.5 s, in a fresh interpreter; it prints the count of
    answers and its wall seconds."""
    script = (f"import sys, time\nsys.path.insert(0, sys.argv[1])\nfrom instant_solvers import Item, {solver}\n"
              "from trm_submit.budget import Budget\nfrom trm_submit.run import schedule\n"
              f"lane = schedule.Lane('instant', {items}, {solver}, workers=2)\nt0 = time.monotonic()\n"
              f"n = len(list(schedule.run_lanes([lane], Budget.seconds({seconds}), 0, grace=0.5)))\n"
              "print(n, time.monotonic() - t0)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent)], env=env, capture_output=True,
                          text=True, timeout=120)


def test_a_worker_stopped_in_the_middle_of_an_answer_does_not_hold_the_run_past_its_budget():
    """Worker 0 is SIGSTOPped in the middle of sending its 64 MB answer: the parent must not wait for the rest.
    The other worker answers the 19 other tasks (0.25 s each) and the run ends at its deadline (8 s, grace
    0.5 s, then at most 4 s to end the workers)."""
    proc = run_lane_in_a_fresh_process("stopped_mid_answer", "[Item(f't{i:02d}') for i in range(20)]", 8)
    assert proc.returncode == 0, proc.stderr
    answered, wall = proc.stdout.split()
    assert int(answered) == 19 and float(wall) < 8 + 0.5 + 4 + 2, proc.stdout


# ---- a torn journal tail is dropped and named once ----------------------------------------------------------------

def mirror_tasks(n: int, seed: int = 0) -> dict:
    """`n` small tasks (3x3 grids, output = input mirrored left-right) the search solves at depth 1."""
    import random

    rng = random.Random(seed)

    def grid() -> list[list[int]]:
        return [[rng.randrange(10) for _ in range(3)] for _ in range(3)]

    return {f"m{i:02d}": {"train": [{"input": g, "output": [r[::-1] for r in g]} for g in (grid(), grid())],
                          "test": [{"input": grid()}]} for i in range(n)}


SEARCH = ["--sources", "search", "--search-depth", "1", "--quiet", "--time-budget", "300", "--safety-margin", "5"]


def test_a_torn_journal_tail_is_dropped_once_and_the_second_resume_takes_every_task(tmp_path, capsys):
    ch = tmp_path / "challenges.json"
    ch.write_text(json.dumps(mirror_tasks(4)))
    out = tmp_path / "submission.json"
    args = ["submit", "--challenges", str(ch), "--out", str(out), *SEARCH]
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    reference = out.read_bytes()
    journal = pipeline.side_paths(out)["journal"]
    raw = journal.read_bytes()
    last = raw.rstrip(b"\n").rsplit(b"\n", 1)[1]
    torn_id = json.loads(last)["task_id"]
    torn = last[:len(last) // 2]  # a crash in the middle of the last record
    journal.write_bytes(raw[:len(raw) - 1 - len(last)] + torn)
    code, stdout, err = run_cli(capsys, *args, "--resume")
    assert code == 0, err
    torn_lines = [line for line in err if "torn line" in line]
    assert torn_lines == [f"trm-submit: the journal {journal} ended in a torn line ({len(torn)} bytes, a "
                          f"crash mid-write); it is dropped and its task runs again"]
    summary = json.loads(pipeline.side_paths(out)["summary"].read_text())
    assert summary["tasks_resumed"] == 3 and summary["tasks_model"] == 1
    assert [r["task_id"] for r in records.Journal(journal).lines()][-1] == torn_id
    code, stdout, err = run_cli(capsys, *args, "--resume")  # the second resume: everything from the journal
    assert code == 0, err
    assert not [line for line in err if "torn" in line]
    summary = json.loads(pipeline.side_paths(out)["summary"].read_text())
    assert summary["tasks_resumed"] == 4 and summary["tasks_model"] == 0 and summary["not_reached"] == 0
    assert out.read_bytes() == reference
    assert len(records.Journal(journal).lines()) == 4 and journal.read_bytes().count(b"\n") == 4


def test_journal_append_after_a_torn_line_starts_a_fresh_line(tmp_path):
    journal = records.Journal(tmp_path / "j.jsonl")
    journal.path.write_bytes(b'{"task_id": "a"}\n{"task_id": "b", "sou')
    journal.append({"task_id": "c"})
    assert journal.path.read_bytes() == b'{"task_id": "a"}\n{"task_id": "b", "sou\n{"task_id":"c"}\n'
    assert [r["task_id"] for r in journal.lines()] == ["a", "c"]
    assert journal.drop_torn_tail() == 0  # the file ends with a newline: nothing torn at the end
    journal.path.write_bytes(b'{"task_id": "a"}\n{"task_id": "b"}')  # a whole record, only its newline lost
    assert journal.drop_torn_tail() == 0 and journal.path.read_bytes() == b'{"task_id": "a"}\n{"task_id": "b"}\n'
    journal.path.write_bytes(b'{"task_i')  # the only line is torn
    assert journal.drop_torn_tail() == 8 and journal.path.read_bytes() == b""


# ---- one number beyond a double, or a lone-surrogate id, rejects that task only ----------------------------------

def test_1e400_and_a_lone_surrogate_id_reject_their_task_only(tmp_path, capsys):
    good = mirror_tasks(4)
    ids = list(good)
    text = json.dumps({t: good[t] for t in ids[:2]})[:-1]
    row = good[ids[2]]["train"][0]["input"][0]
    huge = json.dumps(good[ids[2]]).replace(json.dumps(row), "[1e400, " + json.dumps(row[1:])[1:], 1)
    text += f', "{ids[2]}": {huge}, "\\ud800": {json.dumps(good[ids[3]])}}}'
    ch = tmp_path / "challenges.json"
    ch.write_text(text)
    assert json.loads(text)[ids[2]]["train"][0]["input"][0] == [float("inf")] + row[1:]  # the grid holds 1e400
    out = tmp_path / "submission.json"
    code, stdout, err = run_cli(capsys, "submit", "--challenges", str(ch), "--out", str(out), *SEARCH)
    assert code == 0, err
    assert err == [f"trm-submit: task {ids[2]} rejected: train[0].input: non-integer value Infinity (number) at row 0, "
                   f"column 0",
                   "trm-submit: task \\ud800 rejected: the task id is not valid Unicode (a lone surrogate); its "
                   "fallbacks are filed under the id \\ud800"]
    summary = json.loads(pipeline.side_paths(out)["summary"].read_text())
    assert summary["tasks_model"] == 2 and sorted(summary["rejected"]) == sorted([ids[2], "\\ud800"])
    sub = submission.load_submission(out)
    assert list(sub) == ids[:3] + ["\\ud800"]
    for t in ids[:2]:  # the good tasks are answered: the mirror of their test input comes first
        assert sub[t][0]["attempt_1"] == [r[::-1] for r in good[t]["test"][0]["input"]]
    assert submission.validate(sub, tasks.load_challenges(ch)) == []


# ---- the output folder removed mid-run ------------------------------------------------------------------------------

def test_output_folder_removed_mid_run_is_created_again_with_a_valid_file(tmp_path, capsys, monkeypatch):
    from trm_submit.run import intake

    ch = tmp_path / "challenges.json"
    ch.write_text(json.dumps(mirror_tasks(3)))
    out = tmp_path / "out" / "submission.json"
    real_take, taken = intake.RunState.take, []

    def take(state: intake.RunState, rec: dict) -> None:
        if len(taken) == 1:  # after the first task: someone removes the output folder
            shutil.rmtree(out.parent)
        taken.append(rec["task_id"])
        real_take(state, rec)

    monkeypatch.setattr(intake.RunState, "take", take)
    code, stdout, err = run_cli(capsys, "submit", "--challenges", str(ch), "--out", str(out), *SEARCH)
    assert code == 0, err
    assert err == [f"trm-submit: the folder {out.parent} was removed during the run; it is created again and "
                   f"submission.json rewritten (the files written beside it before are gone)"]
    assert "(valid)" in stdout.splitlines()[0]
    sub = submission.load_submission(out)
    assert submission.validate(sub, tasks.load_challenges(ch)) == []
    good = mirror_tasks(3)
    assert all(sub[t][0]["attempt_1"] == [r[::-1] for r in good[t]["test"][0]["input"]] for t in good)
    assert [r["task_id"] for r in records.Journal(pipeline.side_paths(out)["journal"]).lines()] == taken[1:]


def test_writer_that_cannot_create_the_folder_again_says_there_is_no_file(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    writer = outpath.SubmissionWriter(folder / "submission.json", submission.encode)
    assert writer.write({"a": []}) and writer.final_line() is None
    writer.answer("a")
    shutil.rmtree(folder)
    (tmp_path / "out").write_text("a file where the folder was")  # the folder cannot be created again
    assert not writer.write({"a": [], "b": []})
    assert writer.missing and writer.lacking == 2
    assert writer.final_line() == (f"there is no file at {folder / 'submission.json'} (Not a directory): the 1 tasks "
                                   f"answered in this run are in memory only (and in the journal where it could be "
                                   f"written); rerun with --resume")



# ---- a fine-tuning step that cannot fit is not started ---------------------------------------------------

STEP_SECONDS = 8.0  # one fine-tuning step on a slow device: more than the run has left after the first


def test_a_fine_tuning_step_that_cannot_fit_is_not_started(tmp_path, capsys, monkeypatch, tiny_weights):
    """A step costs 8 s (the real step, then a wait standing for a slow device); the run has 10 s (budget 15,
    margin 5). The first step is started (nothing is measured yet); after it no step fits the time left, in
    this task or the next, so the run ends inside its budget instead of 8 s past its deadline."""
    from trm_submit.learn import supervision

    real_step, steps = supervision.DeepSupervisor.step, []

    def slow_step(self: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = time.monotonic()
        metrics = real_step(self, *args, **kwargs)
        steps.append(1)
        time.sleep(max(0.0, STEP_SECONDS - (time.monotonic() - t0)))
        return metrics

    monkeypatch.setattr(supervision.DeepSupervisor, "step", slow_step)
    ch = tmp_path / "challenges.json"
    ch.write_text(json.dumps(mirror_tasks(3)))
    out = tmp_path / "submission.json"
    t0 = time.monotonic()
    code, stdout, err = run_cli(capsys, "submit", "--challenges", str(ch), "--weights", str(tiny_weights), "--out",
                                str(out), "--sources", "trm", "--device", "cpu", "--workers", "1", "--views", "4",
                                "--ttft-steps", "1000", "--fixed-work", "--quiet", "--time-budget", "15",
                                "--safety-margin", "5")
    wall = time.monotonic() - t0
    assert code == 0, err
    assert wall < 15, f"the run took {wall:.1f} s of its 15 s budget"
    assert len(steps) == 1
    recs = records.Journal(pipeline.side_paths(out)["journal"]).lines()
    trm = [r["sources"]["trm"] for r in recs]
    assert trm[0]["ttft_steps"] == 1 and trm[0]["ttft_stopped_by"] == "deadline"
    assert all(t["ttft_steps"] == 0 and t["ttft_stopped_by"] == "deadline" for t in trm[1:])
    assert submission.validate(submission.load_submission(out), tasks.load_challenges(ch)) == []


def test_workers_terminated_at_the_deadline_leave_no_leaked_semaphore_warning(tmp_path):
    """A worker terminated mid-task after drawing a progress bar (tqdm's default lock is a named semaphore in a
    spawned process): the run's exit shows no resource_tracker warning."""
    proc = run_lane_in_a_fresh_process("bar_then_sleep", "[Item('a'), Item('b')]", 3)
    assert proc.returncode == 0 and proc.stdout.split()[0] == "0", proc.stderr
    assert "leaked semaphore" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
