"""The "End to end" table of a finished `submit` run, from the files it wrote beside the submission
(`<name>.summary.json`, `<name>.journal.jsonl`); peak RSS and CPU come from `/usr/bin/time -v`, not from here.

    python benchmarks/run_stats.py out/arc-agi-2-evaluation/submission.json
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import orjson

from trm_submit import pipeline


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):g} (min {min(values):g}, max {max(values):g})" if values else "none"


def run_table(submission_path: str) -> list[tuple[str, str]]:
    paths = pipeline.side_paths(Path(submission_path))
    summary = orjson.loads(paths["summary"].read_bytes())
    journal = [orjson.loads(line) for line in paths["journal"].read_bytes().splitlines() if line.strip()]
    model = [r for r in journal if r.get("status") == "model"]
    secs = summary["stage_seconds"]
    ttft = [r["timings"]["ttft"] for r in model]
    infer = [r["timings"]["infer_vote"] for r in model]
    rows = [
        ("wall time, `submit` step", f"{secs['total']:.1f} s (load {secs['load']:.1f} s, solve {secs['solve']:.1f} s)"),
        ("tasks answered by the model", f"{summary['tasks_model']} of {summary['tasks_total']} ({summary['not_reached']} "
                                        f"not reached, {len(summary['errors'])} errors, "
                                        f"{sum(bool(r.get('cut')) for r in model)} cut by the deadline)"),
        ("throughput", f"{3600 * summary['tasks_model'] / max(secs['solve'], 1e-9):.0f} tasks/hour"),
    ]
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
