"""The search's typed values and operations: `Op` (one primitive instance), `TaskContext` (what primitives may
read from a task to fit their parameters), value checks and fingerprints.

Values: a "grid" is a 2-D C-contiguous np.uint8 array with values 0..9 and sides 1..VALUE_MAX_SIDE; a "list" is a
tuple of 1..MAX_LIST grids. A primitive returns None where it does not apply.

Positions: a list made by cutting a grid (objects, split parts) is an `Items`, which also holds each item's
(row, col) in the frame (the cut grid's shape) it came from, so the items can be put back (`lists.overlay_at`).
A list's positions are part of its identity (`value_key`): two lists of equal items at other places overlay
into different grids. A grid carries no position: its identity is its cells.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Optional, Union

import numpy as np

from ..io.tasks import Task

VALUE_MAX_SIDE = 60   # largest side of a grid inside the search (answers must still fit 30)
MAX_LIST = 30   # longest list value
GRID = "grid"
LIST = "list"

Grid = np.ndarray
_UINT8 = np.dtype(np.uint8)
Value = Union[np.ndarray, tuple]


@dataclass(frozen=True)
class Op:
    """One primitive instance: `fn` maps a value of type `arg` to a value of type `ret` (None: not applicable)."""

    name: str
    fn: Callable[[Any], Any]
    arg: str = GRID
    ret: str = GRID
    cost: int = 1
    keeps_shape: bool = False       # True: the result always has the argument's shape (lets the last level
                                    # skip the op on states of the wrong shape without calling it)


def op(fn: Callable[..., Any], arg: str = GRID, ret: str = GRID, *, cost: int = 1, keeps_shape: bool = False,
       label: str | None = None, **params: Any) -> Op:
    """The Op applying `fn(value, **params)`, named `label or fn.__name__` followed by the bound parameter
    values in order, e.g. op(keep_colour, colour=3, bg=0) -> "keep_colour(3,0)"."""
    base = label or fn.__name__
    name = f"{base}({','.join(str(v) for v in params.values())})" if params else base
    return Op(name, partial(fn, **params) if params else fn, arg, ret, cost, keeps_shape)


@dataclass(frozen=True)
class TaskContext:
    """What primitives may read from the task to fix their parameters (never the test outputs)."""

    train_in: tuple[np.ndarray, ...]
    train_out: tuple[np.ndarray, ...]
    test_in: tuple[np.ndarray, ...]
    colours: tuple[int, ...]          # colours anywhere in the inputs and train outputs, sorted
    bg: int                           # most common colour over all inputs
    in_colours: tuple[int, ...] = ()  # colours in any input (train or test)
    out_colours: tuple[int, ...] = () # colours in any train output
    new_colours: tuple[int, ...] = () # in train outputs but in no input
    out_shapes: tuple[tuple[int, int], ...] = field(default=())
    same_shape: bool = False          # every train output has its input's shape
    const_shape: Optional[tuple[int, int]] = None  # the one shape of every train output, if they share it


class Items(tuple):
    """A list value whose items keep where they were: `pos[i]` is item i's (row, col) in a frame of shape
    `frame`. Plain tuple operations (slices, sorted) give a plain tuple: the positions are then gone."""

    pos: tuple[tuple[int, int], ...]
    frame: tuple[int, int]

    def __new__(cls, items: Any, pos: Any, frame: Any) -> "Items":
        self = super().__new__(cls, items)
        self.pos = tuple((int(r), int(c)) for r, c in pos)
        self.frame = (int(frame[0]), int(frame[1]))
        return self

    def placed_like(self, items: Any) -> "Items":
        """`items` (as many as here) at this list's positions, in its frame."""
        new = tuple.__new__(Items, items)
        new.pos, new.frame = self.pos, self.frame
        return new

    def __reduce__(self) -> tuple:
        return (Items, (tuple(self), self.pos, self.frame))


