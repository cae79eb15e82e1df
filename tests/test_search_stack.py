"""The stacker: cheapest pieces kept, care-demonstration passes and patch completion, on hand-made pieces
whose stacks are worked out by hand."""

from __future__ import annotations

import numpy as np

from trm_submit.budget import Budget
from trm_submit.search import stack
from trm_submit.search.stack import Pieces, patch_complete, stacks


def _pieces(*items, cost=1):
    pieces = Pieces()
    for text, train, test in items:
        pieces.add(text, cost, tuple(np.array(t, np.uint8) for t in train), (np.array(test, np.uint8),))
    return pieces


def test_pieces_keep_the_cheapest_over_all_levels(monkeypatch):
    monkeypatch.setattr(stack, "MAX_PIECES", 3)
    pieces = Pieces()
    for i, cost in enumerate([3, 2, 3, 1, 1, 2]):
        pieces.add(f"p{i}", cost, (np.array([[i]], np.uint8),), (np.array([[i]], np.uint8),))
    # the first three found were p0 (3), p1 (2), p2 (3); the cheaper p3, p4 replace the costliest, latest first
    assert sorted(p.text for p in pieces.items) == ["p1", "p3", "p4"]


def test_is_clean_asks_every_demonstration_for_right_cells_in_one_mode():
    targets = (np.array([[1, 0, 0, 2]], np.uint8), np.array([[0, 3, 3, 0]], np.uint8))
    right_fg = (np.array([[1, 0, 0, 2]], np.uint8), np.array([[0, 3, 3, 0]], np.uint8))
    assert stack.is_clean(right_fg, targets, 0)
    wrong = (np.array([[1, 0, 0, 2]], np.uint8), np.array([[3, 3, 4, 0]], np.uint8))   # wrong 3, 4; one 0
    assert not stack.is_clean(wrong, targets, 0)
    right_bg = (np.array([[5, 0, 0, 5]], np.uint8), np.array([[0, 5, 5, 0]], np.uint8))   # its 0s are all right
    assert stack.is_clean(right_bg, targets, 0)
    one_cell = (np.array([[1, 0, 0, 0]], np.uint8), np.array([[0, 3, 3, 0]], np.uint8))   # one cell: too few
    assert not stack.is_clean(one_cell, targets, 0)


def test_a_clean_piece_past_the_cost_cut_is_kept_and_stacked(monkeypatch):
    monkeypatch.setattr(stack, "MAX_PIECES", 2)
    targets = (np.array([[0, 2, 2, 7]], np.uint8),)
    rows = (("lone", 1, [[0, 0, 0, 7]], [[0, 0, 0, 8]]), ("cheap", 1, [[5, 5, 5, 5]], [[5, 5, 5, 5]]),
            ("costly_dirty", 3, [[9, 9, 2, 0]], [[9, 9, 2, 0]]), ("costly_clean", 3, [[0, 2, 2, 0]], [[0, 1, 1, 0]]))

    def filled() -> Pieces:
        pieces = Pieces(targets=targets, bg=0)
        for text, cost, train, test in rows:
            pieces.add(text, cost, (np.array(train, np.uint8),), (np.array(test, np.uint8),))
        return pieces

    pieces = filled()
    assert sorted(p.text for p in pieces.items) == ["cheap", "lone"]
    assert [p.text for p in pieces.clean] == ["costly_clean"]            # past the cut, and clean
    found = {text: tests[0].tolist() for text, _, tests in stacks(pieces, targets, 0, Budget.seconds(5))}
    assert found.get("stack(costly_clean [fg] ; lone [all])") == [[0, 1, 1, 8]]
    monkeypatch.setattr(stack, "MAX_CLEAN", 0)                           # without the reserve nothing stacks
    assert stacks(filled(), targets, 0, Budget.seconds(5)) == []


