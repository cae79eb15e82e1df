"""The greedy stacker: builds an answer out of several search states ("pieces") that each reproduce part of
every train output, as an overlay in which earlier pieces win; and the patch completion of a stack that leaves
cells unpainted.

A piece is a grid state whose train values have the train outputs' shapes; the cheapest MAX_PIECES found are
kept (by program cost over every level, then discovery order), and the stacker packs the cheapest of them up to
MAX_CELLS train cells in all (a task of ten 30x30 demonstrations stacks its ~300 cheapest). Past that cut, up to
MAX_CLEAN clean pieces are kept too (every cell they paint in "fg", or in "bg", right on every demonstration) and
packed first, within a quarter of the MAX_CELLS bound: a costly clean piece is often the one a stack lacks.
A piece can paint in three modes: "fg" (only its non-background cells), "all" (every cell) or "bg" (only its
background cells).
A (piece, mode) is admissible while it agrees with the train output on every still unpainted cell it would
paint, on every demonstration.

Greedy passes (each gives at most one stack): every pass takes, step after step, the admissible (piece, mode)
that paints the most new cells, counted over every demonstration (first pass, which also tries the next best
few first steps, since the greedy can lock in a wrong first piece) or on one "care" demonstration (one pass per
each of the first CARE_DEMOS demonstrations); each of these is repeated with only the pieces up to each cost
threshold (the cheapest pieces first). A stack is a solution when every train cell is painted; its test answer
is painted the same way and dropped if a test cell stays unpainted. After each step of a pass, a stack that
leaves cells unpainted is also tried patch-completed (`patch_complete`): kept when the completion reproduces
every train output.

Base stacks (`base_stacks`): built from the bottom, for answers that are a whole image with a few corrections on
top. Each of the BASES pieces that disagree with the train outputs on the fewest cells is tried as the bottom layer
("all"); clean pieces (ones that paint no cell the outputs disagree with, in mode "fg" or "bg") are laid on top,
each covering the most of the base's wrong cells still uncovered, up to MAX_STEPS pieces in all. The greedy from
the top cannot find these when the base's own clean part is small and larger clean pieces lead it elsewhere.

Partial stacks (`partial_stacks`): one greedy pass per each of the first CARE_DEMOS demonstrations left out
(with at least 3), whose cells neither count nor constrain; a stack of 2+ pieces that paints every other
demonstration's cells is a partial fit (ranked after every full fit by the engine).

Subset stacks (`subset_stacks`): for every subset of the first SUBSET_DEMOS demonstrations and every "care"
demonstration in it (and each cost threshold), one greedy pass whose steps must agree with the outputs of the
subset on the cells they paint and are chosen by the cells they paint on the care demonstration alone, up to
SUBSET_STEPS pieces, until the care demonstration is painted; after each step a patch-completed variant is
kept when it reproduces the care demonstration. Every demonstration is then checked: a stack is recorded with
the number it reproduces exactly (its test canvases painted whole, at least one demonstration reproduced), so
a stack built on some demonstrations is verified on the others.

Admissibility and gains are bit operations: every piece's cells over all demonstrations are packed into
uint64 words (one row per piece), so a step is a few vectorised and/popcount passes over pieces x words.
"""

from __future__ import annotations

import copy
import heapq
import itertools
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..budget import Budget
from . import grid_loops
from .dsl import value_key

MAX_PIECES = 3000   # pieces kept per search (the cheapest)
MAX_CLEAN = 500     # pieces past that cut kept besides when clean (they paint only right cells in "fg" or "bg")
MAX_CELLS = 3_000_000  # train cells of all the pieces the stacker packs (the cheapest first): bounds its time
MAX_STEPS = 4       # pieces per stack
STARTS = 4          # first-step alternatives of the first pass
CARE_DEMOS = 5      # demonstrations that each get a pass where only their own cells count
COST_THRESHOLDS = 3 # cost thresholds tried besides "all pieces" (the lowest distinct piece costs)
MODES = ("fg", "all", "bg")
UNPAINTED = 10
OUTSIDE = 11        # beyond the grid, in patch completion
MAX_HOLE_SHARE = 3  # patch completion is tried when at most 1/3 of each train canvas is unpainted
SUBSET_DEMOS = 5    # subset stacks: subsets of the first SUBSET_DEMOS demonstrations
SUBSET_STEPS = 10   # pieces per subset stack
BASES = 30          # base stacks: the pieces with the fewest wrong train cells tried as the bottom layer


