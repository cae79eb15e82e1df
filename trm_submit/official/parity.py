"""Parity check of a checkpoint against a reference trace of the official code.

The trace's inputs and puzzle ids are re-run through our model for the trace's number of ACT steps, with the
checkpoint's full puzzle table. Pass rule: float32 max |delta logits| <= 1e-4 at every step; bfloat16 (and
float16) at every step: each cell's argmax is the reference's or a near tie in the reference (its reference
logit within 0.1 of the reference's top logit: bf16 rounding differs between CPUs and GPUs, and a random
model has many cells whose top two logits are one bf16 step apart), and max |delta q_halt| <= 0.05.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from trm_submit.official.checkpoints import load_official_model
from trm_submit.official.convert import convert
from trm_submit.trm.checkpoint import CheckpointError, torch_load
from trm_submit.trm.model import TRM

FP32_MAX_ABS_LOGITS = 1e-4
LOW_PRECISION_MAX_ARGMAX_GAP = 0.1
LOW_PRECISION_MAX_ABS_Q_HALT = 0.05
REFERENCE_FILE = "reference.pt"
_REQUIRED = ("inputs", "puzzle_identifiers", "logits", "q_halt_logits")

__all__ = ["StepDiff", "VerifyResult", "verify", "format_verify_table", "convert", "load_reference"]


@dataclass(frozen=True)
class StepDiff:
    step: int  # 1-based ACT step
    max_abs_logits: float
    max_abs_q_halt: float
    argmax_agreement: float  # fraction of cells whose argmax equals the reference's
    max_argmax_gap: float = 0.0  # max over cells: reference top logit - reference logit of our argmax


@dataclass(frozen=True)
class VerifyResult:
    dtype: str
    steps: list[StepDiff]
    passed: bool
    rule: str

    @property
    def max_abs_logits(self) -> float:
        return max(s.max_abs_logits for s in self.steps)

    @property
    def max_abs_q_halt(self) -> float:
        return max(s.max_abs_q_halt for s in self.steps)

    @property
    def min_argmax_agreement(self) -> float:
        return min(s.argmax_agreement for s in self.steps)


def load_reference(path: str | Path) -> dict[str, Any]:
    """A reference trace (`reference.pt`, or a folder holding one), checked for the fields verify needs."""
    path = Path(path)
    if path.is_dir():
        path = path / REFERENCE_FILE
    if not path.is_file():
        raise CheckpointError(f"reference trace not found: {path}")
    trace = torch_load(path)
    missing = [k for k in _REQUIRED if not isinstance(trace, dict) or k not in trace]
    if missing:
        raise CheckpointError(f"reference trace {path.name} lacks {missing}")
    return trace


def run_trace(model: TRM, trace: dict[str, Any], device: str | torch.device) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(logits fp32 [B, L, V], q_halt [B]) of each ACT step, run as the official eval loop does."""
    batch = {k: trace[k].to(device) for k in ("inputs", "puzzle_identifiers")}
    if "labels" in trace:
        batch["labels"] = trace["labels"].to(device)
    outputs = []
    with torch.inference_mode():
        carry = model.initial_carry(batch)
        for _ in range(trace["logits"].shape[0]):
            carry, out = model(carry, batch)
            outputs.append((out["logits"].float().cpu(), out["q_halt_logits"].float().cpu()))
    return outputs


def compare_step(step: int, logits: torch.Tensor, q_halt: torch.Tensor, trace: dict[str, Any]) -> StepDiff:
    ref_logits = trace["logits"][step].float()
    if logits.shape != ref_logits.shape:
        raise CheckpointError(f"logits shape {list(logits.shape)} differs from the trace's {list(ref_logits.shape)}")
    ours = logits.argmax(-1)
    gap = ref_logits.max(-1).values - ref_logits.gather(-1, ours.unsqueeze(-1)).squeeze(-1)
    return StepDiff(
        step=step + 1,
        max_abs_logits=(logits - ref_logits).abs().max().item(),
        max_abs_q_halt=(q_halt - trace["q_halt_logits"][step].float()).abs().max().item(),
        argmax_agreement=(ours == ref_logits.argmax(-1)).float().mean().item(),
        max_argmax_gap=gap.max().item(),
    )


def judge(dtype: torch.dtype, steps: list[StepDiff]) -> tuple[bool, str]:
    if dtype == torch.float32:
        rule = f"float32: max |d logits| <= {FP32_MAX_ABS_LOGITS:g} at every step"
        return all(s.max_abs_logits <= FP32_MAX_ABS_LOGITS for s in steps), rule
    rule = (
        f"{str(dtype).removeprefix('torch.')}: every argmax is the reference's or within "
        f"{LOW_PRECISION_MAX_ARGMAX_GAP:g} of its top logit, and max |d q_halt| <= {LOW_PRECISION_MAX_ABS_Q_HALT:g}, "
        f"at every step"
    )
    ok = all(
        s.max_argmax_gap <= LOW_PRECISION_MAX_ARGMAX_GAP and s.max_abs_q_halt <= LOW_PRECISION_MAX_ABS_Q_HALT
        for s in steps
    )
    return ok, rule


def verify(
    ckpt_path: str | Path,
    reference_path: str | Path,
    arch_overrides: dict[str, Any] | None = None,
    device: str | torch.device = "cpu",
) -> VerifyResult:
    """Re-run the trace with the official checkpoint (config and dtype from its folder) and judge parity."""
    trace = load_reference(reference_path)
    model = load_official_model(ckpt_path, arch_overrides).to(device)
    steps = [compare_step(i, lg, q, trace) for i, (lg, q) in enumerate(run_trace(model, trace, device))]
    passed, rule = judge(model.forward_dtype, steps)
    return VerifyResult(str(model.forward_dtype).removeprefix("torch."), steps, passed, rule)


def format_verify_table(result: VerifyResult) -> str:
    """Plain-text table: one row per ACT step, then the verdict and the rule applied."""
    lines = [f"{'step':>4}  {'max|d logits|':>13}  {'max|d q_halt|':>13}  {'argmax agree':>12}  {'max tie gap':>11}"]
    for s in result.steps:
        lines.append(f"{s.step:>4}  {s.max_abs_logits:>13.3e}  {s.max_abs_q_halt:>13.3e}  {s.argmax_agreement:>12.4%}"
                     f"  {s.max_argmax_gap:>11.3e}")
    verdict = "PASS" if result.passed else "FAIL"
    lines.append(f"{verdict} ({result.dtype}) - rule: {result.rule}")
    return "\n".join(lines)
