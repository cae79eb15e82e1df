"""Ray primitives of the search (search.rays: bounces, corner rays, detours, walls, crossings, meeting lines)
against hand-computed grids and real ARC-AGI-1 training tasks."""

from __future__ import annotations

import numpy as np
from search_reference import assert_op_solves

from trm_submit.search import rays


def test_bounce_reflects_off_the_side_walls_and_ends_at_the_far_wall():
    g = np.zeros((5, 3), np.uint8)
    g[4, 0] = 6                                        # one lone cell in the bottom-left corner
    want = g.copy()
    for r, c in ((3, 1), (2, 2), (1, 1), (0, 0)):       # up-right, off the right wall, back up-left
        want[r, c] = 6
    assert (rays.bounce(g, 0, (-1, 1), True) == want).all()
    # the same walk on the transposed grid reflects off the top and bottom walls and ends at the right one
    assert (rays.bounce(g.T.copy(), 0, (1, -1), False) == want.T).all()
    g[3, 0] = 2                                        # the cell is no longer lone: nothing to draw from
    assert rays.bounce(g, 0, (-1, 1), True) is None
    assert rays.bounce(np.zeros((4, 1), np.uint8), 0, (-1, 1), True) is None   # one column: no room


def test_bounce_solves_a_training_task():
    assert_op_solves(rays, "a3df8b1e", ["bounce(ur,cols)"])


def test_corner_rays_leave_each_l_by_its_open_corner():
    g = np.zeros((6, 6), np.uint8)
    g[3, 2] = g[4, 2] = g[4, 3] = 7          # an L whose empty corner (3, 3) points up-right
    g[0, 0] = g[0, 1] = 5                    # two cells: no corner shape
    want = g.copy()
    want[2, 4] = want[1, 5] = 7              # from beyond the empty corner to the edge
    assert (rays.corner_rays(g, 0) == want).all()
    g[3, 3] = 7                              # a full 2 x 2 block: no open corner
    assert rays.corner_rays(g, 0) is None


def test_corner_rays_solve_a_training_task():
    assert_op_solves(rays, "6e19193c", ["corner_rays"])


def test_colour_rays_leave_each_colour_its_own_way_diagonals_from_the_objects_corner():
    g = np.zeros((7, 7), np.uint8)
    g[2:4, 2:4] = 1                          # a 2 x 2 block of 1: up-left, from its top-left corner only
    g[5, 1] = 3                              # a lone 3: to the right, up to the 4 in its way
    g[5, 4] = 4
    want = g.copy()
    want[1, 1] = want[0, 0] = 1
    want[5, 2] = want[5, 3] = 3
    known = frozenset({0, 1, 3, 4})
    assert (rays.colour_rays(g, 0, ((1, (-1, -1)), (3, (0, 1))), known) == want).all()
    g[6, 6] = 5                              # a colour the demonstrations never showed: no answer
    assert rays.colour_rays(g, 0, ((1, (-1, -1)), (3, (0, 1))), known) is None


def test_colour_rays_fit_each_colours_directions_from_the_demonstrations():
    from trm_submit.io.tasks import Task
    from trm_submit.search.dsl import make_context

    def pair(r: int) -> tuple[np.ndarray, np.ndarray]:
        g = np.zeros((6, 6), np.uint8)
        g[r, 2], g[5 - r, 3] = 1, 2          # 1 runs left, 2 runs right
        o = g.copy()
        o[r, :2], o[5 - r, 4:] = 1, 2
        return g, o

    ctx = make_context(Task("hand", (pair(1), pair(2)), (pair(0)[0],)))
    assert set(rays._fit_colour_rays(ctx)) == {(1, (0, -1)), (2, (0, 1))}
    offered = {op.name: op for op in rays.ops(ctx)}
    assert (offered["colour_rays"].fn(pair(0)[0]) == pair(0)[1]).all()


def test_colour_rays_solve_a_training_task():
    assert_op_solves(rays, "5c0a986e", ["colour_rays"])


def test_pointer_rays_run_from_the_marker_through_its_shape_to_the_edge():
    g = np.zeros((5, 8), np.uint8)
    g[1:4, 1] = 2
    g[2, 1:4] = 2                            # a shape pointing right...
    g[2, 1] = 1                              # ...with its marker at the back
    want = g.copy()
    want[2, 4:] = 1                          # the marker's colour, beyond the shape, to the edge
    assert (rays.pointer_rays(g, 0) == want).all()
    g[2, 5] = 7                              # a cell in the way stays; the line goes on past it
    want[2, 5] = 7
    assert (rays.pointer_rays(g, 0) == want).all()
    assert rays.pointer_rays(np.where(g == 1, 2, g).astype(np.uint8), 0) is None   # no marker: nothing points


