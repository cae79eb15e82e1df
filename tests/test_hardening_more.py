"""Hostile input, continued: deeply nested JSON, malformed weights, bad journal records on --resume, and the
smaller cases (closed pipes, a challenges file given as a submission, --help, runs with no view in time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import one_error_line, run_cli

from trm_submit import cli
from trm_submit.io import jsonfile, submission, tasks
from trm_submit.run import pipeline
from trm_submit.trm import checkpoint

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--views", "2", "--ttft-steps", "1", "--fixed-work", "--quiet", "--time-budget", "300",
        "--safety-margin", "5"]
DEEP = 1000  # below orjson's nesting limit (1024), far beyond Python's recursion limit for a repr


# ---- 5. deeply nested JSON ----------------------------------------------------------------------------------

def _deep(n: int = DEEP) -> str:
    return "[" * n + "]" * n


@pytest.fixture
def deep_files(tmp_path, small_task_files) -> tuple[Path, Path, Path, str]:
    """A challenges file with one good task and one whose first train cell is nested DEEP lists (plus a
    duplicated id after a deep value), a submission with a deep attempt cell, and solutions."""
    ch = json.loads(small_task_files[0].read_text())
    good = next(iter(ch))
    raw_good = json.dumps(ch[good])
    deep_task = '{"train": [{"input": [[%s]], "output": [[1]]}], "test": [{"input": [[1]]}]}' % _deep()
    c = tmp_path / "deep_challenges.json"
    c.write_text('{"%s": %s, "deep": %s, "deep": %s}' % (good, raw_good, deep_task, deep_task))
    s = tmp_path / "deep_submission.json"
    s.write_text('{"deep": [{"attempt_1": [[%s]], "attempt_2": [[1]]}]}' % _deep())
    sol = tmp_path / "deep_solutions.json"
    sol.write_text('{"deep": [[[1]]]}')
    return c, s, sol, good


def test_deep_json_in_challenges_rejects_that_task_only(deep_files, tmp_path, capsys):
    c, _, _, good = deep_files
    out = tmp_path / "o" / "submission.json"
    code, stdout, err = run_cli(capsys, "submit", "--challenges", str(c), "--out", str(out), "--quiet")
    assert code == 0, err
    assert "trm-submit: task deep rejected: train[0].input: non-integer value (list) at row 0, column 0" in err
    assert f"trm-submit: task deep appears more than once in {c}; the last occurrence is used" in err
    assert not [line for line in err if "Recursion" in line or "Traceback" in line]
    sub = submission.load_submission(out)
    assert list(sub) == [good, "deep"] and sub["deep"] == [{"attempt_1": [[1]], "attempt_2": [[0]]}]


def test_deep_json_in_validate_and_score_is_a_problem_not_a_crash(deep_files, capsys):
    c, s, sol, _ = deep_files
    code, stdout, err = run_cli(capsys, "validate", "--submission", str(s), "--challenges", str(c))
    assert code == 1 and err == []
    assert "deep[0].attempt_1: non-integer value (list) at row 0, column 0" in stdout.splitlines()
    code, stdout, err = run_cli(capsys, "score", "--submission", str(s), "--solutions", str(sol))
    assert code == 0 and err == []
    assert "0.00% (0/1)" in stdout and "100.00% (1/1)" in stdout  # attempt_2 [[1]] is right


def test_nesting_past_the_parser_limit_is_one_line(tmp_path, capsys):
    path = tmp_path / "too_deep.json"
    path.write_text('{"a": %s}' % _deep(5000))
    code, stdout, err = run_cli(capsys, "submit", "--challenges", str(path), "--out", str(tmp_path / "s.json"))
    assert code == 2 and stdout == ""
    one_error_line(err, str(path), "not valid JSON")
    assert not (tmp_path / "s.json").exists()


def test_messages_stay_short_whatever_the_input(tmp_path, capsys):
    long_id, long_text = "t" * 100_000, "x" * 100_000
    task = {"train": [{"input": [[long_text]], "output": [[1]]}], "test": [{"input": [[1]]}]}
    c = tmp_path / "long.json"
    c.write_text(json.dumps({long_id: task}))
    code, _, err = run_cli(capsys, "submit", "--challenges", str(c), "--out", str(tmp_path / "s.json"))
    assert code == 0
    rejected = [line for line in err if "rejected" in line]
    assert len(rejected) == 1 and len(rejected[0]) < 300, rejected
    assert rejected[0].startswith("trm-submit: task " + "t" * 57 + "... rejected: train[0].input: non-integer value")


def test_duplicate_scan_hand_cases():
    """The flat scan finds duplicates at depth 1 only, skipping strings with quotes, braces and escapes."""
    assert jsonfile.duplicate_top_level_keys(b'{"a":1,"a":2}') == ["a"]
    assert jsonfile.duplicate_top_level_keys(b' { "a" : [1,{"a":2}], "b":"x\\"a", "a" : {"b":1,"b":2}, "b":[] } ') \
        == ["a", "b"]
    assert jsonfile.duplicate_top_level_keys(b'{"k\\u0041":1,"kA":2}') == ["kA"]
    assert jsonfile.duplicate_top_level_keys(b'\xef\xbb\xbf{"a":"}","a":"{"}') == ["a"]
    assert jsonfile.duplicate_top_level_keys(('{"x": %s, "y": 1, "x": 2}' % _deep(20000)).encode()) == ["x"]
    assert jsonfile.duplicate_top_level_keys(b"{}") == []


# ---- 6. weights that match their checksum but are malformed; bad checksum files -------------------------------

class _RunsCode:
    """Pickles to a call of os.system: a weights-only load must refuse it without running it."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _with_checksum(path: Path) -> Path:
    path.with_name(path.name + ".sha256").write_text(f"{checkpoint.sha256_file(path)}  {path.name}\n")
    return path


