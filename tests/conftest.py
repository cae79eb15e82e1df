"""Shared test fixtures: the tiny model configs of the tests (`tiny_config`), a fixed row source for the deep
supervisor (`FixedRows`), a tiny random compact-canvas model saved in the bundled format, small real tasks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from trm_submit.config import ModelConfig
from trm_submit.trm import checkpoint
from trm_submit.trm.model import TRM

TINY_BASE = dict(hidden_size=32, num_heads=2, expansion=2.0, L_layers=1, H_cycles=1, L_cycles=1, puzzle_emb_ndim=32,
                 puzzle_emb_len=1, halt_max_steps=2, pos_encodings="rope2d", mask_pad=True, forward_dtype="float32")


def tiny_config(**changes: object) -> ModelConfig:
    """A tiny fp32 compact-canvas TRM (D 32, 2 heads, one layer, one H and L cycle, 2 ACT steps, a 1-slot puzzle
    prefix) with `changes`; every test that needs a small model starts here."""
    return ModelConfig(**{**TINY_BASE, **changes})


TINY = tiny_config(puzzle_emb_len=16)  # the bundled weights of the end-to-end tests (make_tiny_weights)


def colour_rule_rows(n_rows: int = 8, seq_len: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """Random training rows of a per-cell colour rule (label = input colour + 3 mod 10), the last 3 cells of
    each row ignored; puzzle ids cycle through 0..3."""
    colours = np.random.default_rng(seed).integers(0, 10, size=(n_rows, seq_len))
    labels = ((colours + 3) % 10 + 2).astype(np.int32)
    labels[:, -3:] = -100
    return {"inputs": (colours + 2).astype(np.uint8), "labels": labels,
            "puzzle_identifiers": (np.arange(n_rows) % 4).astype(np.int32)}


class FixedRows:
    """A RowSource over a fixed set of rows, handed out in order; with `cycle` it starts again after the last
    row, without it running out fails the test. Records the size of every `take` in `requests`."""

    def __init__(self, rows: dict[str, np.ndarray] | None = None, cycle: bool = True) -> None:
        self.rows = rows if rows is not None else colour_rule_rows()
        self.cycle, self.pos, self.requests = cycle, 0, []

    def take(self, n: int) -> dict[str, np.ndarray]:
        self.requests.append(n)
        total = len(self.rows["inputs"])
        assert self.cycle or self.pos + n <= total, "fixed rows exhausted"
        idx = (self.pos + np.arange(n)) % total
        self.pos += n
        return {k: v[idx] for k, v in self.rows.items()}

    def state_dict(self) -> dict[str, int]:
        return {"position": self.pos}


def random_model(config: ModelConfig, num_ids: int, q_std: float = 0.2) -> TRM:
    """Seeded random model with a non-trivial puzzle table and q_head (both are zero-initialised officially)."""
    torch.manual_seed(0)
    model = TRM(config, num_ids)
    with torch.no_grad():
        model.inner.puzzle_emb.weights.normal_(0, 1)
        model.inner.q_head.weight.normal_(0, q_std)
    return model.eval()


def make_tiny_weights(path: Path, config: ModelConfig = TINY, seed: int = 0) -> Path:
    """A random model of `config` in the bundled format (with its .sha256), for end-to-end runs."""
    torch.manual_seed(seed)
    model = TRM(config, 2)
    initial = torch.randn(config.puzzle_emb_ndim) * 0.1
    return checkpoint.save_bundled(path, config, model.state_dict(), initial, {"note": "random, for tests"})


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    return make_tiny_weights(tmp_path_factory.mktemp("weights") / "tiny.pt")


def small_eval_tasks(n: int, max_side: int = 10) -> tuple[dict, dict]:
    """The first `n` ARC-AGI-1 evaluation tasks whose grids all fit `max_side` (challenges, solutions)."""
    datasets = pytest.importorskip("trm_submit.io.datasets")
    try:
        ch, sol = datasets.load_split("arc-agi-1", "evaluation")
    except datasets.DatasetError as exc:
        pytest.skip(f"public ARC data unavailable: {exc}")

    def fits(task: dict) -> bool:
        grids = [p[k] for p in task["train"] for k in ("input", "output")] + [p["input"] for p in task["test"]]
        return all(len(g) <= max_side and len(g[0]) <= max_side for g in grids)

    ids = [t for t in sorted(ch) if fits(ch[t])][:n]
    return {t: ch[t] for t in ids}, {t: sol[t] for t in ids}


@pytest.fixture
def small_task_files(tmp_path) -> tuple[Path, Path]:
    ch, sol = small_eval_tasks(3)
    c, s = tmp_path / "challenges.json", tmp_path / "solutions.json"
    c.write_text(json.dumps(ch))
    s.write_text(json.dumps(sol))
    return c, s


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """In-process tests use one torch thread: on 2 cores shared with subprocess runs a second thread mostly waits."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def run_cli(capsys, *args: str) -> tuple[int, str, list[str]]:
    """Run `trm-submit ARGS` in this process: (exit code, stdout, stderr lines)."""
    from trm_submit import cli

    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err.strip().splitlines()


def one_error_line(err: list[str], *words: str) -> str:
    """The single stderr line of a refused run: one line, `trm-submit: error: ...`, holding every word."""
    assert len(err) == 1, err
    assert err[0].startswith("trm-submit: error: "), err
    for w in words:
        assert w in err[0], (w, err[0])
    return err[0]


def nan_loss_at(monkeypatch: Any, call: int) -> None:
    """Make the `call`-th ACT loss computed by supervision.py (1-based) non-finite; the others are real."""
    from trm_submit.learn import supervision

    real, calls = supervision.act_loss, []

    def act_loss(outputs: Any, labels: Any) -> Any:
        total, m = real(outputs, labels)
        calls.append(1)
        if len(calls) == call:
            return total * float("nan"), {**m, "lm_loss": float("nan")}
        return total, m

    monkeypatch.setattr(supervision, "act_loss", act_loss)