def test_pointer_rays_solve_a_training_task():
    assert_op_solves(rays, "25d487eb", ["pointer_rays"])


def test_facing_lines_join_edge_markers_across_the_grid_and_skip_colours_inside_it():
    g = np.zeros((5, 6), np.uint8)
    g[2, 0] = g[2, 5] = 3                    # two 3s facing each other across row 2
    g[0, 4] = g[4, 4] = 2                    # two 2s facing each other down column 4...
    g[3, 2] = 2                              # ...but 2 also lies inside the grid: not a marker colour
    g[2, 3] = 6                              # a shape the line runs through
    over = g.copy()
    over[2] = 3
    assert (rays.facing_lines(g, 0, only=False) == over).all()
    only = np.zeros_like(g)
    only[2] = 3
    assert (rays.facing_lines(g, 0, only=True) == only).all()
    g[2, 5] = 0                              # no pair left
    assert rays.facing_lines(g, 0, only=True) is None


def test_facing_lines_solve_a_training_task():
    assert_op_solves(rays, "6cdd2623", ["facing_lines(only)"])


def test_detour_rays_step_aside_where_a_cell_blocks_the_way():
    g = np.zeros((6, 5), np.uint8)
    g[5, 1] = g[5, 3] = 2                     # two seeds on the bottom row
    g[2, 1] = 5                               # blocks the first line at row 3
    g[1, 3] = g[2, 4] = 5                     # blocks the second at row 2, and its right-hand cell too
    want = g.copy()
    want[3:5, 1] = 2                          # up to row 3, aside to (3, 2), then up from there
    want[0:4, 2] = 2
    want[2:5, 3] = 2                          # up to row 2; (1, 3) and (2, 4) are taken: it stops
    assert (rays.detour_rays(g, 0, 2, (-1, 0), (0, 1)) == want).all()
    assert rays.detour_rays(g, 0, 7, (-1, 0), (0, 1)) is None   # no seed of that colour


def test_detour_rays_solve_a_training_task():
    assert_op_solves(rays, "d9f24cd1", ["detour_rays(2,up,right)"])


def test_wall_rays_run_toward_the_wall_or_away_from_it():
    g = np.zeros((7, 4), np.uint8)
    g[3, :] = 5                               # the wall: a full row
    g[0, 1] = g[5, 2] = 2
    g[6, 0] = 3                               # another colour: untouched
    toward = g.copy()
    toward[1:3, 1] = 2                        # down to the wall
    toward[4, 2] = 2                          # up to the wall
    assert (rays.wall_rays(g, 0, 2, True) == toward).all()
    away = g.copy()
    away[6, 2] = 2                            # down to the edge; the top cell is at the edge already
    assert (rays.wall_rays(g, 0, 2, False) == away).all()
    # the same on the transposed grid: the wall is a column
    assert (rays.wall_rays(g.T.copy(), 0, 2, True) == toward.T).all()
    g[:, 0] = 5                               # a full column of the wall's colour too: no single wall
    assert rays.wall_rays(g, 0, 2, True) is None


def test_wall_rays_solve_a_training_task():
    assert_op_solves(rays, "8d510a79", ["wall_rays(1,away)", "wall_rays(2,toward)"])


def test_crosses_draw_each_lone_cells_row_and_column_crossings_in_a_colour():
    g = np.zeros((5, 5), np.uint8)
    g[1, 1], g[3, 4] = 8, 7
    want = np.zeros_like(g)
    want[1, :], want[:, 1] = 8, 8
    want[3, :], want[:, 4] = 7, 7
    want[1, 4] = want[3, 1] = 2              # where the 8 lines cross the 7 lines
    assert (rays.crosses(g, 0, 2) == want).all()
    g[0, 0] = 8                              # a neighbour: (1, 1) is no longer lone; (3, 4) still is
    assert rays.crosses(g, 0, 2)[3, 0] == 7


def test_meet_grows_the_two_end_cells_toward_each_other():
    g = np.zeros((3, 7), np.uint8)
    g[1, 0], g[1, 6] = 1, 2                  # a row with its two end cells: 5 cells between, odd
    want = g.copy()
    want[1, 1:3], want[1, 3], want[1, 4:6] = 1, 5, 2
    assert (rays.meet(g, 0, 5) == want).all()
    g[1, 2] = 4                              # a cell between them: that row is not two ends alone
    assert rays.meet(g, 0, 5) is None


