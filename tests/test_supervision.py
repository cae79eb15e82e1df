"""Deep supervision with the carry on a tiny random TRM: learning, halting/refill, non-finite handling."""

import numpy as np
import pytest
import torch
from conftest import FixedRows, colour_rule_rows, tiny_config

from trm_submit.learn.optim import Optimizers
from trm_submit.learn.supervision import DeepSupervisor
from trm_submit.trm.model import TRM

SEQ = 16
TINY = tiny_config(pos_encodings="rope", mask_pad=False, seq_len=SEQ)


def tiny_model(num_ids: int = 4, seed: int = 0) -> TRM:
    torch.manual_seed(seed)
    return TRM(TINY, num_ids)


def test_loss_of_a_fixed_set_falls():
    model = tiny_model()
    source = FixedRows(colour_rule_rows(seq_len=SEQ))
    opt = Optimizers.for_model(model, lr=3e-3, emb_lr=1e-2)
    sup = DeepSupervisor(model, batch_size=8, seq_len=SEQ, device="cpu")
    losses = [sup.step(source, opt, grad_clip=1.0) for _ in range(50)]
    assert all(m.finite for m in losses)
    first = np.mean([m.lm_loss for m in losses[:5]])
    last = np.mean([m.lm_loss for m in losses[-5:]])
    assert last < 0.6 * first, (first, last)
    assert losses[-1].accuracy > losses[0].accuracy


def test_halted_rows_are_refilled_and_others_keep_their_data():
    model = tiny_model()
    source = FixedRows(colour_rule_rows(n_rows=12, seq_len=SEQ))
    opt = Optimizers.for_model(model, lr=0.0, emb_lr=0.0)  # q_halt stays < 0: rows halt only at step 2
    sup = DeepSupervisor(model, batch_size=4, seq_len=SEQ, device="cpu")
    taken = [sup.step(source, opt).rows_taken for _ in range(5)]
    assert taken == [4, 0, 4, 0, 4]
    assert source.requests == [4, 4, 4]  # the source is never asked for zero rows
    # after 5 steps the rows held are the third batch of 4 fresh rows (rows 8..11 of the source)
    held = sup.carry.current_data["inputs"].numpy()
    np.testing.assert_array_equal(held, source.rows["inputs"][8:12])
    assert sup.carry.steps.tolist() == [1, 1, 1, 1]


def test_autocast_bf16_step_runs_and_is_finite():
    model = tiny_model()
    opt = Optimizers.for_model(model, lr=1e-3)
    sup = DeepSupervisor(model, batch_size=4, seq_len=SEQ, device="cpu", autocast_dtype=torch.bfloat16)
    metrics = sup.step(FixedRows(colour_rule_rows(seq_len=SEQ)), opt, grad_clip=1.0)
    assert metrics.finite and metrics.grad_norm > 0


def test_non_finite_loss_is_reported_and_changes_nothing():
    model = tiny_model()
    with torch.no_grad():
        model.inner.lm_head.weight[0, 0] = float("nan")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = Optimizers.for_model(model, lr=1e-2, emb_lr=1e-2)
    sup = DeepSupervisor(model, batch_size=4, seq_len=SEQ, device="cpu")
    metrics = sup.step(FixedRows(colour_rule_rows(seq_len=SEQ)), opt, grad_clip=1.0)
    assert not metrics.finite
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0, equal_nan=True)
    assert not opt.trunk.state  # AdamW never stepped
    assert sup.carry is None  # the next step starts from fresh rows
    assert all(p.grad is None for p in model.parameters())


def test_source_returning_wrong_shapes_is_named():
    class Bad(FixedRows):
        def take(self, n):
            rows = super().take(n)
            rows["labels"] = rows["labels"][:, :-1]
            return rows

    sup = DeepSupervisor(tiny_model(), batch_size=2, seq_len=SEQ, device="cpu")
    with pytest.raises(ValueError, match="labels of shape"):
        sup.step(Bad(colour_rule_rows(seq_len=SEQ)), Optimizers.for_model(sup.model))
