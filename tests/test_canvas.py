"""The canvas policy (canvas.py) against hand-computed sides, and every user of it (submit, fine-tuning,
pretraining buckets, the FLOP projection) agreeing with it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from trm_submit.config import InferConfig, ModelConfig, RunConfig
from trm_submit.grids import canvas
from trm_submit.io.tasks import Task
from trm_submit.learn import finetune, trainset
from trm_submit.run import solve
from trm_submit.trm.checkpoint import Bundle

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import flop_projection as fp  # noqa: E402

COMPACT = ModelConfig(pos_encodings="rope2d", mask_pad=True)


def z(h: int, w: int) -> np.ndarray:
    return np.zeros((h, w), dtype=np.uint8)


# largest known grid: 7 (the 3x7 train input); the test input 6x6 is smaller
TASK = Task("t", ((z(3, 7), z(2, 2)), (z(1, 1), z(5, 4))), (z(6, 6),))


def test_fit_side_is_the_largest_known_grid_plus_the_margin_capped_at_30() -> None:
    assert canvas.fit_side(TASK, 0) == 7
    assert canvas.fit_side(TASK, 2) == 9
    big = Task("b", ((z(29, 3), z(1, 1)),), (z(2, 2),))
    assert canvas.fit_side(big, 5) == 30
    with pytest.raises(ValueError, match="margin"):
        canvas.fit_side(TASK, -1)


@pytest.mark.parametrize("config, full, side", [
    (COMPACT, False, 8),  # 7 + margin 1
    (COMPACT, True, 30),  # full canvas forced
    (ModelConfig(pos_encodings="rope2d"), False, 30),  # no PAD mask: the side would change predictions
    (ModelConfig(mask_pad=True), False, 30),  # 1-D rope positions depend on the side
    (ModelConfig(), False, 30),  # the official model
])
def test_only_compact_models_get_a_task_sized_canvas(config: ModelConfig, full: bool, side: int) -> None:
    assert canvas.model_canvas_side(config, TASK, 1, full=full) == side


def _bundle(config: ModelConfig) -> Bundle:
    return Bundle(config, {}, np.zeros(1), {}, "")  # canvas_side reads only the config


@pytest.mark.parametrize("config", [COMPACT, ModelConfig()])
@pytest.mark.parametrize("margin, full", [(1, False), (3, False), (1, True)])
def test_submit_and_the_flop_projection_use_the_policy(config: ModelConfig, margin: int, full: bool) -> None:
    run = RunConfig(challenges="x.json", infer=InferConfig(canvas_margin=margin, full_canvas=full))
    expected = canvas.model_canvas_side(config, TASK, margin, full=full)
    assert solve.canvas_side(TASK, _bundle(config), run) == expected
    if not full:
        assert fp.default_side(TASK, config, margin) == expected


def test_fine_tuning_without_a_side_uses_the_policy_at_the_default_margin() -> None:
    assert finetune.resolve_side(TASK, COMPACT, None) == 7 + InferConfig.canvas_margin
    assert finetune.resolve_side(TASK, ModelConfig(), None) == 30
    assert finetune.resolve_side(TASK, COMPACT, 12) == 12
    with pytest.raises(ValueError, match="1..30"):
        finetune.resolve_side(TASK, COMPACT, 31)


def test_pretraining_buckets_round_the_policy_side_up() -> None:
    pair_task = Task("p", ((z(3, 7), z(2, 2)), (z(6, 6), z(5, 4))), ())  # merged puzzle: largest grid 7
    data = trainset.build_training_set([pair_task], n_aug=0, seed=0, buckets=(8, 12, 30), compact=True, margin=1)
    assert [b.side for b in data.buckets] == [8]  # 7 + 1 fits the 8 bucket exactly
    data = trainset.build_training_set([pair_task], n_aug=0, seed=0, buckets=(8, 12, 30), compact=True, margin=2)
    assert [b.side for b in data.buckets] == [12]  # 7 + 2 = 9 -> 12
    data = trainset.build_training_set([pair_task], n_aug=0, seed=0, buckets=(8, 30), compact=False, margin=1)
    assert [b.side for b in data.buckets] == [30]