def _bad_weights(case: str, folder: Path, tiny: Path) -> tuple[Path, tuple[str, ...]]:
    """(a weights file that fails in the way `case` names, words of the expected line)."""
    good = torch.load(tiny, weights_only=True)
    path = folder / f"{case}.pt"
    if case == "no-config":
        torch.save({k: v for k, v in good.items() if k != "config"}, path)
        return _with_checksum(path), (f"{case}.pt: 'config' is missing, expected a dict",)
    if case == "zero-heads":
        torch.save(dict(good, config=dict(good["config"], num_heads=0)), path)
        return _with_checksum(path), ("bad architecture config: num_heads is", "expected a whole number >= 1")
    if case == "trunk-not-tensors":
        torch.save(dict(good, trunk={"a": [1, 2]}), path)
        return _with_checksum(path), ("'trunk' is not a state_dict",)
    if case == "short-embedding":
        torch.save(dict(good, initial_puzzle_emb=torch.zeros(3)), path)
        return _with_checksum(path), ("initial puzzle embedding", "3 values", "wants 32 floats")
    if case == "binary-sidecar":
        path.write_bytes(tiny.read_bytes())
        path.with_name(path.name + ".sha256").write_bytes(b"\xff\xfe\x00\x9c garbage")
        return path, (f"checksum file {case}.pt.sha256 is not text", "byte 0 is not UTF-8")
    if case == "empty":
        path.write_bytes(b"")
        return _with_checksum(path), (f"{case}.pt is empty (0 bytes)",)
    if case == "code-running-pickle":
        torch.save({"format": checkpoint.BUNDLE_FORMAT, "x": _RunsCode(folder / "RAN")}, path)
        return _with_checksum(path), ("weights-only", "posix.system", "nothing in it ran")
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["no-config", "zero-heads", "trunk-not-tensors", "short-embedding",
                                  "binary-sidecar", "empty", "code-running-pickle"])
def test_malformed_weights_are_one_line_before_any_work(case, tmp_path, small_task_files, tiny_weights, capsys):
    weights, words = _bad_weights(case, tmp_path, tiny_weights)
    before = weights.read_bytes()
    out = tmp_path / "o" / "submission.json"
    code, stdout, err = run_cli(capsys, "submit", "--challenges", str(small_task_files[0]), "--weights",
                                str(weights), "--out", str(out), *FAST)
    assert code == 2 and stdout == ""
    line = one_error_line(err, *words)
    assert "weights_only=False" not in line and "set to `False`" not in line and len(line) < 400
    assert not out.exists() and weights.read_bytes() == before
    assert not (tmp_path / "RAN").exists()  # the pickle's code never ran


# ---- 8. --resume checks each journal record like a task's attempts ---------------------------------------------

def test_resume_recomputes_bad_journal_records_and_keeps_good_ones(tmp_path, small_task_files, tiny_weights, capsys):
    ch, _ = small_task_files
    out = tmp_path / "submission.json"
    args = ["submit", "--challenges", str(ch), "--weights", str(tiny_weights), "--out", str(out), *FAST]
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    reference = out.read_bytes()
    journal = pipeline.side_paths(out)["journal"]
    recs = [json.loads(line) for line in journal.read_text().splitlines()]
    ids = [r["task_id"] for r in recs]
    assert all(r["sources"]["trm"]["candidates"][0] for r in recs[:2])  # the tiny model voted on both
    recs[0]["sources"]["trm"]["candidates"][0][0]["grid"] = [[12]]  # a colour outside 0..9
    recs[1]["sources"]["trm"]["candidates"] = 5  # not a list at all
    lines = [json.dumps(r) for r in recs] + ["{not json"]  # and a torn line at the end
    journal.write_text("\n".join(lines) + "\n")
    code, stdout, err = run_cli(capsys, *args, "--resume")
    assert code == 0, err
    assert err == [f"trm-submit: journal record of task {ids[0]} is unusable (source trm: test 0 candidate 0: value "
                   f"12 at row 0, column 0 is outside 0..9); the task runs again",
                   f"trm-submit: journal record of task {ids[1]} is unusable (source trm: candidates for no test "
                   f"inputs, the task has 1); the task runs again"]
    assert "2 answered by a candidate source this run, 1 from the journal" in stdout
    assert out.read_bytes() == reference  # the recomputed tasks give the same answers (fixed work, same seeds)
    summary = json.loads(pipeline.side_paths(out)["summary"].read_text())
    assert summary["tasks_resumed"] == 1 and summary["tasks_model"] == 2 and len(summary["incidents"]) == 2


