"""Augmentations: dihedral table against the spec's B[i, j] formulas, apply/invert round trips, official
names, and `plan` (identity first, distinct, deterministic, dedup on symmetric tasks)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from trm_submit.grids import augment
from trm_submit.grids.augment import DIHEDRAL_INVERSE, IDENTITY, Aug, dihedral, plan
from trm_submit.io.tasks import Task

# B[i, j] = A[src(i, j)] for A of shape h x w (spec section 6), with the shape of B.
SPEC_TABLE = {
    0: (lambda i, j, h, w: (i, j), lambda h, w: (h, w)),
    1: (lambda i, j, h, w: (j, w - 1 - i), lambda h, w: (w, h)),
    2: (lambda i, j, h, w: (h - 1 - i, w - 1 - j), lambda h, w: (h, w)),
    3: (lambda i, j, h, w: (h - 1 - j, i), lambda h, w: (w, h)),
    4: (lambda i, j, h, w: (i, w - 1 - j), lambda h, w: (h, w)),
    5: (lambda i, j, h, w: (h - 1 - i, j), lambda h, w: (h, w)),
    6: (lambda i, j, h, w: (j, i), lambda h, w: (w, h)),
    7: (lambda i, j, h, w: (h - 1 - j, w - 1 - i), lambda h, w: (w, h)),
}
SHAPES = [(1, 1), (1, 7), (7, 1), (2, 3), (3, 2), (5, 5), (13, 29), (30, 1), (30, 30)]


def spec_dihedral(a: np.ndarray, k: int) -> np.ndarray:
    src, shape = SPEC_TABLE[k]
    h, w = a.shape
    bh, bw = shape(h, w)
    out = np.empty((bh, bw), dtype=a.dtype)
    for i in range(bh):
        for j in range(bw):
            out[i, j] = a[src(i, j, h, w)]
    return out


def random_aug(rng: np.random.Generator, permute_zero: bool) -> Aug:
    return augment.draw(rng, permute_zero)


@pytest.mark.parametrize("k", range(8))
@pytest.mark.parametrize("shape", SHAPES)
def test_dihedral_matches_spec_formulas(k: int, shape: tuple[int, int]) -> None:
    a = np.random.default_rng(k).integers(0, 10, shape).astype(np.uint8)
    assert np.array_equal(dihedral(a, k), spec_dihedral(a, k))


@pytest.mark.parametrize("k", range(8))
def test_dihedral_inverse_table_round_trips(k: int) -> None:
    a = np.arange(6 * 11).reshape(6, 11)
    assert np.array_equal(dihedral(dihedral(a, k), DIHEDRAL_INVERSE[k]), a)
    assert DIHEDRAL_INVERSE == (0, 3, 2, 1, 4, 5, 6, 7)


@pytest.mark.parametrize("permute_zero", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_apply_then_invert_is_identity(permute_zero: bool, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(hash(shape) % 1000)
    grid = rng.integers(0, 10, shape).astype(np.uint8)
    for k in range(8):
        aug = Aug(k, random_aug(rng, permute_zero).colors)
        if not permute_zero:
            assert aug.colors[0] == 0
        out = aug.apply(grid)
        assert out.dtype == np.uint8
        assert np.array_equal(out, spec_dihedral(np.array(aug.colors)[grid], k))
        assert np.array_equal(aug.invert(out), grid)


def test_apply_hand_computed() -> None:
    grid = np.array([[1, 2, 3], [4, 5, 0]], dtype=np.uint8)
    colors = (0, 9, 8, 7, 6, 5, 4, 3, 2, 1)  # c -> 10 - c, 0 fixed
    aug = Aug(1, colors)  # rot90 counter-clockwise after the colour map
    assert aug.apply(grid).tolist() == [[7, 0], [8, 5], [9, 6]]
    assert aug.inverse_colors.tolist() == [0, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    perm = Aug(0, (3, 0, 1, 2, 4, 5, 6, 7, 8, 9))
    assert perm.inverse_colors.tolist() == [1, 2, 3, 0, 4, 5, 6, 7, 8, 9]


def test_official_name_round_trip() -> None:
    aug = Aug.from_name("8be77c9e|||t7|||0612397845")
    assert aug == Aug(7, (0, 6, 1, 2, 3, 9, 7, 8, 4, 5))
    assert aug.name("8be77c9e") == "8be77c9e|||t7|||0612397845"
    assert augment.parse_name("8be77c9e|||t7|||0612397845") == ("8be77c9e", aug)
    assert IDENTITY.name("8be77c9e") == "8be77c9e"
    assert Aug.from_name("8be77c9e") == IDENTITY
    assert Aug(0, (0, 2, 1, 3, 4, 5, 6, 7, 8, 9)).name("x") == "x|||t0|||0213456789"


@pytest.mark.parametrize("bad", ["a|||t9|||0123456789", "a|||7|||0123456789", "a|||t1|||012345678",
                                 "a|||t1|||0123456788", "a|||t1", "a|||t1|||01234567x9"])
def test_bad_names_raise(bad: str) -> None:
    with pytest.raises(ValueError):
        Aug.from_name(bad)


def test_bad_aug_fields_raise() -> None:
    with pytest.raises(ValueError, match="dihedral"):
        Aug(8, tuple(range(10)))
    with pytest.raises(ValueError, match="permutation"):
        Aug(0, (0, 0, 2, 3, 4, 5, 6, 7, 8, 9))
    with pytest.raises(ValueError, match="permutation"):
        Aug(0, tuple(range(9)))


def make_task(train: list[tuple[list, list]], tests: list[list], task_id: str = "t") -> Task:
    arr = lambda g: np.array(g, dtype=np.uint8)  # noqa: E731
    return Task(task_id, tuple((arr(i), arr(o)) for i, o in train), tuple(arr(t) for t in tests))


def test_apply_task_transforms_every_grid() -> None:
    task = make_task([([[1, 2]], [[3], [4]]), ([[5]], [[6, 7, 8]])], [[[9, 0, 1]]])
    aug = Aug(3, (0, 2, 3, 4, 5, 6, 7, 8, 9, 1))
    out = aug.apply_task(task)
    assert isinstance(out, Task) and out.task_id == task.task_id
    pairs = list(zip(task.train, out.train))
    for (i, o), (ti, to) in pairs:
        assert np.array_equal(ti, aug.apply(i)) and np.array_equal(to, aug.apply(o))
    assert np.array_equal(out.test_inputs[0], aug.apply(task.test_inputs[0]))


def test_grid_digest_is_official_sha() -> None:
    g = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.uint8)
    assert augment.grid_digest(g) == hashlib.sha256(bytes([2, 3, 1, 2, 3, 4, 5, 6])).hexdigest()
    assert augment.grid_digest(g.reshape(3, 2)) != augment.grid_digest(g)


@pytest.fixture(scope="module")
def arc_task() -> Task:
    from trm_submit.io import datasets

    challenges, _ = datasets.load_tasks("arc-agi-1", "training", log=lambda line: None)
    return challenges.tasks["007bbfb7"]


def test_plan_identity_first_distinct_and_deterministic(arc_task: Task) -> None:
    views = plan(arc_task, 40, seed=7)
    assert len(views) == 40 and views[0] == IDENTITY
    assert all(v.colors[0] == 0 for v in views)
    digests = {augment.task_digest(v.apply_task(arc_task)) for v in views}
    assert len(digests) == 40
    assert plan(arc_task, 40, seed=7) == views
    assert plan(arc_task, 40, seed=8) != views
    assert plan(arc_task, 10, seed=7) == views[:10]  # same stream, stops earlier


def test_plan_permute_zero_moves_black(arc_task: Task) -> None:
    views = plan(arc_task, 30, seed=1, permute_zero=True)
    assert views[0] == IDENTITY and any(v.colors[0] != 0 for v in views)


def test_plan_dedup_on_symmetric_tasks() -> None:
    black = make_task([([[0, 0], [0, 0]], [[0, 0], [0, 0]])], [[[0, 0], [0, 0]]])
    assert plan(black, 50, seed=0) == [IDENTITY]  # every view is the same task
    wide = make_task([([[0, 0, 0]], [[0, 0, 0]])], [[[0, 0, 0]]])
    assert [v.dihedral in (1, 3, 6, 7) for v in plan(wide, 50, seed=0)] == [False, True]
    one_colour = make_task([([[3, 3], [3, 3]], [[3, 3], [3, 3]])], [[[3, 3], [3, 3]]])
    views = plan(one_colour, 50, seed=0)
    assert sorted(v.colors[3] for v in views) == list(range(1, 10))  # only the image of 3 matters


def test_plan_rejects_bad_count(arc_task: Task) -> None:
    with pytest.raises(ValueError, match="n_views"):
        plan(arc_task, 0, seed=0)


def test_aug_arrays() -> None:
    augs = [IDENTITY, Aug(5, (0, 9, 8, 7, 6, 5, 4, 3, 2, 1))]
    ks, inv = augment.aug_arrays(augs)
    assert ks.dtype == np.int64 and ks.tolist() == [0, 5]
    assert inv.dtype == np.uint8 and inv.tolist() == [list(range(10)), [0, 9, 8, 7, 6, 5, 4, 3, 2, 1]]