def test_crosses_and_meet_solve_training_tasks():
    assert_op_solves(rays, "23581191", ["crosses(2)"])
    assert_op_solves(rays, "29c11459", ["meet(5)"])


def test_to_corner_fills_the_box_to_the_nearest_corner():
    g = np.zeros((6, 8), np.uint8)
    g[3, 2] = 4                               # nearer the bottom (2 rows) than the top (3), the left than the right
    want = g.copy()
    want[3:6, 0:3] = 4
    assert (rays.to_corner(g, 0) == want).all()
    g = np.zeros((5, 4), np.uint8)
    g[2, 0] = 4                               # halfway down: no nearer corner
    assert rays.to_corner(g, 0) is None


def test_to_corner_solves_an_arc_agi_2_training_task():
    assert_op_solves(rays, "4a1cacc2", ["to_corner"], dataset="arc-agi-2")


def test_stripes_repeat_the_two_cells_lines_at_their_distance():
    g = np.zeros((3, 9), np.uint8)
    g[0, 1], g[2, 3] = 2, 8                   # a wide grid: the stripes are columns 1, 3, 5, 7
    want = np.zeros_like(g)
    want[:, [1, 5]] = 2
    want[:, [3, 7]] = 8
    assert (rays.stripes(g, 0) == want).all()
    assert (rays.stripes(g.T.copy(), 0) == want.T).all()   # a tall grid: rows
    g[1, 1] = 4                               # a third cell: no answer
    assert rays.stripes(g, 0) is None


def test_stripes_solve_a_training_task():
    assert_op_solves(rays, "0a938d79", ["stripes"])


def test_band_lines_cut_each_hole_across_its_stripe():
    g = np.full((6, 5), 4, np.uint8)
    g[3:, :] = 8                              # two horizontal bands: rows 0-2 of 4, rows 3-5 of 8
    g[1, 1] = g[4, 3] = 0
    want = g.copy()
    want[0:3, 1] = 0
    want[3:6, 3] = 0
    assert (rays.band_lines(g, 4, 0) == want).all()
    assert (rays.band_lines(g.T.copy(), 4, 0) == want.T).all()   # vertical bands: lines along the rows
    assert rays.band_lines(np.full((4, 4), 4, np.uint8), 4, 0) is None   # one band, no hole


def test_band_lines_solve_a_training_task():
    assert_op_solves(rays, "855e0971", ["band_lines(0)"])


def test_mark_hits_projects_markers_onto_the_largest_object():
    g = np.zeros((7, 7), np.uint8)
    g[2:5, 2:5] = 8              # the largest object
    g[0, 3] = 1                  # looks down: (2, 3) turns 1
    g[3, 6] = 2                  # looks left: (3, 4) turns 2
    g[6, 0] = 3                  # sees nothing of the block along its row or column: nothing
    want = g.copy()
    want[2, 3], want[3, 4] = 1, 2
    assert np.array_equal(rays.mark_hits(g, 0), want)
    tie = np.zeros((5, 5), np.uint8)
    tie[0:2, 0:2], tie[3:5, 3:5], tie[0, 4] = 8, 8, 1   # two largest objects: no answer
    assert rays.mark_hits(tie, 0) is None


def test_mark_hits_solves_a_real_training_task():
    assert_op_solves(rays, "1f642eb9", ["mark_hits"])


def test_edge_lines_cross_the_grid_and_clear_their_own_colour():
    g = np.full((5, 6), 7, np.uint8)
    g[0, 1], g[0, 4] = 2, 4                          # two markers on the top edge
    g[2:4, 0:6] = 2                                   # a block of 2 across the grid
    want = g.copy()
    want[1:, 1] = [2, 7, 7, 2]                        # the 2 line: background inside the 2 block
    want[1:, 4] = 4                                   # the 4 line runs over the block
    assert np.array_equal(rays.edge_lines(g), want)
    g[0, 2] = 2                                       # two coloured cells side by side on the edge: no markers
    g[0, 4] = 7
    assert rays.edge_lines(g) is None


def test_edge_lines_solve_a_training_task():
    assert_op_solves(rays, "981add89", ["edge_lines"], dataset="arc-agi-2")


def test_own_wall_rays_run_each_cell_to_the_edge_of_its_colour():
    g = np.zeros((6, 6), np.uint8)
    g[-1, :], g[:, 0] = 2, 3              # the bottom edge lined in 2, the left edge in 3
    g[1, 3], g[2, 4], g[3, 2] = 2, 2, 3
    g[4, 3] = 5                            # a cell in the way of the first 2
    want = g.copy()
    want[2:4, 3] = 2                       # down from (1, 3), up to the 5
    want[3:5, 4] = 2                       # down from (2, 4) to the edge
    want[3, 1] = 3                         # left from (3, 2) to the 3 edge
    assert np.array_equal(rays.own_wall_rays(g, 0), want)
    assert rays.own_wall_rays(want, 0) is None       # nothing left to draw
    g[-1, 2] = 0                           # the bottom edge is no longer lined: the 2s stay
    assert rays.own_wall_rays(g, 0)[2, 3] == 0


