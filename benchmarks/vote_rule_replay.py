"""Replay a `submit` run's journal with the input-copy rule on and off: the attempts each rule would pick
from the same recorded candidates (top 5 per test input, in vote order), scored against the solutions.

    python benchmarks/vote_rule_replay.py --journal out/arc-agi-1-evaluation/submission.journal.jsonl \
        --challenges out/.../arc-agi_evaluation_challenges.json --solutions out/.../arc-agi_evaluation_solutions.json
"""

from __future__ import annotations

import argparse

import numpy as np
import orjson

from trm_submit import submission, tasks
from trm_submit.solve import pick_for_input
from trm_submit.vote import Candidate


def replay(journal: str, ch: tasks.Challenges, copy_last: bool) -> tuple[dict, int, int]:
    """(submission with the replayed attempts, test inputs answered by the model, of them with a copy on top)."""
    sub, answered, copy_top = submission.skeleton(ch), 0, 0
    with open(journal, "rb") as f:
        records = [orjson.loads(line) for line in f if line.strip()]
    for rec in records:
        task = ch.tasks.get(rec.get("task_id"))
        if task is None or rec.get("status") != "model":
            continue
        for i, (x, cands) in enumerate(zip(task.test_inputs, rec["candidates"])):
            if not cands:
                continue
            grids = [Candidate(np.array(c["grid"], np.uint8), c["count"], c["conf"], 0) for c in cands]
            answered += 1
            copy_top += np.array_equal(grids[0].grid, x)
            a1, a2 = pick_for_input(grids, x, copy_last)
            sub[task.task_id][i] = {"attempt_1": a1.tolist(), "attempt_2": a2.tolist()}
    return sub, answered, copy_top


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--journal", required=True)
    ap.add_argument("--challenges", required=True)
    ap.add_argument("--solutions", required=True)
    a = ap.parse_args()
    ch = tasks.load_challenges(a.challenges, log=lambda _: None)
    sol = tasks.load_solutions(a.solutions)
    for copy_last in (False, True):
        sub, answered, copy_top = replay(a.journal, ch, copy_last)
        s = submission.score(sub, sol)
        print(f"copy {'last ' if copy_last else 'first'}: pass@2 {s.task_pass2:.2%} per task "
              f"({s.task_pass2 * s.n_tasks:g}/{s.n_tasks}), {s.output_pass2:.2%} per output; near misses "
              f"{s.output_shape:.2%} right shape, {s.output_cells:.2%} cells; {copy_top} of {answered} answered "
              f"test inputs have the copy on top")


if __name__ == "__main__":
    main()
