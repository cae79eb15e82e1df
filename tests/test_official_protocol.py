"""`submit --protocol official` against the official evaluator: the fixture (tests/fixtures/official-protocol, made
by scripts/official_parity_fixture.py with the official code) holds an official build of 4 tasks, a tiny random
official checkpoint, and the official ARC evaluator's submission.json and ranked votes for them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import one_error_line, run_cli
from trm_submit.grids.augment import dihedral
from trm_submit.official import protocol as official_protocol
from trm_submit.official.checkpoints import load_official
from trm_submit.trm import checkpoint

FIXTURE = Path(__file__).parent / "fixtures" / "official-protocol"
DATA, CKPT, OFFICIAL = FIXTURE / "official-data", FIXTURE / "checkpoint", FIXTURE / "official"
EXTRA_TASK = "0000abcd"  # a task of the challenges that the build does not hold


def write_challenges(path: Path, extra: bool = False) -> Path:
    """The build's test tasks (test_puzzles.json without outputs) in Kaggle layout, optionally with EXTRA_TASK."""
    puzzles = json.loads((DATA / "test_puzzles.json").read_text())
    ch = {k: {"train": v["train"], "test": [{"input": p["input"]} for p in v["test"]]} for k, v in puzzles.items()}
    if extra:
        ch[EXTRA_TASK] = {"train": [{"input": [[1, 2]], "output": [[2, 1]]}], "test": [{"input": [[3, 4]]}]}
    path.write_text(json.dumps(ch))
    return path


def submit(capsys, tmp_path: Path, weights: Path, data: Path = DATA, extra: bool = False):
    out = tmp_path / "out" / "submission.json"
    args = ["submit", "--protocol", "official", "--official-data", str(data), "--weights", str(weights),
            "--challenges", str(write_challenges(tmp_path / "challenges.json", extra)), "--out", str(out),
            "--sources", "trm", "--keep-input-first", "--device", "cpu", "--fixed-work", "--threads", "1", "--quiet"]
    code, stdout, err = run_cli(capsys, *args)
    return code, out, err


def journal_trm(out: Path) -> dict[str, dict]:
    recs = [json.loads(line) for line in out.with_suffix(".journal.jsonl").read_text().splitlines()]
    return {r["task_id"]: r["sources"]["trm"] for r in recs}


def check_votes(trm: dict[str, dict]) -> None:
    """Our candidates are the official evaluator's distinct non-empty predictions, same order, same count, mean q
    within 1e-6; the empty crops the evaluator also ranked are counted apart."""
    votes = json.loads((OFFICIAL / "votes.json").read_text())
    for task_id, per_test in votes.items():
        src = trm[task_id]
        assert src["status"] == "ok"
        for i, official in enumerate(per_test):
            ours, theirs = src["candidates"][i], [c for c in official if c["grid"]][:5]
            assert [c["grid"] for c in ours] == [c["grid"] for c in theirs]
            assert [c["count"] for c in ours] == [c["count"] for c in theirs]
            assert np.allclose([c["conf"] for c in ours], [c["mean_q"] for c in theirs], rtol=0, atol=1e-6)
            assert src["empty_predictions"][i] == sum(c["count"] for c in official if not c["grid"])
            assert src["views"][i] == sum(c["count"] for c in official)


def test_official_checkpoint_gives_the_official_submission_and_votes(capsys, tmp_path):
    code, out, err = submit(capsys, tmp_path, CKPT, extra=True)
    assert code == 0, err
    ours, official = json.loads(out.read_text()), json.loads((OFFICIAL / "submission.json").read_text())
    assert {k: v for k, v in ours.items() if k != EXTRA_TASK} == official
    check_votes(journal_trm(out))
    # the task the build lacks: an error record naming it, and the file still answers it with fallbacks
    assert EXTRA_TASK in journal_trm(out)[EXTRA_TASK]["reason"]
    assert ours[EXTRA_TASK] == [{"attempt_1": [[3, 4]], "attempt_2": [[3], [4]]}]
    summary = json.loads(out.with_suffix(".summary.json").read_text())
    assert summary["valid"] and EXTRA_TASK in summary["errors"][EXTRA_TASK]


