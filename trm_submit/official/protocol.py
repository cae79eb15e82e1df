"""The official TRM evaluation protocol (`submit --protocol official --official-data DIR`): every test input is
answered by the rows an official dataset build (`dataset/build_arc_dataset.py`) made for it, each under its
trained puzzle id, with no fine-tuning.

Owns: reading a build folder (`identifiers.json`, `test/dataset.json` and the test split's arrays), the weights
of the protocol (an official checkpoint used by identifier index, or a bundled file whose `rows` hold the needed
identifier names), matching a task's test inputs to the build's test-split rows (task id from the row's
identifier name, plus the hash of its input cropped and inverted, as the official evaluator matches them), the
evaluator's crop and version inverse, its vote (per distinct prediction: count and mean sigmoid(q_halt) in fp64,
ranked by (count, mean) descending, ties in first-seen row order), and the solver that turns it into the TRM
source record. Unlike the official evaluator (whose `aggregated_voting` keeps the votes of every earlier
evaluation of a training run), every run here votes afresh.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch

from ..budget import Budget
from ..config import RunConfig
from ..errors import UserError
from ..grids.augment import DIHEDRAL_INVERSE, NAME_SEP, dihedral
from ..grids.encoding import MAX_SIDE
from ..io.records import TOP_CANDIDATES, InputOutcome, SourceRecord, candidate, trm_record
from ..io.tasks import Task
from ..trm import checkpoint, infer
from ..trm.model import TRM

SIDE = MAX_SIDE  # official canvas: 30x30, row-major
SEPARATOR = NAME_SEP  # official version names: `<task>|||t<k>|||<10 digits>`
CHUNK_ROWS = 64  # rows per inference call; the time limit is checked between calls


class OfficialDataError(UserError):
    """An official build folder (or the weights it needs) that cannot be used, with the file and the reason."""


# ---------------------------------------------------------------------------------------------------- geometry

def crop(tokens: np.ndarray) -> np.ndarray:
    """The official evaluator's `_crop` of one 900-token row: the largest top-left rectangle of colour tokens
    (2..11; the first largest wins) minus 2, as uint8; a non-colour token at (0, 0) gives a 0x0 grid."""
    g = np.asarray(tokens).reshape(SIDE, SIDE)
    colour = (g >= 2) & (g <= 11)
    first_bad = np.where(colour.all(axis=1), SIDE, np.argmin(colour, axis=1))
    width = np.minimum.accumulate(first_bad)
    area = width * np.arange(1, SIDE + 1)
    r = int(np.argmax(area))
    if area[r] == 0:
        return np.zeros((0, 0), np.uint8)
    return (g[: r + 1, : width[r]] - 2).astype(np.uint8)


def parse_name(name: str) -> tuple[str, int, np.ndarray | None]:
    """(task id, dihedral id, inverse colour table or None for the identity version) of a version name."""
    if SEPARATOR not in name:
        return name, 0, None
    parts = name.split(SEPARATOR)
    trans, perm = parts[-2], parts[-1]
    inv = np.argsort(np.array([int(c) for c in perm])).astype(np.uint8)
    return parts[0], int(trans[1:]), inv


def invert(grid: np.ndarray, k: int, inv: np.ndarray | None) -> np.ndarray:
    """A grid of a version back to the original task's frame (the official `inverse_aug`)."""
    if inv is None:
        return grid
    return np.ascontiguousarray(inv[dihedral(grid, DIHEDRAL_INVERSE[k])])


def grid_key(grid: np.ndarray) -> tuple[int, int, bytes]:
    """Identity of a grid (the official hash hashes exactly these: height, width, uint8 cells)."""
    g = np.ascontiguousarray(grid, dtype=np.uint8)
    return int(g.shape[0]), int(g.shape[1]), g.tobytes()


# ---------------------------------------------------------------------------------------------------- the build

