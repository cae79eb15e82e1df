"""Batched ACT inference of encoded views -> argmax tokens, halting confidence and ACT steps run per row.

Rows stream through a fixed-size active batch: a row that has finished (its `steps` ACT steps, or an argmax
unchanged for `early_stop_k` consecutive steps) leaves the batch at once and a waiting row takes its place,
so finished rows cost no further compute. Every row starts from H_init/L_init and runs consecutive inner
steps on its own carry (the eval path of the official ACT wrapper, which never halts early).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import torch

from trm_submit.config import InferConfig, ModelConfig, RunConfig
from trm_submit.trm.layers import dtype_from_name
from trm_submit.trm.model import TRM, InnerCarry, prefix_length

MAX_AUTO_BATCH = 256


@dataclass
class Prediction:
    tokens: np.ndarray  # uint8 [N, L]: argmax of the last step run
    q_halt_prob: np.ndarray  # float32 [N]: sigmoid(q_halt) of the last step run
    steps_run: np.ndarray  # int32 [N]


ACTIVATION_BUFFERS_PER_TOKEN = 40  # calibrated, see activation_bytes_per_sample


def activation_bytes_per_sample(config: ModelConfig, seq_len: int, dtype: torch.dtype) -> int:
    """Peak inference memory of one row during an ACT step (bytes), parameters excluded.

    Counted in activation-sized buffers ([S, D] in the forward dtype, S = prefix + seq_len): the step keeps
    z_H, z_L, x, the injection sum and the block input (5); a block adds the SwiGLU's 3F/D = 9 (ARC
    config), attention's qkv (3) and fp32 RoPE copies, RMSNorm temporaries and allocator slack. Measured
    at the ARC config on CPU (benchmarks/bench_model.py): live tensors peak at 21 buffers per row in bf16
    and 19 in fp32; peak RSS grew by 24-36 buffers per extra row (allocator slack varies between runs);
    40 covers both.
    """
    e = torch.finfo(dtype).bits // 8
    seq = prefix_length(config) + seq_len
    return ACTIVATION_BUFFERS_PER_TOKEN * seq * config.hidden_size * e


def choose_batch_size(config: ModelConfig, seq_len: int, dtype: torch.dtype, memory_budget_bytes: int) -> int:
    """Largest batch whose activations fit the budget (at least 1, at most MAX_AUTO_BATCH)."""
    per_sample = activation_bytes_per_sample(config, seq_len, dtype)
    return int(max(1, min(MAX_AUTO_BATCH, memory_budget_bytes // per_sample)))


def resolve_dtype(model: TRM, device: torch.device, dtype: str | torch.dtype | None) -> torch.dtype:
    """Requested dtype, else the model's forward dtype; bf16 falls back to fp32 on a GPU without bf16."""
    chosen = dtype_from_name(dtype if dtype is not None else model.config.forward_dtype)
    if chosen == torch.bfloat16 and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return torch.float32
    return chosen


def _check_inputs(model: TRM, tokens: np.ndarray, puzzle_ids: np.ndarray, device: torch.device) -> None:
    model_device = next(model.parameters()).device
    if model_device.type != device.type:
        raise ValueError(f"model is on {model_device}, not on the requested device {device}; move it first")
    if tokens.ndim != 2:
        raise ValueError(f"tokens must be [N, L], got shape {tokens.shape}")
    if puzzle_ids.shape != (tokens.shape[0],):
        raise ValueError(f"puzzle_ids must have shape ({tokens.shape[0]},), got {puzzle_ids.shape}")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= model.config.vocab_size):
        raise ValueError(f"token ids must lie in 0..{model.config.vocab_size - 1}")
    rows = model.inner.puzzle_emb.weights.shape[0] if model.puzzle_parameters() else 1
    if puzzle_ids.size and (puzzle_ids.min() < 0 or puzzle_ids.max() >= rows):
        raise ValueError(f"puzzle ids must lie in 0..{rows - 1} (rows of the puzzle table)")


class _ActiveBatch:
    """Rows currently in the batch: their index, carry, step count and argmax stability."""

    def __init__(self, model: TRM, seq_len: int, device: torch.device, dtype: torch.dtype) -> None:
        self.model, self.device, self.dtype = model, device, dtype
        shape = (0, prefix_length(model.config) + seq_len, model.config.hidden_size)
        self.rows = torch.zeros(0, dtype=torch.long, device=device)
        self.z_H = torch.zeros(shape, dtype=dtype, device=device)
        self.z_L = torch.zeros(shape, dtype=dtype, device=device)
        self.steps = torch.zeros(0, dtype=torch.int32, device=device)
        self.stable = torch.zeros(0, dtype=torch.int32, device=device)
        self.prev = torch.zeros((0, seq_len), dtype=torch.uint8, device=device)

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    def add(self, first: int, count: int) -> None:
        inner, shape = self.model.inner, (count,) + tuple(self.z_H.shape[1:])
        self.rows = torch.cat((self.rows, torch.arange(first, first + count, device=self.device)))
        self.z_H = torch.cat((self.z_H, inner.H_init.to(self.device, self.dtype).expand(shape)))
        self.z_L = torch.cat((self.z_L, inner.L_init.to(self.device, self.dtype).expand(shape)))
        self.steps = torch.cat((self.steps, self.steps.new_zeros(count)))
        self.stable = torch.cat((self.stable, self.stable.new_zeros(count)))
        self.prev = torch.cat((self.prev, self.prev.new_zeros((count, self.prev.shape[1]))))

    def keep(self, mask: torch.Tensor) -> None:
        for name in ("rows", "z_H", "z_L", "steps", "stable", "prev"):
            setattr(self, name, getattr(self, name)[mask])