def bundle_with_rows(tmp_path: Path, drop: int = 0) -> Path:
    """The fixture checkpoint as a bundled file keeping the build's rows by identifier name (less `drop` rows)."""
    config, state = load_official(CKPT)
    table = state.pop(checkpoint.PUZZLE_TABLE_KEY)
    names = json.loads((DATA / "identifiers.json").read_text())
    keep = list(range(1, len(names) - drop))
    rows = checkpoint.PuzzleRows([names[i] for i in keep], table[keep].clone())
    return checkpoint.save_bundled(tmp_path / "rows.pt", config, state, table[1:].mean(0), {}, rows)


def test_bundle_with_named_rows_gives_the_official_submission(capsys, tmp_path):
    code, out, err = submit(capsys, tmp_path, bundle_with_rows(tmp_path))
    assert code == 0, err
    assert json.loads(out.read_text()) == json.loads((OFFICIAL / "submission.json").read_text())
    check_votes(journal_trm(out))


def test_convert_with_the_build_then_submit_gives_the_official_submission(capsys, tmp_path):
    """The user's route: `convert --official-data` keeps the test split's rows by name; the protocol reads them."""
    weights = tmp_path / "converted.pt"
    code, _, err = run_cli(capsys, "convert", str(CKPT), "--out", str(weights), "--official-data", str(DATA))
    assert code == 0, err
    code, out, err = submit(capsys, tmp_path, weights)
    assert code == 0, err
    assert json.loads(out.read_text()) == json.loads((OFFICIAL / "submission.json").read_text())
    check_votes(journal_trm(out))


def test_bundle_lacking_rows_is_one_line(capsys, tmp_path):
    code, _, err = submit(capsys, tmp_path, bundle_with_rows(tmp_path, drop=3))
    assert code == 2
    one_error_line(err, "rows.pt", "lacks 3 of the", "e.g.")


def test_checkpoint_from_another_build_is_one_line(capsys, tmp_path):
    raw = torch.load(CKPT / "step_0", map_location="cpu", weights_only=True)
    key = "_orig_mod.model." + checkpoint.PUZZLE_TABLE_KEY
    raw[key] = raw[key][:-1].clone()
    (tmp_path / "other").mkdir()
    torch.save(raw, tmp_path / "other" / "step_0")
    shutil.copy(CKPT / "config.json", tmp_path / "other" / "config.json")
    code, _, err = submit(capsys, tmp_path, tmp_path / "other")
    assert code == 2
    one_error_line(err, "puzzle table has 25 rows", "26 identifiers")


@pytest.mark.parametrize("damage, words", [
    (lambda d: (d / "identifiers.json").unlink(), ("identifiers.json", "not found")),
    (lambda d: (d / "test" / "all__inputs.npy").write_bytes((d / "test" / "all__inputs.npy").read_bytes()[:5000]),
     ("all__inputs.npy", "not a readable .npy")),
    (lambda d: (d / "test" / "dataset.json").write_text("{"), ("dataset.json", "not readable JSON")),
    (lambda d: np.save(d / "test" / "all__puzzle_indices.npy", np.array([0, 3], np.int32)),
     ("all__puzzle_indices.npy", "does not split")),
])
def test_bad_build_folder_is_one_line(capsys, tmp_path, damage, words):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    damage(data)
    code, _, err = submit(capsys, tmp_path, CKPT, data=data)
    assert code == 2
    one_error_line(err, *words)


