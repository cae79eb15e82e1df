"""Hostile input to `trm-submit submit`: output paths, flag values, unwritable folders and a disk that fills
up mid-run. Each case: reproduce, then check the exit code, the one line, the file on disk, the input
untouched. (JSON depth, weights, workers, resume and the smaller cases: test_hardening_more.py.)"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import one_error_line, run_cli

from trm_submit import devices
from trm_submit.io import outpath, submission, tasks
from trm_submit.run import flags, pipeline

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--views", "2", "--ttft-steps", "1", "--fixed-work", "--quiet", "--time-budget", "300",
        "--safety-margin", "5"]


def submit(capsys, *args: str) -> tuple[int, str, list[str]]:
    """Run `trm-submit submit ARGS` in this process: (exit code, stdout, stderr lines)."""
    return run_cli(capsys, "submit", *args)


def mount_tmpfs(folder: Path, options: str) -> None:
    """Mount a tmpfs on `folder` (root only); skip the test with the reason when that is not possible."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")


@pytest.fixture
def one_task_file(tmp_path, small_task_files) -> Path:
    ch = json.loads(small_task_files[0].read_text())
    first = next(iter(ch))
    path = tmp_path / "one.json"
    path.write_text(json.dumps({first: ch[first]}))
    return path


# ---- 1. --out: symlinks, device files, folders, inputs ------------------------------------------------------

def test_out_symlink_writes_through_to_its_target_and_stays_a_link(tmp_path, one_task_file, tiny_weights, capsys):
    real = tmp_path / "real"
    real.mkdir()
    target = real / "target.json"
    target.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    code, _, err = submit(capsys, "--challenges", str(one_task_file), "--weights", str(tiny_weights),
                          "--out", str(link), *FAST)
    assert code == 0, err
    assert link.is_symlink() and Path(os.readlink(link)) == target
    sub = submission.load_submission(target)
    assert submission.validate(sub, tasks.load_challenges(one_task_file)) == []
    journal = json.loads((real / "target.journal.jsonl").read_text().splitlines()[0])
    assert [[e["attempt_1"], e["attempt_2"]] for e in sub[journal["task_id"]]] == journal["attempts"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("link.")][1:]  # nothing written beside the link


def _refused_out(case: str, tmp_path: Path, ch: Path) -> tuple[str, tuple[str, ...]]:
    """(--out value, words of the expected line) for each refused output path."""
    if case == "device":
        if not Path("/dev/full").is_char_device():
            pytest.skip("no /dev/full on this system")
        return "/dev/full", ("is a character device", "not a regular file")
    if case == "folder":
        (tmp_path / "dir").mkdir()
        return str(tmp_path / "dir"), ("is a folder", "submission.json")
    if case == "trailing-slash":
        return str(tmp_path / "newdir") + "/", ("names a folder",)
    if case == "the-input":
        return str(ch), ("same file as --challenges", "refusing to overwrite an input")
    if case == "symlink-to-input":
        (tmp_path / "alias.json").symlink_to(ch)
        return str(tmp_path / "alias.json"), ("same file as --challenges",)
    if case == "hard-link-to-input":
        os.link(ch, tmp_path / "hard.json")
        return str(tmp_path / "hard.json"), ("same file as --challenges",)
    if case == "journal-is-the-input":  # --out x.json writes x.journal.jsonl beside it
        return str(ch.with_name("c.json")), ("c.journal.jsonl", "same file as --challenges")
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["device", "folder", "trailing-slash", "the-input", "symlink-to-input",
                                  "hard-link-to-input", "journal-is-the-input"])
def test_out_that_is_not_a_new_or_regular_file_is_refused_before_any_work(case, tmp_path, small_task_files,
                                                                          tiny_weights, capsys):
    ch = tmp_path / ("c.journal.jsonl" if case == "journal-is-the-input" else "c.json")
    ch.write_bytes(small_task_files[0].read_bytes())
    before = ch.read_bytes()
    out, words = _refused_out(case, tmp_path, ch)
    listing = sorted(p.name for p in tmp_path.iterdir())
    code, stdout, err = submit(capsys, "--challenges", str(ch), "--weights", str(tiny_weights), "--out", out, *FAST)
    assert code == 2 and stdout == ""
    one_error_line(err, *words)
    assert ch.read_bytes() == before  # the input untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # nothing written anywhere
    if case == "device":
        assert Path("/dev/full").is_char_device()


