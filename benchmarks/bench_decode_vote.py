"""Decode + vote benchmark: 1000 predicted 30x30 canvases of one test input, numba path
(kernels.decode_views + vote.rank) against the plain numpy path (encoding.decode_grid + Aug.invert +
kernels.grid_hash per view + vote.rank), in the same run. Numba runs pinned to one thread (headline) and
with all threads. Warm-up (including JIT compilation) is excluded; each number is the median of repeats.

Usage: python benchmarks/bench_decode_vote.py [--views 1000] [--sizes 10 19 30] [--repeats 50]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numba
import numpy as np

from trm_submit.grids import augment, encoding, kernels, vote
from trm_submit.io.tasks import Task


def make_predictions(truth: np.ndarray, n_views: int, seed: int) -> tuple[np.ndarray, list[augment.Aug], np.ndarray]:
    """Canvases of `truth` under n_views distinct Augs; 30% carry 1-5 wrong cells, 5% are garbage."""
    rng = np.random.default_rng(seed)
    task = Task("bench", ((truth, truth),), (truth,))
    augs = augment.plan(task, n_views, seed)
    if len(augs) < n_views:
        raise SystemExit(f"only {len(augs)} distinct views for this grid; use a grid with more colours")
    tokens = np.stack([encoding.encode_grid(a.apply(truth)) for a in augs])
    for v in range(n_views):
        u = rng.random()
        if u < 0.05:
            tokens[v] = rng.integers(0, encoding.VOCAB_SIZE, tokens.shape[1])
        elif u < 0.35:
            h, w = augs[v].apply(truth).shape
            for _ in range(rng.integers(1, 6)):
                r, c = rng.integers(0, h), rng.integers(0, w)
                tokens[v, r * encoding.MAX_SIDE + c] = encoding.COLOR_OFFSET + rng.integers(0, 10)
    return tokens, augs, rng.random(n_views)


def numpy_path(tokens: np.ndarray, augs: list[augment.Aug], conf: np.ndarray) -> list[vote.Candidate]:
    n = len(augs)
    grids = np.zeros((n, encoding.MAX_SIDE, encoding.MAX_SIDE), dtype=np.uint8)
    shapes = np.zeros((n, 2), dtype=np.int32)
    hashes = np.zeros(n, dtype=np.uint64)
    valid = np.zeros(n, dtype=bool)
    for v, aug in enumerate(augs):
        grid = encoding.decode_grid(tokens[v])
        if grid.size == 0:
            continue
        grid = aug.invert(grid)
        h, w = grid.shape
        grids[v, :h, :w] = grid
        shapes[v] = (h, w)
        hashes[v] = kernels.grid_hash(grid)
        valid[v] = True
    return vote.rank(grids, shapes, hashes, valid, conf)


def numba_decode(tokens: np.ndarray, ks: np.ndarray, inv: np.ndarray):
    return kernels.decode_views(tokens, encoding.MAX_SIDE, ks, inv)


def numba_path(tokens: np.ndarray, ks: np.ndarray, inv: np.ndarray, conf: np.ndarray) -> list[vote.Candidate]:
    return vote.rank(*numba_decode(tokens, ks, inv), conf)


def time_ms(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(median, min) wall time in ms over `repeats` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times), 1e3 * min(times)


def bench_size(shape: tuple[int, int], n_views: int, seed: int, repeats: int) -> list[tuple]:
    """Rows (grid, path, threads, median ms, min ms) for one true-grid size; checks both paths agree."""
    truth = np.random.default_rng(seed).integers(0, 10, shape).astype(np.uint8)
    tokens, augs, conf = make_predictions(truth, n_views, seed)
    ks, inv = augment.aug_arrays(augs)
    ref = numpy_path(tokens, augs, conf)
    got = numba_path(tokens, ks, inv, conf)
    assert [(c.hash, c.count) for c in got] == [(c.hash, c.count) for c in ref], "paths disagree"
    assert np.array_equal(got[0].grid, truth), "the true grid did not win the vote"
    grid = f"{shape[0]}x{shape[1]} ({len(ref)} cand.)"
    rows = [(grid, "numpy: decode_grid+invert+grid_hash, rank", 1,
             *time_ms(lambda: numpy_path(tokens, augs, conf), max(3, repeats // 10)))]
    for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
        kernels.set_threads(threads)
        rows.append((grid, "numba: decode_views, rank", threads,
                     *time_ms(lambda: numba_path(tokens, ks, inv, conf), repeats)))
        rows.append((grid, "  decode_views only", threads, *time_ms(lambda: numba_decode(tokens, ks, inv), repeats)))
    kernels.set_threads(None)
    decoded = numba_decode(tokens, ks, inv)
    rows.append((grid, "  rank only", 1, *time_ms(lambda: vote.rank(*decoded, conf), repeats)))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--views", type=int, default=1000)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 19, 30],
                    help="sides of the square true grids (19: median ARC-AGI-2 evaluation output)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=50)
    args = ap.parse_args()

    print(f"{args.views} views per test input, 30x30 canvases, 30% with 1-5 wrong cells, 5% garbage; "
          f"ms scaled to 1000 views; median and min of repeats, warm-up excluded")
    print(f"{'true grid':<18} {'path':<42} {'thr':>3} {'median ms':>9} {'min ms':>7} {'views/s':>9} {'speedup':>7}")
    for side in args.sizes:
        rows = bench_size((side, side), args.views, args.seed, args.repeats)
        base = rows[0][3]
        for grid, name, threads, med, best in rows:
            scale = 1000 / args.views
            print(f"{grid:<18} {name:<42} {threads:>3} {med * scale:>9.3f} {best * scale:>7.3f} "
                  f"{args.views / med * 1e3:>9.0f} {base / med:>6.1f}x")


if __name__ == "__main__":
    main()
