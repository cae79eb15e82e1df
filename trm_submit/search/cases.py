"""Case splits: two programs that each reproduce some demonstrations and together all of them, joined by a feature
of the input that tells their demonstrations apart ("odd sides: the top-left corner; even sides: the top-right",
a6953f00). A test input takes the answer of the program whose demonstrations share its feature value; one whose value
neither side shows gets no answer.

The verifier keeps, for each set of demonstrations some program reproduces exactly (not all, not none), the cheapest
such program (`Verifier.by_demos`). A split is offered only with evidence: at least MIN_APART demonstrations that only
one of the two programs reproduces, and feature values that never meet across the two sides. Features are global and
cheap (FEATURES, in the order they are tried); a split costs both programs, plus SPLIT_COST.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from .grid_loops import label_components

MIN_APART = 3       # demonstrations reproduced by one side only, at least
MAX_SIDES = 48      # the cheapest demonstration sets joined pairwise
SPLIT_COST = 2      # a split ranks after a single program of the same cost

Feature = Callable[[np.ndarray], object]


def _objects(g: np.ndarray) -> int:
    bg = int(np.bincount(g.ravel()).argmax())
    return int(label_components(g, bg, True, True)[1])


FEATURES: dict[str, Feature] = {
    "height_parity": lambda g: g.shape[0] % 2,
    "width_parity": lambda g: g.shape[1] % 2,
    "square": lambda g: g.shape[0] == g.shape[1],
    "wide": lambda g: g.shape[1] > g.shape[0],
    "mirror_h": lambda g: bool((g == g[:, ::-1]).all()),
    "mirror_v": lambda g: bool((g == g[::-1]).all()),
    "colours": lambda g: len(np.unique(g)),
    "objects": _objects,
}


def _separates(values: list, first: int, second: int) -> Optional[tuple[set, set]]:
    """(values on the demonstrations of `first` only, values on those of `second` only) when they do not meet."""
    ones = {values[i] for i in range(len(values)) if first >> i & 1 and not second >> i & 1}
    twos = {values[i] for i in range(len(values)) if second >> i & 1 and not first >> i & 1}
    return None if ones & twos else (ones, twos)


def _sized(answer: Optional[np.ndarray], shape: Optional[tuple[int, int]]) -> Optional[np.ndarray]:
    """The answer, unless the test output's size is predicted and it has another."""
    return None if answer is None or (shape is not None and answer.shape != tuple(shape)) else answer


def splits(by_demos: dict[int, list[tuple[str, int, tuple]]], train_in: tuple[np.ndarray, ...],
           test_in: tuple[np.ndarray, ...], predicted: list) -> list[tuple[str, int, tuple]]:
    """(program text, cost, answers per test input) of every case split of the demonstration sets `by_demos` (a bit
    per demonstration -> the cheapest programs reproducing exactly those: text, cost, test answers). An answer of a
    size other than the test output's predicted size (`predicted`, per test input, None: unknown) is dropped."""
    n = len(train_in)
    everything = (1 << n) - 1
    shapes = list(predicted) + [None] * (len(test_in) - len(predicted))
    sides = sorted(((demos, p) for demos, programs in by_demos.items() for p in programs),
                   key=lambda side: side[1][1])[:MAX_SIDES]
    found = []
    values = {name: ([fn(g) for g in train_in], [fn(g) for g in test_in]) for name, fn in FEATURES.items()}
    for a in range(len(sides)):
        for b in range(a + 1, len(sides)):
            (first, one), (second, two) = sides[a], sides[b]
            if first | second != everything or bin(first ^ second).count("1") < MIN_APART:
                continue
            for name, (train_values, test_values) in values.items():
                apart = _separates(train_values, first, second)
                if apart is None:
                    continue
                ones, twos = apart
                tests = tuple(_sized(one[2][t] if v in ones else two[2][t] if v in twos else None, shapes[t])
                              for t, v in enumerate(test_values))
                if all(t is None for t in tests):
                    continue
                found.append((f"case({name}: {one[0]} / {two[0]})", one[1] + two[1] + SPLIT_COST, tests))
                break
    return found
