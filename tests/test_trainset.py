"""Training set: content dedup against evaluation sets (hand-made tasks and the real public sets), encoding
of augmented versions checked against the plain augment/encoding path, and the resumable row stream."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trm_submit.config import TrainConfig
from trm_submit.grids import augment, encoding
from trm_submit.io.tasks import Task
from trm_submit.learn import trainset


def g(rows: list[list[int]]) -> np.ndarray:
    return np.array(rows, dtype=np.uint8)


def make_task(task_id: str, pairs: list[tuple[np.ndarray, np.ndarray]]) -> Task:
    return Task(task_id, tuple(pairs), ())


A, B, C, D, E, F = (g([[1, 2], [3, 4]]), g([[4, 3], [2, 1]]), g([[5]]), g([[6, 6]]), g([[7], [8]]), g([[0, 9, 9]]))
X, Y = g([[1, 1, 1]]), g([[2, 2, 2]])


def test_merge_pairs_appends_test_pairs_and_checks_counts():
    task = Task("t", ((A, B),), (C,))
    merged = trainset.merge_pairs(task, [D])
    assert len(merged.train) == 2 and merged.test_inputs == ()
    assert np.array_equal(merged.train[1][0], C) and np.array_equal(merged.train[1][1], D)
    with pytest.raises(ValueError, match="2 solutions"):
        trainset.merge_pairs(task, [D, D])


def test_content_key_ignores_pair_order_and_split():
    t1 = make_task("a", [(A, B), (C, D), (E, F)])
    t2 = trainset.merge_pairs(Task("b", ((E, F), (A, B)), (C,)), [D])
    assert trainset.content_key(t1) == trainset.content_key(t2)
    assert trainset.content_key(t1) != trainset.content_key(make_task("a", [(A, B), (C, D), (E, X)]))


def test_select_removes_eval_overlap_and_dedups_by_content():
    evaluation = [make_task("e1", [(A, B), (C, D), (E, F)]), make_task("e2", [(X, Y), (Y, X)])]
    first = [
        make_task("k1", [(B, A), (D, C)]),  # kept
        make_task("r1", [(E, F), (A, B), (C, D)]),  # same content as e1, other order -> removed
    ]
    second = [
        make_task("k1", [(D, C), (B, A)]),  # same content as first/k1 -> duplicate
        make_task("k9", [(D, C), (B, A)]),  # same content, other id -> duplicate
        make_task("e2", [(F, E)]),  # same id as an evaluation task, content differs -> removed
        make_task("r3", [(X, Y), (F, F)]),  # shares the pair (X, Y) with e2 -> removed
        make_task("k2", [(Y, Y)]),  # kept
    ]
    sel = trainset.select_training_tasks([("one", first), ("two", second)], [("ev", evaluation)])
    assert [t.task_id for t in sel.tasks] == ["k1", "k2"]
    assert [(s, t) for s, t, _ in sel.removed] == [("one", "r1"), ("two", "e2"), ("two", "r3")]
    assert "same content as ev/e1" in sel.removed[0][2]
    assert "same task id" in sel.removed[1][2] and "shares" in sel.removed[2][2]
    assert sel.duplicates == (("two", "k1", "one/k1"), ("two", "k9", "one/k1"))
    summary = sel.summary()
    assert summary["kept"] == 2 and summary["removed_overlapping_evaluation"] == 3
    assert summary["removed_duplicates"] == 2 and summary["sources"] == {"one": 2, "two": 5}


def _independent_selection_counts() -> dict[str, int]:
    """The selection counted again straight from the raw JSON (`datasets.load_split`), with none of
    trainset's code: a task is the multiset of its (input, output) pairs as JSON text, train and test pairs
    together; removed if an evaluation task has the same pairs, the same id or any one of its pairs; then the
    first of equal multisets is kept."""
    from trm_submit.io import datasets

    def pairs(name: str, split: str) -> list[tuple[str, tuple[str, ...]]]:
        ch, sol = datasets.load_split(name, split)
        out = []
        for tid, task in ch.items():
            if len(sol.get(tid) or []) != len(task["test"]):
                continue
            io = [(p["input"], p["output"]) for p in task["train"]] + [
                (p["input"], o) for p, o in zip(task["test"], sol[tid])]
            out.append((tid, tuple(sorted(json.dumps(x) for x in io))))
        return out

    evals = [t for n, s in TrainConfig.exclude for t in pairs(n, s)]
    eval_ids, eval_tasks = {tid for tid, _ in evals}, {key for _, key in evals}
    eval_pairs = {p for _, key in evals for p in key}
    counts = {"removed": 0, "removed_agi2": 0, "duplicates": 0, "kept": 0}
    seen: set[tuple[str, ...]] = set()
    for name, split in TrainConfig.sources:
        for tid, key in pairs(name, split):
            if key in eval_tasks or tid in eval_ids or eval_pairs.intersection(key):
                counts["removed"] += 1
                counts["removed_agi2"] += name == "arc-agi-2"
            elif key in seen:
                counts["duplicates"] += 1
            else:
                seen.add(key)
                counts["kept"] += 1
    return counts


def test_real_sets_selection_counts():
    """ARC-AGI-1 + ARC-AGI-2 training minus the evaluation sets (counts in benchmarks/README.md). The numbers
    below are also counted independently of trainset from the raw JSON (`_independent_selection_counts`)."""
    sel = trainset.load_training_tasks()
    assert _independent_selection_counts() == {"removed": 377, "removed_agi2": 376, "duplicates": 391, "kept": 632}
    removed = {(s, t): r for s, t, r in sel.removed}
    # ARC-AGI-1 training holds one evaluation task under another id (spec: 40853293 == 070dd51e).
    assert "arc-agi-1/evaluation/070dd51e" in removed[("arc-agi-1/training", "40853293")]
    # ARC-AGI-2 training keeps an older version of an ARC-AGI-1 evaluation task: caught by id.
    assert "same task id" in removed[("arc-agi-2/training", "ac0c5833")]
    assert sum(s == "arc-agi-2/training" for s, _ in removed) == 376
    assert len(sel.removed) == 377 and len(sel.duplicates) == 391 and len(sel.tasks) == 632
    assert all(kept.startswith("arc-agi-1/training/") for _, _, kept in sel.duplicates)
    keys = [trainset.content_key(t) for t in sel.tasks]
    assert len(set(keys)) == len(keys)


def _locate(canvas: np.ndarray) -> tuple[int, int]:
    """Top-left corner of the grid on a canvas: first row/column holding a colour token."""
    rows, cols = np.nonzero(canvas >= encoding.COLOR_OFFSET)
    return int(rows.min()), int(cols.min())


def _tasks() -> list[Task]:
    rng = np.random.default_rng(3)
    small = make_task("small", [(rng.integers(0, 10, (3, 4)).astype(np.uint8),
                                 rng.integers(0, 10, (2, 2)).astype(np.uint8)) for _ in range(3)])
    mid = make_task("mid", [(rng.integers(0, 10, (9, 5)).astype(np.uint8),
                             rng.integers(0, 10, (5, 9)).astype(np.uint8)) for _ in range(2)])
    big = make_task("big", [(rng.integers(0, 10, (20, 13)).astype(np.uint8),
                             rng.integers(0, 10, (13, 20)).astype(np.uint8)) for _ in range(2)])
    return [small, mid, big]


def test_build_encodes_every_version_like_the_plain_path():
    tasks = _tasks()
    data = trainset.build_training_set(tasks, n_aug=5, seed=7, buckets=(8, 12, 30), compact=True, margin=1)
    assert [b.side for b in data.buckets] == [8, 12, 30]  # needed sides 5, 10, 21
    next_id = 1
    for task, bucket in zip(tasks, data.buckets):
        side = bucket.side
        augs = augment.plan(task, 6, augment.task_seed(7, task.task_id))
        assert bucket.num_groups == 1 and bucket.puzzle_start[-1] == len(augs) * len(task.train)
        for v, aug in enumerate(augs):
            version = aug.apply_task(task)
            lo, hi = bucket.puzzle_start[v], bucket.puzzle_start[v + 1]
            assert (bucket.puzzle_ids[lo:hi] == next_id + v).all()
            offsets = []
            for j, (inp, out) in enumerate(version.train):
                canvas = bucket.inputs[lo + j].reshape(side, side)
                offset = _locate(canvas)
                offsets.append(offset)
                want_in, want_lab = encoding.encode_pair(inp, out, side, offset)
                assert np.array_equal(bucket.inputs[lo + j], want_in)
                assert np.array_equal(bucket.labels[lo + j].astype(np.int32), want_lab)
            assert (0, 0) in offsets  # one example per version stays at the origin
        next_id += len(augs)
    assert data.num_puzzle_identifiers == next_id
    assert data.info["puzzles"] == next_id - 1 and data.info["examples"] == sum(b.num_examples for b in data.buckets)


def test_build_is_deterministic_and_official_layout_uses_30():
    tasks = _tasks()
    a = trainset.build_training_set(tasks, n_aug=3, seed=1, buckets=(8, 12, 30), compact=True, margin=1)
    b = trainset.build_training_set(tasks, n_aug=3, seed=1, buckets=(8, 12, 30), compact=True, margin=1)
    c = trainset.build_training_set(tasks, n_aug=3, seed=2, buckets=(8, 12, 30), compact=True, margin=1)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    full = trainset.build_training_set(tasks, n_aug=3, seed=1, buckets=(30,), compact=False, margin=1)
    assert [bk.side for bk in full.buckets] == [30] and full.buckets[0].num_groups == 3
    with pytest.raises(ValueError, match="no bucket side fits"):
        trainset.build_training_set(tasks, n_aug=1, seed=1, buckets=(8, 12), compact=True, margin=1)


def _source_data() -> trainset.Bucket:
    tasks = [make_task(f"t{i}", [(g([[i % 10, 1]]), g([[2, i % 10]]))] * (1 + i % 3)) for i in range(7)]
    return trainset.build_training_set(tasks, n_aug=3, seed=0, buckets=(8,), compact=True, margin=1).buckets[0]


def test_epoch_visits_each_group_once_with_all_examples_of_one_version():
    bucket = _source_data()
    src = trainset.BucketSource(bucket, seed=5)
    order = src.epoch_order(0)
    assert len(order) == len(set(order.tolist()))
    puzzles = np.searchsorted(bucket.puzzle_start, order, side="right") - 1
    groups = np.searchsorted(bucket.group_start, puzzles, side="right") - 1
    assert sorted(set(groups.tolist())) == list(range(bucket.num_groups))
    for grp in range(bucket.num_groups):
        chosen = set(puzzles[groups == grp].tolist())
        assert len(chosen) == 1  # one version per group
        p = chosen.pop()
        assert (groups == grp).sum() == bucket.puzzle_start[p + 1] - bucket.puzzle_start[p]
    rows = src.take(len(order) + 3)  # crosses into epoch 1
    assert rows["inputs"].dtype == np.int32 and rows["labels"].min() == encoding.IGNORE_LABEL
    assert np.array_equal(rows["puzzle_identifiers"][: len(order)], bucket.puzzle_ids[order])
    assert src.state_dict()["epoch"] == 1 and src.state_dict()["position"] == 3


def test_source_state_restores_the_stream_exactly():
    bucket = _source_data()
    a = trainset.BucketSource(bucket, seed=5)
    a.take(11)
    state = a.state_dict()
    expected = [a.take(n)["puzzle_identifiers"] for n in (4, 30, 2)]
    b = trainset.BucketSource(bucket, seed=5)
    b.load_state_dict(state)
    got = [b.take(n)["puzzle_identifiers"] for n in (4, 30, 2)]
    assert all(np.array_equal(x, y) for x, y in zip(expected, got))
    with pytest.raises(ValueError, match="seed"):
        trainset.BucketSource(bucket, seed=6).load_state_dict(state)


def test_ranks_partition_the_groups_of_an_epoch():
    bucket = _source_data()
    whole = trainset.BucketSource(bucket, seed=5).epoch_order(2)
    parts = [trainset.BucketSource(bucket, seed=5, rank=r, world=2).epoch_order(2) for r in range(2)]
    assert not set(parts[0].tolist()) & set(parts[1].tolist())
    assert sorted(np.concatenate(parts).tolist()) == sorted(whole.tolist())
    with pytest.raises(ValueError, match="fewer than"):
        trainset.BucketSource(bucket, seed=5, rank=0, world=bucket.num_groups + 1)


def test_per_task_and_joint_scopes_plan_the_same_views_for_a_task_and_seed():
    """The seed a per-task run hands a task (schedule) and the seed a joint run's training set gives it plan the
    same views: the two scopes see one task the same way for one run seed."""
    from trm_submit.budget import Budget
    from trm_submit.run import schedule

    tasks = _tasks()
    seeds: dict[str, int] = {}
    list(schedule.run_serial(tasks, lambda t, b, s: seeds.setdefault(t.task_id, s) and {}, Budget.seconds(60), 7))
    data = trainset.build_training_set(tasks, n_aug=5, seed=7, buckets=(8, 12, 30), compact=True, margin=1)
    for task in tasks:
        assert list(data.groups[task.task_id].augs) == augment.plan(task, 6, seeds[task.task_id])