def official_crop(tokens: np.ndarray) -> np.ndarray:
    """The official evaluator's `_crop`, transcribed loop for loop (evaluators/arc.py)."""
    grid = tokens.reshape(30, 30)
    max_area, max_size, num_c = 0, (0, 0), 30
    for num_r in range(1, 31):
        for c in range(1, num_c + 1):
            x = grid[num_r - 1, c - 1]
            if (x < 2) | (x > 11):
                num_c = c - 1
                break
        if num_r * num_c > max_area:
            max_area, max_size = num_r * num_c, (num_r, num_c)
    return (grid[:max_size[0], :max_size[1]] - 2).astype(np.uint8)


def test_crop_matches_the_official_loop():
    rng = np.random.default_rng(0)
    for trial in range(300):
        tokens = rng.integers(2, 12, size=900).astype(np.uint8)
        holes = rng.integers(0, 900, size=rng.integers(0, 40))
        tokens[holes] = rng.integers(0, 2, size=len(holes))  # PAD / EOS anywhere, (0, 0) included sometimes
        ours, theirs = official_protocol.crop(tokens), official_crop(tokens)
        assert ours.shape == theirs.shape and np.array_equal(ours, theirs), trial


def test_inverse_undoes_every_version():
    grid = np.arange(12, dtype=np.uint8).reshape(3, 4) % 10
    perm = np.array([0, 6, 1, 2, 3, 9, 7, 8, 4, 5], dtype=np.uint8)
    for k in range(8):
        name = f"abc|||t{k}|||{''.join(map(str, perm))}"
        task, kk, inv = official_protocol.parse_name(name)
        forward = dihedral(perm[grid], k)  # augment.dihedral: checked against the spec formulas in test_augment
        assert task == "abc" and np.array_equal(official_protocol.invert(forward, kk, inv), grid), k


def test_vote_ranks_count_then_mean_q_then_first_seen():
    a, b, c = (np.full((1, 1), v, np.uint8) for v in (1, 2, 3))
    ranked = official_protocol.vote([(a, 0.9), (b, 0.2), (c, 0.5), (b, 0.4), (a, 0.5), (c, 0.9)])
    assert [(int(v.grid[0, 0]), v.count) for v in ranked] == [(1, 2), (3, 2), (2, 2)]
    assert ranked[0].mean_q == pytest.approx(0.7) and ranked[2].mean_q == pytest.approx(0.3)
    tie = official_protocol.vote([(b, 0.5), (a, 0.5)])
    assert [int(v.grid[0, 0]) for v in tie] == [2, 1]


def test_deadline_cut_votes_with_the_rows_run_so_far(tmp_path, monkeypatch):
    """The stop is checked between batches of rows: stopped after the first batch of 2 rows, the task's record
    holds the votes of those 2 rows only; a stop before any batch leaves no candidate."""
    from trm_submit.budget import Budget
    from trm_submit.config import RunConfig
    from trm_submit.io.tasks import load_challenges

    cfg = RunConfig(challenges=str(write_challenges(tmp_path / "c.json")), weights=str(CKPT), protocol="official",
                    official_data=str(DATA), device="cpu")
    ch = load_challenges(cfg.challenges)
    solver = official_protocol.OfficialSolver(cfg, torch.device("cpu"), Budget.seconds(1e6),
                                              official_protocol.load(cfg, ch.tasks))
    monkeypatch.setattr(official_protocol, "CHUNK_ROWS", 2)
    calls = []
    budget = Budget.seconds(1e6, stop=lambda: bool(calls.append(1)) or len(calls) > 1)
    rec = solver.solve(ch.tasks["be03b35f"], budget, 0)
    assert rec["status"] == "ok" and rec["views"] == [2] and rec["views_planned"] == 5
    assert sum(c["count"] for c in rec["candidates"][0]) + rec["empty_predictions"][0] == 2
    full = solver.solve(ch.tasks["be03b35f"], Budget.seconds(1e6), 0)
    assert full["views"] == [5] and full["candidates"][0][0]["count"] == 2  # the evaluator's count-2 winner
    stopped = solver.solve(ch.tasks["be03b35f"], Budget.seconds(1e6, stop=lambda: True), 0)
    assert stopped["views"] == [0] and stopped["candidates"] == [[]]
