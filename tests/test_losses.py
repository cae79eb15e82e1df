"""Stablemax cross-entropy and the ACT loss against hand-computed values and a plain numpy path."""

import math

import numpy as np
import pytest
import torch

from trm_submit.grids.encoding import IGNORE_LABEL
from trm_submit.learn.losses import act_loss, stablemax_cross_entropy


def numpy_stablemax_ce(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    x = logits.astype(np.float64)
    s = np.where(x < 0, 1.0 / (1.0 - x), x + 1.0)
    logp = np.log(s / s.sum(-1, keepdims=True))
    out = np.zeros(labels.shape)
    for idx in np.ndindex(labels.shape):
        if labels[idx] != IGNORE_LABEL:
            out[idx] = -logp[idx + (labels[idx],)]
    return out


def test_stablemax_hand_values():
    # s([0, 1, -1]) = [1, 2, 0.5], sum 3.5
    logits = torch.tensor([[0.0, 1.0, -1.0], [0.0, 1.0, -1.0], [2.0, 0.0, 0.0]])
    labels = torch.tensor([1, 2, IGNORE_LABEL])
    loss = stablemax_cross_entropy(logits, labels)
    assert loss.dtype == torch.float64
    assert loss.tolist() == pytest.approx([math.log(1.75), math.log(7.0), 0.0], abs=1e-12)


def test_stablemax_matches_numpy_on_random_logits_in_bf16():
    gen = torch.Generator().manual_seed(0)
    logits = (torch.randn(3, 7, 12, generator=gen) * 4).to(torch.bfloat16)
    labels = torch.randint(0, 12, (3, 7), generator=gen)
    labels[0, :3] = IGNORE_LABEL
    got = stablemax_cross_entropy(logits, labels).numpy()
    want = numpy_stablemax_ce(logits.float().numpy(), labels.numpy())
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_stablemax_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="does not match labels"):
        stablemax_cross_entropy(torch.zeros(2, 3, 12), torch.zeros(2, 4, dtype=torch.long))


def hand_case():
    logits = torch.tensor(
        [
            [[0.0, 1.0, -1.0], [2.0, 0.0, 0.0]],  # row 0: both cells predicted right
            [[0.0, 1.0, -1.0], [5.0, 5.0, 5.0]],  # row 1: cell 0 wrong, cell 1 ignored
        ],
        requires_grad=True,
    )
    labels = torch.tensor([[1, 0], [2, IGNORE_LABEL]])
    q_halt = torch.tensor([0.0, 2.0], requires_grad=True)
    return logits, labels, q_halt


def test_act_loss_hand_values():
    logits, labels, q_halt = hand_case()
    total, metrics = act_loss({"logits": logits, "q_halt_logits": q_halt}, labels)
    lm = (math.log(1.75) + math.log(5 / 3)) / 2 + math.log(7.0)
    q = math.log(2.0) + math.log(1 + math.exp(2.0))  # targets: row 0 correct (1), row 1 wrong (0)
    assert float(total.detach()) == pytest.approx(lm + 0.5 * q, rel=1e-6)
    assert metrics["lm_loss"] == pytest.approx(lm, rel=1e-9)
    assert metrics["q_loss"] == pytest.approx(q, rel=1e-6)
    assert metrics["accuracy"] == pytest.approx(0.5)
    assert metrics["exact_accuracy"] == pytest.approx(0.5)
    assert metrics["count"] == 2
    assert all(isinstance(v, float) for v in metrics.values())
    total.backward()
    assert logits.grad is not None and q_halt.grad is not None
    assert torch.all(logits.grad[1, 1] == 0)  # ignored cell gets no gradient


def test_act_loss_row_without_labels_counts_as_correct_for_q_but_not_in_metrics():
    logits = torch.zeros(2, 2, 3)
    logits[0, :, 1] = 1.0
    labels = torch.tensor([[1, 1], [IGNORE_LABEL, IGNORE_LABEL]])
    q_halt = torch.tensor([0.0, 0.0])
    total, metrics = act_loss({"logits": logits, "q_halt_logits": q_halt}, labels)
    # s([0, 1, 0]) = [1, 2, 1] -> -log(2/4) per cell; both rows' q targets are 1 (official: empty = correct)
    assert metrics["lm_loss"] == pytest.approx(math.log(2.0), rel=1e-9)
    assert metrics["q_loss"] == pytest.approx(2 * math.log(2.0), rel=1e-6)
    assert metrics["count"] == 1 and metrics["exact_accuracy"] == 1.0
    assert float(total) == pytest.approx(math.log(2.0) * 2, rel=1e-6)


def test_act_loss_rejects_bad_shapes():
    logits = torch.zeros(2, 3, 12)
    with pytest.raises(ValueError, match="q_halt_logits"):
        act_loss({"logits": logits, "q_halt_logits": torch.zeros(3)}, torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="labels"):
        act_loss({"logits": logits, "q_halt_logits": torch.zeros(2)}, torch.zeros(2, 4, dtype=torch.long))
