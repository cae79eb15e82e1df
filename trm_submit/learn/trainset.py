"""The pretraining set: which public tasks are trained on (content-deduplicated, evaluation tasks removed),
their augmented versions encoded on size buckets of compact canvases, and `BucketSource`, the resumable
stream of shuffled training rows of one bucket.

Rules (the official dataset builder's, for non-evaluation subsets): all pairs of a task (train + test with
solutions) form one puzzle; every augmented version (`augment.plan`) is its own puzzle id (id 0 = blank);
within a version one example keeps offset (0, 0), the others are translated at random on the canvas. A
group (one original task) and all its versions share one canvas side, so one bucket holds whole groups.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from ..config import TrainConfig
from ..grids import augment, canvas, encoding
from ..io import datasets
from ..io.tasks import Task

Labeled = tuple[str, Sequence[Task]]  # (source label such as "arc-agi-1/training", tasks)


def merge_pairs(task: Task, solutions: Sequence[np.ndarray]) -> Task:
    """One training puzzle from a task: its train pairs followed by its test pairs (test outputs from
    `solutions`), all as demonstration pairs; no test inputs remain."""
    if len(solutions) != len(task.test_inputs):
        raise ValueError(f"task {task.task_id}: {len(task.test_inputs)} test inputs but {len(solutions)} solutions")
    pairs = tuple(task.train) + tuple(zip(task.test_inputs, (np.asarray(s, np.uint8) for s in solutions)))
    return Task(task.task_id, pairs, ())


def pair_key(inp: np.ndarray, out: np.ndarray) -> str:
    return f"{augment.grid_digest(inp)}|{augment.grid_digest(out)}"


def content_key(task: Task) -> str:
    """Canonical key of a task's content: sha256 over its sorted (input, output) pair keys, test inputs as
    pairs with an empty output; the order of pairs and the train/test split of a merged task do not matter."""
    return augment.task_digest(task)


@dataclass(frozen=True)
class TrainingTasks:
    """Tasks kept for training (merged puzzles, in source order then id order) and what was dropped.

    `removed`: (source, task_id, reason) for tasks that overlap an evaluation set; `duplicates`:
    (source, task_id, kept "source/task_id") for tasks whose content equals an earlier kept task."""

    tasks: tuple[Task, ...]
    removed: tuple[tuple[str, str, str], ...]
    duplicates: tuple[tuple[str, str, str], ...]
    source_counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "sources": dict(self.source_counts),
            "kept": len(self.tasks),
            "removed_overlapping_evaluation": len(self.removed),
            "removed_duplicates": len(self.duplicates),
            "removed": [list(r) for r in self.removed],
            "duplicates": [list(d) for d in self.duplicates],
        }


def _eval_index(eval_sets: Iterable[Labeled]) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Lookups content key / task id / pair key -> "source/task_id" of an evaluation task."""
    by_content: dict[str, str] = {}
    by_id: dict[str, str] = {}
    by_pair: dict[str, str] = {}
    for label, tasks in eval_sets:
        for t in tasks:
            ref = f"{label}/{t.task_id}"
            by_content.setdefault(content_key(t), ref)
            by_id.setdefault(t.task_id, ref)
            for i, o in t.train:
                by_pair.setdefault(pair_key(i, o), ref)
    return by_content, by_id, by_pair


def _overlap_reason(task: Task, index: tuple[dict[str, str], dict[str, str], dict[str, str]]) -> str | None:
    by_content, by_id, by_pair = index
    if content_key(task) in by_content:
        return f"same content as {by_content[content_key(task)]}"
    if task.task_id in by_id:
        return f"same task id as {by_id[task.task_id]} (content differs)"
    for i, o in task.train:
        if pair_key(i, o) in by_pair:
            return f"shares an (input, output) pair with {by_pair[pair_key(i, o)]}"
    return None


def select_training_tasks(train_sets: Sequence[Labeled], eval_sets: Sequence[Labeled]) -> TrainingTasks:
    """Union of `train_sets` (merged puzzles) minus every task overlapping an evaluation task (same content,
    same id, or a shared pair), deduplicated by content (the first occurrence is kept).

    Evaluation tasks should be merged puzzles too (their test pairs with solutions) so that a pair order
    or train/test split that differs does not hide an overlap."""
    index = _eval_index(eval_sets)
    kept: dict[str, tuple[Task, str]] = {}
    removed, duplicates, counts = [], [], {}
    for label, tasks in train_sets:
        counts[label] = len(tasks)
        for t in tasks:
            reason = _overlap_reason(t, index)
            if reason is not None:
                removed.append((label, t.task_id, reason))
                continue
            key = content_key(t)
            if key in kept:
                duplicates.append((label, t.task_id, kept[key][1]))
                continue
            kept[key] = (t, f"{label}/{t.task_id}")
    return TrainingTasks(tuple(t for t, _ in kept.values()), tuple(removed), tuple(duplicates), counts)


