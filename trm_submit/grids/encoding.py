"""Token format and canvas layout: the only module that knows token ids, EOS markers and the crop rule.

A grid of colours 0..9 is written onto a square canvas of `side` x `side` cells (30 officially, smaller for
compact canvases), flattened row-major: cell (r, c) is token index `side * r + c`. Colour `c` becomes token
`c + COLOR_OFFSET`; the row directly below the grid and the column directly right of it hold EOS, but only
where they lie inside the canvas; the corner cell diagonal to the grid and everything else is PAD.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PAD = 0
EOS = 1
COLOR_OFFSET = 2
NUM_COLORS = 10
VOCAB_SIZE = 12
MAX_SIDE = 30
IGNORE_LABEL = -100


def _check_side(side: int) -> int:
    if not isinstance(side, (int, np.integer)) or not 1 <= side <= MAX_SIDE:
        raise ValueError(f"canvas side must be an int in 1..{MAX_SIDE}, got {side!r}")
    return int(side)


def _check_grid(grid: Any, what: str = "grid") -> np.ndarray:
    arr = np.asarray(grid)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{what} must be a non-empty 2-D array, got shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= NUM_COLORS):
        raise ValueError(f"{what} has colours outside 0..{NUM_COLORS - 1}: min {arr.min()}, max {arr.max()}")
    return arr.astype(np.uint8, copy=False)


def _check_fits(shape: tuple[int, int], side: int, offset: tuple[int, int], what: str) -> tuple[int, int]:
    pr, pc = (int(offset[0]), int(offset[1]))
    h, w = shape
    if pr < 0 or pc < 0 or pr + h > side or pc + w > side:
        raise ValueError(f"{what} of shape {h}x{w} at offset ({pr}, {pc}) does not fit a {side}x{side} canvas")
    return pr, pc


def encode_grid(grid: Any, side: int = MAX_SIDE, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Encode one grid onto a flattened `side` x `side` canvas at top-left `offset`: uint8[side * side]."""
    side = _check_side(side)
    arr = _check_grid(grid)
    h, w = arr.shape
    pr, pc = _check_fits((h, w), side, offset, "grid")
    canvas = np.full((side, side), PAD, dtype=np.uint8)
    canvas[pr:pr + h, pc:pc + w] = arr + COLOR_OFFSET
    if pr + h < side:
        canvas[pr + h, pc:pc + w] = EOS
    if pc + w < side:
        canvas[pr:pr + h, pc + w] = EOS
    return canvas.reshape(-1)


def encode_pair(
    inp: Any, out: Any, side: int = MAX_SIDE, offset: tuple[int, int] = (0, 0)
) -> tuple[np.ndarray, np.ndarray]:
    """Encode a demonstration pair at the same offset: (inputs uint8, labels int32 with PAD -> IGNORE_LABEL)."""
    inputs = encode_grid(inp, side, offset)
    labels = encode_grid(out, side, offset).astype(np.int32)
    labels[labels == PAD] = IGNORE_LABEL
    return inputs, labels


def random_offset(
    rng: np.random.Generator, inp_shape: tuple[int, int], out_shape: tuple[int, int], side: int = MAX_SIDE
) -> tuple[int, int]:
    """Official train-split translation: pr ~ U{0..side-max(h)}, pc ~ U{0..side-max(w)} over input and output."""
    side = _check_side(side)
    max_h = max(int(inp_shape[0]), int(out_shape[0]))
    max_w = max(int(inp_shape[1]), int(out_shape[1]))
    if max_h > side or max_w > side:
        raise ValueError(f"pair of shapes {tuple(inp_shape)} / {tuple(out_shape)} does not fit a {side}x{side} canvas")
    pr = int(rng.integers(0, side - max_h + 1))
    pc = int(rng.integers(0, side - max_w + 1))
    return pr, pc


def _as_canvas(tokens: Any, side: int) -> np.ndarray:
    side = _check_side(side)
    arr = np.asarray(tokens)
    if arr.size != side * side:
        raise ValueError(f"token array has {arr.size} entries, a {side}x{side} canvas needs {side * side}")
    return arr.reshape(side, side)


def crop(tokens: Any, side: int = MAX_SIDE) -> np.ndarray:
    """The official crop: the largest top-left rectangle of colour tokens, returned as tokens (uint8 [h, w]).

    Rows are walked from the top with a running width limit (initially `side`): in row r the width shrinks
    to the first column whose token is not a colour; the candidate is (r + 1) x width; the largest area wins
    and the first one wins ties. A non-colour token at (0, 0) gives an empty 0x0 array.
    """
    canvas = _as_canvas(tokens, side)
    not_color = (canvas < COLOR_OFFSET) | (canvas >= COLOR_OFFSET + NUM_COLORS)
    first_bad = np.where(not_color.any(axis=1), not_color.argmax(axis=1), canvas.shape[1])
    width = np.minimum.accumulate(first_bad)
    area = (np.arange(canvas.shape[0]) + 1) * width
    best = int(area.argmax())
    if area[best] == 0:
        return np.zeros((0, 0), dtype=np.uint8)
    return canvas[: best + 1, : int(width[best])].astype(np.uint8)


def decode_grid(tokens: Any, side: int = MAX_SIDE) -> np.ndarray:
    """Crop a predicted canvas and turn its tokens back into colours 0..9 (uint8 [h, w]; 0x0 when empty)."""
    return (crop(tokens, side) - COLOR_OFFSET).astype(np.uint8)