def placed(items: Any, pos: Any, frame: Any) -> Optional["Items"]:
    """`items` with their positions in `frame`, or None when empty or longer than MAX_LIST."""
    if not 0 < len(items) <= MAX_LIST:
        return None
    return Items(items, pos, frame)


# A fitter: (program outputs on the train inputs, true train outputs) -> an Op that maps each exactly, or None.
Fitter = Callable[[list, list], Optional[Op]]


def _colour_set(grids: tuple[np.ndarray, ...]) -> set[int]:
    seen: set[int] = set()
    for g in grids:
        seen.update(int(c) for c in np.unique(g))
    return seen


def make_context(task: Task) -> TaskContext:
    """The context of `task`: its grids and colour/shape facts from the demonstrations and test inputs."""
    return context_of(tuple(i for i, _ in task.train), tuple(o for _, o in task.train), tuple(task.test_inputs))


def context_of(train_in: tuple[np.ndarray, ...], train_out: tuple[np.ndarray, ...],
               test_in: tuple[np.ndarray, ...]) -> TaskContext:
    """The context of demonstrations `train_in` -> `train_out` with test inputs `test_in` (`make_context`)."""
    inputs = train_in + test_in
    counts: Counter = Counter()
    for g in inputs:
        values, n = np.unique(g, return_counts=True)
        counts.update(dict(zip(values.tolist(), n.tolist())))
    bg = min(counts, key=lambda c: (-counts[c], c))
    in_c, out_c = _colour_set(inputs), _colour_set(train_out)
    shapes = tuple(o.shape for o in train_out)
    return TaskContext(
        train_in=train_in, train_out=train_out, test_in=test_in,
        colours=tuple(sorted(in_c | out_c)), bg=int(bg),
        in_colours=tuple(sorted(in_c)), out_colours=tuple(sorted(out_c)),
        new_colours=tuple(sorted(out_c - in_c)), out_shapes=shapes,
        same_shape=all(i.shape == o.shape for i, o in zip(train_in, train_out)),
        const_shape=shapes[0] if len(set(shapes)) == 1 else None,
    )


def as_grid(value: Any) -> Optional[np.ndarray]:
    """`value` as a valid search grid (C-contiguous uint8, sides 1..VALUE_MAX_SIDE, read-only), else None."""
    if not isinstance(value, np.ndarray) or value.ndim != 2:
        return None
    h, w = value.shape
    if not (0 < h <= VALUE_MAX_SIDE and 0 < w <= VALUE_MAX_SIDE):
        return None
    if value.dtype is _UINT8:   # the common case: a uint8 grid, frozen if it is C-contiguous
        flags = value.flags
        if flags.c_contiguous:
            if flags.writeable:
                flags.writeable = False
            return value
    elif value.dtype != np.uint8:
        if value.dtype.kind not in "iu" or value.min() < 0 or value.max() > 9:
            return None
        value = value.astype(np.uint8)
    if not value.flags.c_contiguous:
        value = np.ascontiguousarray(value)
    value.flags.writeable = False
    return value


def as_value(value: Any, kind: str) -> Optional[Value]:
    """`value` checked as type `kind` ("grid" or "list"), normalised, or None when it is not valid."""
    if kind == GRID:
        return as_grid(value)
    if not isinstance(value, (tuple, list)) or not 0 < len(value) <= MAX_LIST:
        return None
    items = tuple([as_grid(v) for v in value])
    if any(v is None for v in items):
        return None
    return value.placed_like(items) if isinstance(value, Items) else items


def value_key(value: Optional[Value]) -> int:
    """Fingerprint of one value (equal values give equal keys; 64-bit, collisions are negligible)."""
    if value is None:
        return 0
    if isinstance(value, tuple):
        keys = tuple(value_key(v) for v in value)
        return hash((keys, value.pos, value.frame)) if isinstance(value, Items) else hash(keys)
    return hash((value.shape, value.tobytes()))


def cells(value: Optional[Value]) -> int:
    """Number of cells a value holds (memory accounting)."""
    if value is None:
        return 0
    if isinstance(value, tuple):
        return sum(v.size for v in value)
    return value.size

