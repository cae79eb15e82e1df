"""Kaggle JSON parsing and validation: whole-file errors, per-task rejections, duplicates, solutions."""

from __future__ import annotations

import copy

import numpy as np
import orjson
import pytest

from trm_submit.io import jsonfile, tasks
from trm_submit.io.tasks import InputFileError

GOOD_TASK = {
    "train": [
        {"input": [[1, 2], [3, 4]], "output": [[4, 3], [2, 1]]},
        {"input": [[0, 5, 9]], "output": [[9, 5, 0]]},
    ],
    "test": [{"input": [[7]]}, {"input": [[1, 1], [2, 2], [3, 3]]}],
}


def _bytes(obj) -> bytes:
    return orjson.dumps(obj)


def _parse(obj):
    lines: list[str] = []
    ch = tasks.parse_challenges(_bytes(obj), "challenges.json", log=lines.append)
    return ch, lines


def _with(path: tuple, value):
    """A copy of GOOD_TASK with the item at `path` (keys/indices) replaced by `value`."""
    task = copy.deepcopy(GOOD_TASK)
    node = task
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return task


def _without(path: tuple):
    """A copy of GOOD_TASK with the item at `path` deleted."""
    task = copy.deepcopy(GOOD_TASK)
    node = task
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return task


# (task value, words that the reason must contain) — one case per kind of bad input.
BAD_TASKS = {
    "ragged": (_with(("train", 1, "output"), [[1, 2, 3, 4, 5], [1, 2], [1, 2, 3, 4]]),
               ["train[1].output", "ragged grid (row 1 has 2 cells, row 0 has 5)"]),
    "value10": (_with(("train", 0, "input"), [[1, 10], [3, 4]]),
                ["train[0].input", "value 10", "row 0, column 1", "0..9"]),
    "negative": (_with(("test", 1, "input"), [[1, 1], [2, -1], [3, 3]]),
                 ["test[1].input", "value -1", "row 1, column 1"]),
    "float": (_with(("train", 0, "output"), [[4, 3], [2, 1.0]]),
              ["train[0].output", "non-integer value 1.0", "row 1, column 1"]),
    "string": (_with(("train", 1, "input"), [[0, "5", 9]]), ["train[1].input", 'non-integer value "5"']),
    "bool": (_with(("train", 1, "input"), [[0, True, 9]]), ["train[1].input", "non-integer value true"]),
    "null_cell": (_with(("test", 0, "input"), [[None]]), ["test[0].input", "non-integer value null"]),
    "null_grid": (_with(("train", 0, "input"), None), ["train[0].input", "null grid"]),
    "empty_grid": (_with(("train", 0, "input"), []), ["train[0].input", "empty grid"]),
    "empty_row": (_with(("train", 0, "input"), [[]]), ["train[0].input", "1x0", "1..30"]),
    "too_wide": (_with(("test", 0, "input"), [[1] * 31]), ["test[0].input", "1x31", "1..30"]),
    "too_tall": (_with(("test", 0, "input"), [[1]] * 31), ["test[0].input", "31x1", "1..30"]),
    "row_not_list": (_with(("train", 0, "input"), [[1, 2], 3]), ["train[0].input", "row 1 is an integer"]),
    "grid_not_list": (_with(("train", 0, "input"), "[[1]]"), ["train[0].input", "grid is a string"]),
    "no_train": (_without(("train",)), ["missing 'train'"]),
    "no_test": (_without(("test",)), ["missing 'test'"]),
    "train_not_list": (_with(("train",), {"input": [[1]]}), ["'train' is an object, not a list"]),
    "test_not_list": (_with(("test",), "x"), ["'test' is a string, not a list"]),
    "empty_test": (_with(("test",), []), ["empty test list"]),
    "empty_train": (_with(("train",), []), ["no demonstration pairs"]),
    "no_output": (_without(("train", 1, "output")), ["train[1]", "missing 'output'"]),
    "no_input": (_without(("train", 0, "input")), ["train[0]", "missing 'input'"]),
    "test_no_input": (_without(("test", 1, "input")), ["test[1]", "missing 'input'"]),
    "pair_not_object": (_with(("train", 1), [[1]]), ["train[1]", "pair is a list, not an object"]),
    "task_not_object": ([GOOD_TASK], ["task is a list, not an object"]),
}