def test_new_submission_file_gets_the_mode_of_the_files_beside_it(tmp_path, one_task_file, capsys):
    out = tmp_path / "o" / "submission.json"
    code, _, err = submit(capsys, "--challenges", str(one_task_file), "--out", str(out), "--quiet")
    assert code == 0, err
    expected = outpath.default_file_mode()  # what open() gives a new file here (0o644 under umask 022)
    for path in (out, pipeline.side_paths(out)["config"], pipeline.side_paths(out)["summary"]):
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    old = os.umask(0o022)
    try:
        assert outpath.default_file_mode() == 0o644
    finally:
        os.umask(old)


# ---- 2 and 4. flag values checked before any work --------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["--time-budget", "inf"], ("--time-budget inf", "finite", "2592000")),
    (["--time-budget", "nan"], ("--time-budget nan", "finite")),
    (["--time-budget", "0"], ("--time-budget 0", "more than 0")),
    (["--time-budget", "-5"], ("--time-budget -5", "more than 0")),
    (["--time-budget", "20"], ("--time-budget 20", "must exceed --safety-margin (20 s")),
    (["--time-budget", "30", "--safety-margin", "30"], ("must exceed --safety-margin (30 s",)),
    (["--safety-margin", "-1"], ("--safety-margin -1", "at least 0")),
    (["--views", "0"], ("--views 0", "at least 1", "16384")),
    (["--workers", "0"], ("--workers 0", "at least 1")),
    (["--workers", "-3"], ("--workers -3", "at least 1")),
    (["--ttft-share", "1.5"], ("--ttft-share 1.5", "at most 1")),
    (["--ttft-lr", "nan"], ("--ttft-lr nan", "finite")),
    (["--ttft-batch", "0"], ("--ttft-batch 0", "at least 1")),
    (["--memory-mb", "0"], ("--memory-mb 0", "at least 1")),
    (["--canvas-margin", "40"], ("--canvas-margin 40", "at most 29")),
    (["--early-stop", "0"], ("--early-stop 0", "at least 1")),
])
def test_bad_flag_value_is_one_line_exit_2_and_nothing_written(args, words, tmp_path, small_task_files,
                                                                tiny_weights, capsys):
    ch = small_task_files[0]
    before = ch.read_bytes()
    out = tmp_path / "o" / "submission.json"
    code, stdout, err = submit(capsys, "--challenges", str(ch), "--weights", str(tiny_weights), "--out", str(out),
                               "--quiet", *args)
    assert code == 2 and stdout == ""
    one_error_line(err, *words)
    assert not (tmp_path / "o").exists() and ch.read_bytes() == before


def test_budget_below_the_margin_is_fine_without_weights(tmp_path, one_task_file, capsys):
    """No model runs without weights, so the margin rule does not apply; the fallbacks are written."""
    out = tmp_path / "submission.json"
    code, _, err = submit(capsys, "--challenges", str(one_task_file), "--out", str(out), "--time-budget", "5")
    assert code == 0, err
    assert submission.validate(submission.load_submission(out), tasks.load_challenges(one_task_file)) == []


def test_workers_beyond_the_tasks_are_reduced_with_a_line(tmp_path, one_task_file, tiny_weights, capsys):
    out = tmp_path / "submission.json"
    code, _, err = submit(capsys, "--challenges", str(one_task_file), "--weights", str(tiny_weights),
                          "--out", str(out), "--workers", "1000", *FAST)
    assert code == 0, err
    assert err == ["trm-submit: --workers 1000 reduced to 1 (1 task to run)"]
    assert json.loads(pipeline.side_paths(out)["summary"].read_text())["tasks_model"] == 1


def test_cap_workers_hand_values(monkeypatch):
    monkeypatch.setattr(devices, "usable", lambda device: (4, "CPU cores"))
    assert flags.cap_workers(2, 10, "cpu") == (2, None)
    assert flags.cap_workers(16, 10, "cpu") == (4, "trm-submit: --workers 16 reduced to 4 (4 CPU cores)")
    assert flags.cap_workers(16, 3, "cpu") == (3, "trm-submit: --workers 16 reduced to 3 (3 tasks to run)")
    assert flags.cap_workers(5, 0, "cpu") == (1, "trm-submit: --workers 5 reduced to 1 (0 tasks to run)")


