"""Worker processes under kill -9 (issue case 7): they die with their parent, and a worker's death is named
with its task, which is retried once; the run still ends in time with every task answered or named."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import small_eval_tasks
from instant_solvers import Item, pid_solver

from trm_submit import devices
from trm_submit.budget import Budget
from trm_submit.io import submission, tasks
from trm_submit.run import lifeline, pipeline, schedule

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process parents from /proc"),
              pytest.mark.skipif(devices.usable("cpu")[0] < 2,
                                 reason="one CPU core: --workers 2 is reduced to 1, no worker process runs")]


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def start_run(ch: Path, weights: Path, out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "trm_submit", "submit", "--challenges", str(ch), "--weights",
                             str(weights), "--out", str(out), "--device", "cpu", "--workers", "2", "--views", "4",
                             "--ttft-steps", "12", "--fixed-work", "--quiet", "--time-budget", "300",
                             "--safety-margin", "5"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float, what: str) -> None:
    t0 = time.time()
    while not condition():
        if time.time() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def workers_of(proc: subprocess.Popen) -> list[int]:
    return [k for k in children(proc.pid) if "spawn_main" in cmdline(k)]


def test_workers_die_within_seconds_of_their_parent_killed_with_kill_9(tmp_path, tiny_weights):
    # 8 tasks for 2 workers: after the first result both still have work (with 3, one could finish and exit first)
    ch = tmp_path / "challenges.json"
    ch.write_text(json.dumps(small_eval_tasks(8)[0]))
    out = tmp_path / "submission.json"
    journal = pipeline.side_paths(out)["journal"]
    proc = start_run(ch, tiny_weights, out)
    kids: list[int] = []
    try:
        # a finished task means a worker is past its start-up (the lifeline is armed in every worker first)
        wait_for(lambda: journal.exists() and journal.read_text().count("\n") >= 1, 120, "a finished task")
        kids = children(proc.pid)
        assert len([k for k in kids if "spawn_main" in cmdline(k)]) == 2
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        wait_for(lambda: not any(alive(k) for k in kids), 10, "the workers to die with their parent")
    finally:
        for k in set(kids + children(proc.pid)):
            if alive(k):
                os.kill(k, signal.SIGKILL)
        proc.kill()
        proc.communicate()
    # the file on disk is still complete and valid (a --resume would finish it)
    assert submission.validate(submission.load_submission(out), tasks.load_challenges(ch)) == []


def test_killed_worker_is_named_and_its_task_retried(tmp_path, small_task_files, tiny_weights):
    ch = small_task_files[0]
    out = tmp_path / "submission.json"
    journal = pipeline.side_paths(out)["journal"]
    proc = start_run(ch, tiny_weights, out)
    try:
        wait_for(lambda: journal.exists() and journal.read_text().count("\n") >= 1, 120, "a finished task")
        victim = workers_of(proc)[0]
        os.kill(victim, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    deaths = [line for line in stderr.splitlines() if "died (killed by SIGKILL)" in line]
    assert len(deaths) == 1 and deaths[0].startswith("trm-submit: search+trm worker "), stderr
    summary = json.loads(pipeline.side_paths(out)["summary"].read_text())
    assert summary["incidents"] == [deaths[0].removeprefix("trm-submit: ")]
    ids = set(tasks.load_challenges(ch).order)
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    assert sorted(r["task_id"] for r in records) == sorted(ids)  # every task answered once, none twice
    if "while solving task" in deaths[0]:
        task_id = deaths[0].split("while solving task ")[1].split(";")[0]
        assert task_id in ids and deaths[0].endswith("retrying it once")
        assert [r["status"] for r in records if r["task_id"] == task_id] == ["model"]  # the retry answered it
    else:  # the kill landed between two tasks of that worker
        assert deaths[0].endswith("while holding no task")
    assert summary["not_reached"] == 0
    assert summary["tasks_model"] == len(ids) and summary["not_reached"] == 0


def test_a_worker_killed_just_after_answering_loses_no_task_and_holds_no_one_up():
    """The worker that just sent a result is killed 0-2 ms after the parent got it: while it takes its next task.
    No lock or task it held may be lost with it: in each of 20 runs every task is answered once and the run ends
    long before its deadline (a task lost in the taking, or a queue lock held by the dead, kept the other worker
    waiting for a task until the deadline)."""
    items = [Item(f"t{i:03d}", bytes(300_000)) for i in range(200)]
    for run_no in range(20):
        rng = random.Random(run_no)
        kill_at, pause = rng.randint(20, 150), rng.uniform(0, 0.002)
        lines: list[str] = []
        answered = []
        run = Budget.seconds(60)
        for res in schedule.run_lanes([schedule.Lane("instant", items, pid_solver, workers=2)], run, 7,
                                      notify=lines.append):
            answered.append(res["task_id"])
            if len(answered) == kill_at:
                time.sleep(pause)
                os.kill(res["pid"], signal.SIGKILL)
        assert sorted(answered) == [t.task_id for t in items], f"run {run_no}: {len(set(answered))} answered, {lines}"
        assert run.left() > 40, f"run {run_no} waited {60 - run.left():.0f} s: {lines}"
        assert len(lines) == 1 and "died (killed by SIGKILL) while" in lines[0], lines


def test_lifeline_ends_a_process_whose_parent_is_gone(tmp_path):
    """A grandchild tied to its parent with die_with_parent outlives neither a kill -9 of the parent."""
    pid_file = tmp_path / "grandchild.pid"
    grandchild_py = tmp_path / "grandchild.py"
    grandchild_py.write_text(f"import os, sys, time\nsys.path.insert(0, {str(ROOT)!r})\n"
                             f"from trm_submit.run import lifeline\nlifeline.die_with_parent()\n"
                             f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)\n")
    script = (f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, {str(grandchild_py)!r}])\n"
              f"time.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        wait_for(lambda: pid_file.exists() and pid_file.read_text(), 60, "the grandchild to start")
        grandchild = int(pid_file.read_text())
        assert alive(grandchild)
        parent.kill()
        parent.wait(timeout=10)
        wait_for(lambda: not alive(grandchild), lifeline.WATCH_SECONDS + 5, "the grandchild to die")
    finally:
        parent.kill()
        parent.wait()
