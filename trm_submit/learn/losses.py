"""Training losses of the official TRM loss head: stablemax cross-entropy and the ACT loss (lm + q_halt).

Semantics follow the official `ACTLossHead`: the lm loss is the per-sequence mean over valid cells
(labels != ignore), summed over the batch; the q_halt loss is BCE-with-logits of `q_halt` against
"every valid cell of the sequence is predicted correctly", summed; total = lm + 0.5 * q_halt
(the q_continue term is zero for TRM). Callers divide by the batch size before backward.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from trm_submit.grids.encoding import IGNORE_LABEL

Q_LOSS_WEIGHT = 0.5  # weight of the q_halt loss in the total (official)


def _stablemax_s(x: torch.Tensor) -> torch.Tensor:
    """s(x) = 1 / (1 - x) for x < 0, x + 1 otherwise (positive, grows linearly instead of exponentially)."""
    return torch.where(x < 0, 1.0 / (1.0 - x + 1e-30), x + 1.0)


def log_stablemax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """log(s(x) / sum s(x)) along `dim`, in the dtype of `logits`."""
    s = _stablemax_s(logits)
    return torch.log(s / s.sum(dim=dim, keepdim=True))


def stablemax_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, ignore: int = IGNORE_LABEL
) -> torch.Tensor:
    """Per-cell stablemax cross-entropy in float64; cells whose label is `ignore` give 0.

    logits: [..., V] any float dtype; labels: [...] integer. Returns float64 of shape `labels.shape`.
    """
    if logits.shape[:-1] != labels.shape:
        raise ValueError(f"logits shape {tuple(logits.shape)} does not match labels shape {tuple(labels.shape)}")
    logp = log_stablemax(logits.to(torch.float64), dim=-1)
    valid = labels != ignore
    safe = torch.where(valid, labels, torch.zeros_like(labels)).to(torch.long)
    picked = torch.gather(logp, -1, safe.unsqueeze(-1)).squeeze(-1)
    return -torch.where(valid, picked, torch.zeros_like(picked))


def act_loss(
    outputs: dict[str, torch.Tensor], labels: torch.Tensor, ignore: int = IGNORE_LABEL
) -> tuple[torch.Tensor, dict[str, float]]:
    """ACT training loss of one step: (total, metrics).

    outputs: `logits` [B, L, V] and `q_halt_logits` [B]; labels: [B, L] (the labels of the rows the model
    actually processed, i.e. the carry's current data). total is a scalar (float64, summed over the batch).
    metrics (python floats): lm_loss, q_loss (both batch sums), accuracy (mean over rows with at least one
    valid cell of the row's cell accuracy), exact_accuracy (fraction of those rows entirely correct),
    count (number of such rows).
    """
    logits, q_halt = outputs["logits"], outputs["q_halt_logits"]
    if logits.dim() != 3 or labels.shape != logits.shape[:2]:
        raise ValueError(
            f"expected logits [B, L, V] and labels [B, L], got {tuple(logits.shape)} and {tuple(labels.shape)}"
        )
    if q_halt.shape != labels.shape[:1]:
        raise ValueError(f"q_halt_logits shape {tuple(q_halt.shape)} does not match batch size {labels.shape[0]}")
    labels = labels.to(logits.device)
    mask = labels != ignore
    counts = mask.sum(-1)
    divisor = counts.clamp_min(1)
    with torch.no_grad():
        correct = mask & (logits.argmax(-1) == labels)
        seq_correct = correct.sum(-1) == counts
    lm = (stablemax_cross_entropy(logits, labels, ignore).sum(-1) / divisor).sum()
    q_loss = F.binary_cross_entropy_with_logits(
        q_halt.float(), seq_correct.to(torch.float32), reduction="sum"
    )
    total = lm + Q_LOSS_WEIGHT * q_loss
    with torch.no_grad():
        rows = counts > 0
        cell_acc = (correct.sum(-1).double() / divisor)[rows].sum()
        stats = torch.stack([lm.detach().double(), q_loss.detach().double(), cell_acc,
                             (seq_correct & rows).sum().double(), rows.sum().double()])
    lm_v, q_v, acc_sum, exact_sum, n_rows = stats.tolist()  # one device sync
    metrics = {
        "lm_loss": lm_v,
        "q_loss": q_v,
        "accuracy": acc_sum / n_rows if n_rows else 0.0,
        "exact_accuracy": exact_sum / n_rows if n_rows else 0.0,
        "count": n_rows,
    }
    return total, metrics
