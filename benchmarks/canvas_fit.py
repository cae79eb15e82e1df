"""How many public-evaluation test outputs fit the default canvas policy (largest side among the task's known
grids + margin, capped at 30). An output that does not fit cannot be produced: a lost answer.

Run: python benchmarks/canvas_fit.py [--margins 0 1 2 4]
"""

from __future__ import annotations

import argparse

import numpy as np

from trm_submit.grids import canvas
from trm_submit.io import datasets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--margins", type=int, nargs="+", default=[0, 1, 2, 4])
    args = ap.parse_args()
    print(f"{'set':<22}{'margin':>7}{'outputs':>9}{'lost':>6}{'lost %':>8}{'mean tokens vs 900':>20}")
    for name in ("arc-agi-1", "arc-agi-2"):
        ch, sol = datasets.load_tasks(name, "evaluation")
        for margin in args.margins:
            lost = total = 0
            tokens = []
            for tid, task in ch.tasks.items():
                side = canvas.fit_side(task, margin)
                tokens.append(side * side / 900)
                for out in sol[tid]:
                    total += 1
                    # the output and its EOS markers need max(h, w) <= side (EOS is dropped at the canvas edge)
                    lost += int(max(out.shape) > side)
            print(f"{name + ' evaluation':<22}{margin:>7}{total:>9}{lost:>6}{100 * lost / total:>7.1f}%"
                  f"{np.mean(tokens):>20.2f}")


if __name__ == "__main__":
    main()
