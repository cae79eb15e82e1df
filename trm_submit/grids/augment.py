"""Augmented views of a task: the Aug record (dihedral id 0..7 + colour permutation), apply/invert on numpy
grids (the plain reference path), the official version names, and `plan`, which draws distinct views.

Dihedral ids follow the official numbering (A is h x w, B the result, rot90 counter-clockwise):
0 identity, 1 rot90, 2 rot180, 3 rot270, 4 fliplr, 5 flipud, 6 transpose, 7 anti-transpose.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .encoding import NUM_COLORS

DIHEDRAL_INVERSE = (0, 3, 2, 1, 4, 5, 6, 7)
NAME_SEP = "|||"


def dihedral(grid: np.ndarray, k: int) -> np.ndarray:
    """Dihedral transform `k` (official numbering) of a 2-D grid; returns a contiguous copy."""
    g = np.asarray(grid)
    if g.ndim != 2:
        raise ValueError(f"dihedral expects a 2-D grid, got shape {g.shape}")
    ops = {
        0: lambda a: a,
        1: lambda a: np.rot90(a, 1),
        2: lambda a: np.rot90(a, 2),
        3: lambda a: np.rot90(a, 3),
        4: np.fliplr,
        5: np.flipud,
        6: lambda a: a.T,
        7: lambda a: np.fliplr(np.rot90(a, 1)),
    }
    if k not in ops:
        raise ValueError(f"dihedral id must be in 0..7, got {k!r}")
    return np.ascontiguousarray(ops[k](g))


@dataclass(frozen=True)
class Aug:
    """One view: colour permutation `colors` (colors[old] = new), then dihedral transform `dihedral`."""

    dihedral: int
    colors: tuple[int, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.dihedral, (int, np.integer)) or not 0 <= self.dihedral <= 7:
            raise ValueError(f"Aug.dihedral must be an int in 0..7, got {self.dihedral!r}")
        colors = tuple(int(c) for c in self.colors)
        if sorted(colors) != list(range(NUM_COLORS)):
            raise ValueError(f"Aug.colors must be a permutation of 0..9, got {self.colors!r}")
        object.__setattr__(self, "dihedral", int(self.dihedral))
        object.__setattr__(self, "colors", colors)

    @cached_property
    def color_table(self) -> np.ndarray:
        table = np.array(self.colors, dtype=np.uint8)
        table.setflags(write=False)
        return table

    @cached_property
    def inverse_colors(self) -> np.ndarray:
        """inv[new] = old (argsort of `colors`), uint8[10]."""
        table = np.argsort(self.color_table).astype(np.uint8)
        table.setflags(write=False)
        return table

    def apply(self, grid: np.ndarray) -> np.ndarray:
        """Forward transform: dihedral_k(colors[grid])."""
        return dihedral(self.color_table[np.asarray(grid)], self.dihedral)

    def invert(self, grid: np.ndarray) -> np.ndarray:
        """Back to the original frame: inverse_colors[dihedral_{inverse k}(grid)]."""
        return self.inverse_colors[dihedral(grid, DIHEDRAL_INVERSE[self.dihedral])]

    def name(self, task_id: str) -> str:
        """Official version name `<id>|||t<k>|||<10 digits>`; the identity keeps the bare task id."""
        if self == IDENTITY:
            return task_id
        return f"{task_id}{NAME_SEP}t{self.dihedral}{NAME_SEP}{''.join(str(c) for c in self.colors)}"

    @classmethod
    def from_name(cls, name: str) -> "Aug":
        """The Aug encoded in an official version name (a bare task id gives IDENTITY)."""
        return parse_name(name)[1]

    def apply_task(self, task: Any) -> Any:
        """The task with every train input/output and every test input transformed (same record type)."""
        train = tuple((self.apply(i), self.apply(o)) for i, o in task.train)
        tests = tuple(self.apply(g) for g in task.test_inputs)
        return dataclasses.replace(task, train=train, test_inputs=tests)


IDENTITY = Aug(0, tuple(range(NUM_COLORS)))


def parse_name(name: str) -> tuple[str, Aug]:
    """Split an official version name into (task_id, Aug)."""
    parts = name.split(NAME_SEP)
    if len(parts) == 1:
        return name, IDENTITY
    digits = parts[2] if len(parts) == 3 else ""
    if len(parts) != 3 or not parts[1].startswith("t") or not parts[1][1:].isdigit() or not digits.isdigit():
        raise ValueError(f"not an official version name (<id>|||t<k>|||<10 digits>): {name!r}")
    if len(digits) != NUM_COLORS:
        raise ValueError(f"version name {name!r} must end in {NUM_COLORS} colour digits")
    return parts[0], Aug(int(parts[1][1:]), tuple(int(c) for c in digits))


def aug_arrays(augs: list[Aug]) -> tuple[np.ndarray, np.ndarray]:
    """Arrays for the decode kernel: (forward dihedral ids int64[V], inverse colour tables uint8[V, 10])."""
    ks = np.array([a.dihedral for a in augs], dtype=np.int64)
    inv = np.zeros((len(augs), NUM_COLORS), dtype=np.uint8)
    for row, a in enumerate(augs):
        inv[row] = a.inverse_colors
    return ks, inv


def grid_digest(grid: np.ndarray) -> str:
    """Official grid hash: sha256 over [h byte, w byte, raw uint8 cells]."""
    g = np.ascontiguousarray(grid, dtype=np.uint8)
    return hashlib.sha256(bytes(g.shape) + g.tobytes()).hexdigest()


def task_digest(task: Any) -> str:
    """Hash of a whole task version as in the official dedup: sorted "sha(in)|sha(out)" over train pairs,
    plus "sha(in)|" for each test input (the test outputs are unknown here)."""
    keys = [f"{grid_digest(i)}|{grid_digest(o)}" for i, o in task.train]
    keys += [f"{grid_digest(g)}|" for g in task.test_inputs]
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()


def task_seed(seed: int, task_id: str) -> int:
    """The seed of one task's views and draws: a function of the run seed and the task id only (independent of
    task order, workers and scope, so the per-task and joint scopes plan the same views). Pretraining sets seed
    their tasks with it too; the committed training state was built with this formula."""
    return int.from_bytes(hashlib.sha256(f"{seed}|{task_id}".encode()).digest()[:8], "little")


def draw(rng: np.random.Generator, permute_zero: bool) -> Aug:
    """One random view: a dihedral map uniform in 0..7, then a colour permutation (0 fixed unless `permute_zero`)."""
    k = int(rng.integers(0, 8))
    if permute_zero:
        colors = rng.permutation(NUM_COLORS)
    else:
        colors = np.concatenate(([0], rng.permutation(NUM_COLORS - 1) + 1))
    return Aug(k, tuple(int(c) for c in colors))


def plan(task: Any, n_views: int, seed: int, permute_zero: bool = False) -> list[Aug]:
    """Up to `n_views` views of `task` whose transformed tasks are all distinct; IDENTITY first.

    Draws come from `np.random.Generator(PCG64(seed))`: dihedral uniform in 0..7, then a permutation of
    colours 1..9 with 0 fixed (or of 0..9 with `permute_zero`). A draw whose transformed task hashes like
    an accepted one is skipped; after 5 * n_views draws the plan stops, so symmetric or few-colour tasks
    get fewer views. Deterministic for a given task, n_views, seed and permute_zero.
    """
    if n_views < 1:
        raise ValueError(f"n_views must be >= 1, got {n_views}")
    rng = np.random.Generator(np.random.PCG64(seed))
    views = [IDENTITY]
    seen = {task_digest(task)}
    for _ in range(5 * n_views):
        if len(views) >= n_views:
            break
        aug = draw(rng, permute_zero)
        digest = task_digest(aug.apply_task(task))
        if digest not in seen:
            seen.add(digest)
            views.append(aug)
    return views
