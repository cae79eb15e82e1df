"""Voting on hand-built cases: ranking by count then confidence, deterministic ties, invalid views, hash
collisions, and the choice of the two attempts with fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from trm_submit.grids import vote
from trm_submit.grids.kernels import grid_hash
from trm_submit.grids.vote import Candidate, pick_attempts, rank

A = np.array([[1, 2], [3, 4]], dtype=np.uint8)
B = np.array([[5]], dtype=np.uint8)
C = np.array([[0, 0, 7]], dtype=np.uint8)


def views(grids: list[np.ndarray | None], hashes: list[int] | None = None, pad_value: int = 0):
    """Pack grids (None = invalid view) like decode_views: [V, 30, 30] padded, shapes, hashes, valid."""
    n = len(grids)
    out = np.full((n, 30, 30), pad_value, dtype=np.uint8)
    shapes = np.zeros((n, 2), dtype=np.int32)
    valid = np.array([g is not None for g in grids])
    auto = []
    for v, g in enumerate(grids):
        if g is not None:
            out[v, : g.shape[0], : g.shape[1]] = g
            shapes[v] = g.shape
        auto.append(grid_hash(g) if g is not None else 0)
    return out, shapes, np.array(hashes if hashes is not None else auto, dtype=np.uint64), valid


def summary(cands: list[Candidate]) -> list[tuple[list, int, float]]:
    return [(c.grid.tolist(), c.count, round(c.mean_conf, 6)) for c in cands]


def test_count_ranks_first_then_mean_confidence() -> None:
    grids = [B, A, C, A, B, A]
    conf = np.array([0.9, 0.1, 0.5, 0.2, 0.7, 0.3])
    cands = rank(*views(grids), conf)
    assert summary(cands) == [(A.tolist(), 3, 0.2), (B.tolist(), 2, 0.8), (C.tolist(), 1, 0.5)]
    assert cands[0].hash == grid_hash(A)


def test_confidence_breaks_a_count_tie() -> None:
    cands = rank(*views([B, A, B, A]), np.array([0.2, 0.9, 0.3, 0.8]))
    assert summary(cands) == [(A.tolist(), 2, 0.85), (B.tolist(), 2, 0.25)]


def test_exact_tie_goes_to_the_earlier_first_vote() -> None:
    for order in ([A, B], [B, A]):
        hashes = [1, 2] if order[0] is A else [2, 1]  # first-occurrence wins whatever the hash order
        cands = rank(*views(order, hashes), np.array([0.5, 0.5]))
        assert [c.grid.tolist() for c in cands] == [order[0].tolist(), order[1].tolist()]


def test_invalid_views_cast_no_vote() -> None:
    packed = views([None, A, None, B, None, B])
    packed[0][0, :2, :2] = A  # stale cells under an invalid view must not count
    cands = rank(*packed, np.array([1.0, 0.4, 1.0, 0.1, 1.0, 0.1]))
    assert summary(cands) == [(B.tolist(), 2, 0.1), (A.tolist(), 1, 0.4)]
    assert rank(*views([None, None]), np.array([0.5, 0.5])) == []
    assert rank(*views([]), np.zeros(0)) == []


def test_one_candidate() -> None:
    cands = rank(*views([C, None, C]), np.array([0.25, 0.0, 0.75]))
    assert summary(cands) == [(C.tolist(), 2, 0.5)]


def test_hash_collision_keeps_grids_apart() -> None:
    cands = rank(*views([A, C, A, C, C], hashes=[7, 7, 7, 7, 7]), np.full(5, 0.5))
    assert summary(cands) == [(C.tolist(), 3, 0.5), (A.tolist(), 2, 0.5)]


def test_cells_outside_the_shape_are_ignored() -> None:
    packed = views([A, A, B])
    packed[0][1, 5:9, 5:9] = 9  # junk beyond the 2x2 grid of view 1
    cands = rank(*packed, np.array([0.1, 0.1, 0.9]))
    assert summary(cands) == [(A.tolist(), 2, 0.1), (B.tolist(), 1, 0.9)]


def test_same_cells_different_shape_are_different_candidates() -> None:
    row, col = np.zeros((1, 2), np.uint8), np.zeros((2, 1), np.uint8)
    cands = rank(*views([row, col, col]), np.full(3, 0.5))
    assert [c.grid.shape for c in cands] == [(2, 1), (1, 2)]


def test_rules_registry_and_bad_rule() -> None:
    assert vote.RULES["count_then_confidence"] is vote.count_then_confidence
    with pytest.raises(ValueError, match="unknown voting rule"):
        rank(*views([A]), np.ones(1), rule="nope")
    with pytest.raises(ValueError, match="conf"):
        rank(*views([A, B]), np.ones(3))


def cand(grid: np.ndarray) -> Candidate:
    return Candidate(grid, 1, 0.5, grid_hash(grid))


def test_pick_attempts() -> None:
    fb = (np.zeros((1, 1), np.uint8), np.ones((1, 1), np.uint8))
    pick = lambda cands, fallback=fb: [g.tolist() for g in pick_attempts(cands, fallback)]  # noqa: E731
    assert pick([cand(A), cand(B), cand(C)]) == [A.tolist(), B.tolist()]
    assert pick([cand(A)]) == [A.tolist(), [[0]]]
    assert pick([cand(fb[0])]) == [[[0]], [[1]]]  # first fallback equals attempt 1: use the second
    assert pick([]) == [[[0]], [[1]]]
    assert pick([cand(fb[0])], (fb[0], fb[0])) == [[[0]], [[0]]]  # no distinct grid exists at all


def test_candidates_do_not_alias_the_inputs() -> None:
    packed = views([A, B, A])
    cands = rank(*packed, np.full(3, 0.5))
    packed[0][:] = 9  # the caller reuses its buffer
    assert [c.grid.tolist() for c in cands] == [A.tolist(), B.tolist()]


def test_demote_copies_moves_only_the_input_to_the_end() -> None:
    cands = [cand(A), cand(B), cand(C)]
    assert [c.grid.tolist() for c in vote.demote_copies(cands, A)] == [B.tolist(), C.tolist(), A.tolist()]
    assert [c.grid.tolist() for c in vote.demote_copies(cands, B.copy())] == [A.tolist(), C.tolist(), B.tolist()]
    assert vote.demote_copies(cands, np.array([[1, 2]], np.uint8)) == cands  # no candidate equals the input
    assert vote.demote_copies(cands, A.T) == cands  # the transpose is not a copy
    assert [c.grid.tolist() for c in vote.demote_copies([cand(A)], A)] == [A.tolist()]  # the only one stays