def test_a_care_demonstration_pass_finds_a_stack_the_all_demonstration_pass_does_not(monkeypatch):
    monkeypatch.setattr(stack, "STARTS", 1)
    targets = (np.array([[1, 1, 1, 0]], np.uint8), np.array([[2, 2, 2, 2, 2, 0]], np.uint8))
    pieces = _pieces(("A", ([[1, 1, 1, 0]], [[0, 0, 0, 0, 0, 0]]), [[3, 0]]),
                     ("B", ([[0, 0, 0, 0]], [[2, 2, 2, 2, 2, 0]]), [[5, 4]]))
    found = {text: tests[0].tolist() for text, _, tests in stacks(pieces, targets, 0, Budget.seconds(5))}
    # over both demonstrations B [fg] paints most (5 cells), then A [all] the rest; on demonstration 1 alone
    # A [fg] paints most (3), then B [all] its last cell (and the rest of demonstration 2)
    assert found == {"stack(B [fg] ; A [all])": [[5, 4]], "stack(A [fg] ; B [all])": [[3, 4]]}
    monkeypatch.setattr(stack, "CARE_DEMOS", 0)
    assert [t for t, _, _ in stacks(pieces, targets, 0, Budget.seconds(5))] == ["stack(B [fg] ; A [all])"]


def test_patch_complete_fills_a_hole_in_a_periodic_pattern():
    motif = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], np.uint8) % 7
    full = np.tile(motif, (3, 3))
    holed = full.copy()
    holed[3:5, 4:6] = stack.UNPAINTED
    assert np.array_equal(patch_complete(holed), full)
    assert patch_complete(full) is None  # nothing to complete
    lone = np.full((3, 3), stack.UNPAINTED, np.uint8)
    lone[0, 0] = 1
    assert patch_complete(lone) is None  # no fully painted patch to learn from


def test_a_stack_that_leaves_holes_is_kept_only_when_patch_completion_reproduces_every_output():
    def pattern(k: int) -> np.ndarray:
        return np.tile(np.array([[k, k + 1, k + 2], [k + 2, k, k + 1]], np.uint8), (4, 3))

    targets = (pattern(1), pattern(3))
    holed = []
    for t in targets:
        h = t.copy()
        h[2:4, 2:4] = 0  # a hole of background: the fg mode leaves it unpainted
        holed.append(h)
    test_full = pattern(5)
    test_holed = test_full.copy()
    test_holed[4:6, 0:2] = 0
    pieces = _pieces(("A", holed, test_holed))
    found = stacks(pieces, targets, 0, Budget.seconds(5))
    assert [text for text, _, _ in found] == ["stack(A [fg]) | patch_complete"]
    assert np.array_equal(found[0][2][0], test_full)
    # the same holes over a grid that has no repeated patch cannot be completed: no solution
    rng = np.random.default_rng(0)
    noise = tuple(rng.integers(1, 10, (8, 8)).astype(np.uint8) for _ in range(2))
    bad = [n.copy() for n in noise]
    for b in bad:
        b[2:4, 2:4] = 0
    assert stacks(_pieces(("A", bad, test_holed)), noise, 0, Budget.seconds(5)) == []


def test_a_base_stack_puts_a_small_correction_on_a_nearly_right_image():
    target = [2, 4] + [0] * 12 + [3, 3]
    b = [5, 0] + [0] * 12 + [3, 3]      # right but for the first two cells, wrong in mode "fg" and in mode "bg"
    t = [2, 4] + [0] * 14               # right on those two cells (mode "fg"), wrong on the last two
    # four decoys whose 3 background cells each are right: the greedy from the top takes them first (3 cells
    # each, more than the correction's 2) and has used its MAX_STEPS pieces before the correction
    decoys = [[9, 9] + [0 if k // 3 == d else 9 for k in range(12)] + [9, 9] for d in range(4)]
    pieces = _pieces(*[(f"D{d}", ([v],), [[9, 9]]) for d, v in enumerate(decoys)],
                     ("B", ([b],), [[0, 3]]), ("T", ([t],), [[4, 0]]))
    targets = (np.array([target], np.uint8),)
    assert stacks(pieces, targets, 0, Budget.seconds(5)) == []
    found = [(text, tests[0].tolist()) for text, _, tests in stack.base_stacks(pieces, targets, 0, Budget.seconds(5))]
    assert found == [("stack(T [fg] ; B [all])", [[4, 3]])]

