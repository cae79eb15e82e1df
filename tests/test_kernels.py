"""Numba decode kernel against the plain numpy path (encoding.decode_grid + Aug.invert + grid_hash) on random
batches: true views, garbage predictions, empty crops, small canvases; and properties of the grid hash."""

from __future__ import annotations

import numpy as np
import pytest

from trm_submit.grids import augment, encoding, kernels
from trm_submit.grids.augment import Aug


def random_views(rng: np.random.Generator, n: int, side: int) -> tuple[np.ndarray, list[Aug]]:
    """n canvases: a third true encodings of random grids, a third garbage, a third with few EOS/PAD holes."""
    augs = [augment.draw(rng, permute_zero=bool(rng.integers(2))) for _ in range(n)]
    tokens = np.empty((n, side * side), dtype=np.uint8)
    for v, aug in enumerate(augs):
        kind = v % 3
        if kind == 0:
            h, w = rng.integers(1, side + 1, 2)
            tokens[v] = encoding.encode_grid(aug.apply(rng.integers(0, 10, (h, w))), side)
        elif kind == 1:
            tokens[v] = rng.integers(0, encoding.VOCAB_SIZE, side * side)
        else:
            row = rng.integers(2, 12, side * side)
            holes = rng.random(side * side) < 0.02
            row[holes] = rng.choice([0, 1, 13], holes.sum())
            tokens[v] = row
    return tokens, augs


def numpy_decode(tokens: np.ndarray, side: int, augs: list[Aug]) -> list[np.ndarray | None]:
    out = []
    for row, aug in zip(tokens, augs):
        grid = encoding.decode_grid(row, side)
        out.append(aug.invert(grid) if grid.size else None)
    return out


@pytest.mark.parametrize("side", [30, 12, 1])
def test_kernel_matches_numpy_path(side: int) -> None:
    rng = np.random.default_rng(side)
    tokens, augs = random_views(rng, 300, side)
    tokens[5] = encoding.PAD  # empty crop: all PAD
    tokens[7, 0] = encoding.EOS  # empty crop: EOS at the origin
    ks, inv = augment.aug_arrays(augs)
    grids, shapes, hashes, valid = kernels.decode_views(tokens, side, ks, inv)
    assert grids.shape == (300, 30, 30) and grids.dtype == np.uint8
    assert shapes.dtype == np.int32 and hashes.dtype == np.uint64 and valid.dtype == np.bool_
    expected = numpy_decode(tokens, side, augs)
    assert not valid[5] and not valid[7]
    assert valid.sum() > 150
    for v, ref in enumerate(expected):
        if ref is None:
            assert not valid[v] and (grids[v] == 0).all() and shapes[v].tolist() == [0, 0]
            continue
        h, w = ref.shape
        assert valid[v] and shapes[v].tolist() == [h, w]
        assert np.array_equal(grids[v, :h, :w], ref)
        assert not grids[v, h:].any() and not grids[v, :, w:].any()
        assert int(hashes[v]) == kernels.grid_hash(ref)


def test_kernel_recovers_the_true_grid_from_every_view() -> None:
    rng = np.random.default_rng(11)
    truth = rng.integers(0, 10, (9, 14)).astype(np.uint8)
    augs = [Aug(k, augment.draw(rng, True).colors) for k in range(8) for _ in range(4)]
    tokens = np.stack([encoding.encode_grid(a.apply(truth)) for a in augs])
    ks, inv = augment.aug_arrays(augs)
    grids, shapes, hashes, valid = kernels.decode_views(tokens, 30, ks, inv)
    assert valid.all() and (shapes == [9, 14]).all()
    assert (grids[:, :9, :14] == truth).all()
    assert set(hashes.tolist()) == {kernels.grid_hash(truth)}


def test_single_thread_gives_the_same_result() -> None:
    rng = np.random.default_rng(5)
    tokens, augs = random_views(rng, 64, 30)
    ks, inv = augment.aug_arrays(augs)
    before = kernels.set_threads(None)
    many = kernels.decode_views(tokens, 30, ks, inv)
    assert kernels.set_threads(1) == 1
    try:
        one = kernels.decode_views(tokens, 30, ks, inv)
    finally:
        kernels.set_threads(before)
    for a, b in zip(many, one):
        assert np.array_equal(a, b)


def test_grid_hash_properties() -> None:
    zeros = [np.zeros(s, dtype=np.uint8) for s in [(1, 4), (4, 1), (2, 2), (1, 1), (30, 30)]]
    assert len({kernels.grid_hash(z) for z in zeros}) == len(zeros)  # same cells, different shapes
    rng = np.random.default_rng(0)
    base = rng.integers(0, 10, (30, 30)).astype(np.uint8)
    assert kernels.grid_hash(base) == kernels.grid_hash(base.copy())
    seen = {kernels.grid_hash(base)}
    for r in range(30):
        for c in range(30):
            changed = base.copy()
            changed[r, c] = (changed[r, c] + 1 + rng.integers(9)) % 10
            seen.add(kernels.grid_hash(changed))
    assert len(seen) == 901  # every single-cell change moves the hash


def test_int64_tokens_decode_like_uint8() -> None:
    rng = np.random.default_rng(9)
    tokens, augs = random_views(rng, 30, 30)
    ks, inv = augment.aug_arrays(augs)
    as_u8 = kernels.decode_views(tokens, 30, ks, inv)
    as_i64 = kernels.decode_views(tokens.astype(np.int64), 30, ks.astype(np.int8), inv)
    for a, b in zip(as_u8, as_i64):
        assert np.array_equal(a, b)


def test_empty_batch() -> None:
    grids, shapes, hashes, valid = kernels.decode_views(
        np.zeros((0, 900), np.uint8), 30, np.zeros(0, np.int64), np.zeros((0, 10), np.uint8))
    assert grids.shape == (0, 30, 30) and shapes.shape == (0, 2) and hashes.shape == (0,) and valid.shape == (0,)


@pytest.mark.parametrize("args, match", [
    ((np.zeros((2, 900)), 31, np.zeros(2), np.zeros((2, 10))), "side"),
    ((np.zeros((2, 899)), 30, np.zeros(2), np.zeros((2, 10))), "tokens"),
    ((np.full((2, 900), 258), 30, np.zeros(2), np.zeros((2, 10))), "0..255"),
    ((np.zeros((2, 900)), 30, np.array([0, 8]), np.zeros((2, 10))), "dihedral"),
    ((np.zeros((2, 900)), 30, np.zeros(3), np.zeros((2, 10))), "dihedral"),
    ((np.zeros((2, 900)), 30, np.zeros(2), np.zeros((2, 9))), "inv_colors"),
    ((np.zeros((2, 900)), 30, np.zeros(2), np.full((2, 10), 10)), "inv_colors"),
])
def test_bad_input_raises(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        kernels.decode_views(*args)