def test_good_task_parses_to_uint8_arrays():
    ch, lines = _parse({"ok1": GOOD_TASK})
    assert lines == [] and ch.rejected == {} and ch.duplicates == [] and ch.order == ["ok1"]
    t = ch.tasks["ok1"]
    assert t.task_id == "ok1" and t.n_test == 2 and len(t.train) == 2
    for grid, want in [(t.train[0][1], GOOD_TASK["train"][0]["output"]),
                       (t.train[1][0], GOOD_TASK["train"][1]["input"]),
                       (t.test_inputs[1], GOOD_TASK["test"][1]["input"])]:
        assert grid.dtype == np.uint8 and grid.ndim == 2 and grid.flags.c_contiguous
        assert tasks.grid_to_list(grid) == want
    assert t.max_side == 3
    assert ch.n_test("ok1") == 2


def test_extra_keys_are_ignored():
    task = dict(GOOD_TASK, name="legacy field")
    ch, lines = _parse({"a": task})
    assert "a" in ch.tasks and lines == []


@pytest.mark.parametrize("case", sorted(BAD_TASKS))
def test_bad_task_is_rejected_with_precise_reason(case):
    value, words = BAD_TASKS[case]
    ch, lines = _parse({"good": GOOD_TASK, "3f7": value})
    assert list(ch.tasks) == ["good"], "a bad task must not stop the good ones"
    assert ch.order == ["good", "3f7"]
    rej = ch.rejected["3f7"]
    assert rej.reason.startswith("3f7"), rej.reason
    for w in words:
        assert w in rej.reason, (w, rej.reason)
    assert len(lines) == 1 and lines[0].startswith("trm-submit: task 3f7 rejected: "), lines
    assert "\n" not in lines[0]
    raw_test = value.get("test") if isinstance(value, dict) else None
    assert rej.n_test == (len(raw_test) if isinstance(raw_test, list) else 1)
    assert ch.n_test("3f7") == rej.n_test


def test_ragged_reason_matches_documented_form():
    task = _with(("train", 1, "output"), [[1] * 5, [1] * 5, [1] * 4])
    ch, _ = _parse({"3f7": task})
    assert ch.rejected["3f7"].reason == "3f7 train[1].output: ragged grid (row 2 has 4 cells, row 0 has 5)"


def test_rejected_task_keeps_its_usable_test_inputs():
    task = _with(("train", 0, "input"), [[1, 2], [3]])  # bad train grid, good test inputs
    task["test"].append({"input": [[1, 99]]})
    ch, _ = _parse({"r": task})
    rej = ch.rejected["r"]
    assert rej.n_test == 3
    assert tasks.grid_to_list(rej.test_inputs[0]) == [[7]]
    assert tasks.grid_to_list(rej.test_inputs[1]) == GOOD_TASK["test"][1]["input"]
    assert rej.test_inputs[2] is None


def test_rejection_goes_to_stderr_by_default(capsys):
    tasks.parse_challenges(_bytes({"bad1": {"train": []}}), "c.json")
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["trm-submit: task bad1 rejected: no demonstration pairs"]


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"", ["empty"]),
        (b"  \n\t ", ["empty"]),
        (b'{"a": {"train": [}', ["not valid JSON"]),
        (b"\xff\xfe{}", ["not valid JSON"]),
        (b"[1, 2]", ["top level is a list", "expected an object"]),
        (b"null", ["top level is null"]),
    ],
)
def test_whole_file_problems_raise_one_line(tmp_path, raw, words):
    path = tmp_path / "challenges.json"
    path.write_bytes(raw)
    for loader in (tasks.load_challenges, tasks.load_solutions):
        with pytest.raises(InputFileError) as e:
            loader(path)
        msg = str(e.value)
        assert str(path) in msg and "\n" not in msg, msg
        for w in words:
            assert w in msg


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputFileError, match="file not found"):
        tasks.load_challenges(tmp_path / "nope.json")
    with pytest.raises(InputFileError, match="directory"):
        tasks.load_challenges(tmp_path)


