"""Output-size prediction (search.sizes) on hand-made tasks whose size rules are known, and the post-pass's
embedding and recolouring against hand-computed grids."""

from __future__ import annotations

import numpy as np

from trm_submit.search.postpass import embed, recolour_all
from trm_submit.search.sizes import predict


def _seed(*shapes):
    return tuple(shapes)


def test_the_input_size_is_the_simplest_rule():
    inputs = [(3, 4), (5, 5), (2, 7)]
    # every output equals its input; the test input is 6x2
    assert predict([_seed(*inputs, (6, 2))], inputs) == [(6, 2)]


def test_a_constant_beats_a_far_seed_but_not_the_input():
    outs = [(3, 3), (3, 3)]
    seeds = [_seed((5, 6), (7, 8), (9, 9)),        # the input: 3 = k*h + c fails for any single k, c
             _seed((1, 1), (1, 1), (4, 4)),        # seed 1: 3 = 1 + 2 (k 1, c 2, cost 1 + 2) loses to a constant
             ]
    assert predict(seeds, outs) == [(3, 3)]


def test_k_times_seed_plus_c_per_axis():
    ins = [(2, 3), (4, 1), (3, 3)]
    outs = [(2 * h + 1, w - 1) for h, w in ins]    # rows 2h + 1, columns w - 1
    assert predict([_seed(*ins, (5, 6))], outs) == [(11, 5)]


def test_the_other_axis_of_a_seed():
    ins = [(2, 5), (4, 3), (3, 6)]
    outs = [(w, h) for h, w in ins]                # transposed
    assert predict([_seed(*ins, (7, 2))], outs) == [(2, 7)]


def test_a_shallow_state_seed_and_a_sum_of_two_seeds():
    ins = [(10, 10), (12, 9), (8, 14)]
    crops = [(3, 2), (5, 4), (2, 6)]               # e.g. the shape of a cropped object, a later seed
    outs = [(i[0] + c[0], c[1]) for i, c in zip(ins, crops)]   # rows: input + crop rows; columns: crop columns
    seeds = [_seed(*ins, (11, 11)), _seed(*crops, (4, 3))]
    assert predict(seeds, outs) == [(15, 3)]


def test_a_side_divided_by_two_or_three():
    ins = [(1, 6), (1, 8), (1, 10)]
    outs = [(w // 2, w) for _, w in ins]           # half as many rows as the input has columns
    assert predict([_seed(*ins, (1, 12), (1, 7))], outs) == [(6, 12), None]   # 7 columns: no half
    ins = [(9, 6), (12, 3), (6, 9)]
    outs = [(h // 3, w // 3) for h, w in ins]      # a third on each axis
    assert predict([_seed(*ins, (15, 12))], outs) == [(5, 4)]


def test_no_rule_and_an_oversized_answer_give_no_prediction():
    outs = [(1, 2), (7, 3), (2, 9)]
    assert predict([_seed((5, 5), (5, 5), (5, 5), (5, 5))], outs) == [None]
    ins = [(10, 10), (12, 12)]
    assert predict([_seed(*ins, (20, 20))], [(20, 20), (24, 24)]) == [None]   # 2 x 20 > 30


def test_a_missing_test_value_gives_no_prediction_for_that_input():
    ins = [(2, 2), (3, 3)]
    assert predict([_seed(*ins, None, (4, 4))], [(4, 4), (6, 6)]) == [None, (8, 8)]


def test_embed_crops_and_pads_at_the_top_left():
    g = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert embed(g, (3, 2), 9).tolist() == [[0, 1], [3, 4], [9, 9]]
    assert embed(g, (2, 3), 9).tolist() == g.tolist()


def test_recolour_all_paints_every_non_background_cell():
    g = np.array([[0, 2, 3], [0, 0, 2]], np.uint8)
    assert recolour_all(g, 5, 0).tolist() == [[0, 5, 5], [0, 0, 5]]
    assert recolour_all(np.zeros((2, 2), np.uint8), 5, 0) is None