def test_crop_to_the_fenced_panel():
    """(The panel's rays, fitted after this crop by the refit finisher on 5daaa586: test_search_engine.)"""
    from trm_submit.search import select
    g = np.zeros((7, 8), np.uint8)
    g[1, :], g[5, :], g[:, 2], g[:, 6] = 1, 1, 4, 4
    g[0, 0] = 7                            # outside the fence
    assert np.array_equal(select.crop_line_box(g, 0), g[1:6, 2:7])
    assert select.crop_line_box(g[1:6, 2:7], 0) is None   # the fence is the whole grid
    g[5, 0] = 0                            # one full row left: no fence
    assert select.crop_line_box(g, 0) is None


def test_segment_bounce_runs_on_from_the_free_end_and_turns_at_the_wall():
    g = np.zeros((7, 8), np.uint8)
    g[5, 1] = g[6, 0] = 1                    # a segment with one end on the bottom edge: it runs up-right from (5, 1)
    g[:, 5] = 2                              # a wall column
    want = g.copy()
    for r, c in ((4, 2), (3, 3), (2, 4), (1, 3), (0, 2)):   # up to the wall, then back left (the column step turns)
        want[r, c] = 1
    assert (rays.segment_bounce(g, 0, 1, 2, 1, over=False) == want).all()
    blocked = g.copy()
    blocked[3, 3] = 4                        # a cell of another colour in the way: the line ends there ...
    stopped = blocked.copy()
    stopped[4, 2] = 1
    assert (rays.segment_bounce(blocked, 0, 1, 2, 1, over=False) == stopped).all()
    painted = want.copy()                    # ... or is painted over
    assert (rays.segment_bounce(blocked, 0, 1, 2, 1, over=True) == painted).all()
    wall_row = np.zeros((6, 6), np.uint8)
    wall_row[0, 0] = wall_row[1, 1] = 3      # runs down-right from (1, 1) into a wall row: the row step turns
    wall_row[4, :] = 2
    turned = wall_row.copy()
    for r, c in ((2, 2), (3, 3), (2, 4), (1, 5)):
        turned[r, c] = 5
    assert (rays.segment_bounce(wall_row, 0, 3, 2, 5, over=False) == turned).all()
    lone = np.zeros((5, 5), np.uint8)
    lone[2, 2] = 1                           # a lone cell has no way to run
    assert rays.segment_bounce(lone, 0, 1, 2, 1, over=False) is None


def test_segment_bounce_solves_training_tasks():
    assert_op_solves(rays, "508bd3b6", ["segment_bounce(8,2,3,stop)"])
    assert_op_solves(rays, "7e2bad24", ["segment_bounce(1,2,1,over)"], dataset="arc-agi-2")


def test_bend_rays_leave_each_bend_away_from_both_neighbours():
    g = np.zeros((7, 7), np.uint8)
    g[0:3, 1] = g[2, 1:5] = g[0:3, 4] = 8    # a cup: bends at (2, 1) and (2, 4)
    g[0, 2] = 6                              # the other colour, inside the cup
    want = g.copy()
    for r, c in ((3, 0), (3, 5), (4, 6)):
        want[r, c] = 6
    assert (rays.bend_rays(g, 0, other=True) == want).all()
    own = want.copy()
    own[want == 6] = 8
    own[0, 2] = 6
    assert (rays.bend_rays(g, 0, other=False) == own).all()
    block = np.zeros((5, 5), np.uint8)
    block[1:3, 1:3] = 8                      # a block's corners are no bends (the cell between is its own)
    block[4, 4] = 6
    assert rays.bend_rays(block, 0, other=True) is None
    assert rays.bend_rays(g[:, :4] * (g[:, :4] == 8), 0, other=True) is None   # one colour only


def test_bend_rays_solve_a_training_task():
    assert_op_solves(rays, "ec883f72", ["bend_rays(other)"])


