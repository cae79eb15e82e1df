"""The contract every registered op keeps (search-contract: pure, never raises on a valid grid, returns a
valid value of its declared type or None), checked on odd grids (1x1, one colour, 60x60, 30x1) with the
op instances of real ARC-AGI-1 training tasks."""

from __future__ import annotations

import numpy as np
import pytest
from search_reference import training_task

from trm_submit.search import colour, dsl, library
from trm_submit.search.dsl import MAX_LIST, VALUE_MAX_SIDE, Op, make_context

# Training tasks whose contexts switch on most ops: same-shape ones (fills, rays, recolour, symmetry)
# and shape-changing ones (crops, lists, splits, combinations).
TASKS = ("00d62c1b", "08ed6ac7", "3631a71a", "d037b0a7", "40853293", "0520fde7", "1cf80156", "9ecd008a",
         "f9012d9b", "2dee498d", "39a8645d", "0ca9ddb6", "a699fb00", "05f2a901", "4347f46a", "c9f8e694", "e76a88a6")


def _odd_grids() -> list[np.ndarray]:
    rng = np.random.default_rng(50)
    grids = [np.zeros((1, 1), np.uint8), np.full((5, 7), 3, np.uint8), np.full((30, 1), 9, np.uint8),
             rng.integers(0, 10, size=(60, 60)).astype(np.uint8), rng.integers(0, 2, size=(13, 17)).astype(np.uint8)]
    checker = (np.indices((12, 12)).sum(axis=0) % 2).astype(np.uint8) * 4
    grids.append(checker)
    for g in grids:
        g.flags.writeable = False
    return grids


def _valid_grid(v) -> bool:
    return (isinstance(v, np.ndarray) and v.ndim == 2 and v.dtype == np.uint8 and 0 < v.shape[0] <= VALUE_MAX_SIDE
            and 0 < v.shape[1] <= VALUE_MAX_SIDE and int(v.max()) <= 9)


@pytest.mark.parametrize("task_id", TASKS)
def test_ops_return_valid_values_or_none(task_id):
    task, _ = training_task(task_id)
    ctx = make_context(task)
    ops = library.collect(ctx, strict=True)[0]
    assert ops, task_id
    grids = _odd_grids() + list(ctx.train_in)
    lists = [tuple(grids[1:3]), (grids[0],), tuple([grids[5]] * 3), (grids[4], grids[4])]
    for op in ops:
        for value in (grids if op.arg == "grid" else lists):
            before = [g.tobytes() for g in (value if isinstance(value, tuple) else (value,))]
            out = op.fn(value)
            after = [g.tobytes() for g in (value if isinstance(value, tuple) else (value,))]
            assert before == after, f"{task_id}: {op.name} changed its argument"
            if out is None:
                continue
            if op.ret == "grid":
                assert _valid_grid(out), f"{task_id}: {op.name} returned an invalid grid"
            else:
                assert isinstance(out, tuple) and 0 < len(out) <= MAX_LIST and all(map(_valid_grid, out)), op.name


def test_op_names_are_unique_per_task():
    """Every registered module's ops on these tasks, gathered strictly (a duplicate name raises)."""
    for task_id in TASKS:
        ctx = make_context(training_task(task_id)[0])
        ops = library.collect(ctx, strict=True)[0]
        assert len({op.name for op in ops}) == len(ops), task_id


def test_a_duplicate_name_is_refused_loudly(monkeypatch, capsys):
    ctx = make_context(training_task(TASKS[0])[0])
    twin = Op("flip_h", lambda g: g)                       # the name of a geometry op, another map
    module = type(library)("twin")
    module.ops = lambda ctx: [twin]                        # type: ignore[attr-defined]
    monkeypatch.setattr(library, "REGISTRY", library.REGISTRY + (module,))
    with pytest.raises(library.DuplicateOpName, match="flip_h"):
        library.collect(ctx, strict=True)
    ops = library.collect(ctx)[0]                         # a run keeps the first and says so
    assert [op for op in ops if op.name == "flip_h"][0] is not twin
    assert "duplicate op name 'flip_h'" in capsys.readouterr().err


def test_op_helper_names_the_function_and_its_parameters():
    o = dsl.op(colour.keep_colour, colour=3, bg=0, keeps_shape=True)
    assert o.name == "keep_colour(3,0)" and o.keeps_shape
    g = np.array([[3, 1], [0, 3]], np.uint8)
    assert np.array_equal(o.fn(g), colour.keep_colour(g, colour=3, bg=0))
    assert dsl.op(colour.majority_any).name == "majority_any"


def test_keeps_shape_ops_keep_the_shape():
    """An op marked keeps_shape (the engine then skips it on states of the wrong shape) returns its
    argument's shape on every grid it applies to."""
    marked = 0
    for task_id in TASKS:
        ctx = make_context(training_task(task_id)[0])
        for op in (op for op in library.collect(ctx, strict=True)[0] if op.keeps_shape):
            marked += 1
            for g in _odd_grids() + list(ctx.train_in) + list(ctx.test_in):
                out = op.fn(g)
                assert out is None or out.shape == g.shape, f"{task_id}: {op.name}"
    assert marked >= 10