@dataclass
class Piece:
    text: str
    cost: int
    train: tuple[np.ndarray, ...]
    tests: tuple[np.ndarray, ...]  # Pieces.add keeps no piece with a missing test value


@dataclass
class Pieces:
    """The cheapest MAX_PIECES distinct pieces (ties: the first found), `items` in no particular order; and, where
    the targets are known, up to MAX_CLEAN more past that cut that are clean: on every demonstration the piece's
    non-background cells (or its background cells) all take the output's colour, a few cells at least. A
    costly clean piece is what a stack of cheap ones often lacks ("the rarest cell's halo, in 2")."""

    targets: Optional[tuple[np.ndarray, ...]] = None
    bg: int = 0
    items: list[Piece] = field(default_factory=list)
    clean: list[Piece] = field(default_factory=list)
    keys: set = field(default_factory=set)
    _heap: list = field(default_factory=list)  # (-cost, -order, index into items): the worst piece on top
    _order: int = 0
    _packed: Optional[tuple] = None            # (targets, bg, sorted items, _Matrices) until the next add

    def matrices(self, targets: tuple[np.ndarray, ...], bg: int) -> tuple[list[Piece], "_Matrices"]:
        """The pieces sorted by cost (stable: ties keep discovery order) and their packed matrices, built once
        for every stacker pass over the same pieces and targets; the clean ones past the cut count first
        within the MAX_CELLS bound."""
        if self._packed is None or self._packed[0] is not targets or self._packed[1] != bg:
            per_piece = sum(t.size for t in targets)
            room = max(1, MAX_CELLS // per_piece)
            clean = self.clean[:room // 4] if self._same_targets(targets, bg) else []
            items = sorted(sorted(self.items, key=lambda p: p.cost)[:room - len(clean)] + clean,
                           key=lambda p: p.cost)
            self._packed = (targets, bg, items, _Matrices(items, targets, bg))
        return self._packed[2], self._packed[3]

    def _same_targets(self, targets: tuple[np.ndarray, ...], bg: int) -> bool:
        """Whether the clean pieces were judged against these targets."""
        return self.targets is not None and bg == self.bg and len(targets) == len(self.targets) and all(
            a is b or np.array_equal(a, b) for a, b in zip(targets, self.targets))

    def add(self, text: str, cost: int, train: tuple, tests: tuple) -> None:
        if any(t is None for t in tests):
            return
        if len(self.items) >= MAX_PIECES and cost >= -self._heap[0][0]:
            self._keep_if_clean(Piece(text, cost, train, tests))
            return
        key = hash(tuple(value_key(v) for v in train + tests))
        if key in self.keys:
            return
        self._packed = None
        self.keys.add(key)
        self._order += 1
        piece = Piece(text, cost, train, tests)
        if len(self.items) < MAX_PIECES:
            heapq.heappush(self._heap, (-cost, -self._order, len(self.items)))
            self.items.append(piece)
            return
        _, _, slot = heapq.heappop(self._heap)  # the costliest, latest found piece
        dropped, self.items[slot] = self.items[slot], piece
        heapq.heappush(self._heap, (-cost, -self._order, slot))
        self._keep_if_clean(dropped, known=True)

    def _keep_if_clean(self, piece: Piece, known: bool = False) -> None:
        if self.targets is None or len(self.clean) >= MAX_CLEAN or not is_clean(piece.train, self.targets, self.bg):
            return
        if not known:
            key = hash(tuple(value_key(v) for v in piece.train + piece.tests))
            if key in self.keys:
                return
            self.keys.add(key)
        self._packed = None
        self.clean.append(piece)


MIN_CLEAN_CELLS = 2   # cells per demonstration a clean piece paints at least


def is_clean(values: tuple[np.ndarray, ...], targets: tuple[np.ndarray, ...], bg: int) -> bool:
    """On every demonstration the value's non-background cells (or on every one its background cells) number
    MIN_CLEAN_CELLS or more and all take the target's colour."""
    for painted in (lambda v: v != bg, lambda v: v == bg):
        ok = True
        for v, t in zip(values, targets):
            mask = painted(v)
            if mask.sum() < MIN_CLEAN_CELLS or (v[mask] != t[mask]).any():
                ok = False
                break
        if ok:
            return True
    return False


def _paint(canvas: np.ndarray, value: np.ndarray, mode: str, bg: int) -> None:
    mask = canvas == UNPAINTED
    if mode == "fg":
        mask &= value != bg
    elif mode == "bg":
        mask &= value == bg
    canvas[mask] = value[mask]


def _pack(bits: np.ndarray) -> np.ndarray:
    """Rows of booleans -> rows of uint64 words (padded with zeros)."""
    packed = np.packbits(bits, axis=-1, bitorder="little")
    pad = (-packed.shape[-1]) % 8
    if pad:
        packed = np.concatenate([packed, np.zeros(packed.shape[:-1] + (pad,), np.uint8)], axis=-1)
    return np.ascontiguousarray(packed).view(np.uint64)


class _Matrices:
    """Every piece's train cells flattened side by side, packed: agreement with the outputs and paint masks."""

    def __init__(self, pieces: list[Piece], targets: tuple[np.ndarray, ...], bg: int) -> None:
        flat = np.stack([np.concatenate([v.ravel() for v in p.train]) for p in pieces])
        target = np.concatenate([t.ravel() for t in targets])
        self.cells = flat.shape[1]
        self.disagree = _pack(flat != target)
        self.masks = tuple(_pack(m) for m in (flat != bg, np.ones_like(flat, dtype=bool), flat == bg))
        sizes = np.cumsum([0] + [t.size for t in targets])
        self.demo = []  # per demonstration: its cells as packed bits
        for a, b in zip(sizes[:-1], sizes[1:]):
            m = np.zeros(self.cells, dtype=bool)
            m[a:b] = True
            self.demo.append(_pack(m))
        self.all_cells = _pack(np.ones(self.cells, dtype=bool))
        ids: dict = {}
        self.shape_ids = np.array([ids.setdefault(tuple(t.shape for t in p.tests), len(ids)) for p in pieces])

    def test_ok(self, first: int) -> np.ndarray:
        """The pieces whose test values have the shapes of piece `first`'s."""
        return self.shape_ids == self.shape_ids[first]


def _cost_levels(costs: np.ndarray) -> list[int]:
    """The cost thresholds a pass may stop at: the COST_THRESHOLDS lowest distinct piece costs (never the
    highest: that threshold would be every piece)."""
    return sorted(set(costs.tolist()))[:-1][:COST_THRESHOLDS]


def _best_steps(ctx: _Matrices, unpainted: np.ndarray, allowed: np.ndarray, n: int,
                care: Optional[np.ndarray] = None) -> list[tuple[int, int]]:
    """The n admissible (piece, mode) steps that paint the most unpainted cells (on the `care` cells if given;
    ties: lower piece index, then mode)."""
    options = []
    counted = unpainted if care is None else unpainted & care
    for m, mask in enumerate(ctx.masks):
        new = mask & unpainted
        gain = np.bitwise_count(new & counted).sum(axis=1, dtype=np.int64)
        bad = (new & ctx.disagree).any(axis=1)
        gain[bad | ~allowed] = 0
        for p in np.flatnonzero(gain):
            options.append((-int(gain[p]), int(p), m))
    options.sort()
    return [(p, m) for _, p, m in options[:n]]


def _greedy(first: tuple[int, int], ctx: _Matrices, allowed: np.ndarray, care: Optional[np.ndarray],
            budget: Budget) -> list[list[tuple[int, int]]]:
    """The prefixes of one greedy pass from `first` (the last one paints every train cell when the pass
    succeeds)."""
    chosen = [first]
    prefixes = [list(chosen)]
    unpainted = ctx.all_cells & ~ctx.masks[first[1]][first[0]]
    allowed = allowed & ctx.test_ok(first[0])
    while unpainted.any() and len(chosen) < MAX_STEPS and not budget.over():
        best = _best_steps(ctx, unpainted, allowed, 1, care)
        if not best and care is not None:  # the care demonstration is done: finish on the others
            best = _best_steps(ctx, unpainted, allowed, 1)
        if not best:
            break
        chosen.append(best[0])
        prefixes.append(list(chosen))
        unpainted &= ~ctx.masks[best[0][1]][best[0][0]]
    return prefixes


def stacks(pieces: Pieces, targets: tuple[np.ndarray, ...], bg: int, budget: Budget) -> list[tuple[str, int, tuple]]:
    """Solutions made by stacking pieces (module docstring): (program text, cost, test answers), the passes'
    stacks in pass order."""
    if not pieces.items or budget.over():
        return []
    items, ctx = pieces.matrices(targets, bg)
    costs = np.array([p.cost for p in items])
    every = np.ones(len(items), dtype=bool)
    passes: list[tuple[np.ndarray, Optional[np.ndarray], int]] = [(every, None, STARTS)]
    levels = _cost_levels(costs)
    for limit in [None] + levels:
        allowed = every if limit is None else costs <= limit
        if limit is not None:
            passes.append((allowed, None, 1))
        if len(targets) > 1:
            passes += [(allowed, ctx.demo[d], 1) for d in range(min(CARE_DEMOS, len(targets)))]
    found: list[tuple[str, int, tuple]] = []
    seen: set = set()
    for allowed, care, starts in passes:
        if budget.over():
            break
        for first in _best_steps(ctx, ctx.all_cells, allowed, starts, care):
            if budget.over():
                break
            for steps in _greedy(first, ctx, allowed, care, budget):
                if tuple(steps) in seen or budget.over():
                    continue
                seen.add(tuple(steps))
                result = _solution(items, steps, targets, bg)
                if result is not None:
                    found.append(result)
    return found


def base_stacks(pieces: Pieces, targets: tuple[np.ndarray, ...], bg: int, budget: Budget
                ) -> list[tuple[str, int, tuple]]:
    """Stacks built from the bottom (module docstring, "Base stacks"): (program text, cost, test answers)."""
    if not pieces.items or budget.over():
        return []
    items, ctx = pieces.matrices(targets, bg)
    wrong = np.bitwise_count(ctx.disagree).sum(axis=1, dtype=np.int64)
    # clean (piece, mode) tops, modes "fg" and "bg": they paint some cell and no cell the outputs disagree with
    clean = {m: ~(ctx.masks[m] & ctx.disagree).any(axis=1) & ctx.masks[m].any(axis=1) for m in (0, 2)}
    found: list[tuple[str, int, tuple]] = []
    for base in np.argsort(wrong, kind="stable")[:BASES]:
        if budget.over():
            break
        need = ctx.disagree[base].copy()
        allowed = ctx.test_ok(int(base))
        steps: list[tuple[int, int]] = []
        while need.any() and len(steps) < MAX_STEPS - 1:
            best = (0, -1, -1)
            for m, ok in clean.items():
                gain = np.bitwise_count(ctx.masks[m] & need).sum(axis=1, dtype=np.int64)
                gain[~(ok & allowed)] = 0
                p = int(np.argmax(gain))
                if gain[p] > best[0]:
                    best = (int(gain[p]), p, m)
            if best[1] < 0:
                break
            steps.append((best[1], best[2]))
            need &= ~ctx.masks[best[2]][best[1]]
        if steps and not need.any():
            result = _solution(items, steps + [(int(base), 1)], targets, bg)
            if result is not None:
                found.append(result)
    return found


def partial_stacks(pieces: Pieces, targets: tuple[np.ndarray, ...], bg: int, budget: Budget
                   ) -> list[tuple[str, int, tuple]]:
    """Stacks that reproduce every demonstration but one (module docstring): (program text, cost, test
    answers)."""
    if len(targets) < 3 or not pieces.items or budget.over():
        return []
    items, full = pieces.matrices(targets, bg)
    every = np.ones(len(items), dtype=bool)
    found: list[tuple[str, int, tuple]] = []
    for d in range(min(CARE_DEMOS, len(targets))):
        if budget.over():
            break
        ctx = copy.copy(full)  # demonstration d left out: its cells neither count nor constrain
        ctx.disagree = full.disagree & ~full.demo[d]
        ctx.all_cells = full.all_cells & ~full.demo[d]
        for first in _best_steps(ctx, ctx.all_cells, every, 1):
            steps = _greedy(first, ctx, every, None, budget)[-1]
            if len(steps) < 2:
                continue
            train = _painted_train(items, steps, len(targets), bg)
            others_done = not any((c == UNPAINTED).any() for i, c in enumerate(train) if i != d)
            if not others_done or np.array_equal(train[d], targets[d]):
                continue
            text, cost = _described(items, steps)
            found.append((text, cost, _paint_tests(items, steps, bg, complete=False)))
    return found


def _solution(items: list[Piece], steps: list[tuple[int, int]], targets: tuple[np.ndarray, ...], bg: int
              ) -> Optional[tuple[str, int, tuple]]:
    """The stack `steps` as a solution: as painted when it paints every train cell (and has 2+ pieces),
    else patch-completed when the completion reproduces every train output; None otherwise."""
    train = _painted_train(items, steps, len(targets), bg)
    text, cost = _described(items, steps)
    complete = all((c != UNPAINTED).all() for c in train)
    if complete:
        if len(steps) < 2:
            return None
        return text, cost, _paint_tests(items, steps, bg, complete=False)
    if any((c == UNPAINTED).sum() * MAX_HOLE_SHARE > c.size for c in train):
        return None
    if not all(_same(patch_complete(c), t) for c, t in zip(train, targets)):
        return None
    return text + " | patch_complete", cost + 1, _paint_tests(items, steps, bg, complete=True)


def _described(items: list[Piece], steps: list[tuple[int, int]]) -> tuple[str, int]:
    """(program text, cost) of the stack `steps`: its pieces' costs plus one per piece."""
    text = " ; ".join(f"{items[p].text} [{MODES[m]}]" for p, m in steps)
    return "stack(" + text + ")", sum(items[p].cost for p, _ in steps) + len(steps)


def _same(a: Optional[np.ndarray], b: np.ndarray) -> bool:
    return a is not None and bool(np.array_equal(a, b))


def _painted(values: list[np.ndarray], modes: list[int], bg: int) -> np.ndarray:
    canvas = np.full(values[0].shape, UNPAINTED, dtype=np.uint8)
    for v, m in zip(values, modes):
        _paint(canvas, v, MODES[m], bg)
    return canvas


def _painted_train(items: list[Piece], steps: list[tuple[int, int]], n: int, bg: int) -> list[np.ndarray]:
    """The canvas of each of the `n` demonstrations after the stack `steps` (UNPAINTED where nothing paints)."""
    return [_painted([items[p].train[i] for p, _ in steps], [m for _, m in steps], bg) for i in range(n)]


def _paint_tests(items: list[Piece], steps: list[tuple[int, int]], bg: int, complete: bool) -> tuple:
    answers: list[Optional[np.ndarray]] = []
    for t in range(len(items[steps[0][0]].tests)):
        canvas = _painted([items[p].tests[t] for p, _ in steps], [m for _, m in steps], bg)
        if complete:
            answers.append(patch_complete(canvas))
        else:
            answers.append(None if (canvas == UNPAINTED).any() else canvas)
    return tuple(answers)


def _patches(padded: np.ndarray) -> np.ndarray:
    """Every 3x3 window of `padded` without an unpainted cell, in its 8 orientations, as rows of 9."""
    h, w = padded.shape
    wins = np.lib.stride_tricks.sliding_window_view(padded, (3, 3)).reshape(-1, 3, 3)
    wins = wins[(wins != UNPAINTED).all(axis=(1, 2))]
    if not len(wins):
        return np.zeros((0, 9), np.uint8)
    views = [wins, wins[:, ::-1], wins[:, :, ::-1], wins[:, ::-1, ::-1]]
    views += [v.transpose(0, 2, 1) for v in views]
    return np.unique(np.concatenate([v.reshape(-1, 9) for v in views]), axis=0)


def patch_complete(canvas: np.ndarray) -> Optional[np.ndarray]:
    """`canvas` with its unpainted cells filled from its own fully painted 3x3 patches in their 8 orientations
    (the grid's outside counts as a colour of its own): the cells with the most known neighbours first, each
    filled when every patch matching its known neighbourhood gives it the same colour; None when a cell stays
    unfilled or the canvas has nothing to complete."""
    if not (canvas == UNPAINTED).any():
        return None
    padded = np.pad(canvas, 1, constant_values=OUTSIDE)
    patches = _patches(padded)
    if not len(patches):
        return None
    while True:
        holes = np.argwhere(padded == UNPAINTED)
        if not len(holes):
            return np.ascontiguousarray(padded[1:-1, 1:-1])
        wins = np.stack([padded[y - 1:y + 2, x - 1:x + 2].ravel() for y, x in holes])
        known = wins != UNPAINTED
        counts = known.sum(axis=1)
        filled = False
        for level in sorted(set(counts.tolist()), reverse=True):  # the best known holes, all at once
            for k in np.flatnonzero(counts == level):
                match = ((patches == wins[k]) | ~known[k]).all(axis=1)
                colours = np.unique(patches[match, 4])
                if len(colours) == 1:
                    padded[holes[k][0], holes[k][1]] = colours[0]
                    filled = True
            if filled:
                break
        if not filled:
            return None


def subset_stacks(pieces: Pieces, targets: tuple[np.ndarray, ...], bg: int, budget: Budget
                  ) -> list[tuple[str, int, tuple, int, int]]:
    """Stacks checked on the demonstrations they were not built for (module docstring, "Subset stacks"):
    (program text, cost, test answers, demonstrations reproduced, pieces), for every stack whose test
    canvases are all painted and that reproduces at least one demonstration."""
    if not pieces.items or budget.over():
        return []
    items, ctx = pieces.matrices(targets, bg)
    masks = np.ascontiguousarray(np.stack(ctx.masks))
    costs = np.array([p.cost for p in items])
    n = len(targets)
    first = list(range(min(SUBSET_DEMOS, n)))
    subsets = [s for k in range(len(first), 0, -1) for s in itertools.combinations(first, k)]
    levels = _cost_levels(costs)
    found: list[tuple[str, int, tuple, int, int]] = []
    seen: set = set()
    for limit in [None] + levels:
        allowed = np.ones(len(items), dtype=bool) if limit is None else costs <= limit
        for subset in subsets:
            constrain = np.bitwise_or.reduce([ctx.demo[d] for d in subset])
            for care in subset:
                if budget.over():
                    return found
                _subset_pass(items, ctx, masks, allowed, constrain, care, targets, bg, seen, found)
    return found


def _subset_pass(items: list[Piece], ctx: _Matrices, masks: np.ndarray, allowed: np.ndarray,
                 constrain: np.ndarray, care: int, targets: tuple[np.ndarray, ...], bg: int, seen: set,
                 found: list) -> None:
    """One greedy pass of `subset_stacks`: steps gain on the `care` demonstration while they agree on every
    open cell of the subset (`constrain`); the stack after each step is tried patch-completed, the last one
    as painted."""
    open_cells = constrain.copy()
    care_cells = ctx.demo[care]
    steps: list[tuple[int, int]] = []
    while len(steps) < SUBSET_STEPS:
        p, m, gain = grid_loops.best_stack_step(masks, ctx.disagree, open_cells, care_cells, allowed)
        if p < 0:
            break
        if not steps:  # the test canvases take the first piece's shapes
            allowed = allowed & ctx.test_ok(p)
        steps.append((p, m))
        open_cells = open_cells & ~masks[m, p]
        if not (open_cells & care_cells).any():
            break
        if (care, tuple(steps)) not in seen:  # another pass may have tried this prefix for this care already
            seen.add((care, tuple(steps)))
            _record(items, steps, targets, bg, care, True, found)
    if steps and tuple(steps) not in seen:
        seen.add(tuple(steps))
        _record(items, steps, targets, bg, care, False, found)


def _record(items: list[Piece], steps: list[tuple[int, int]], targets: tuple[np.ndarray, ...], bg: int,
            care: int, complete: bool, found: list) -> None:
    """Adds the stack `steps` to `found` (as painted, or patch-completed when `complete` and the completion
    reproduces the care demonstration) when its test canvases are whole and it reproduces a demonstration."""
    painted = _painted_train(items, steps, len(targets), bg)
    train: list[Optional[np.ndarray]] = list(painted)
    if complete:
        holes = painted[care] == UNPAINTED
        if not holes.any() or holes.sum() * MAX_HOLE_SHARE > holes.size:
            return
        cared = patch_complete(painted[care])
        if not _same(cared, targets[care]):
            return
        train = [cared if i == care else patch_complete(c) if (c == UNPAINTED).any() else c
                 for i, c in enumerate(painted)]
    goods = sum(_same(c, t) for c, t in zip(train, targets))
    if goods == 0:
        return
    tests = _paint_tests(items, steps, bg, complete=complete)
    if any(t is None for t in tests):
        return
    text, cost = _described(items, steps)
    found.append((text + (" | patch_complete" if complete else ""), cost + int(complete), tests, goods, len(steps)))