def test_region_rays_take_each_regions_marker_colour():
    g = np.full((6, 6), 2, np.uint8)
    g[:, 3:] = 8                             # two regions: 2 on the left, 8 on the right
    g[1, 1] = 4                              # a marker of the 2 region
    g[4, 4] = 1                              # a marker of the 8 region
    want = g.copy()
    for r0, c0 in ((1, 1), (4, 4)):
        for dr in (-1, 1):
            for dc in (-1, 1):
                r, c = r0 + dr, c0 + dc
                while 0 <= r < 6 and 0 <= c < 6:
                    want[r, c] = {2: 4, 8: 1}.get(int(g[r, c]), int(g[r, c]))
                    r, c = r + dr, c + dc
    assert (rays.region_rays(g) == want).all()
    assert want[5, 5] == 1 and want[3, 3] == 1 and want[2, 2] == 4 and want[0, 2] == 4   # hand-checked cells
    two = g.copy()
    two[4, 1] = 6                            # a second marker colour in the 2 region: no one map
    assert rays.region_rays(two) is None
    assert rays.region_rays(np.full((4, 4), 2, np.uint8)) is None   # no marker


def test_region_rays_solve_a_training_task():
    assert_op_solves(rays, "d07ae81c", ["region_rays"])


def _beams_loop(g: np.ndarray, colour: int, paint: int, over: set) -> np.ndarray:
    out = g.copy()
    h, w = g.shape
    for r0, c0 in np.argwhere(g == colour).tolist():
        for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            r, c = r0 + dr, c0 + dc
            while 0 <= r < h and 0 <= c < w and g[r, c] in over:
                out[r, c] = paint
                r, c = r + dr, c + dc
    return out


def test_beams_equal_a_loop_and_stop_at_other_colours():
    rng = np.random.default_rng(3)
    for _ in range(30):
        g = rng.choice(np.array([0, 0, 0, 0, 1, 2, 8], np.uint8), size=(7, 9))
        if not (g == 8).any():
            continue
        assert (rays.beams(g, 8, 4, frozenset({0, 2})) == _beams_loop(g, 8, 4, {0, 2})).all()
    g = np.zeros((3, 5), np.uint8)
    g[1, 0], g[1, 2], g[0, 0] = 8, 1, 2      # the beam right stops at the 1; the one up paints over the 2
    assert rays.beams(g, 8, 4, frozenset({0, 2})).tolist() == [[4, 0, 0, 0, 0], [8, 4, 1, 0, 0], [4, 0, 0, 0, 0]]
    assert rays.beams(np.zeros((3, 3), np.uint8), 8, 4, frozenset({0})) is None


def test_beams_solve_a_training_task():
    assert_op_solves(rays, "6ffe8f07", ["beams(8,4)"], dataset="arc-agi-2")


def _cup_grid(rows: list[str]) -> np.ndarray:
    return np.array([[0 if ch == "." else int(ch) for ch in row] for row in rows], np.uint8)


def test_pour_fills_the_cup_the_drop_falls_into():
    g = _cup_grid(["...1....",
                   "........",
                   ".2...2..",
                   ".2...2..",
                   ".22222..",
                   "........"])
    want = _cup_grid(["........",
                      "........",
                      ".21112..",
                      ".21112..",
                      ".22222..",
                      "........"])
    assert np.array_equal(rays.pour(g, 0, "down"), want)
    # the same grid turned: the drop falls to the left into the cup opening that way
    assert np.array_equal(rays.pour(np.rot90(g, -1).copy(), 0, "left"), np.rot90(want, -1))


def test_pour_through_a_leaking_cup_floods_the_floor():
    g = _cup_grid(["..1.....",
                   "........",
                   ".2...2..",
                   ".2...2..",
                   ".222.2..",
                   "........"])
    want = g.copy()
    want[0, 2] = 0
    want[5, :] = 1                                   # through the gap at column 4, then along the last row
    assert np.array_equal(rays.pour(g, 0, "down"), want)
    g[4, 4] = 2                                      # gap closed: the cup holds it
    assert (rays.pour(g, 0, "down")[2:4, 2:5] == 1).all()


def test_pour_falls_from_an_upper_cup_through_its_hole_into_a_lower_one():
    g = _cup_grid(["......1.",
                   "....2..2",
                   "....2.22",
                   "........",
                   ".2....2.",
                   ".222222.",
                   "........"])
    want = g.copy()
    want[0, 6] = 0
    want[4, 2:6] = 1                                 # the upper cup leaks at column 5; the lower one fills to its top
    assert np.array_equal(rays.pour(g, 0, "down"), want)
    g[0, 0] = 1                                      # two cells of the drop's colour: no lone cell to pour
    assert rays.pour(g, 0, "down") is None


def test_pour_solves_a_training_task():
    assert_op_solves(rays, "db7260a4", ["pour(down)"], dataset="arc-agi-2")
