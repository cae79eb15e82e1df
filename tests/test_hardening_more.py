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
