"""Voting over decoded views: group identical grids into candidates, rank them with a named rule, and pick
the two attempts of a test input (pure numpy/python)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

_CHUNK_BYTES = 112 * 1024  # size of the temporaries used to confirm hash groups

@dataclass
class Candidate:
    """One distinct predicted grid and where it came from.

    source "trm": `count` views voted for it with mean confidence `mean_conf`. source "search": `count`
    distinct programs that fit every demonstration give it, `program` is the simplest one's text and
    `mean_conf` 1.0 (exact on the demonstrations); with `partial` its programs reproduce every demonstration
    but one (ranked after every full fit), and `cost` is that program's cost (the search's rank key).
    """

    grid: np.ndarray
    count: int
    mean_conf: float
    hash: int
    source: str = "trm"
    program: str | None = None
    partial: bool = False
    cost: float = 0.0


@dataclass(frozen=True)
class Groups:
    """Valid views grouped by identical grid; what a ranking rule sees.

    view: index (into the rank() inputs) of each valid view; group: its group id; conf: its confidence;
    count / mean_conf / first_view: per group (first_view = smallest view index voting for the group).
    """

    view: np.ndarray
    group: np.ndarray
    conf: np.ndarray
    count: np.ndarray
    mean_conf: np.ndarray
    first_view: np.ndarray


def count_then_confidence(groups: Groups) -> np.ndarray:
    """The official rule: count descending, then mean confidence descending; remaining ties go to the group
    whose first vote came from the earlier view (view 0 is the identity view)."""
    return np.lexsort((groups.first_view, -groups.mean_conf, -groups.count))


RULES: dict[str, Callable[[Groups], np.ndarray]] = {"count_then_confidence": count_then_confidence}


def _same_grid(grids: np.ndarray, shapes: np.ndarray, a: int, b: int) -> bool:
    h, w = shapes[a]
    return bool((shapes[a] == shapes[b]).all() and np.array_equal(grids[a, :h, :w], grids[b, :h, :w]))


def _exact_group_ids(grids: np.ndarray, shapes: np.ndarray, hashes: np.ndarray, views: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Slow path: compare cells inside each shape, so hash collisions and junk beyond a shape are harmless."""
    reps: list[int] = []
    ids = np.empty(len(views), dtype=np.int64)
    by_hash: dict[int, list[int]] = {}
    for pos, v in enumerate(views.tolist()):
        bucket = by_hash.setdefault(int(hashes[v]), [])
        match = next((g for g in bucket if _same_grid(grids, shapes, reps[g], v)), None)
        if match is None:
            match = len(reps)
            reps.append(v)
            bucket.append(match)
        ids[pos] = match
    return ids, np.array(reps, dtype=np.int64)


