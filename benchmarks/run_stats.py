"""The "End to end" table of a finished `submit` run, from the files it wrote beside the submission
(`<name>.summary.json`, `<name>.journal.jsonl`); peak RSS and CPU come from `/usr/bin/time -v`, not from here.

    python benchmarks/run_stats.py out/arc-agi-2-evaluation/submission.json
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import orjson

from trm_submit.io.records import Journal, side_paths


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):g} (min {min(values):g}, max {max(values):g})" if values else "none"


def _p90(values: list[float]) -> float:
    return sorted(values)[min(len(values) - 1, int(0.9 * len(values)))] if values else 0.0


def search_rows(views: list[dict]) -> list[tuple[str, str]]:
    """Time per task, tasks with a program that fits every demonstration, and tasks with only partial fits
    (programs that fit every demonstration but one), of the search source."""
    search = [v["sources"]["search"] for v in views if v["sources"].get("search", {}).get("status") == "ok"]
    if not search:
        return []
    secs = [float(s["seconds"]) for s in search]
    flat = [[c for per_test in s.get("candidates") or [] for c in per_test] for s in search]
    fitted = sum(any(not c.get("partial") for c in cands) for cands in flat)
    partial = sum(bool(cands) and all(c.get("partial") for c in cands) for cands in flat)
    return [("search time per task", f"median {statistics.median(secs):.2f} s, p90 {_p90(secs):.2f} s, "
                                     f"max {max(secs):.2f} s over {len(secs)} tasks"),
            ("search: tasks with a program that fits every demonstration", f"{fitted} of {len(search)}"),
            ("search: tasks with only partial fits (all demonstrations but one)", f"{partial} of {len(search)}")]


def run_table(submission_path: str) -> list[tuple[str, str]]:
    paths = side_paths(Path(submission_path))
    summary = orjson.loads(paths["summary"].read_bytes())
    views = list(Journal(paths["journal"]).read().values())
    model = [{**v["sources"]["trm"], "cut": v.get("cut")} for v in views
             if v["sources"].get("trm", {}).get("status") == "ok"]
    secs = summary["stage_seconds"]
    ttft = [r["timings"]["ttft"] for r in model]
    infer = [r["timings"]["infer_vote"] for r in model]
    rows = [
        ("wall time, `submit` step", f"{secs['total']:.1f} s (load {secs['load']:.1f} s, solve {secs['solve']:.1f} s)"),
        ("tasks answered by a source", f"{summary['tasks_model']} of {summary['tasks_total']} "
                                       f"({summary['not_reached']} not reached, {len(summary['errors'])} errors, "
                                       f"{sum(bool(v.get('cut')) for v in views)} cut by the deadline)"),
        ("attempts by source", ", ".join(f"{k} {n}" for k, n in sorted(summary.get("attempts_from", {}).items()))),
        ("throughput", f"{3600 * summary['tasks_model'] / max(secs['solve'], 1e-9):.0f} tasks/hour"),
    ]
    rows += search_rows(views)
    if model:
        rows += [
            ("time per task (mean)", f"fine-tuning {statistics.mean(ttft):.1f} s, inference + decode + vote "
                                     f"{statistics.mean(infer):.1f} s"),
            ("fine-tuning steps per task", _spread([r["ttft_steps"] for r in model])),
            ("canvas side", _spread([r["side"] for r in model])),
            ("views voted per test input", _spread([v for r in model for v in r["views"]])),
        ]
    sc = summary.get("score")
    if sc:
        copies = sc.get("input_copies", {})
        rows += [
            ("score", f"pass@2 {sc['task_pass2']:.2%} per task ({sc['task_pass2'] * sc['n_tasks']:g}/{sc['n_tasks']}), "
                      f"{sc['output_pass2']:.2%} per test output ({round(sc['output_pass2'] * sc['n_outputs'])}/"
                      f"{sc['n_outputs']}); pass@1 {sc['task_pass1']:.2%} per task"),
            ("near misses per test output", f"{sc['output_shape']:.1%} right shape, {sc['output_cells']:.1%} of cells "
                                            f"(input copies: {copies.get('output_shape', 0):.1%}, "
                                            f"{copies.get('output_cells', 0):.1%})"),
        ]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("submission")
    a = ap.parse_args()
    print("| quantity | value |\n|---|---|")
    for k, v in run_table(a.submission):
        print(f"| {k} | {v} |")


if __name__ == "__main__":
    main()
