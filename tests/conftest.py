"""Shared test fixtures: a tiny random compact-canvas model saved in the bundled format, small real tasks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from trm_submit import checkpoint
from trm_submit.config import ModelConfig
from trm_submit.model import TRM

TINY = ModelConfig(hidden_size=32, num_heads=2, expansion=2.0, L_layers=1, H_cycles=1, L_cycles=1,
                   puzzle_emb_ndim=32, halt_max_steps=2, pos_encodings="rope2d", mask_pad=True,
                   forward_dtype="float32")


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
    datasets = pytest.importorskip("trm_submit.datasets")
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
