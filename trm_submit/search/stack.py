"""The greedy stacker: builds an answer out of several search states ("pieces") that each reproduce part of
every train output, as an overlay in which earlier pieces win.

A piece is a grid state whose train values have the train outputs' shapes. It can paint in three modes: "fg"
(only its non-background cells), "all" (every cell) or "bg" (only its background cells). A (piece, mode) is
admissible while it agrees with the train output on every still unpainted cell it would paint, on every
demonstration; each step takes the admissible one that paints the most new cells (ties: the cheaper piece). A
stack is a solution when every train cell is painted; its test answer is painted the same way and is dropped if
a test cell stays unpainted. The first step also tries the next best few choices, since the greedy can lock in a
wrong first piece.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..budget import Budget
from .dsl import value_key

MAX_PIECES = 1500   # pieces kept per search (the cheapest first, in discovery order)
MAX_STEPS = 4       # pieces per stack
STARTS = 4          # first-step alternatives
MODES = ("fg", "all", "bg")
UNPAINTED = 10


@dataclass
class Piece:
    text: str
    cost: int
    train: tuple[np.ndarray, ...]
    tests: tuple[np.ndarray, ...]  # Pieces.add keeps no piece with a missing test value


@dataclass
class Pieces:
    items: list[Piece] = field(default_factory=list)
    keys: set = field(default_factory=set)

    def add(self, text: str, cost: int, train: tuple, tests: tuple) -> None:
        if len(self.items) >= MAX_PIECES or any(t is None for t in tests):
            return
        key = hash(tuple(value_key(v) for v in train + tests))
        if key not in self.keys:
            self.keys.add(key)
            self.items.append(Piece(text, cost, train, tests))


def _paint(canvas: np.ndarray, value: np.ndarray, mode: str, bg: int) -> None:
    mask = canvas == UNPAINTED
    if mode == "fg":
        mask &= value != bg
    elif mode == "bg":
        mask &= value == bg
    canvas[mask] = value[mask]


def _greedy(first: tuple[int, int], ctx: "_Matrices", budget: Budget) -> Optional[list[tuple[int, int]]]:
    """Steps (piece index, mode index) from the given first step until every train cell is painted."""
    chosen = [first]
    unpainted = ~ctx.masks[first[1]][first[0]]
    while unpainted.any():
        if len(chosen) >= MAX_STEPS or budget.over():
            return None
        best = _best_steps(ctx, unpainted, ctx.test_ok(chosen[0][0]), 1)
        if not best:
            return None
        chosen.append(best[0])
        unpainted &= ~ctx.masks[best[0][1]][best[0][0]]
    return chosen


def _best_steps(ctx: "_Matrices", unpainted: np.ndarray, allowed: np.ndarray, n: int) -> list[tuple[int, int]]:
    """The n admissible (piece, mode) steps that paint the most unpainted cells (ties: lower index)."""
    options = []
    for m, mask in enumerate(ctx.masks):
        new = mask & unpainted
        gain = new.sum(axis=1)
        bad = (new & ~ctx.agree).any(axis=1)
        gain[bad | ~allowed] = 0
        for p in np.flatnonzero(gain):
            options.append((-int(gain[p]), m, int(p)))
    options.sort(key=lambda o: (o[0], o[2], o[1]))
    return [(p, m) for _, m, p in options[:n]]


class _Matrices:
    """Every piece's train cells flattened side by side: agreement with the outputs and paint masks."""

    def __init__(self, pieces: list[Piece], targets: tuple[np.ndarray, ...], bg: int) -> None:
        flat = np.stack([np.concatenate([v.ravel() for v in p.train]) for p in pieces])
        target = np.concatenate([t.ravel() for t in targets])
        self.agree = flat == target
        self.masks = (flat != bg, np.ones_like(self.agree), flat == bg)
        self.shapes = [tuple(t.shape for t in p.tests) for p in pieces]

    def test_ok(self, first: int) -> np.ndarray:
        return np.array([s == self.shapes[first] for s in self.shapes], dtype=bool)


def stacks(pieces: Pieces, targets: tuple[np.ndarray, ...], bg: int, budget: Budget) -> list[tuple[str, int, tuple]]:
    """Solutions made by stacking pieces: (program text, cost, test answers), best first step first."""
    items = sorted(pieces.items, key=lambda p: p.cost)
    if len(items) < 2 or budget.over():
        return []
    ctx = _Matrices(items, targets, bg)
    start_unpainted = np.ones(ctx.agree.shape[1], dtype=bool)
    found, seen = [], set()
    for first in _best_steps(ctx, start_unpainted, np.ones(len(items), dtype=bool), STARTS):
        if budget.over():
            break
        steps = _greedy(first, ctx, budget)
        if steps is None or len(steps) < 2 or tuple(steps) in seen:
            continue
        seen.add(tuple(steps))
        tests = _paint_tests(items, steps, bg)
        text = "stack(" + " ; ".join(f"{items[p].text} [{MODES[m]}]" for p, m in steps) + ")"
        found.append((text, sum(items[p].cost for p, _ in steps) + len(steps), tests))
    return found


def _paint_tests(items: list[Piece], steps: list[tuple[int, int]], bg: int) -> tuple:
    answers = []
    for t in range(len(items[steps[0][0]].tests)):
        canvas = np.full(items[steps[0][0]].tests[t].shape, UNPAINTED, dtype=np.uint8)
        for p, m in steps:
            _paint(canvas, items[p].tests[t], MODES[m], bg)
        answers.append(None if (canvas == UNPAINTED).any() else canvas)
    return tuple(answers)
