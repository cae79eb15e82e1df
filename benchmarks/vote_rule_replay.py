"""Replay a `submit` run's journal under every merge rule (search_first, trm_first, search_only, trm_only), with
the input-copy rule on and off: the attempts each rule would pick from the same recorded candidates (top 5 per
test input and source), scored against the solutions. The rule the run used reproduces the run's own file.

    python benchmarks/vote_rule_replay.py --journal out/arc-agi-1-evaluation/submission.journal.jsonl \
        --challenges out/.../arc-agi_evaluation_challenges.json --solutions out/.../arc-agi_evaluation_solutions.json
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from trm_submit.config import RunConfig
from trm_submit.grids.vote import MERGE_RULES
from trm_submit.io import submission, tasks
from trm_submit.io.records import Journal
from trm_submit.run.sources import task_attempts


def replay(journal: str, ch: tasks.Challenges, cfg: RunConfig) -> tuple[dict, int]:
    """(submission with the replayed attempts, tasks with a candidate under cfg's merge rule)."""
    sub, answered = submission.skeleton(ch), 0
    for tid, view in Journal(journal).read().items():
        task = ch.tasks.get(tid)
        if task is None:
            continue
        ok = {n: s for n, s in view["sources"].items() if isinstance(s, dict) and s.get("status") == "ok"}
        attempts, _, any_candidate = task_attempts(task.test_inputs, ok, cfg)
        if any_candidate:
            answered += 1
            sub[tid] = [{"attempt_1": a1, "attempt_2": a2} for a1, a2 in attempts]
    return sub, answered


def search_precision(journal: str, sol: dict[str, list[np.ndarray]]) -> tuple[int, int, int, int, int]:
    """(test inputs with a search program that fits every demonstration, of them right on the first program's
    answer, right on either of the first two; test inputs with only a partial fit, of them right on the first)."""
    fitted = first = two = partial = partial_first = 0
    for tid, view in Journal(journal).read().items():
        search = view["sources"].get("search")
        if not isinstance(search, dict) or tid not in sol:
            continue
        for cands, truth in zip(search.get("candidates") or [], sol[tid]):
            if cands and cands[0].get("partial"):
                partial += 1
                partial_first += np.array_equal(np.asarray(cands[0]["grid"]), truth)
            elif cands:
                fitted += 1
                hits = [np.array_equal(np.asarray(c["grid"]), truth) for c in cands[:2]]
                first, two = first + hits[0], two + any(hits)
    return fitted, first, two, partial, partial_first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--journal", required=True)
    ap.add_argument("--challenges", required=True)
    ap.add_argument("--solutions", required=True)
    a = ap.parse_args()
    ch = tasks.load_challenges(a.challenges, log=lambda _: None)
    sol = tasks.load_solutions(a.solutions)
    base = RunConfig(challenges=a.challenges)
    print("| merge rule | copy of the input | pass@2 per task | per output | pass@1 per task | tasks answered |")
    print("|---|---|---|---|---|---|")
    for rule in MERGE_RULES:
        for copy_last in (True, False):
            cfg = dataclasses.replace(base, merge_rule=rule,
                                      infer=dataclasses.replace(base.infer, input_copy_last=copy_last))
            sub, answered = replay(a.journal, ch, cfg)
            s = submission.score(sub, sol)
            print(f"| {rule} | {'last' if copy_last else 'by votes'} | {s.task_pass2:.2%} "
                  f"({s.task_pass2 * s.n_tasks:g}/{s.n_tasks}) | {s.output_pass2:.2%} | {s.task_pass1:.2%} | "
                  f"{answered} |")
    fitted, first, two, partial, partial_first = search_precision(a.journal, sol)
    print(f"search: {fitted} test inputs with a program that fits every demonstration; its first answer right on "
          f"{first} ({first / max(fitted, 1):.1%}), one of its first two on {two} ({two / max(fitted, 1):.1%}); "
          f"{partial} with only a partial fit, its first answer right on {partial_first}")


if __name__ == "__main__":
    main()
