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

from trm_submit import checkpoint, cli, pipeline, submission, tasks

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--views", "2", "--ttft-steps", "1", "--fixed-work", "--quiet", "--time-budget", "300",
        "--safety-margin", "5"]
DEEP = 1000  # below orjson's nesting limit (1024), far beyond Python's recursion limit for a repr


def run_cli(capsys, *args: str) -> tuple[int, str, list[str]]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err.strip().splitlines()


def one_error_line(err: list[str], *words: str) -> str:
    assert len(err) == 1, err
    assert err[0].startswith("trm-submit: error: "), err
    for w in words:
        assert w in err[0], (w, err[0])
    return err[0]


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
    assert tasks.duplicate_top_level_keys(b'{"a":1,"a":2}') == ["a"]
    assert tasks.duplicate_top_level_keys(b' { "a" : [1,{"a":2}], "b":"x\\"a", "a" : {"b":1,"b":2}, "b":[] } ') \
        == ["a", "b"]
    assert tasks.duplicate_top_level_keys(b'{"k\\u0041":1,"kA":2}') == ["kA"]
    assert tasks.duplicate_top_level_keys(b'\xef\xbb\xbf{"a":"}","a":"{"}') == ["a"]
    assert tasks.duplicate_top_level_keys(('{"x": %s, "y": 1, "x": 2}' % _deep(20000)).encode()) == ["x"]
    assert tasks.duplicate_top_level_keys(b"{}") == []