def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise OfficialDataError(f"official build: {path.name} not found in {path.parent}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise OfficialDataError(f"official build: {path} is not readable JSON ({' '.join(str(exc).split())[:120]})"
                                ) from None


def _load_npy(path: Path, mmap: bool = False) -> np.ndarray:
    if not path.is_file():
        raise OfficialDataError(f"official build: {path.name} not found in {path.parent}")
    try:
        arr = np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    except (ValueError, OSError, EOFError) as exc:
        raise OfficialDataError(f"official build: {path} is not a readable .npy array "
                                f"({' '.join(str(exc).split())[:120]})") from None
    return np.asarray(arr) if not mmap else arr


@dataclass
class Build:
    """The test split of an official build: row `i` has input `inputs[i]` (900 tokens) and puzzle id `row_ids[i]`."""

    folder: Path
    identifiers: list[str]
    inputs: np.ndarray  # [E, 900] uint8 (memory-mapped)
    row_ids: np.ndarray  # [E] int64
    num_puzzle_identifiers: int
    rows_by_task: dict[str, np.ndarray] = field(default_factory=dict)  # task id -> its rows in stored order

    def names_for(self, task_ids: Iterable[str]) -> list[str]:
        """Identifier names of every test-split row of these tasks (each once, first-seen order)."""
        ids = np.concatenate([self.row_ids[self.rows_by_task[t]] for t in task_ids if t in self.rows_by_task]
                             or [np.zeros(0, np.int64)])
        return [self.identifiers[i] for i in dict.fromkeys(ids.tolist())]


def read_build(folder: str | Path) -> Build:
    """Read and check an official build folder; OfficialDataError (one line naming the file) when unusable."""
    root = Path(folder)
    if not root.is_dir():
        raise OfficialDataError(f"--official-data {root}: not a folder (expected the official builder's output)")
    identifiers = _load_json(root / "identifiers.json")
    if not isinstance(identifiers, list) or not all(isinstance(n, str) for n in identifiers) or not identifiers:
        raise OfficialDataError(f"official build: {root / 'identifiers.json'} is not a list of identifier names")
    meta = _load_json(root / "test" / "dataset.json")
    n_ids = meta.get("num_puzzle_identifiers") if isinstance(meta, dict) else None
    if not isinstance(n_ids, int) or n_ids != len(identifiers):
        raise OfficialDataError(f"official build: {root / 'test' / 'dataset.json'} says num_puzzle_identifiers "
                                f"{n_ids!r}, identifiers.json lists {len(identifiers)}")
    if meta.get("seq_len", SIDE * SIDE) != SIDE * SIDE:
        raise OfficialDataError(f"official build: {root / 'test' / 'dataset.json'} has seq_len {meta.get('seq_len')!r}"
                                f", expected {SIDE * SIDE} (30x30 ARC canvases)")
    test = root / "test"
    inputs = _load_npy(test / "all__inputs.npy", mmap=True)
    puzzle_ids = _load_npy(test / "all__puzzle_identifiers.npy")
    indices = _load_npy(test / "all__puzzle_indices.npy")
    if inputs.ndim != 2 or inputs.shape[1] != SIDE * SIDE:
        raise OfficialDataError(f"official build: {test / 'all__inputs.npy'} has shape {list(inputs.shape)}, "
                                f"expected [examples, {SIDE * SIDE}]")
    n = inputs.shape[0]
    if indices.ndim != 1 or puzzle_ids.ndim != 1 or len(indices) != len(puzzle_ids) + 1 or len(indices) < 1 \
            or indices[0] != 0 or indices[-1] != n or (np.diff(indices) < 0).any():
        raise OfficialDataError(f"official build: {test / 'all__puzzle_indices.npy'} does not split the "
                                f"{n} examples among the {len(puzzle_ids)} puzzles of all__puzzle_identifiers.npy")
    if len(puzzle_ids) and (puzzle_ids.min() < 1 or puzzle_ids.max() >= len(identifiers)):
        raise OfficialDataError(f"official build: {test / 'all__puzzle_identifiers.npy'} holds ids outside "
                                f"1..{len(identifiers) - 1} (identifiers.json)")
    row_ids = np.repeat(puzzle_ids.astype(np.int64), np.diff(indices))
    task_of_id = [name.split(SEPARATOR)[0] for name in identifiers]  # the task id of every version name
    by_task: dict[str, list[int]] = {}
    for row, pid in enumerate(row_ids.tolist()):
        by_task.setdefault(task_of_id[pid], []).append(row)
    rows = {t: np.asarray(r, dtype=np.int64) for t, r in by_task.items()}
    return Build(root, identifiers, inputs, row_ids, n_ids, rows)


