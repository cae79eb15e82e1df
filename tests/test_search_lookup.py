"""Outputs looked up by a feature of the input: hand-made tasks (a table, the evidence rule, a missing test
value) and real ARC-AGI-1 training tasks whose test solution the table must give."""

from __future__ import annotations

import numpy as np
import pytest
from search_reference import assert_op_solves

from trm_submit.io.tasks import Task
from trm_submit.search import lookup
from trm_submit.search.dsl import make_context

A = np.array([[5, 0, 0], [0, 5, 0], [0, 0, 5]], np.uint8)
B = np.array([[0, 0, 5], [0, 5, 0], [5, 0, 0]], np.uint8)


def _task(pairs, tests) -> Task:
    return Task(task_id="hand", train=tuple((np.array(i, np.uint8), np.array(o, np.uint8)) for i, o in pairs),
                test_inputs=tuple(np.array(t, np.uint8) for t in tests))


def _ops(task: Task) -> dict:
    return {op.name: op for op in lookup.ops(make_context(task))}


def test_number_of_colours_picks_the_output_seen_with_it():
    one, two = [[1, 1], [1, 1]], [[1, 2], [1, 1]]
    task = _task([(one, A), (two, B), ([[3, 3], [3, 3]], A), ([[4, 6], [6, 6]], B)], [[[7, 8], [8, 8]]])
    ops = _ops(task)
    assert "look_up(n_colours;2 values)" in ops
    got = ops["look_up(n_colours;2 values)"].fn(np.array([[7, 8], [8, 8]], np.uint8))
    assert (got == B).all()
    assert ops["look_up(n_colours;2 values)"].fn(np.array([[1, 2], [3, 4]], np.uint8)) is None   # 4 colours: unseen


def test_no_table_without_a_repeated_output_or_with_a_test_value_it_lacks():
    distinct = _task([([[1, 1]], A), ([[1, 2]], B)], [[[3, 3]]])              # every output different
    assert _ops(distinct) == {}
    unseen = _task([([[1, 1]], A), ([[1, 2]], B), ([[3, 3]], A)], [[[1, 2, 3]]])   # test has 3 colours
    assert "look_up(n_colours;2 values)" not in _ops(unseen)


def test_one_value_with_two_outputs_fits_no_table():
    task = _task([([[1, 1]], A), ([[2, 2]], B), ([[3, 3]], A), ([[4, 4]], B)], [[[1, 1]]])
    assert not any(name.startswith("look_up(n_colours") for name in _ops(task))


@pytest.mark.parametrize("task_id,name", [
    ("6e02f1e3", "look_up(n_colours;3 values)"),
    ("d4469b4b", "look_up(colour;3 values)"),
    ("794b24be", "look_up(n_cells;4 values)"),
])
def test_real_training_tasks(task_id, name):
    assert_op_solves(lookup, task_id, [name])


def _grid(rows):
    return np.array(rows, np.uint8)


def test_line_table_maps_each_row_by_the_rows_seen_in_the_demonstrations():
    # a marker's column gives its row's colour: (5,0,0) -> 2s, (0,5,0) -> 4s, (0,0,5) -> 3s
    train = ((_grid([[5, 0, 0], [0, 5, 0]]), _grid([[2, 2, 2], [4, 4, 4]])),
             (_grid([[0, 0, 5], [5, 0, 0]]), _grid([[3, 3, 3], [2, 2, 2]])))
    task = Task("rows", train, (_grid([[0, 5, 0], [0, 0, 5], [5, 0, 0]]),))
    ops = {op.name: op for op in lookup.ops(make_context(task))}
    op = ops["line_table(rows;3 lines)"]
    assert op.fn(task.test_inputs[0]).tolist() == [[4, 4, 4], [3, 3, 3], [2, 2, 2]]
    assert op.fn(_grid([[5, 5, 0]])) is None       # a row the demonstrations never show
    unseen = Task("rows", train, (_grid([[5, 5, 0]]),))
    assert not any(name.startswith("line_table") for name in (o.name for o in lookup.ops(make_context(unseen))))
    no_repeat = Task("rows", train[:1], (_grid([[5, 0, 0]]),))   # no row seen twice: no evidence of a rule
    assert not any(o.name.startswith("line_table") for o in lookup.ops(make_context(no_repeat)))


def test_line_table_solves_a_training_task():
    assert_op_solves(lookup, "a85d4709", ["line_table(rows;3 lines)"])


def test_line_rule_fills_each_line_by_a_feature_of_the_line():
    # rows of one colour become grey, the others black; a row seen in no demonstration is answered all the same
    train = ((_grid([[4, 4, 4], [2, 3, 2], [2, 3, 3]]), _grid([[5, 5, 5], [0, 0, 0], [0, 0, 0]])),
             (_grid([[7, 3, 3], [6, 6, 6], [3, 7, 7]]), _grid([[0, 0, 0], [5, 5, 5], [0, 0, 0]])))
    task = Task("uniform rows", train, (_grid([[9, 9, 9], [1, 2, 1], [8, 8, 8]]),))
    ops = {op.name: op for op in lookup.ops(make_context(task))}
    op = ops["line_rule(rows,uniform;True:5,False:0)"]
    assert op.fn(task.test_inputs[0]).tolist() == [[5, 5, 5], [0, 0, 0], [5, 5, 5]]
    assert op.fn(_grid([[1, 2], [3, 3]])).tolist() == [[0, 0], [5, 5]]
    # columns: one kept, the rest filled by their number of colours; a count never seen gives no answer
    cols = lookup.line_rule(_grid([[1, 2, 3], [1, 4, 3], [1, 4, 5]]), 1, "n_colours", {1: lookup.KEEP, 2: 8})
    assert cols.tolist() == [[1, 8, 8], [1, 8, 8], [1, 8, 8]]
    assert lookup.line_rule(_grid([[1, 2], [3, 4], [5, 6]]), 1, "n_colours", {1: 0, 2: 8}) is None
    # an output line that is neither its input line nor one colour fits no rule
    mixed = (train[0], (_grid([[1, 1, 1], [1, 2, 3], [3, 3, 3]]), _grid([[5, 5, 5], [3, 2, 1], [5, 5, 5]])))
    assert not any(o.name.startswith("line_rule(rows") for o in lookup.ops(make_context(Task("m", mixed, ()))))


def test_line_rule_solves_a_training_task():
    assert_op_solves(lookup, "25d8a9c8", ["line_rule(rows,uniform;True:5,False:0)"])


def test_commonest_colour_has_no_value_on_a_tie():
    g = np.array([[0, 3, 3], [5, 5, 0], [0, 0, 0]], dtype=np.uint8)
    assert lookup.feature(g, 0, "commonest") is None            # two 3s, two 5s: no colour is the commonest
    g[2, 2] = 5
    assert lookup.feature(g, 0, "commonest") == 5
    assert lookup.feature(np.zeros((2, 2), np.uint8), 0, "commonest") is None
