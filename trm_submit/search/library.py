"""The op library of one task: the registry of every primitive module (REGISTRY, imported statically) and
`collect`, which gathers the ops and finishers of every registered module for a TaskContext and refuses
duplicate names. A new module names its ops with `dsl.op` (the function's name and its bound parameters).

Refitting (tasks whose outputs change shape): the ops of the registry are fitted on the task's own demonstrations,
so an op whose parameters come from "input -> output of the same shape" (most of them) is never offered after a crop
or a scaling. The refit finisher fits them again on a state's train values -> the train outputs, where those have
the outputs' shapes, and returns the first grid op that reproduces every output ("the fenced panel, then its
rule"). Fitting every module costs ~10-100 ms, so only the first MAX_REFITS distinct states (the shallowest: the
engine goes level by level) are refitted.
"""

from __future__ import annotations

import sys
from functools import partial
from types import ModuleType

import numpy as np

from . import (
    colour,
    copies,
    draw,
    geometry,
    keyed,
    lines,
    lists,
    lookup,
    move,
    objects,
    parts,
    patterns,
    rays,
    recolour,
    rewrite,
    select,
    split,
    stamp,
    symmetry,
)
from .dsl import GRID, Fitter, Op, TaskContext, context_of, op  # noqa: F401  (op: the helper every module names its ops with)
from .fitting import reproduces

# Every primitive module, in the order its ops are offered (discovery order breaks ranking ties). A module
# has `ops(ctx) -> list[Op]` and may have `finishers(ctx) -> list[Fitter]`.
REGISTRY: tuple[ModuleType, ...] = (geometry, colour, objects, select, recolour, keyed, patterns, lines, rays,
                                    stamp, rewrite, copies, move, symmetry, split, parts, lists, draw, lookup)


class DuplicateOpName(ValueError):
    """Two ops of one task share a name: program text would no longer say which op ran."""


def _constant(value: object, grid: np.ndarray) -> np.ndarray:
    return grid


def _given_ops(ctx: TaskContext) -> list[Op]:
    first = ctx.train_out[0]
    if all(o.shape == first.shape and np.array_equal(o, first) for o in ctx.train_out):
        return [Op("constant_output", partial(_constant, grid=first.copy()))]
    return []


MAX_REFITS = 6   # distinct output-shaped states of one task whose values get the registry's ops fitted again
# Refitted modules: all but those whose ops can learn any demonstrations by heart (object rewrites by look, tables
# looked up by a feature or a whole line): given a program's outputs with one cell changed, `rewrite` "repaired" 94
# of the 138 ARC-AGI-1 training tasks whose outputs change shape, `lookup` 6.
# Recolour tables keyed by an object's exact shape learn shapes by heart too: left out by name (on the proxy, refit
# gave ARC-AGI-2 42f14c03 one such wrong full fit).
REFIT_REGISTRY = tuple(m for m in REGISTRY if m not in (rewrite, lookup))
REFIT_SKIPPED = ("recolour(shape",)


def _refitter() -> Fitter:
    """A refit finisher for one run of the engine on a task whose outputs change shape (module docstring)."""
    left = [MAX_REFITS]

    def refit(train: list, targets: list) -> Op | None:
        if left[0] <= 0 or not all(isinstance(v, np.ndarray) and v.shape == t.shape for v, t in zip(train, targets)):
            return None
        left[0] -= 1
        sub = context_of(tuple(train), tuple(targets), ())
        for module in REFIT_REGISTRY:
            try:
                module_ops = module.ops(sub)
            except Exception:   # a module that needs the test inputs: skipped here
                continue
            for o in module_ops:
                if o.arg != GRID or o.ret != GRID or o.name.startswith(REFIT_SKIPPED):
                    continue
                try:
                    if reproduces(o.fn, sub):
                        return o
                except Exception:   # a broken op costs only itself
                    continue
        return None

    return refit


def collect(ctx: TaskContext, strict: bool = False) -> tuple[list[Op], list[Fitter]]:
    """(ops, finishers) of the task, in registry order. A module whose `ops` raises is reported on stderr and
    skipped. A duplicate op name raises DuplicateOpName when `strict` (the tests), else it is reported on
    stderr and the first op of that name is kept."""
    ops: list[Op] = _given_ops(ctx)
    fitters: list[Fitter] = []
    names: set[str] = {o.name for o in ops}
    for module in REGISTRY:
        try:
            module_ops = module.ops(ctx)
            module_fitters = module.finishers(ctx) if hasattr(module, "finishers") else []
        except Exception as e:  # a broken primitive module must not stop the search
            print(f"search: {module.__name__}.ops failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            continue
        for o in module_ops:
            if o.name in names:
                message = f"search: duplicate op name {o.name!r} from {module.__name__}"
                if strict:
                    raise DuplicateOpName(message)
                print(message + " (kept the first)", file=sys.stderr, flush=True)
                continue
            names.add(o.name)
            ops.append(o)
        fitters.extend(module_fitters)
    if not ctx.same_shape:
        fitters.append(_refitter())
    return ops, fitters