# ---- 3. unwritable folders and a disk that fills up mid-run ----------------------------------------------------

@pytest.fixture
def read_only_dir(tmp_path):
    """A folder no file can be created in: a read-only tmpfs as root, else a 0o555 folder."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        mount_tmpfs(folder, "ro,size=64k")
        yield folder, "Read-only file system"
        subprocess.run(["umount", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        yield folder, "Permission denied"
        folder.chmod(0o755)


def test_read_only_folder_is_one_line_before_the_run(read_only_dir, small_task_files, tiny_weights, capsys):
    folder, why = read_only_dir
    code, stdout, err = submit(capsys, "--challenges", str(small_task_files[0]), "--weights", str(tiny_weights),
                               "--out", str(folder / "submission.json"), *FAST)
    assert code == 2 and stdout == ""
    one_error_line(err, f"cannot write in folder {folder}", why)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs (root only) and a function that fills it up."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mount_tmpfs(disk, "size=1m")

    def fill() -> None:
        with open(disk / "filler", "ab", buffering=0) as f:
            try:
                while f.write(b"\0" * 4096):
                    pass
            except OSError:
                pass

    yield disk, fill
    subprocess.run(["umount", str(disk)], check=True)


def test_writer_keeps_the_last_file_and_retries_after_each_task(small_disk, capsys):
    disk, fill = small_disk
    path = disk / "submission.json"
    sub = {"a": [{"attempt_1": [[0]], "attempt_2": [[1]]}], "b": [{"attempt_1": [[0]], "attempt_2": [[1]]}]}
    writer = outpath.SubmissionWriter(path, submission.encode)
    assert writer.write(sub)
    first = path.read_bytes()
    fill()
    sub["a"][0]["attempt_1"] = [[5] * 30] * 30  # an answer that makes the file larger than the space left
    writer.answer("a")
    assert not writer.write(sub)
    assert path.read_bytes() == first and writer.lacking == 1  # the last valid file stays
    assert sorted(p.name for p in disk.iterdir()) == ["filler", "submission.json"]  # no temp file left
    writer.answer("b")
    assert not writer.write(sub) and writer.lacking == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0] and "retried after each task" in err[0]
    assert "lacks 2 of the 2 tasks" in writer.final_line()
    (disk / "filler").unlink()
    assert writer.write(sub) and writer.lacking == 0 and writer.final_line() is None
    assert json.loads(path.read_bytes()) == sub


def test_disk_full_mid_run_answers_every_task_and_exits_3_with_one_line(small_disk, small_task_files, tiny_weights):
    """The disk fills up once the skeleton is written: the run still answers all 3 tasks, keeps the skeleton
    (a valid file) on disk, and ends with exit code 3 and one line saying the file lacks 3 tasks."""
    disk, fill = small_disk
    ch = small_task_files[0]
    out = disk / "submission.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "trm_submit", "submit", "--challenges", str(ch), "--weights",
                             str(tiny_weights), "--out", str(out), "--views", "4", "--ttft-steps", "2",
                             "--fixed-work", "--quiet", "--time-budget", "300", "--safety-margin", "5",
                             "--sources", "trm"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    config = pipeline.side_paths(out)["config"]
    t0 = time.time()
    while not config.exists() and proc.poll() is None and time.time() - t0 < 120:
        time.sleep(0.01)
    fill()
    stdout, stderr = proc.communicate(timeout=240)
    assert proc.returncode == outpath.EXIT_WRITE, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("trm-submit: error: ")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    assert errors[0].startswith(f"trm-submit: error: {out} lacks 3 of the 3 tasks answered in this run "
                                f"(No space left on device)"), errors
    assert "3 answered by a candidate source this run" in stdout
    challenges = tasks.load_challenges(ch)
    on_disk = submission.load_submission(out)
    assert on_disk == submission.skeleton(challenges)  # the last valid file: the skeleton
    assert not [p for p in disk.iterdir() if p.name.endswith(".tmp")]