# ---------------------------------------------------------------------------------------------------- weights

@dataclass
class Loaded:
    """The protocol's model and how a build's puzzle ids map onto its table rows (None: the same index)."""

    build: Build
    model: TRM
    row_of_id: dict[int, int] | None


def _is_bundle(path: Path) -> bool:
    if path.is_dir():
        return False
    raw = checkpoint.torch_load(path)
    return isinstance(raw, dict) and raw.get("format") == checkpoint.BUNDLE_FORMAT


def load(cfg: RunConfig, task_ids: Iterable[str]) -> Loaded:
    """The build of `cfg.official_data` and the weights of `cfg.weights` for the rows of `task_ids`."""
    if not cfg.official_data or not cfg.weights:
        raise OfficialDataError("--protocol official needs --official-data and --weights")
    build = read_build(cfg.official_data)
    path = Path(cfg.weights)
    if not _is_bundle(path):
        from .checkpoints import load_official_model

        model = load_official_model(path)
        rows = model.inner.puzzle_emb.weights.shape[0] if model.puzzle_parameters() else 0
        if rows != build.num_puzzle_identifiers:
            raise OfficialDataError(f"{path.name}: the checkpoint's puzzle table has {rows} rows, the official build "
                                    f"{build.folder} has {build.num_puzzle_identifiers} identifiers; they must come "
                                    f"from the same build")
        return Loaded(build, model, None)
    bundle = checkpoint.load_bundled(path)
    if bundle.rows is None:
        raise OfficialDataError(f"{path.name} keeps no trained puzzle rows; convert the official checkpoint with "
                                f"`trm-submit convert --official-data DIR` or pass the checkpoint itself")
    names = build.names_for(task_ids)
    index = bundle.rows.index()
    missing = [n for n in names if n not in index]
    if missing:
        raise OfficialDataError(f"{path.name} lacks {len(missing)} of the {len(names)} puzzle rows the build's test "
                                f"split needs for these tasks (e.g. {missing[0]!r})")
    model = checkpoint.build_model(bundle, max(1, len(names)))
    name_to_id = {n: i for i, n in enumerate(build.identifiers)}
    with torch.no_grad():
        table = model.inner.puzzle_emb.weights
        for row, name in enumerate(names):
            table[row] = bundle.rows.table[index[name]].to(table.dtype)
    return Loaded(build, model, {name_to_id[n]: row for row, n in enumerate(names)})


# ---------------------------------------------------------------------------------------------------- voting

@dataclass
class Vote:
    """One distinct prediction for a test input: its grid, how many rows gave it, their mean sigmoid(q_halt)."""

    grid: np.ndarray
    count: int
    mean_q: float


def vote(preds: Iterable[tuple[np.ndarray, float]]) -> list[Vote]:
    """The official vote over (prediction grid, q) in row order: group equal grids, rank by (count, mean q)
    descending; equal keys keep first-seen order (Python's stable sort, as the evaluator's `sorted`)."""
    groups: dict[tuple[int, int, bytes], list[Any]] = {}
    for grid, q in preds:
        entry = groups.setdefault(grid_key(grid), [0, 0.0, grid])
        entry[0] += 1
        entry[1] += float(q)
    stats = [(c, s / c, g) for c, s, g in groups.values()]
    ranked = sorted(stats, key=lambda t: (t[0], t[1]), reverse=True)
    return [Vote(g, c, m) for c, m, g in ranked]


