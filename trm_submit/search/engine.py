"""The search engine: breadth-first enumeration of op compositions, state deduplication, exact verification
on every demonstration (optionally through a fitted finisher) and candidate ranking.

A state is the tuple of one value per train input and per test input; states that hold the same values
everywhere are one state (fingerprint `dsl.value_key` over all of them). An op is applied once per state over
every value: a None (or an exception) on any train value drops the child; a None on a test value keeps the
child, but that test input gets no candidate from it or its descendants.

Start states: the inputs (level 0); after level 1, blank canvases of the input size and of the output size
(true on the demonstrations, predicted from the inputs on the test inputs), and with LEAVE_ONE_OUT the
leave-one-out constants (for demonstration k: its output on every other demonstration and on the test inputs,
a blank canvas in its own slot). A list state is also the argument of every grid -> grid op, applied to each
item ("each(op)": an implicit map that keeps the items' positions).

The post-pass (`postpass`: overlay a list at its positions, recolour to one output colour, embed into the output
size) costs no depth. The last level is only checked, not stored: every op that gives a grid is tried there on
the train values one by one and given up at the first result that cannot be that train output, as it is or
through the post-pass (fixed on the first demonstration); then, time permitting, the list ops of list states,
through the overlay at positions. The test output sizes are predicted (`sizes`) from the shapes of the states of
levels <= SEED_LEVEL before the last level. After the enumeration (ENUMERATION_SHARE of the budget) every stored
state gets the post-pass (POST_PASS_SHARE of the time left; its results of the outputs' shapes are pieces,
except embedded ones) and the greedy stacker (stack.py) combines the pieces.

Generic pieces (generic.py, before the enumeration, at most GENERIC_SHARE of the budget): ungated image functions
composed to depth 2 over the inputs; a composition that reproduces every demonstration is a solution, the others
of the outputs' shapes are pieces, added after the enumeration's own. After the post-pass, one generic function
(and a recolouring, or a trim or rotation that may reach the outputs' shapes) follows each of the COMPOSE_STARTS
cheapest pieces and grid states the enumeration found (at most COMPOSE_SHARE of the time left): "crop the object,
then rays" is one piece. Whatever time is left at the end goes to the generic compositions one function deeper,
checked only (`generic.check_deeper`). Base stacks (stack.base_stacks): a nearly right piece as the bottom layer
under clean corrections. Subset stacks (stack.subset_stacks): stacks built on a subset of the
demonstrations for one "care" demonstration and checked on all of them; one of at most stack.MAX_STEPS pieces that
reproduces every demonstration is a solution (a longer one was right on attempt 1 for 11 of 22 ARC-AGI-1 and 2 of
9 ARC-AGI-2 training test inputs: it ranks with the partial fits).

Partial fits: a grid state, a last-level op or a stack (stack.partial_stacks, stack.subset_stacks) that reproduces
some demonstrations but not all is recorded apart (`Verifier.partials`; a state or an op only when it misses
exactly one of PARTIAL_MIN_DEMOS or more; a subset stack that misses any only when it has at most stack.MAX_STEPS
pieces: ten pieces can paint two small demonstrations of noise); its answers rank after every full fit, tagged
partial, and among partial fits the ones that miss fewer demonstrations first (MISSED_DEMO_COST per
demonstration missed beyond the first).

Rank rule for the candidates of one test input (distinct grids, at most MAX_CANDIDATES): lowest program cost
first (cost = sum of op costs, finisher included; an op costs 1 unless it says otherwise, the fitted colour
map costs 2, a post-pass step costs 1, a stack costs its pieces' costs plus one per piece), then the most
distinct consistent programs giving that grid, then discovery order (breadth-first, library order, stacks last).
Memory: stored states are capped by `max_states` and by MAX_BYTES of estimated grid memory; past either cap
the search stops storing (it still checks the current level) and reports stopped_by "states".
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Optional

import numpy as np

from ..budget import Budget
from ..grids import vote
from ..grids.encoding import MAX_SIDE as ARC_MAX_SIDE  # a candidate must be a valid ARC grid
from ..grids.kernels import grid_hash  # the hash TRM's candidates carry too
from ..io.tasks import Task
from . import generic, library, postpass, sizes, stack
from .dsl import GRID, LIST, Fitter, Op, TaskContext, Value, as_grid, as_value, cells, make_context, value_key
from .lists import CENTRED_MAPS, map_items, overlay_at
from .solutions import PARTIAL_MIN_DEMOS, Solutions, Verifier, program_text

MAX_CANDIDATES = 5
ENUMERATION_SHARE = 0.6 # of the budget for the enumeration, then the post-pass and stackers (ARC-AGI-1 training,
                         # 2 s: 0.75 52.12%, 0.6 53.87%, 0.5 53.62%: the stackers pay more than the last level)
POST_PASS_SHARE = 0.6    # of the time left after the enumeration for the post-pass; the stacker may use the rest
SEED_LEVEL = 2           # states of levels <= this give the seeds of the output-size prediction
EMBED_PIECES = False     # embedded post-pass results do not feed the stacker: with them, attempt 1's precision
                         # fell from 95% to 91% on ARC-AGI-1 training for no more solved tasks (2 s, depth 3)
LEAVE_ONE_OUT = False    # leave-one-out constants as start states: on ARC-AGI-1 training they added no solved
                         # task and two wrong stacks (2 s, depth 3), so they are off
MAX_BYTES = 1_200_000_000   # memory cap: estimated bytes of stored states (grid cells + array overhead)
ARRAY_OVERHEAD = 160        # bytes per stored numpy array beyond its cells (header + tuple slot)
GENERIC_PIECES = True   # the generic functions' compositions (generic.py) are checked and feed the stacker
GENERIC_SHARE = 0.25    # of the budget, at most, for them (before the enumeration)
COMPOSE_STARTS = 40     # the enumeration's cheapest pieces that a generic function follows (after the post-pass)
COMPOSE_SHARE = 0.3     # of the time left after the post-pass, at most, for them
DEEPER_GENERIC = True   # whatever time is left at the end: the generic compositions one function deeper
BASE_STACKS = True      # stacks built from the bottom: a whole image under clean corrections (stack.base_stacks)
SUBSET_STACKS = True    # stacks built on subsets of the demonstrations, checked on the others (stack.subset_stacks)
MISSED_DEMO_COST = 1000 # a partial fit's rank cost per demonstration missed beyond the first
PARTIAL_FITS = True     # answers of programs that reproduce every demonstration but one, after the full fits
CHECK_EVERY = 1             # op applications between two budget checks (one: a state's finishers can take
                            # ~0.07 s on ten 30x30 demonstrations, so four let a run overrun its share by 0.3 s)
REFUSAL_MEMO = True         # last level: an op refused on a first train value (it gave None, or a grid that
                            # nothing could make the first output) is refused without a call on that value
                            # again; off: every call is made (the same candidates, slower)


@dataclass
class SearchResult:
    candidates: list[list[vote.Candidate]]  # one ranked list per test input (empty: no program fits)
    programs: int          # distinct consistent programs found
    states: int            # distinct states visited
    depth: int             # deepest level completed
    stopped_by: str        # "done" | "time" | "states" | "error"
    seconds: float
    applications: int = 0  # op applications (one per state and op, over all its values)
    errors: int = 0        # op applications that raised (counted as "does not apply")
    predicted_sizes: list = field(default_factory=list)  # per test input: predicted output (rows, cols) or None


@dataclass
class _State:
    values: tuple            # one value per train input then per test input (test values may be None)
    kind: str                # "grid" | "list"
    program: tuple[str, ...]
    cost: int
    level: int = 0


Plan = tuple   # the last level's post-pass plan: (recolouring colour or None,)


class _Stop(Exception):
    """The budget ran out inside a level."""


@dataclass
class _Search:
    ops: list[Op]
    verifier: Verifier
    budget: Budget
    max_states: int
    n_train: int
    seen: set = field(default_factory=set)
    stored: list = field(default_factory=list)   # every stored state, in discovery order (for the post-pass)
    seeds: dict = field(default_factory=dict)    # shapes of grid states of levels <= SEED_LEVEL, in order
    stored_bytes: int = 0
    applications: int = 0
    errors: int = 0
    full: bool = False
    refused: dict = field(default_factory=dict)  # last level: (op name, first train value's key) -> errors
                                                 # its call raised, for the ops refused on the first value
    finish: Optional["_Finish"] = None           # the post-pass, once the output sizes are predicted

    def __post_init__(self) -> None:
        # train values the last level may find wrong and still have a partial fit
        self.may_miss = int(PARTIAL_FITS and self.n_train >= PARTIAL_MIN_DEMOS)
        self.by_kind: dict[str, list[Op]] = {
            GRID: [op for op in self.ops if op.arg == GRID],
            LIST: [op for op in self.ops if op.arg == LIST] + [
                Op(f"each({op.name})", partial(map_items, fn=op.fn, centred=op.name in CENTRED_MAPS), LIST, LIST,
                   op.cost)
                for op in self.ops if op.arg == GRID and op.ret == GRID],
        }

    def tick(self) -> None:
        self.applications += 1
        if self.applications % CHECK_EVERY == 0 and self.budget.over():
            raise _Stop

    def call(self, op: Op, value: Value) -> Optional[Value]:
        try:
            return as_grid(op.fn(value)) if op.ret == GRID else as_value(op.fn(value), op.ret)
        except Exception:  # a primitive that raises does not apply to this value
            self.errors += 1
            return None

    def child(self, state: _State, op: Op) -> Optional[_State]:
        """`op` applied to every value of `state` (None when a train value fails)."""
        self.tick()
        values = []
        for i, v in enumerate(state.values):
            r = None if v is None else self.call(op, v)
            if r is None and i < self.n_train:
                return None
            values.append(r)
        return _State(tuple(values), op.ret, state.program + (op.name,), state.cost + op.cost, state.level + 1)

    def add_seed(self, state: _State) -> None:
        if state.kind == GRID and state.level <= SEED_LEVEL:
            self.seeds.setdefault(tuple(None if v is None else v.shape for v in state.values), len(self.seeds))

    def store(self, state: _State, frontier: list[_State]) -> None:
        size = sum(cells(v) for v in state.values)
        size += ARRAY_OVERHEAD * sum(len(v) if isinstance(v, tuple) else 1 for v in state.values if v is not None)
        if len(self.seen) >= self.max_states or self.stored_bytes + size > MAX_BYTES:
            self.full = True
            return
        self.stored_bytes += size
        frontier.append(state)
        self.stored.append(state)

    def admit(self, state: _State, frontier: list[_State]) -> None:
        """A new state: checked, a seed, stored (if it is new and there is room)."""
        key = _key(state.values)
        if key in self.seen:
            return
        self.seen.add(key)
        self.add_seed(state)
        if state.kind == GRID:
            self.verifier.check(state.values, state.program, state.cost)
        if not self.full:
            self.store(state, frontier)

    def expand(self, frontier: list[_State], last: bool) -> list[_State]:
        """All children of `frontier`; on the last level only what could be solutions: first every op that
        gives a grid, then (time permitting: the most numerous and the least often right) the list ops of
        list states, put back by the overlay at positions."""
        nxt: list[_State] = []
        if last:
            self.refused.clear()
            for state in frontier:
                key0 = value_key(state.values[0])
                for op in self.by_kind[state.kind]:
                    if op.ret == GRID:
                        self.try_last(state, op, key0)
            if self.finish is not None and self.finish.lists:
                for state in frontier:
                    if state.kind == LIST:
                        key0 = value_key(state.values[0])
                        for op in self.by_kind[LIST]:
                            if op.ret == LIST:
                                self.try_last_list(state, op, key0)
            return nxt
        for state in frontier:
            for op in self.by_kind[state.kind]:
                c = self.child(state, op)
                if c is not None:
                    self.admit(c, nxt)
        return nxt

    def try_last(self, state: _State, op: Op, key0: int) -> None:
        """Last level: apply `op` to the train values one by one, stop at the first that cannot fit: checked
        as it is when it has the outputs' shapes, else (or if that solves nothing) through the post-pass.
        `key0`: the fingerprint of the first train value (the key of the refusal memo)."""
        self.applications += 1   # self.tick(), inlined: this is the innermost loop
        if self.applications % CHECK_EVERY == 0 and self.budget.over():
            raise _Stop
        shapes = self.verifier.shapes
        v0 = state.values[0]
        if op.keeps_shape and not (isinstance(v0, np.ndarray) and v0.shape == shapes[0]):
            return
        memo = (op.name, key0)
        if REFUSAL_MEMO and memo in self.refused:
            self.errors += self.refused[memo]
            return
        errors = self.errors
        first = self.call(op, v0)
        if first is None:
            self.refused[memo] = self.errors - errors
            return
        if first.shape == shapes[0]:   # type: ignore[union-attr]  # a grid op gives a grid (as_grid) or None
            train: list = [first]   # one train value of another shape leaves a partial fit possible
            misses = 0
            for i in range(1, self.n_train):
                r = self.call(op, state.values[i])
                if r is None or not self.verifier.shape_fits(i, r):
                    misses += 1
                    if misses > self.may_miss:
                        break
                train.append(r)
            else:
                tests = tuple(None if v is None else self.call(op, v) for v in state.values[self.n_train:])
                if self.verifier.check(tuple(train) + tests, state.program + (op.name,), state.cost + op.cost):
                    return
            self.finish_last(state, op, first, lambda r: r)
            return
        plan = self.plan_last(first, ())
        if plan is None:   # decided by the first value alone: the same first value is refused again
            self.refused[memo] = self.errors - errors
            return
        self.finish_last(state, op, first, lambda r: r, (), plan)

    def try_last_list(self, state: _State, op: Op, key0: int) -> None:
        """Last level, an op that gives a list: only through the overlay at positions and the post-pass."""
        self.tick()
        if self.finish is None:
            return
        memo = (op.name, key0)
        if REFUSAL_MEMO and memo in self.refused:
            self.errors += self.refused[memo]
            return
        errors = self.errors
        bg = self.finish.ctx.bg
        first = self.call(op, state.values[0])
        put_back = lambda r: overlay_at(r, bg) if isinstance(r, tuple) else None  # noqa: E731
        grid = put_back(first)
        plan = self.plan_last(grid, ("overlay_at",))
        if plan is None:
            self.refused[memo] = self.errors - errors
            return
        self.finish_last(state, op, grid, put_back, ("overlay_at",), plan)

    def plan_last(self, first: object, steps: tuple[str, ...]) -> Optional[Plan]:
        """The post-pass plan (recolouring colour or None) that makes `first` the first train output, or None
        when there is none worth trying (a decision that depends on `first` alone)."""
        finish = self.finish
        if finish is None or first is None or not isinstance(first, np.ndarray):
            return None
        bg, targets = finish.ctx.bg, self.verifier.targets
        colours = finish.colours if finish.one_colour else ()
        if not steps and not colours and first.shape == targets[0].shape:
            return None                              # nothing the post-pass could change
        if not steps and first.shape != targets[0].shape and finish.ctx.same_shape:
            return None                              # a grid of another shape embedded back into the input's
                                                     # shape: left to the stored states (the last level is large)
        found, colour = postpass.plan_for(first, targets[0], bg, colours)
        return (colour,) if found else None

    def finish_last(self, state: _State, op: Op, first: object, to_grid: Callable,
                    steps: tuple[str, ...] = (), plan: Optional[Plan] = None) -> None:
        """Last level: `op`'s results (made grids by `to_grid`) as answers through the post-pass (recolour to
        one output colour, embed into the output size), the plan fixed on the first demonstration (`plan`,
        else found here) and checked exactly on the others, one of which may miss (a partial fit) (no pieces,
        no finishers: the last level is the largest)."""
        if plan is None:
            plan = self.plan_last(first, steps)
        if plan is None or not isinstance(first, np.ndarray):
            return
        finish = self.finish
        assert finish is not None
        bg, targets = finish.ctx.bg, self.verifier.targets
        colour = plan[0]
        values = [postpass.apply_plan(first, targets[0].shape, bg, colour)]
        embedded = first.shape != targets[0].shape
        allowed = self.may_miss
        for i in range(1, len(state.values)):
            v = state.values[i]
            r = None if v is None else self.call(op, v)
            g = None if r is None else to_grid(r)
            if i < self.n_train:
                if g is not None:
                    embedded |= g.shape != targets[i].shape
                    g = postpass.apply_plan(g, targets[i].shape, bg, colour)
                if g is None or not (g == targets[i]).all():   # apply_plan gives the target's shape
                    allowed -= 1
                    if allowed < 0:
                        return
            elif g is not None:
                g = postpass.apply_plan(g, finish.test_shapes[i - self.n_train], bg, colour)
            values.append(g)
        if not embedded and colour is None and not steps:
            return                                   # the direct check above already saw it
        steps = steps + ((f"recolour_all({colour})",) if colour is not None else ()) + (("embed",) if embedded else ())
        self.verifier.check(tuple(values), state.program + (op.name,) + steps, state.cost + op.cost + len(steps),
                            piece=False)

    def post_pass(self, budget: Budget) -> None:
        """The post-pass of every stored state, cheapest first, until `budget` is over."""
        if self.finish is None:
            return
        for state in sorted(self.stored, key=lambda st: st.cost):
            if budget.over():
                break
            self.finish.run(state.values, state.kind, state.program, state.cost, self.seen)


@dataclass
class _Finish:
    """The post-pass (`postpass.variants`) of one state: each result checked once per search."""

    ctx: TaskContext
    verifier: Verifier
    test_shapes: list
    colours: tuple[int, ...]
    done: set = field(default_factory=set)
    checked: int = 0
    lists: bool = True   # the last level puts list results back (overlay_at)

    def __post_init__(self) -> None:
        # every train output is background plus one shared colour: only then can a recolouring fit
        bg = self.ctx.bg
        self.one_colour = bool(self.colours) and all(
            len(np.unique(t[t != bg])) == 1 for t in self.ctx.train_out)

    def run(self, values: tuple, kind: str, program: tuple[str, ...], cost: int, seen: set,
            recolour: bool = True) -> None:
        colours = self.colours if recolour else ()
        for result, steps in postpass.variants(values, kind, self.ctx, self.test_shapes, colours):
            key = _key(result)
            if key in seen or key in self.done:
                continue
            self.done.add(key)
            self.checked += 1
            self.verifier.check(result, program + steps, cost + len(steps), piece=EMBED_PIECES or steps[-1] != "embed")


def _key(values: tuple) -> int:
    return hash(tuple(value_key(v) for v in values))


def _initial(task: Task) -> _State:
    grids = tuple(i for i, _ in task.train) + task.test_inputs
    values = tuple(as_value(np.array(g, dtype=np.uint8), GRID) for g in grids)  # copies: never freeze the caller's
    return _State(values, GRID, (), 0)


def _blank(shape: Optional[tuple[int, int]], bg: int) -> Optional[np.ndarray]:
    return None if shape is None else as_grid(np.full(shape, bg, np.uint8))


def _givens(ctx: TaskContext, predicted: list) -> list[_State]:
    """The start states of level 1: blank canvases of the input and output sizes, leave-one-out constants."""
    bg, n = ctx.bg, len(ctx.train_out)
    inputs = ctx.train_in + ctx.test_in
    found = [_State(tuple(_blank(g.shape, bg) for g in inputs), GRID, ("blank_input",), 1, 1),
             _State(tuple(_blank(s, bg) for s in list(ctx.out_shapes) + predicted), GRID, ("blank_output",), 1, 1)]
    if LEAVE_ONE_OUT and n >= 2:
        for k, out in enumerate(ctx.train_out):
            frozen = as_grid(out.copy())
            train = tuple(_blank(out.shape, bg) if i == k else frozen for i in range(n))
            found.append(_State(train + tuple(frozen for _ in ctx.test_in), GRID, (f"output_of({k})",), 1, 1))
    return found


Collect = Callable[[TaskContext], tuple[list[Op], list[Fitter]]]


def run_search(task: Task, budget: Budget, max_depth: int, max_states: int,
               collect: Collect = library.collect, givens: bool = True, generic_pieces: bool = True
               ) -> tuple[Solutions, dict]:
    """Breadth-first search of `task` up to `max_depth` over the ops `collect` gives (with the start states of
    level 1 when `givens`), then the post-pass and the stacker; (solutions, stats)."""
    ctx = make_context(task)
    ops, finishers = collect(ctx)
    verifier = Verifier(ctx, finishers)
    # the generic functions belong to the full library: a search over another op list runs without them
    use_generic = GENERIC_PIECES and generic_pieces and collect is library.collect
    drawn, deepest = generic.pieces(ctx, verifier, budget.fraction(GENERIC_SHARE)) if use_generic else ([], [])
    search = _Search(ops, verifier, budget.fraction(ENUMERATION_SHARE), max_states, len(task.train))
    start = _initial(task)
    search.seen.add(_key(start.values))
    search.add_seed(start)
    search.stored.append(start)
    verifier.check(start.values, (), 0)
    starts = _givens(ctx, sizes.predict(list(search.seeds), ctx.out_shapes)) if givens else []
    frontier, depth, stopped = [start], 0, "done"
    predicted: list = []
    try:
        for level in range(1, max_depth + 1):
            last = level == max_depth
            if last or level > SEED_LEVEL:   # the sizes are known: the last level gets the post-pass too
                predicted = sizes.predict(list(search.seeds), ctx.out_shapes)
                search.finish = _Finish(ctx, verifier, predicted, postpass.shared_colours(ctx))
            frontier = search.expand(frontier, last=last)
            if level == 1:
                for given in starts:
                    search.admit(given, frontier)
            depth = level
            if not frontier and level < max_depth:
                break
    except _Stop:
        stopped = "time"
    if stopped == "done" and search.full:
        stopped = "states"
    if search.finish is None:
        predicted = sizes.predict(list(search.seeds), ctx.out_shapes)
        search.finish = _Finish(ctx, verifier, predicted, postpass.shared_colours(ctx))
    search.post_pass(budget.fraction(POST_PASS_SHARE))
    if use_generic:
        drawn += _compose_generic(search, ctx, verifier, len(task.train), budget)
    for text, cost, train, tests in drawn:
        verifier.pieces.add(text, cost, train, tests)
    for text, cost, tests in stack.stacks(verifier.pieces, ctx.train_out, ctx.bg, budget):
        verifier.solutions.add(text, cost, tests)
    if BASE_STACKS:
        for text, cost, tests in stack.base_stacks(verifier.pieces, ctx.train_out, ctx.bg, budget):
            verifier.solutions.add(text, cost, tests)
    if PARTIAL_FITS and len(task.train) >= PARTIAL_MIN_DEMOS:
        for text, cost, tests in stack.partial_stacks(verifier.pieces, ctx.train_out, ctx.bg, budget):
            verifier.partials.add(text, cost, tests)
    if SUBSET_STACKS:
        n = len(task.train)
        for text, cost, tests, goods, used in stack.subset_stacks(verifier.pieces, ctx.train_out, ctx.bg, budget):
            if goods == n and used <= stack.MAX_STEPS:
                verifier.solutions.add(text, cost, tests)
            elif PARTIAL_FITS and (goods == n or (n >= PARTIAL_MIN_DEMOS and used <= stack.MAX_STEPS)):
                # a longer stack fitting every one too; one that misses a demonstration only when it is short
                # (ten pieces can paint a few small demonstrations of noise)
                verifier.partials.add(text, cost + MISSED_DEMO_COST * max(0, n - goods - 1), tests)
    if deepest and DEEPER_GENERIC:    # the time left: one generic function more, checked only
        generic.check_deeper(ctx, verifier, deepest, budget)
    stats = dict(states=len(search.seen), depth=depth, stopped_by=stopped, predicted=predicted,
                 applications=search.applications, errors=search.errors)
    stats["partials"] = verifier.partials
    return verifier.solutions, stats


def _compose_generic(search: _Search, ctx: TaskContext, verifier: Verifier, n: int, budget: Budget
                     ) -> list[tuple[str, int, tuple, tuple]]:
    """One generic function after each of the enumeration's cheapest pieces and grid states (module docstring);
    the new pieces."""
    by_cost = sorted(search.stored, key=lambda st: st.cost)
    grids = [st for st in by_cost if st.kind == GRID and st.program and all(v is not None for v in st.values)]
    after = [(p.text, p.cost, p.train, p.tests)
             for p in sorted(verifier.pieces.items, key=lambda p: p.cost)[:COMPOSE_STARTS]]
    after += [(program_text(st.program), st.cost, st.values[:n], st.values[n:]) for st in grids[:COMPOSE_STARTS]]
    return generic.compose_over(ctx, verifier, after, budget.fraction(COMPOSE_SHARE))


def _candidates(solutions: Solutions, n_test: int, partials: Optional[Solutions] = None
                ) -> list[list[vote.Candidate]]:
    """Ranked distinct candidates per test input (the rank rule of this module's docstring): the full fits,
    then the partial fits' grids that no full fit gives (tagged partial)."""
    out: list[list[vote.Candidate]] = []
    for t in range(n_test):
        full = _ranked(solutions, t, set())
        out.append(full + _ranked(partials, t, {c.hash for c in full}, partial=True) if partials else full)
        out[-1] = out[-1][:MAX_CANDIDATES]
    return out


def _ranked(solutions: Solutions, t: int, taken: set, partial: bool = False) -> list[vote.Candidate]:
    groups: dict[int, list] = {}  # grid key -> [best cost, count, first index, program, grid]
    for index, sol in enumerate(solutions.found):
        g = sol.tests[t]
        if g is None or g.shape[0] > ARC_MAX_SIDE or g.shape[1] > ARC_MAX_SIDE:
            continue
        k = value_key(g)
        entry = groups.get(k)
        if entry is None:
            groups[k] = [sol.cost, 1, index, sol.text, g]
        else:
            entry[1] += 1
            if sol.cost < entry[0]:
                entry[0], entry[3] = sol.cost, sol.text
    ranked = sorted(groups.values(), key=lambda e: (e[0], -e[1], e[2]))
    out = []
    for e in ranked:
        h = grid_hash(e[4])
        if h in taken:
            continue
        out.append(vote.Candidate(grid=np.array(e[4], dtype=np.uint8), count=e[1], mean_conf=1.0, hash=h,
                                  source="search", program=e[3], partial=partial, cost=float(e[0])))
        if len(out) == MAX_CANDIDATES:
            break
    return out


def solve_task(task: Task, budget: Budget, max_depth: int = 3, max_states: int = 200_000, *,
               collect: Collect = library.collect, givens: bool = True, generic_pieces: bool = True
               ) -> SearchResult:
    """Search `task` within `budget` over the ops of `collect` (default: the whole library); never raises
    for a valid task (an internal error is logged to stderr with the task id and gives no candidate,
    stopped_by "error")."""
    t0 = time.monotonic()
    try:
        solutions, stats = run_search(task, budget, max_depth, max_states, collect, givens, generic_pieces)
        candidates = _candidates(solutions, task.n_test, stats["partials"] if PARTIAL_FITS else None)
    except Exception as e:  # defensive: a bug must not cost the run its other tasks
        print(f"search: task {task.task_id}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        return SearchResult([[] for _ in task.test_inputs], 0, 0, 0, "error", time.monotonic() - t0)
    return SearchResult(candidates, len(solutions.found), stats["states"], stats["depth"], stats["stopped_by"],
                        time.monotonic() - t0, stats["applications"], stats["errors"], stats["predicted"])


def warm_up() -> float:
    """Compile (or load from numba's cache) the search's kernels with the argument types real tasks give, by
    searching one small synthetic task at depth 1; returns the seconds it took. Workers call it once, before
    their first task's share of the deadline starts."""
    t0 = time.monotonic()
    a = np.zeros((6, 6), np.uint8)
    a[1:4, 1:4] = 3
    a[2, 2] = 0
    a[5, 0] = 2
    b = np.zeros((5, 7), np.uint8)
    b[0:3, 3:6] = 4
    b[1, 4] = 0
    b[4, 1] = 1
    task = Task("warm-up", ((a, a[::-1].copy()), (b, b[::-1].copy())), (a.T.copy(),))
    solve_task(task, Budget.seconds(120.0), max_depth=1)
    from . import geometry, lines, select, symmetry  # kernels of ops offered only where a task fits them
    from .dsl import Items

    overlay_at(Items((a, b), ((0, 0), (1, 2)), (8, 9)), 0)   # lists appear from depth 2 on
    geometry.crop_colour(a, 3)
    lines.connect(a, 0, "hv", None)
    select.holes(a, a != 0)

    c = np.tile(np.array([[1, 2, 2, 1], [3, 4, 4, 3]], np.uint8), (2, 1))
    c[0, 0] = 0
    for kind in ("full", "tile"):
        symmetry.complete(c, 0, kind)
    return time.monotonic() - t0