def _group_ids(grids: np.ndarray, shapes: np.ndarray, hashes: np.ndarray, views: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """(group id per valid view, first view of each group): equal hash AND equal cells share a group.

    Fast path: views that hash alike must have the same shape and the same whole padded canvas (true for
    `decode_views` output, which is zero outside each shape); any mismatch falls back to the exact path.
    """
    _, first, ids = np.unique(hashes[views], return_index=True, return_inverse=True)
    ids = ids.ravel()
    rep = views[first]
    if (shapes[views] != shapes[rep][ids]).any() or not _same_canvases(grids, views, rep[ids]):
        return _exact_group_ids(grids, shapes, hashes, views)
    return ids, rep


def _same_canvases(grids: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether grids[a[i]] == grids[b[i]] (whole padded canvases) for all i; done in chunks so the
    temporaries stay below malloc's mmap threshold (no fresh pages to fault in on every call)."""
    flat = np.ascontiguousarray(grids).reshape(len(grids), -1)
    chunk = max(1, _CHUNK_BYTES // max(1, flat.shape[1]))
    for start in range(0, len(a), chunk):
        if not np.array_equal(np.take(flat, a[start:start + chunk], axis=0),
                              np.take(flat, b[start:start + chunk], axis=0)):
            return False
    return True


def group_views(
    grids: np.ndarray, shapes: np.ndarray, hashes: np.ndarray, valid: np.ndarray, conf: np.ndarray
) -> Groups:
    """Group the valid views by identical grid and compute per-group count, mean confidence, first view."""
    views = np.flatnonzero(np.asarray(valid, dtype=bool))
    conf = np.asarray(conf, dtype=np.float64)
    if len(views):
        ids, first_view = _group_ids(grids, shapes, np.asarray(hashes), views)
    else:
        ids, first_view = np.zeros(0, np.int64), np.zeros(0, np.int64)
    count = np.bincount(ids, minlength=len(first_view))
    mean_conf = np.bincount(ids, weights=conf[views], minlength=len(first_view)) / np.maximum(count, 1)
    return Groups(views, ids, conf[views], count, mean_conf, first_view)


def _check_rank_inputs(grids: np.ndarray, shapes: np.ndarray, hashes: np.ndarray, valid: np.ndarray,
                       conf: np.ndarray) -> None:
    n = len(valid)
    if grids.ndim != 3 or grids.shape[0] != n:
        raise ValueError(f"grids must be [V, H, W] with V = {n} views, got shape {grids.shape}")
    for what, arr, shape in (("shapes", shapes, (n, 2)), ("hashes", hashes, (n,)), ("conf", conf, (n,))):
        if arr.shape != shape:
            raise ValueError(f"{what} must have shape {shape}, got {arr.shape}")


def rank(
    grids: np.ndarray,
    shapes: np.ndarray,
    hashes: np.ndarray,
    valid: np.ndarray,
    conf: np.ndarray,
    rule: str = "count_then_confidence",
) -> list[Candidate]:
    """Candidates (distinct grids) best first under `rule`; invalid views cast no vote.

    grids: [V, H, W] with each view's grid in its top-left `shapes[v]` corner (as `kernels.decode_views`
    returns); hashes: equal for equal grids (cells are compared too, so collisions never merge grids);
    conf: per-view confidence (sigmoid of q_halt).
    """
    grids, shapes, hashes = np.asarray(grids), np.asarray(shapes), np.asarray(hashes)
    valid, conf = np.asarray(valid, dtype=bool), np.asarray(conf, dtype=np.float64)
    _check_rank_inputs(grids, shapes, hashes, valid, conf)
    if rule not in RULES:
        raise ValueError(f"unknown voting rule {rule!r}; known: {sorted(RULES)}")
    groups = group_views(grids, shapes, hashes, valid, conf)
    order = RULES[rule](groups)
    first = groups.first_view[order]
    if len(first) == 0:
        return []
    sizes = shapes[first]
    # One gather of every winning canvas; each Candidate.grid is a view of this private copy.
    boxes = np.take(grids, first, axis=0)
    rows = zip(range(len(first)), sizes.tolist(), groups.count[order].tolist(),
               groups.mean_conf[order].tolist(), hashes[first].tolist())
    return [Candidate(boxes[i, :h, :w], n, m, k) for i, (h, w), n, m, k in rows]


def demote_copies(candidates: list[Candidate], test_input: np.ndarray) -> list[Candidate]:
    """`candidates` with any candidate equal to the test input moved to the end (order otherwise kept).

    A weak or half-adapted model often votes for copying the input, while an ARC output equals its input in
    4 of the 2,308 public evaluation pairs (0 of the 586 test pairs); with the copy last, both attempts go to
    the model's real guesses (the copy still fills a slot when it is the only candidate)."""
    x = np.asarray(test_input)
    others: list[Candidate] = []
    copies: list[Candidate] = []
    for c in candidates:
        (copies if np.array_equal(c.grid, x) else others).append(c)
    return others + copies


def pick_attempts(candidates: list[Candidate], fallback: tuple[ArrayLike, ArrayLike]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(attempt_1, attempt_2): the top two candidates; missing ones are filled from `fallback`, in order,
    skipping any fallback equal to attempt_1 (a duplicate is returned only if no distinct grid exists)."""
    pool = [np.asarray(c.grid, dtype=np.uint8) for c in candidates[:2]]
    for fb in fallback:
        if len(pool) >= 2:
            break
        fb = np.asarray(fb, dtype=np.uint8)
        if not pool or not np.array_equal(fb, pool[0]):
            pool.append(fb)
    while len(pool) < 2:
        pool.append(pool[0] if pool else np.asarray(fallback[0], dtype=np.uint8))
    return pool[0], pool[1]


def candidates_from_records(items: list[dict], source: str) -> list[Candidate]:
    """Journal candidate dicts (`grid`, `count`, `conf`[, `program`]) of one test input -> Candidates."""
    return [Candidate(np.asarray(c["grid"], dtype=np.uint8), int(c.get("count", 1)), float(c.get("conf", 0.0)), 0,
                      source, c.get("program"), bool(c.get("partial", False)))
            for c in items if isinstance(c, dict) and "grid" in c]


def _interleave_firsts(first: list[Candidate], second: list[Candidate]) -> list[Candidate]:
    """first[0], second[0], then the rest of `first`, then the rest of `second` (the Omni-ARC merge: each
    source's first guess before anyone's second)."""
    return first[:1] + second[:1] + first[1:] + second[1:]


# Earned confidence of a source's candidates (the probability that a candidate is right given that the ones
# ranked before it in its source were not), from ARC-AGI-1 training (benchmarks/README.md, "Merge of the
# sources"): the search's 1st candidate was right on 93-95% of the test inputs with a program, its 2nd on 4 of
# the 6 where the 1st was wrong (ranks 3+ are guesses below that); TRM's by its vote: share of the recorded
# votes x mean q-confidence, scaled by TRM_SCALE and counted only from TRM_MIN_VOTES votes on (a guess from a
# handful of views earns nothing). The bundled weights' q-confidence is <= 0.01 on training tasks.
SEARCH_CONFIDENCE = (0.95, 0.60, 0.15, 0.10, 0.05)
# A search candidate whose programs reproduce every demonstration but one (a partial fit), by its rank among
# the partial fits. Measured on ARC-AGI-1 training: right on attempt 1 for 3 of 19 test inputs (16%), but kept
# below the lowest full-fit confidence, so a partial fit never passes a full fit; a TRM vote above 0.04 passes it.
PARTIAL_CONFIDENCE = (0.04, 0.02)
TRM_SCALE = 1.0
TRM_MIN_VOTES = 8


def search_confidence(rank: int, partial: bool = False) -> float:
    """The earned confidence of the search's candidate of this rank (among the full fits, or among the
    partial fits when `partial`)."""
    table = PARTIAL_CONFIDENCE if partial else SEARCH_CONFIDENCE
    return table[min(rank, len(table) - 1)]


def trm_confidences(candidates: list[Candidate]) -> list[float]:
    """The earned confidence of each TRM candidate, never rising down the list."""
    total = sum(max(0, c.count) for c in candidates)
    out: list[float] = []
    for c in candidates:
        p = 0.0 if total < TRM_MIN_VOTES else TRM_SCALE * c.count / total * max(0.0, min(1.0, c.mean_conf))
        out.append(min([p] + out[-1:]))
    return out


def by_confidence(per_source: dict[str, list[Candidate]]) -> list[Candidate]:
    """Every source's candidates ordered by earned confidence (ties: the search first, then each source's
    own order), so the search's second candidate keeps attempt 2 unless a TRM vote earns more."""
    scored: list[tuple[float, int, int, Candidate]] = []
    ranks = {False: 0, True: 0}   # rank among the full fits, among the partial fits
    for k, c in enumerate(per_source.get("search", [])):
        scored.append((search_confidence(ranks[c.partial], c.partial), 0, k, c))
        ranks[c.partial] += 1
    trm = per_source.get("trm", [])
    for k, (c, p) in enumerate(zip(trm, trm_confidences(trm))):
        scored.append((p, 1, k, c))
    scored.sort(key=lambda e: (-e[0], e[1], e[2]))
    return [c for *_, c in scored]


MERGE_RULES: dict[str, Callable[[dict[str, list[Candidate]]], list[Candidate]]] = {
    # the default: each candidate placed by the confidence its source earned on the training sets
    "confidence": by_confidence,
    # attempt 1 from the more precise source: a program that reproduces every demonstration; attempt 2 the
    # other source's first distinct guess. Without a program, TRM's own two guesses.
    "search_first": lambda s: _interleave_firsts(s.get("search", []), s.get("trm", [])),
    "trm_first": lambda s: _interleave_firsts(s.get("trm", []), s.get("search", [])),
    "search_only": lambda s: list(s.get("search", [])),
    "trm_only": lambda s: list(s.get("trm", [])),
}


def merge(per_source: dict[str, list[Candidate]], rule: str = "search_first") -> list[Candidate]:
    """One ranked list of distinct grids from every source's ranked candidates under merge rule `rule`
    (a grid two sources agree on stays at its first place)."""
    if rule not in MERGE_RULES:
        raise ValueError(f"unknown merge rule {rule!r}; known: {sorted(MERGE_RULES)}")
    out: list[Candidate] = []
    for c in MERGE_RULES[rule](per_source):
        if not any(c.grid.shape == o.grid.shape and np.array_equal(c.grid, o.grid) for o in out):
            out.append(c)
    return out