def load_merged(name: str, split: str) -> list[Task]:
    """A public set and split as merged puzzles (tasks without a full set of solutions are skipped)."""
    challenges, solutions = datasets.load_tasks(name, split, log=lambda line: None)
    out = []
    for task_id, task in challenges.tasks.items():
        if task_id in solutions and len(solutions[task_id]) == task.n_test:
            out.append(merge_pairs(task, solutions[task_id]))
    return out


def load_training_tasks(
    sources: Sequence[tuple[str, str]] = TrainConfig.sources, exclude: Sequence[tuple[str, str]] = TrainConfig.exclude
) -> TrainingTasks:
    """The pretraining tasks from the public sets (via `datasets`), evaluation overlap removed."""
    train_sets = [(f"{n}/{s}", load_merged(n, s)) for n, s in sources]
    eval_sets = [(f"{n}/{s}", load_merged(n, s)) for n, s in exclude]
    return select_training_tasks(train_sets, eval_sets)


# ---------------------------------------------------------------------------------------------- encoding


@dataclass
class Bucket:
    """Encoded examples of every version of the groups whose canvas side fits `side`.

    inputs uint8 [E, side*side]; labels int8 [E, side*side] (IGNORE_LABEL at PAD); puzzle_ids int32 [E];
    puzzle_start int64 [P+1] (example offsets of each version); group_start int64 [G+1] (version offsets
    of each group)."""

    side: int
    inputs: np.ndarray
    labels: np.ndarray
    puzzle_ids: np.ndarray
    puzzle_start: np.ndarray
    group_start: np.ndarray

    @property
    def num_examples(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def num_groups(self) -> int:
        return int(self.group_start.shape[0] - 1)


@dataclass
class TrainingSet:
    """All buckets (sorted by side, empty ones omitted) and the puzzle-id space (id 0 = blank)."""

    buckets: list[Bucket]
    num_puzzle_identifiers: int
    info: dict[str, Any]
    groups: dict[str, "Group"] = field(default_factory=dict)  # by task id: its rows, views and canvas side

    def fingerprint(self) -> str:
        """sha256 over every bucket's arrays: equal fingerprints = the same training data, bit for bit."""
        h = hashlib.sha256()
        for b in self.buckets:
            for arr in (b.inputs, b.labels, b.puzzle_ids, b.puzzle_start, b.group_start):
                h.update(str(arr.shape).encode())
                h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()


@dataclass(frozen=True)
class Group:
    """One task's versions in a training set: puzzle ids `first_id + v` for view `augs[v]`, on a `side` canvas."""

    first_id: int
    augs: tuple[augment.Aug, ...]
    side: int


def bucket_side(needed: int, buckets: Sequence[int]) -> int:
    """The smallest bucket side >= `needed`."""
    fitting = [b for b in buckets if b >= needed]
    if not fitting:
        raise ValueError(f"no bucket side fits a {needed}x{needed} canvas; buckets are {sorted(buckets)}")
    return min(fitting)


def encode_version(task: Task, side: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Encode every pair of one version: one random example at (0, 0), the others randomly translated."""
    fixed = int(rng.integers(len(task.train)))
    inputs = np.empty((len(task.train), side * side), np.uint8)
    labels = np.empty((len(task.train), side * side), np.int8)
    for j, (inp, out) in enumerate(task.train):
        offset = (0, 0) if j == fixed else encoding.random_offset(rng, inp.shape, out.shape, side)
        inputs[j], labels[j] = encoding.encode_pair(inp, out, side, offset)
    return inputs, labels


@dataclass
class _BucketBuilder:
    side: int
    inputs: list[np.ndarray] = field(default_factory=list)
    labels: list[np.ndarray] = field(default_factory=list)
    ids: list[np.ndarray] = field(default_factory=list)
    puzzle_sizes: list[int] = field(default_factory=list)
    group_sizes: list[int] = field(default_factory=list)

    def add_group(self, task: Task, augs: list[augment.Aug], first_id: int, rng: np.random.Generator) -> None:
        for v, aug in enumerate(augs):
            inputs, labels = encode_version(aug.apply_task(task), self.side, rng)
            self.inputs.append(inputs)
            self.labels.append(labels)
            self.ids.append(np.full(len(inputs), first_id + v, np.int32))
            self.puzzle_sizes.append(len(inputs))
        self.group_sizes.append(len(augs))

    def finish(self) -> Bucket:
        n = self.side * self.side
        cat = lambda xs, dt, shape: np.concatenate(xs) if xs else np.zeros(shape, dt)  # noqa: E731
        return Bucket(
            side=self.side,
            inputs=cat(self.inputs, np.uint8, (0, n)),
            labels=cat(self.labels, np.int8, (0, n)),
            puzzle_ids=cat(self.ids, np.int32, (0,)),
            puzzle_start=np.concatenate(([0], np.cumsum(self.puzzle_sizes))).astype(np.int64),
            group_start=np.concatenate(([0], np.cumsum(self.group_sizes))).astype(np.int64),
        )


def build_training_set(
    tasks: Sequence[Task], n_aug: int, seed: int, buckets: Sequence[int], *, compact: bool, margin: int,
    permute_zero: bool = False,
) -> TrainingSet:
    """Encode `tasks` (merged puzzles) with up to `n_aug` augmented versions each (plus the identity).

    Puzzle ids are assigned in task order, identity first then the plan's order; deterministic from
    `seed`. A task's canvas side is `canvas.side_for` (largest grid side + `margin` when `compact`), rounded
    up to a bucket; with `compact=False` every task is put on the 30x30 canvas (the official layout).
    `permute_zero`: colour 0 is permuted too (augment.plan)."""
    if n_aug < 0:
        raise ValueError(f"n_aug must be >= 0, got {n_aug}")
    if not buckets or any(not 1 <= int(b) <= encoding.MAX_SIDE for b in buckets):
        raise ValueError(f"bucket sides must be in 1..{encoding.MAX_SIDE}, got {list(buckets)}")
    builders = {int(b): _BucketBuilder(int(b)) for b in sorted(set(buckets))}
    next_id = 1
    groups_per_side: dict[int, int] = {}
    groups: dict[str, Group] = {}
    for task in tasks:
        if not task.train:
            raise ValueError(f"task {task.task_id} has no (input, output) pairs")
        side = bucket_side(canvas.side_for(task, margin, compact=compact), list(builders))
        tseed = augment.task_seed(seed, task.task_id)
        augs = augment.plan(task, n_aug + 1, tseed, permute_zero=permute_zero)
        builders[side].add_group(task, augs, next_id, np.random.default_rng(tseed))
        groups[task.task_id] = Group(next_id, tuple(augs), side)
        next_id += len(augs)
        groups_per_side[side] = groups_per_side.get(side, 0) + 1
    built = [b.finish() for b in builders.values() if b.group_sizes]
    info = {
        "tasks": len(tasks), "n_aug": n_aug, "seed": seed, "compact": compact, "margin": margin,
        "puzzles": next_id - 1,
        "examples": sum(b.num_examples for b in built),
        "buckets": {str(b.side): {"groups": b.num_groups, "puzzles": int(b.puzzle_start.shape[0] - 1),
                                  "examples": b.num_examples} for b in built},
    }
    return TrainingSet(built, next_id, info, groups)


# ---------------------------------------------------------------------------------------------- sampling


class BucketSource:
    """Endless stream of training rows of one bucket, epoch after epoch (official sampling): each epoch a
    random permutation of the groups, for each group one random version, all examples of that version.

    Under data parallelism rank r takes the groups at positions r, r + world, ... of the epoch's
    permutation, so ranks see disjoint groups. The order of epoch e is a pure function of (seed, side, e),
    so the state is just (epoch, position) and restoring it continues the stream exactly."""

    def __init__(self, bucket: Bucket, seed: int, rank: int = 0, world: int = 1) -> None:
        if not 0 <= rank < world:
            raise ValueError(f"rank {rank} is outside 0..{world - 1}")
        if bucket.num_groups < world:
            raise ValueError(f"bucket {bucket.side}x{bucket.side} has {bucket.num_groups} groups, fewer than "
                             f"the {world} data-parallel ranks; use fewer ranks or fewer buckets")
        self.bucket, self.seed, self.rank, self.world = bucket, int(seed), rank, world
        self.epoch, self.position = 0, 0
        self._order = self.epoch_order(0)

    def epoch_order(self, epoch: int) -> np.ndarray:
        """Example indices of this rank's share of epoch `epoch`, in stream order."""
        b = self.bucket
        rng = np.random.default_rng([self.seed, b.side, epoch])
        groups = rng.permutation(b.num_groups)
        n_versions = np.diff(b.group_start)[groups]
        puzzles = b.group_start[groups] + rng.integers(0, n_versions)
        puzzles = puzzles[self.rank :: self.world]
        starts, lengths = b.puzzle_start[puzzles], np.diff(b.puzzle_start)[puzzles]
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return np.repeat(starts, lengths) + offsets

    def take(self, n: int) -> dict[str, np.ndarray]:
        """The next `n` rows: inputs int32 [n, side*side], labels int32 (IGNORE_LABEL at PAD), puzzle ids."""
        chunks, need = [], int(n)
        while need > 0:
            if self.position >= len(self._order):
                self.epoch, self.position = self.epoch + 1, 0
                self._order = self.epoch_order(self.epoch)
            part = self._order[self.position : self.position + need]
            chunks.append(part)
            self.position += len(part)
            need -= len(part)
        idx = np.concatenate(chunks) if chunks else np.zeros(0, np.int64)
        return {
            "inputs": self.bucket.inputs[idx].astype(np.int32),
            "labels": self.bucket.labels[idx].astype(np.int32),
            "puzzle_identifiers": self.bucket.puzzle_ids[idx],
        }

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed, "side": self.bucket.side,
                "rank": self.rank, "world": self.world}

    def load_state_dict(self, state: dict[str, int]) -> None:
        mine = self.state_dict()
        for key in ("seed", "side", "rank", "world"):
            if int(state[key]) != mine[key]:
                raise ValueError(f"source state is for {key}={state[key]}, this source has {key}={mine[key]}")
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._order = self.epoch_order(self.epoch)
