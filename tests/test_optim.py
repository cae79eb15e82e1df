"""Sign-SGD against a hand computation, the Optimizers bundle (freeze, clip, lr, exact resume) and the
official warm-up + cosine schedule."""

import math

import pytest
import torch
from torch import nn

from trm_submit.learn.optim import Optimizers, SignSGD, lr_schedule


def test_signsgd_hand_computation_leaves_rows_without_grad_untouched():
    w = nn.Parameter(torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    w.grad = torch.tensor([[0.3, -2.0], [0.0, 0.0], [0.0, 1e-9]])
    SignSGD([w], lr=0.1, weight_decay=0.5).step()
    # decay factor 1 - 0.1 * 0.5 = 0.95; row 1 has no gradient: no decay, no step; sign(0) = 0 in row 2
    want = torch.tensor([[0.95 - 0.1, 1.9 + 0.1], [3.0, 4.0], [4.75, 5.7 - 0.1]])
    torch.testing.assert_close(w.data, want, rtol=0, atol=1e-6)


def test_signsgd_skips_params_without_grad_and_rejects_bad_args():
    w = nn.Parameter(torch.ones(2, 3))
    SignSGD([w], lr=1.0).step()
    assert torch.equal(w.data, torch.ones(2, 3))
    with pytest.raises(ValueError, match="lr >= 0"):
        SignSGD([w], lr=-1.0)


class Tiny(nn.Module):
    def __init__(self, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.lin = nn.Linear(4, 3)
        self.table = nn.Parameter(torch.randn(5, 4))

    def trunk_parameters(self):
        return list(self.lin.parameters())

    def puzzle_parameters(self):
        return [self.table]

    def loss(self, ids: torch.Tensor) -> torch.Tensor:
        return self.lin(self.table[ids]).square().sum()


def run_steps(model: Tiny, opt: Optimizers, n: int) -> None:
    for i in range(n):
        opt.zero_grad()
        model.loss(torch.tensor([i % 3, 1])).backward()
        opt.step()


def test_adamw_settings_are_official():
    opt = Optimizers.for_model(Tiny())
    group = opt.trunk.param_groups[0]
    assert group["betas"] == (0.9, 0.95) and group["weight_decay"] == 0.1 and group["lr"] == 1e-4
    assert isinstance(opt.puzzle, SignSGD) and opt.puzzle.param_groups[0]["lr"] == 1e-2
    with pytest.raises(ValueError, match="emb_optimizer"):
        Optimizers.for_model(Tiny(), emb_optimizer="lion")


def test_frozen_trunk_gets_no_update_but_puzzle_rows_do():
    model = Tiny()
    trunk0 = [p.detach().clone() for p in model.trunk_parameters()]
    table0 = model.table.detach().clone()
    opt = Optimizers.for_model(model, lr=0.1, emb_lr=0.1, trunk_frozen=True)
    assert not any(p.requires_grad for p in model.trunk_parameters())
    run_steps(model, opt, 3)
    assert all(torch.equal(a, b) for a, b in zip(trunk0, model.trunk_parameters()))
    assert not torch.equal(table0[:3], model.table.detach()[:3])
    assert torch.equal(table0[3:], model.table.detach()[3:])  # ids 3, 4 never in a batch
    opt.trunk_frozen = False
    assert all(p.requires_grad for p in model.trunk_parameters())
    run_steps(model, opt, 1)
    assert not all(torch.equal(a, b) for a, b in zip(trunk0, model.trunk_parameters()))


def test_clip_returns_norm_before_clipping_and_clips_to_max():
    model = Tiny()
    opt = Optimizers.for_model(model)
    for p in model.trunk_parameters():
        p.grad = torch.full_like(p, 2.0)
    n = sum(p.numel() for p in model.trunk_parameters())
    assert opt.clip_trunk_grads(None) == pytest.approx(2.0 * math.sqrt(n))
    assert opt.clip_trunk_grads(1.0) == pytest.approx(2.0 * math.sqrt(n))
    after = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in model.trunk_parameters()]))
    assert float(after) == pytest.approx(1.0, rel=1e-5)


def test_set_lr_reaches_both_optimisers():
    opt = Optimizers.for_model(Tiny())
    opt.set_lr(3e-4, 5e-3)
    assert opt.trunk.param_groups[0]["lr"] == 3e-4 and opt.puzzle.param_groups[0]["lr"] == 5e-3


@pytest.mark.parametrize("emb_optimizer", ["signsgd", "adam"])
def test_state_dict_resume_is_exact(emb_optimizer):
    straight = Tiny()
    opt = Optimizers.for_model(straight, lr=0.05, emb_lr=0.05, emb_optimizer=emb_optimizer)
    run_steps(straight, opt, 6)

    first = Tiny()
    opt1 = Optimizers.for_model(first, lr=0.05, emb_lr=0.05, emb_optimizer=emb_optimizer)
    run_steps(first, opt1, 3)
    saved_model, saved_opt = first.state_dict(), opt1.state_dict()
    resumed = Tiny(seed=1)
    resumed.load_state_dict(saved_model)
    opt2 = Optimizers.for_model(resumed, lr=0.05, emb_lr=0.05, emb_optimizer=emb_optimizer)
    opt2.load_state_dict(saved_opt)
    for i in range(3, 6):  # continue with the same batches as the straight run
        opt2.zero_grad()
        resumed.loss(torch.tensor([i % 3, 1])).backward()
        opt2.step()
    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


def test_load_state_dict_rejects_other_emb_optimizer():
    state = Optimizers.for_model(Tiny(), emb_optimizer="adam").state_dict()
    with pytest.raises(ValueError, match="emb_optimizer"):
        Optimizers.for_model(Tiny()).load_state_dict(state)


def test_lr_schedule_hand_values():
    assert lr_schedule(0, 100, 10, 1.0) == 0.0
    assert lr_schedule(5, 100, 10, 2.0) == pytest.approx(1.0)
    assert lr_schedule(10, 100, 10, 2.0) == pytest.approx(2.0)
    assert lr_schedule(55, 100, 10, 2.0, min_ratio=0.1) == pytest.approx(2.0 * (0.1 + 0.9 * 0.5))
    assert lr_schedule(100, 100, 10, 2.0, min_ratio=0.1) == pytest.approx(0.2)
    assert lr_schedule(70, 100, 10, 2.0, min_ratio=1.0) == pytest.approx(2.0)  # official ARC: constant
