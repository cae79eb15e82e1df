"""The op library of one task: collects the ops and finishers of every primitive module (MODULES: geometry,
colour, objects, select, recolour, patterns, symmetry, split) for a TaskContext, drops duplicate names, and
adds the constant-output given when every demonstration has the same output.
"""

from __future__ import annotations

import importlib
import sys
from functools import partial
from types import ModuleType

import numpy as np

from .dsl import Fitter, Op, TaskContext

MODULES = ("geometry", "colour", "objects", "select", "recolour", "patterns", "symmetry", "split")


def _modules() -> list[ModuleType]:
    """The primitive modules present in this package (a module not written yet is skipped)."""
    found = []
    for name in MODULES:
        full = f"{__package__}.{name}"
        try:
            found.append(importlib.import_module(full))
        except ModuleNotFoundError as e:
            if e.name != full:
                raise
    return found


def _constant(value: object, grid: np.ndarray) -> np.ndarray:
    return grid


def _given_ops(ctx: TaskContext) -> list[Op]:
    first = ctx.train_out[0]
    if all(o.shape == first.shape and np.array_equal(o, first) for o in ctx.train_out):
        return [Op("constant_output", partial(_constant, grid=first.copy()))]
    return []


def collect(ctx: TaskContext) -> tuple[list[Op], list[Fitter]]:
    """(ops, finishers) of the task, in module order; a module whose `ops` raises is reported and skipped."""
    ops: list[Op] = _given_ops(ctx)
    fitters: list[Fitter] = []
    names: set[str] = {op.name for op in ops}
    for module in _modules():
        try:
            module_ops = module.ops(ctx)
            module_fitters = module.finishers(ctx) if hasattr(module, "finishers") else []
        except Exception as e:  # a broken primitive module must not stop the search
            print(f"search: {module.__name__}.ops failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            continue
        for op in module_ops:
            if op.name not in names:
                names.add(op.name)
                ops.append(op)
        fitters.extend(module_fitters)
    return ops, fitters