def match_rows(build: Build, task: Task) -> list[list[int]]:
    """Per test input of `task`, the build's test-split rows whose input (cropped, inverted) equals it."""
    rows = build.rows_by_task.get(task.task_id, np.zeros(0, np.int64))
    keys = [grid_key(x) for x in task.test_inputs]
    out: list[list[int]] = [[] for _ in keys]
    for row in rows.tolist():
        _, k, inv = parse_name(build.identifiers[int(build.row_ids[row])])
        key = grid_key(invert(crop(build.inputs[row]), k, inv))
        for i, want in enumerate(keys):
            if key == want:
                out[i].append(row)
    return out


# ---------------------------------------------------------------------------------------------------- the solver

class OfficialSolver:
    """`solve(task, budget, seed)` -> the TRM source record under the official protocol (the seed is unused: the
    build fixed the versions). `loaded` comes from `load`; without it the solver loads the weights itself."""

    def __init__(self, cfg: RunConfig, device: torch.device, run: Budget, loaded: Loaded | None = None):
        if loaded is None:
            from ..io.tasks import load_challenges

            loaded = load(cfg, load_challenges(cfg.challenges).tasks)
        self.cfg, self.device, self.run, self.loaded = cfg, device, run, loaded
        self.model = loaded.model.to(device).eval()

    def solve(self, task: Task, budget: Budget, seed: int) -> dict[str, Any]:
        cfg, build = self.cfg, self.loaded.build
        if task.task_id not in build.rows_by_task:
            return SourceRecord.failed(f"task {task.task_id} is not in the official build {build.folder} "
                                       f"(no test-split rows)").to_json()
        limit = self.run if cfg.fixed_work else budget
        t0 = time.time()
        per_input = match_rows(build, task)
        order = sorted((row, i) for i, rows in enumerate(per_input) for row in rows)  # stored order, as evaluated
        rows = np.asarray([row for row, _ in order], dtype=np.int64)
        ids = build.row_ids[rows]
        if self.loaded.row_of_id is not None:
            ids = np.asarray([self.loaded.row_of_id[int(i)] for i in ids], dtype=np.int64)
        preds: list[list[tuple[np.ndarray, float]]] = [[] for _ in per_input]
        done, batch = 0, None
        while done < len(rows) and not limit.over():
            chunk = slice(done, done + CHUNK_ROWS)
            tokens = np.asarray(build.inputs[rows[chunk]])
            pred, batch = infer.predict_with_retry(self.model, tokens, ids[chunk].astype(np.int32), cfg, self.device,
                                                   batch)
            for (row, i), out, q in zip(order[chunk], pred.tokens, pred.q_halt_prob):
                _, k, inv = parse_name(build.identifiers[int(build.row_ids[row])])
                preds[i].append((invert(crop(out), k, inv), float(q)))
            done += len(tokens)
        t1 = time.time()
        votes = [vote(p) for p in preds]
        if done < len(rows):
            print(f"trm-submit: task {task.task_id}: time ran out after {done} of {len(rows)} official rows",
                  file=sys.stderr)
        per_test = [InputOutcome([candidate(v.grid, v.count, v.mean_q) for v in vs if v.grid.size][:TOP_CANDIDATES],
                                 len(p), sum(1 for g, _ in p if g.size)) for vs, p in zip(votes, preds)]
        return trm_record(per_test, len(rows), protocol="official",
                          empty_predictions=[sum(v.count for v in vs if not v.grid.size) for vs in votes],
                          timings={"infer_vote": round(t1 - t0, 3)}).to_json()
