"""Two sources, one decision: the merge rules on hand-built candidate lists, the attempts of a task from its
source records (copy of the input last, fallbacks), combined journal views, and which sources a run uses."""

from __future__ import annotations

import numpy as np
import pytest

from trm_submit.config import InferConfig, RunConfig
from trm_submit.grids import vote
from trm_submit.io import records
from trm_submit.io.submission import fallback_attempts
from trm_submit.run import lanes, sources

X = np.array([[1, 2], [3, 4]], np.uint8)
P, Q, R, S = ([[5]], [[6]], [[7, 7]], [[8], [8]])


def cand(grid, source, count=1, program=None):
    return vote.Candidate(np.asarray(grid, np.uint8), count, 1.0 if source == "search" else 0.5, 0, source, program)


def grids(cands):
    return [c.grid.tolist() for c in cands]


def test_search_first_takes_the_program_then_trms_first_distinct_guess():
    per = {"search": [cand(P, "search"), cand(Q, "search")], "trm": [cand(R, "trm"), cand(S, "trm")]}
    assert grids(vote.merge(per, "search_first")) == [P, R, Q, S]
    assert grids(vote.merge(per, "trm_first")) == [R, P, S, Q]
    assert grids(vote.merge(per, "search_only")) == [P, Q]
    assert grids(vote.merge(per, "trm_only")) == [R, S]


def test_merge_keeps_a_shared_grid_once_at_its_first_place():
    per = {"search": [cand(P, "search")], "trm": [cand(P, "trm", 9), cand(Q, "trm")]}
    merged = vote.merge(per, "search_first")
    assert grids(merged) == [P, Q] and merged[0].source == "search"


def test_merge_with_one_source_missing_or_empty():
    assert grids(vote.merge({"trm": [cand(R, "trm"), cand(S, "trm")]})) == [R, S]
    assert grids(vote.merge({"search": [cand(P, "search"), cand(Q, "search")], "trm": []})) == [P, Q]
    assert vote.merge({}) == []
    with pytest.raises(ValueError, match="unknown merge rule"):
        vote.merge({}, "nope")


def _src(cands_per_input, status="ok"):
    return {"status": status, "candidates": [[{"grid": g, "count": 1, "conf": 0.5} for g in gs]
                                             for gs in cands_per_input]}


def test_task_attempts_merges_sources_and_names_their_origin():
    cfg = RunConfig(challenges="-")
    recs = {"search": _src([[P]]), "trm": _src([[X.tolist(), R]])}  # trm's top vote is a copy of the input
    attempts, origin, any_cand = sources.task_attempts((X,), recs, cfg)
    assert attempts == [[P, R]] and origin == [["search", "trm"]] and any_cand
    keep = RunConfig(challenges="-", infer=InferConfig(input_copy_last=False), merge_rule="trm_first")
    assert sources.task_attempts((X,), recs, keep)[0] == [[X.tolist(), P]]


def test_task_attempts_fall_back_without_candidates_and_skip_failed_sources():
    cfg = RunConfig(challenges="-")
    recs = {"search": _src([[]]), "trm": {"status": "error", "reason": "boom", "candidates": [[{"grid": P}]]}}
    attempts, origin, any_cand = sources.task_attempts((X,), recs, cfg)
    assert attempts == [list(fallback_attempts(X))] and origin == [["fallback", "fallback"]] and not any_cand
    one = sources.task_attempts((X,), {"search": _src([[Q]])}, cfg)
    assert one[0] == [[Q, fallback_attempts(X)[0]]] and one[1] == [["search", "fallback"]]


def test_run_sources_default_and_order():
    assert sources.run_sources(RunConfig(challenges="-")) == ("search",)
    assert sources.run_sources(RunConfig(challenges="-", weights="w.pt")) == ("search", "trm")
    assert sources.run_sources(RunConfig(challenges="-", sources=("trm", "search"))) == ("search", "trm")


def test_combined_view_keeps_every_sources_latest_record_and_the_latest_attempts():
    lines = [{"task_id": "t", "lane": "search", "status": "model", "sources": {"search": _src([[P]])},
              "attempts": [[P, Q]], "attempt_sources": [["search", "fallback"]]},
             {"task_id": "t", "lane": "trm", "status": "model", "cut": True, "sources": {"trm": _src([[R]])},
              "attempts": [[P, R]], "attempt_sources": [["search", "trm"]]}]
    view = records.combine(lines)
    assert set(view["sources"]) == {"search", "trm"} and view["attempts"] == [[P, R]]
    assert records.sources_done(lines) == {"search"}  # the cut trm line is redone on resume
    old = {"task_id": "t", "status": "model", "candidates": [[{"grid": P, "count": 3, "conf": 0.9}]]}
    assert records.combine([old])["sources"]["trm"]["status"] == "ok"  # the one-source layout reads as trm's


def test_journal_groups_lines_by_task_and_skips_a_torn_line(tmp_path):
    j = records.Journal(tmp_path / "j.jsonl")
    j.reset()
    j.append({"task_id": "a", "lane": "search", "status": "model", "sources": {"search": _src([[P]])}})
    j.append({"task_id": "b", "lane": "search", "status": "error", "sources": {}})
    j.append({"task_id": "a", "lane": "trm", "status": "model", "sources": {"trm": _src([[Q]])}})
    with open(j.path, "ab") as f:
        f.write(b'{"task_id": "a", "sour')
    grouped = j.by_task()
    assert [r["lane"] for r in grouped["a"]] == ["search", "trm"] and len(grouped["b"]) == 1
    assert set(j.read()["a"]["sources"]) == {"search", "trm"}


def test_lanes_one_for_both_sources_on_cpu_a_search_lane_beside_gpu_workers(monkeypatch):

    monkeypatch.setattr(lanes.os, "cpu_count", lambda: 16)
    monkeypatch.setattr(lanes, "memory_gib", lambda: 128)
    both = ("search", "trm")
    cfg = RunConfig(challenges="-", weights="w.pt", workers=2)
    assert lanes.plan_lanes(cfg, both, gpus=0) == [("search+trm", both, 2)]
    gpu = RunConfig(challenges="-", weights="w.pt", workers=4)
    assert lanes.plan_lanes(gpu, both, gpus=4) == [("trm", ("trm",), 4), ("search", ("search",), 12)]
    monkeypatch.setattr(lanes, "memory_gib", lambda: 16)  # 2 GiB per search worker, as much again spare
    assert lanes.plan_lanes(gpu, both, gpus=4)[1] == ("search", ("search",), 4)
    asked = RunConfig(challenges="-", weights="w.pt", workers=1, search_workers=1)
    assert lanes.plan_lanes(asked, both, gpus=0) == [("trm", ("trm",), 1), ("search", ("search",), 1)]
    assert lanes.plan_lanes(cfg, ("search",), gpus=4) == [("search", ("search",), 2)]
