"""Colour normalisation: one colour permutation per example (each demonstration pair and each test input) that
puts the task's colours into a canonical order, so that a task whose examples use different colours for the
same role becomes a task with one colour per role; and the map back of a test answer.

Fixed colours keep their number: 0, colours present in every input (train and test), colours that appear only
in outputs, colours present in every train input and in no train output. The other colours of an example's
input are ordered by one shape feature (the first of `FEATURES` that ties no two such colours in any input,
else the features in order as one key) and take the free colour numbers in increasing order; an output uses its
own input's permutation. A test answer is mapped back through its test input's permutation, and dropped when it
holds a normalised colour that neither is fixed nor comes from that test input (the map back would be a guess).

`normalise_background` is the narrower map of the "background" run: each example's background (its input's most
common colour) swapped with the task's, every other colour kept, for tasks drawn on other backgrounds in other
examples (there the colours that swap are often in every input, so the canonical order keeps them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..io.tasks import Task

N_COLOURS = 10


def components_count(mask: np.ndarray) -> int:
    """4-connected components of the True cells of `mask` (a plain flood fill: called a few times a task)."""
    seen = np.zeros_like(mask, dtype=bool)
    h, w = mask.shape
    n = 0
    for y0, x0 in zip(*np.nonzero(mask)):
        if seen[y0, x0]:
            continue
        n += 1
        stack = [(int(y0), int(x0))]
        seen[y0, x0] = True
        while stack:
            y, x = stack.pop()
            for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
    return n


def _extent(axis: int, last: bool) -> Callable[[np.ndarray, int], float]:
    def feature(grid: np.ndarray, colour: int) -> float:
        idx = np.nonzero(grid == colour)[axis]
        return float(-idx.max() if last else idx.min())
    return feature


# (name, key: smaller sorts first). Designed from training tasks where the colour of a role changes between
# demonstrations: the role is most often told by size (most cells first), then by position.
FEATURES: tuple[tuple[str, Callable[[np.ndarray, int], float]], ...] = (
    ("most_cells", lambda g, c: -float((g == c).sum())),
    ("most_components", lambda g, c: -float(components_count(g == c))),
    ("topmost", _extent(0, False)),
    ("leftmost", _extent(1, False)),
    ("bottommost", _extent(0, True)),
    ("rightmost", _extent(1, True)),
)


@dataclass(frozen=True)
class Normalised:
    """The normalised task, the permutation of each example (original colour -> normalised; the train pairs,
    then the test inputs), the fixed colours and the feature that ordered the others."""

    task: Task
    perms: tuple[np.ndarray, ...]
    fixed: frozenset[int]
    feature: str

    @property
    def test_perms(self) -> tuple[np.ndarray, ...]:
        return self.perms[len(self.task.train):]


def _colours(grid: np.ndarray) -> set[int]:
    return {int(c) for c in np.unique(grid)}


def fixed_colours(task: Task) -> frozenset[int]:
    """The colours that keep their number (see the module docstring)."""
    ins = [_colours(i) for i, _ in task.train] + [_colours(t) for t in task.test_inputs]
    outs = [_colours(o) for _, o in task.train]
    train_ins = ins[: len(task.train)]
    any_in = set().union(*ins)
    any_out = set().union(*outs)
    fixed = {0} | set.intersection(*ins) | (any_out - any_in)
    fixed |= set.intersection(*train_ins) - any_out
    return frozenset(fixed)


def _order(grid: np.ndarray, colours: list[int], keys: list[Callable[[np.ndarray, int], float]]) -> list[int]:
    return sorted(colours, key=lambda c: tuple(k(grid, c) for k in keys) + (c,))


def _separates(key: Callable[[np.ndarray, int], float], grids: list[np.ndarray], fixed: frozenset[int]) -> bool:
    for g in grids:
        values = [key(g, c) for c in _colours(g) - fixed]
        if len(set(values)) != len(values):
            return False
    return True


def _permutation(grid: np.ndarray, fixed: frozenset[int], keys: list) -> np.ndarray:
    """Original colour -> normalised colour for one example (a permutation of 0..9)."""
    free_slots = [c for c in range(N_COLOURS) if c not in fixed]
    own = _order(grid, sorted(_colours(grid) - fixed), keys)
    rest = [c for c in free_slots if c not in own]
    perm = np.arange(N_COLOURS, dtype=np.uint8)
    for src, dst in zip(own + rest, free_slots):
        perm[src] = dst
    return perm


def normalise(task: Task, nth: int = 0) -> Optional[Normalised]:
    """The colour-normalised task under the `nth` (0: first) feature that separates the colours, or None when
    normalising changes nothing a search could use (every example gets the same permutation: the normalised
    task is the raw one with its colours renamed) or, for nth > 0, there is no such feature."""
    fixed = fixed_colours(task)
    inputs = [i for i, _ in task.train] + list(task.test_inputs)
    separating = [f for f in FEATURES if _separates(f[1], inputs, fixed)]
    if nth >= max(1, len(separating)):
        return None
    choice = separating[nth] if separating else None
    name = choice[0] if choice else "+".join(n for n, _ in FEATURES)
    keys = [choice[1]] if choice else [k for _, k in FEATURES]
    return _permuted(task, [_permutation(g, fixed, keys) for g in inputs], fixed, name)


def _permuted(task: Task, perms: list[np.ndarray], fixed: frozenset[int], name: str) -> Optional[Normalised]:
    """`task` with each example in its permutation's colours (an output in its input's), or None when every example
    has the same permutation (the task with its colours renamed: nothing a search could use)."""
    if all(np.array_equal(p, perms[0]) for p in perms):
        return None
    n = len(task.train)
    train = tuple((perms[k][i], perms[k][o]) for k, (i, o) in enumerate(task.train))
    tests = tuple(perms[n + t][g] for t, g in enumerate(task.test_inputs))
    return Normalised(Task(task.task_id, train, tests), tuple(perms), fixed, name)


def _most_common(grids: list[np.ndarray]) -> Optional[int]:
    """The colour with the most cells over `grids`, None on a tie."""
    counts = np.sum([np.bincount(g.ravel(), minlength=N_COLOURS) for g in grids], axis=0)
    best = int(np.argmax(counts))
    return None if (counts == counts[best]).sum() > 1 else best


def normalise_background(task: Task) -> Optional[Normalised]:
    """The task with each example's background (its input's most common colour) swapped with the task's (the most
    common colour over all inputs), every other colour kept: one background for tasks whose examples are drawn on
    different ones. None when every input already has the task's background, or when some input, or all of them
    together, has no one most common colour."""
    inputs = [i for i, _ in task.train] + list(task.test_inputs)
    target = _most_common(inputs)
    if target is None:
        return None
    perms = []
    for g in inputs:
        own = _most_common([g])
        if own is None:
            return None
        perm = np.arange(N_COLOURS, dtype=np.uint8)
        perm[own], perm[target] = target, own
        perms.append(perm)
    return _permuted(task, perms, frozenset(range(N_COLOURS)), "background")


def map_back(answer: np.ndarray, perm: np.ndarray, test_input: np.ndarray, fixed: frozenset[int]
              ) -> Optional[np.ndarray]:
    """A normalised answer in the original colours of its test input (`perm`: that input's permutation), or
    None when it holds a colour whose original is neither fixed nor in the test input."""
    inverse = np.argsort(perm).astype(np.uint8)
    allowed = {int(perm[c]) for c in _colours(test_input) | set(fixed)}
    if not _colours(answer) <= allowed:
        return None
    return inverse[answer]
