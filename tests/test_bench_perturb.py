"""`benchmarks/bench_search.py --perturb`: the invariance check changes a task and its solutions as a whole, one
way for every grid (a real training task as the input)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from search_reference import training_task


@pytest.fixture(scope="module")
def bench():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_search.py"
    spec = importlib.util.spec_from_file_location("bench_search", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _grids(task, truth):
    return [g for pair in task.train for g in pair] + list(task.test_inputs) + list(truth)


def test_turns_and_reflections_change_every_grid_alike(bench):
    task, truth = training_task("0a938d79")
    for kind, want in (("rot90", np.rot90), ("flip", np.fliplr)):
        changed, changed_truth = bench.perturbed(task, truth, kind)
        assert all(np.array_equal(b, want(a)) for a, b in zip(_grids(task, truth), _grids(changed, changed_truth)))


@pytest.mark.parametrize("kind", ["colours", "all_colours"])
def test_colour_permutations_are_one_table_for_the_whole_task(bench, kind):
    task, truth = training_task("0a938d79")
    changed, changed_truth = bench.perturbed(task, truth, kind)
    table = {}
    for a, b in zip(_grids(task, truth), _grids(changed, changed_truth)):
        for x, y in zip(a.ravel().tolist(), b.ravel().tolist()):
            assert table.setdefault(x, y) == y                      # one colour, one new colour, everywhere
    assert len(set(table.values())) == len(table)                   # and no two colours merged
    assert (table[0] == 0) == (kind == "colours")                   # black kept, or moved
    again, _ = bench.perturbed(task, truth, kind)
    assert all(np.array_equal(a, b) for a, b in zip(_grids(changed, []), _grids(again, [])))   # drawn from the id


def test_reverse_keeps_the_grids_and_turns_the_demonstrations_round(bench):
    task, truth = training_task("0a938d79")
    changed, changed_truth = bench.perturbed(task, truth, "reverse")
    assert [p[0].tolist() for p in changed.train] == [p[0].tolist() for p in task.train[::-1]]
    assert all(np.array_equal(a, b) for a, b in zip(truth, changed_truth))
    assert bench.perturbed(task, truth, "") == (task, truth)