# ---- 9. the smaller cases ---------------------------------------------------------------------------------------

def test_submit_help_shows_defaults_and_no_internal_docstring(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["submit", "--help"])
    assert e.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "wall-clock seconds, all included (default: 3600.0)" in text
    assert "--safety-margin" in text and "the budget must exceed it (default: 20.0)" in text
    assert "(default: 256)" in text and "(default: 1)" in text and "(default: None)" not in text
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert text.startswith("usage: trm-submit") and "no logic" not in text and "Write ARC Prize" in text


def _closed_pipe_run(*args: str) -> subprocess.CompletedProcess:
    """Run the CLI with a stdout whose reader is gone (as `| head` after its line)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "trm_submit", *args], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    finally:
        os.close(write_end)


def test_closed_stdout_ends_quietly_with_141(tmp_path, small_task_files):
    ch, sol = small_task_files
    sub = tmp_path / "sub.json"
    sub.write_text(json.dumps({"x": []}))
    for args in (["validate", "--submission", str(sub), "--challenges", str(ch)],
                 ["score", "--submission", str(sub), "--solutions", str(sol)]):
        res = _closed_pipe_run(*args)
        assert res.returncode == cli.EXIT_PIPE and res.stderr == "", res.stderr


def test_validate_into_head_ends_quietly(tmp_path):
    """Many problem lines, more than a pipe holds; the reader takes one line and goes."""
    ch = tmp_path / "many.json"
    task = {"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]]}]}
    ch.write_text(json.dumps({f"task{i:05d}": task for i in range(4000)}))
    sub = tmp_path / "sub.json"
    sub.write_text(json.dumps({"x": [{"attempt_1": [[1]], "attempt_2": [[1]]}]}))
    proc = subprocess.Popen([sys.executable, "-m", "trm_submit", "validate", "--submission", str(sub),
                             "--challenges", str(ch)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.stdout.readline() == "task00000: task missing from submission\n"
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == cli.EXIT_PIPE and err == ""


@pytest.mark.parametrize("which", ["challenges", "solutions"])
def test_score_refuses_a_challenges_or_solutions_file_as_the_submission(which, small_task_files, capsys):
    ch, sol = small_task_files
    given = ch if which == "challenges" else sol
    before = given.read_bytes()
    code, stdout, err = run_cli(capsys, "score", "--submission", str(given), "--solutions", str(sol))
    assert code == 2 and stdout == ""
    one_error_line(err, f"{given} looks like a {which} file", "not a submission")
    code, stdout, err = run_cli(capsys, "validate", "--submission", str(given), "--challenges", str(ch))
    assert code == 2 and stdout == ""
    one_error_line(err, f"{given} looks like a {which} file")
    assert given.read_bytes() == before


def test_task_with_no_view_in_time_is_not_counted_as_solved_by_the_model(tmp_path, small_task_files, tiny_weights,
                                                                          capsys):
    """Fine-tuning takes the task's whole share (--ttft-share 1, steps without end), so no view runs."""
    ch = json.loads(small_task_files[0].read_text())
    first = next(iter(ch))
    one = tmp_path / "one.json"
    one.write_text(json.dumps({first: ch[first]}))
    out = tmp_path / "submission.json"
    code, stdout, err = run_cli(capsys, "submit", "--challenges", str(one), "--weights", str(tiny_weights), "--out",
                                str(out), "--quiet", "--time-budget", "9", "--safety-margin", "5", "--ttft-share", "1",
                                "--ttft-steps", "1000000", "--views", "2", "--sources", "trm")
    assert code == 0, err
    summary = json.loads(pipeline.side_paths(out)["summary"].read_text())
    trm = json.loads(pipeline.side_paths(out)["journal"].read_text())["sources"]["trm"]
    assert trm["status"] == "ok" and trm["views"] == [0] * len(trm["candidates"])  # the oracle
    assert summary["tasks_model"] == 0 and summary["no_views"] == [first]
    assert "0 answered by a candidate source this run" in stdout
    assert f"1 tasks where TRM ran out of time before any view: {first}" in stdout
    assert submission.load_submission(out) == submission.skeleton(tasks.load_challenges(one))
