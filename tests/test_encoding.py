"""Token encoding: the spec's hand-built examples, crop as the inverse of encode for every shape and side,
crop against a literal transcription of the official loop on garbage canvases and offsets."""

from __future__ import annotations

import numpy as np
import pytest

from trm_submit.grids import encoding as enc


def official_crop(tokens: np.ndarray, side: int) -> np.ndarray:
    """The official numba `_crop` loop, transcribed literally (generalised from 30 to `side`)."""
    grid = tokens.reshape(side, side)
    max_area, max_size = 0, (0, 0)
    nr, nc = grid.shape
    num_c = nc
    for num_r in range(1, nr + 1):
        for c in range(1, num_c + 1):
            x = grid[num_r - 1, c - 1]
            if (x < 2) | (x > 11):
                num_c = c - 1
                break
        area = num_r * num_c
        if area > max_area:
            max_area = area
            max_size = (num_r, num_c)
    return grid[: max_size[0], : max_size[1]]


def test_constants() -> None:
    assert (enc.PAD, enc.EOS, enc.COLOR_OFFSET, enc.VOCAB_SIZE, enc.MAX_SIDE, enc.IGNORE_LABEL) == (
        0, 1, 2, 12, 30, -100)


def test_spec_3x3_example_at_origin() -> None:
    grid = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 9]])
    canvas = enc.encode_grid(grid).reshape(30, 30)
    expected = np.zeros((30, 30), dtype=np.uint8)
    expected[:3, :3] = grid + 2
    expected[:3, 3] = 1  # EOS column right of the grid
    expected[3, :3] = 1  # EOS row below it
    assert canvas.dtype == np.uint8 and np.array_equal(canvas, expected)
    assert canvas[3, 3] == enc.PAD


def test_offset_example_on_small_canvas() -> None:
    canvas = enc.encode_grid([[5, 6], [7, 8]], side=5, offset=(1, 2)).reshape(5, 5)
    assert canvas.tolist() == [
        [0, 0, 0, 0, 0],
        [0, 0, 7, 8, 1],
        [0, 0, 9, 10, 1],
        [0, 0, 1, 1, 0],
        [0, 0, 0, 0, 0],
    ]


def test_eos_only_inside_the_canvas() -> None:
    full = enc.encode_grid(np.full((30, 30), 4))
    assert (full == 6).all()
    wide = enc.encode_grid(np.full((3, 30), 4)).reshape(30, 30)
    assert (wide[3] == enc.EOS).all() and (wide[4:] == enc.PAD).all() and (wide[:3] == 6).all()
    corner = enc.encode_grid(np.full((2, 3), 1), side=5, offset=(3, 2)).reshape(5, 5)
    assert (corner[3:, 2:] == 3).all() and (corner == enc.EOS).sum() == 0


def test_encode_pair_labels() -> None:
    inputs, labels = enc.encode_pair([[1]], [[2, 3]], side=4)
    assert inputs.dtype == np.uint8 and labels.dtype == np.int32
    assert inputs.reshape(4, 4).tolist()[:2] == [[3, 1, 0, 0], [1, 0, 0, 0]]
    assert labels.reshape(4, 4).tolist() == [
        [4, 5, 1, -100], [1, 1, -100, -100], [-100] * 4, [-100] * 4]


@pytest.mark.parametrize("side", [1, 2, 5, 12, 30])
def test_crop_inverts_encode_for_every_shape(side: int) -> None:
    rng = np.random.default_rng(side)
    for h in range(1, side + 1):
        for w in range(1, side + 1):
            grid = rng.integers(0, 10, (h, w)).astype(np.uint8)
            tokens = enc.encode_grid(grid, side)
            assert np.array_equal(enc.crop(tokens, side), grid + enc.COLOR_OFFSET)
            assert np.array_equal(enc.decode_grid(tokens, side), grid)


def test_crop_of_non_colour_origin_is_empty() -> None:
    for first in (enc.PAD, enc.EOS, 12, 255):
        tokens = np.full(900, 5, dtype=np.uint8)
        tokens[0] = first
        assert enc.crop(tokens).shape == (0, 0)
        assert enc.decode_grid(tokens).shape == (0, 0)


@pytest.mark.parametrize("side", [3, 7, 30])
def test_crop_matches_official_loop_on_garbage(side: int) -> None:
    rng = np.random.default_rng(100 + side)
    for trial in range(300):
        p_bad = [0.0, 0.01, 0.05, 0.2][trial % 4]
        tokens = rng.integers(2, 12, side * side)
        bad = rng.random(side * side) < p_bad
        tokens[bad] = rng.choice([0, 1, 12, 200], bad.sum())
        tokens = tokens.astype(np.uint8)
        assert np.array_equal(enc.crop(tokens, side), official_crop(tokens, side))


def test_crop_prefers_largest_area_first_on_ties() -> None:
    canvas = np.full((4, 4), 5, dtype=np.uint8)
    canvas[0, 3] = enc.EOS  # row 0 width 3
    canvas[1, 2] = enc.EOS  # rows 0-1 width 2 (area 4)
    canvas[3, 1] = enc.EOS  # rows 0-2 width 2 (area 6) beats rows 0-3 width 1 (area 4)
    assert enc.crop(canvas.ravel(), 4).shape == (3, 2)
    tie = np.full((2, 2), 5, dtype=np.uint8)
    tie[1, 1] = enc.PAD  # 1x2 and 2x1 both have area 2: the first one wins
    assert enc.crop(tie.ravel(), 2).shape == (1, 2)


def test_random_offset_range_and_fit() -> None:
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(400):
        pr, pc = enc.random_offset(rng, (2, 3), (4, 1), side=6)
        assert 0 <= pr <= 2 and 0 <= pc <= 3
        enc.encode_pair(np.zeros((2, 3)), np.zeros((4, 1)), 6, (pr, pc))  # fits
        seen.add((pr, pc))
    assert seen == {(r, c) for r in range(3) for c in range(4)}
    with pytest.raises(ValueError, match="does not fit"):
        enc.random_offset(rng, (7, 1), (1, 1), side=6)


@pytest.mark.parametrize("call, match", [
    (lambda: enc.encode_grid([[10]]), "colours"),
    (lambda: enc.encode_grid(np.zeros((6, 2)), side=5), "does not fit"),
    (lambda: enc.encode_grid([[1]], side=4, offset=(0, 4)), "does not fit"),
    (lambda: enc.encode_grid([[1]], side=31), "side"),
    (lambda: enc.encode_grid([1, 2]), "2-D"),
    (lambda: enc.crop(np.zeros(899)), "899"),
])
def test_bad_input_raises_clear_errors(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