def test_duplicate_ids_are_reported_and_last_one_kept():
    second = _with(("test",), [{"input": [[5]]}])
    raw = (b'{"d1": ' + _bytes(GOOD_TASK) + b', "x": ' + _bytes(GOOD_TASK)
           + b',\n "d1" : ' + _bytes(second) + b', "y\\"z": {"k": {"d1": 1}}}')
    lines: list[str] = []
    ch = tasks.parse_challenges(raw, "c.json", log=lines.append)
    assert ch.duplicates == ["d1"]
    assert ch.order == ["d1", "x", 'y"z']
    assert tasks.grid_to_list(ch.tasks["d1"].test_inputs[0]) == [[5]]  # the last occurrence
    assert any("d1" in line and "more than once" in line for line in lines)
    assert jsonfile.duplicate_top_level_keys(b' { } ') == []
    assert jsonfile.duplicate_top_level_keys(b'{"a":1,"b":[{"a":2}],"a":3,"b":4,"a":5}') == ["a", "b"]


def test_load_challenges_from_file(tmp_path):
    path = tmp_path / "c.json"
    path.write_bytes(_bytes({"t1": GOOD_TASK, "t2": {"train": "x", "test": [{"input": [[1]]}]}}))
    lines: list[str] = []
    ch = tasks.load_challenges(path, log=lines.append)
    assert list(ch.tasks) == ["t1"] and list(ch.rejected) == ["t2"] and len(lines) == 1


def test_solutions_parse_and_bad_task_is_skipped(tmp_path):
    path = tmp_path / "s.json"
    path.write_bytes(_bytes({"a": [[[1, 2]], [[3]]], "b": [[[1, 2], [3]]], "c": [], "d": {"x": 1}}))
    lines: list[str] = []
    sol = tasks.load_solutions(path, log=lines.append)
    assert list(sol) == ["a"]
    assert [tasks.grid_to_list(g) for g in sol["a"]] == [[[1, 2]], [[3]]]
    assert sol["a"][0].dtype == np.uint8
    assert len(lines) == 3
    assert any(line.startswith("trm-submit: solution b skipped: [0]: ragged") for line in lines), lines


def test_parse_grid_and_grid_to_list():
    g = tasks.parse_grid([[0, 9], [5, 5]])
    assert g.dtype == np.uint8 and g.shape == (2, 2)
    assert tasks.grid_to_list(g) == [[0, 9], [5, 5]]
    assert all(type(v) is int for v in tasks.grid_to_list(g)[0])
    assert tasks.grid_to_list(np.array([[3]], dtype=np.int32)) == [[3]]
    with pytest.raises(tasks.GridError, match="2-D"):
        tasks.grid_to_list(np.zeros(3))
    with pytest.raises(tasks.GridError, match="non-integer"):
        tasks.parse_grid([[1, 2.5]])


def test_expected_test_counts_covers_broken_tasks():
    raw = {"a": GOOD_TASK, "b": {"test": "x"}, "c": [1], "d": {"test": []}}
    assert tasks.expected_test_counts(raw) == {"a": 2, "b": 1, "c": 1, "d": 0}


def test_utf8_bom_is_skipped_like_a_file_without_it(tmp_path):
    """A byte-order mark in front of the JSON (Windows editors) parses exactly as the same bytes without it,
    duplicate detection included; the mark anywhere else is still invalid JSON."""
    second = _with(("test",), [{"input": [[5]]}])
    raw = b'{"d1": ' + _bytes(GOOD_TASK) + b', "d1": ' + _bytes(second) + b', "t2": ' + _bytes(GOOD_TASK) + b'}'
    plain, bom = tmp_path / "plain.json", tmp_path / "bom.json"
    plain.write_bytes(raw)
    bom.write_bytes(jsonfile.UTF8_BOM + raw)
    a, b = (tasks.load_challenges(p, log=lambda _: None) for p in (plain, bom))
    assert a.order == b.order == ["d1", "t2"] and a.duplicates == b.duplicates == ["d1"]
    for tid in a.tasks:
        assert [tasks.grid_to_list(g) for g in a.tasks[tid].test_inputs] == \
            [tasks.grid_to_list(g) for g in b.tasks[tid].test_inputs]
    sol = tmp_path / "s.json"
    sol.write_bytes(jsonfile.UTF8_BOM + _bytes({"a": [[[1, 2]]]}))
    assert [tasks.grid_to_list(g) for g in tasks.load_solutions(sol)["a"]] == [[[1, 2]]]
    with pytest.raises(InputFileError, match="not valid JSON"):
        jsonfile.parse_json_object(b" " + jsonfile.UTF8_BOM + raw, "c.json")
