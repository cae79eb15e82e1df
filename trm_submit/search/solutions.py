"""Exact verification of a search state against every demonstration, directly or through a fitted finisher,
and the set of solutions found so far (one per distinct tuple of test answers, cheapest program kept).

Partial fits: a grid state that reproduces every demonstration but one (with at least PARTIAL_MIN_DEMOS
demonstrations) is kept apart, in `Verifier.partials`; its answers rank after every full fit.

Finishers (see `dsl.Fitter`) are tried only on grid states whose train values already have the train
outputs' shapes, so a finisher must keep the shape (a colour map does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from .dsl import Fitter, Op, TaskContext, as_grid, value_key
from .stack import Pieces

PARTIAL_MIN_DEMOS = 3   # a partial fit must reproduce at least 2 demonstrations and miss exactly one


@dataclass
class Solution:
    text: str                                # readable program, e.g. "crop(largest_object) | flip_h"
    cost: int
    tests: tuple[Optional[np.ndarray], ...]  # its answer per test input (None: it does not apply there)


@dataclass
class Solutions:
    by_key: dict[int, Solution] = field(default_factory=dict)

    def add(self, text: str, cost: int, tests: tuple) -> None:
        key = hash(tuple(value_key(t) for t in tests))
        old = self.by_key.get(key)
        if old is None:
            self.by_key[key] = Solution(text, cost, tests)
        elif cost < old.cost:
            old.text, old.cost = text, cost

    @property
    def found(self) -> list[Solution]:
        return list(self.by_key.values())


def program_text(program: tuple[str, ...]) -> str:
    return " | ".join(program) if program else "identity"


class Verifier:
    """Checks states against the train outputs and records the solutions, and the states of the train
    outputs' shapes that solve nothing alone (pieces for the stacker)."""

    def __init__(self, ctx: TaskContext, finishers: list[Fitter]) -> None:
        self.targets = ctx.train_out
        self.shapes = tuple(t.shape for t in ctx.train_out)
        self.n_train = len(ctx.train_out)
        self.finishers = finishers
        self.solutions = Solutions()
        self.partials = Solutions()   # programs that reproduce every demonstration but one
        self.pieces = Pieces(targets=ctx.train_out, bg=ctx.bg)
        self.fit_cache: dict[int, list[Op]] = {}
        self.fit_errors = 0

    def shape_fits(self, i: int, value: object) -> bool:
        return isinstance(value, np.ndarray) and value.shape == self.shapes[i]

    def check(self, values: tuple, program: tuple[str, ...], cost: int, piece: bool = True) -> bool:
        """Record `values` (train then test) as a solution if it reproduces every train output, directly or
        after a fitted finisher; True when something was recorded. Otherwise, with the outputs' shapes, it
        is a piece for the stacker (unless not `piece`)."""
        train = values[: self.n_train]
        tests = values[self.n_train:]
        fits = [self.shape_fits(i, v) for i, v in enumerate(train)]
        # shapes checked first: cheaper than np.array_equal
        same = [f and bool((v == t).all()) for v, t, f in zip(train, self.targets, fits)]
        if all(same):
            self.solutions.add(program_text(program), cost, tests)
            return True
        if self.n_train >= PARTIAL_MIN_DEMOS and sum(same) == self.n_train - 1:
            self.partials.add(program_text(program), cost, tests)
        if not all(fits):
            return False
        if piece:
            self.pieces.add(program_text(program), cost, tuple(train), tuple(tests))
        fitted = self.fitted(train)
        for op in fitted:
            fixed = tuple(None if t is None else _apply(op.fn, t) for t in tests)
            self.solutions.add(program_text(program + (op.name,)), cost + op.cost, fixed)
        return bool(fitted)

    def fitted(self, train: tuple) -> list[Op]:
        """The finisher ops that map these train values onto the outputs (cached by the train values: many
        programs differ only on the test inputs)."""
        key = hash(tuple(value_key(v) for v in train))
        ops = self.fit_cache.get(key)
        if ops is None:
            ops = []
            for fit in self.finishers:
                try:
                    op = fit(list(train), list(self.targets))
                except Exception:
                    self.fit_errors += 1
                    continue
                if op is not None:
                    ops.append(op)
            self.fit_cache[key] = ops
        return ops


def _apply(fn: Callable[[Any], Any], grid: np.ndarray) -> Optional[np.ndarray]:
    try:
        return as_grid(fn(grid))
    except Exception:
        return None