def predict(
    model: TRM,
    tokens: np.ndarray,
    puzzle_ids: np.ndarray,
    *,
    steps: int | None = None,
    batch_size: int | None = None,
    early_stop_k: int | None = None,
    device: str | torch.device = "cpu",
    dtype: str | torch.dtype | None = None,
    memory_budget_bytes: int = InferConfig.memory_budget_mb * 2**20,
) -> Prediction:
    """Run every row for `steps` ACT steps (default halt_max_steps) and return its last-step argmax and
    sigmoid(q_halt); with `early_stop_k` a row stops once its argmax was unchanged for k consecutive steps.
    `model` must already be on `device`; its train/eval mode is restored afterwards."""
    tokens, puzzle_ids, device = np.asarray(tokens), np.asarray(puzzle_ids), torch.device(device)
    _check_inputs(model, tokens, puzzle_ids, device)
    steps = model.config.halt_max_steps if steps is None else steps
    if steps < 1 or (early_stop_k is not None and early_stop_k < 1):
        raise ValueError(f"steps and early_stop_k must be >= 1, got {steps} and {early_stop_k}")
    dt = resolve_dtype(model, device, dtype)
    n, seq_len = tokens.shape
    size = batch_size or choose_batch_size(model.config, seq_len, dt, memory_budget_bytes)
    out = Prediction(np.zeros((n, seq_len), np.uint8), np.zeros(n, np.float32), np.zeros(n, np.int32))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(), model.using_dtype(dt):
            _run_rows(model, tokens, puzzle_ids, steps, size, early_stop_k, device, dt, out)
    finally:
        model.train(was_training)
    return out


def _run_rows(model, tokens, puzzle_ids, steps, size, early_stop_k, device, dt, out: Prediction) -> None:
    n, seq_len = tokens.shape
    all_inputs = torch.from_numpy(np.ascontiguousarray(tokens, dtype=np.int32)).to(device)
    all_ids = torch.from_numpy(np.ascontiguousarray(puzzle_ids, dtype=np.int64)).to(device)
    active, next_row = _ActiveBatch(model, seq_len, device, dt), 0
    while next_row < n or len(active):
        count = min(size - len(active), n - next_row)
        if count > 0:
            active.add(next_row, count)
            next_row += count
        batch = {"inputs": all_inputs[active.rows], "puzzle_identifiers": all_ids[active.rows]}
        carry, logits, (q_halt, _) = model.inner(InnerCarry(active.z_H, active.z_L), batch)
        active.z_H, active.z_L = carry.z_H, carry.z_L
        preds = logits.argmax(-1).to(torch.uint8)
        active.steps += 1
        done = active.steps >= steps
        if early_stop_k is not None:
            unchanged = (preds == active.prev).all(-1) & (active.steps > 1)
            active.stable = torch.where(unchanged, active.stable + 1, 0)
            active.prev = preds
            done |= active.stable >= early_stop_k
        if bool(done.any()):
            rows = active.rows[done].cpu().numpy()
            out.tokens[rows] = preds[done].cpu().numpy()
            out.q_halt_prob[rows] = torch.sigmoid(q_halt[done].to(torch.float64)).cpu().numpy()
            out.steps_run[rows] = active.steps[done].cpu().numpy()
            active.keep(~done)


def is_oom(exc: BaseException) -> bool:
    """True for an out-of-memory error of torch on any device."""
    oom = getattr(torch, "OutOfMemoryError", ())
    return bool(oom and isinstance(exc, oom)) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc))


def predict_with_retry(model: TRM, tokens: np.ndarray, ids: np.ndarray, cfg: RunConfig,
                       device: torch.device, batch_size: int | None) -> tuple[Prediction, int | None]:
    """`predict` with the run's inference settings; on out-of-memory halve the batch and retry (down to 1), then
    give up. Returns the prediction and the batch size that worked."""
    while True:
        try:
            pred = predict(model, tokens, ids, steps=cfg.infer.steps, batch_size=batch_size,
                           memory_budget_bytes=cfg.infer.memory_budget_mb * 2**20,
                           early_stop_k=cfg.infer.early_stop_k, device=device)
            return pred, batch_size
        except Exception as exc:
            if not is_oom(exc):
                raise
            if device.type == "cuda":
                torch.cuda.empty_cache()
            current = batch_size or len(tokens)
            if current <= 1:
                raise
            batch_size = max(1, current // 2)
            print(f"trm-submit: out of memory, retrying with batch {batch_size}", file=sys.stderr)
