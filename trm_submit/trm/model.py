"""The TRM network: the official TinyRecursiveModels architecture, parameter names and ACT semantics; no I/O.

`TRM` is the ACT wrapper (official `TinyRecursiveReasoningModel_ACTV1`); its `inner` submodule is the
recursive network, so `TRM.state_dict()` keys equal the official keys with `_orig_mod.model.` stripped.
Parameters are stored in fp32 and cast to the forward dtype at every use, as in the official code. Besides the official
variants (`rope`, `learned`, `none`, `mlp_t`) the model has our compact-canvas variant: `pos_encodings=
"rope2d"` (row/column rotary positions) with `mask_pad=True` (attention ignores PAD keys), whose predictions
for a grid do not depend on the side of the square canvas it is encoded on.

Shape letters: B rows in the batch (views or examples); L tokens of a canvas (side x side); P puzzle-prefix
positions (the puzzle embedding, `prefix_length`); D hidden width (`hidden_size`); V vocabulary (PAD, EOS and
10 colours). z_H and z_L are the high- and low-level recurrent states, both [B, P + L, D].
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from trm_submit.config import ModelConfig
from trm_submit.grids.encoding import (
    PAD as PAD_TOKEN,  # keys holding it are masked when `mask_pad`
)
from trm_submit.trm.layers import (
    Block,
    CastedEmbedding,
    CastedLinear,
    PuzzleEmbedding,
    ReasoningModule,
    dtype_from_name,
    rope_tables,
    trunc_normal_,
)

PUZZLE_TABLE_KEY = "inner.puzzle_emb.weights"


@dataclass
class InnerCarry:
    z_H: torch.Tensor  # [B, P + L, D], forward dtype
    z_L: torch.Tensor


@dataclass
class Carry:
    inner_carry: InnerCarry
    steps: torch.Tensor  # int32 [B]
    halted: torch.Tensor  # bool [B]
    current_data: dict[str, torch.Tensor] = field(default_factory=dict)


def prefix_length(config: ModelConfig) -> int:
    """Official puzzle-prefix length: `puzzle_emb_len`, or ceil(puzzle_emb_ndim / D) when that is 0."""
    if config.puzzle_emb_len == 0:
        return -(config.puzzle_emb_ndim // -config.hidden_size)
    return config.puzzle_emb_len


def validate_config(config: ModelConfig) -> None:
    """Reject configs the official code cannot run (or that our variants do not support), naming the field."""
    if config.pos_encodings not in ("rope", "rope2d", "learned", "none"):
        raise ValueError(f"pos_encodings must be rope, rope2d, learned or none, got {config.pos_encodings!r}")
    if config.hidden_size % config.num_heads:
        raise ValueError(f"hidden_size {config.hidden_size} is not divisible by num_heads {config.num_heads}")
    prefix = prefix_length(config)
    if config.puzzle_emb_ndim == 0 and prefix > 0:
        raise ValueError("puzzle_emb_ndim 0 needs puzzle_emb_len 0 (the official code breaks otherwise)")
    if config.puzzle_emb_ndim > prefix * config.hidden_size:
        raise ValueError(f"puzzle_emb_ndim {config.puzzle_emb_ndim} exceeds puzzle_emb_len * hidden_size")
    if config.mlp_t and config.mask_pad:
        raise ValueError("mask_pad needs attention; it cannot be combined with mlp_t")
    dtype_from_name(config.forward_dtype)


class TRMInner(nn.Module):
    """One ACT step of the recursive network (official `..._ACTV1_Inner`)."""

    H_init: torch.Tensor  # buffers, registered by name in __init__
    L_init: torch.Tensor

    def __init__(self, config: ModelConfig, num_puzzle_identifiers: int) -> None:
        super().__init__()
        validate_config(config)
        self.config = config
        self.forward_dtype = dtype_from_name(config.forward_dtype)
        self.puzzle_emb_len = prefix_length(config)
        hidden = config.hidden_size
        self.embed_scale = math.sqrt(hidden)
        self.embed_tokens = CastedEmbedding(config.vocab_size, hidden, init_std=1.0 / self.embed_scale)
        self.lm_head = CastedLinear(hidden, config.vocab_size, bias=False)
        self.q_head = CastedLinear(hidden, 2, bias=True)
        if config.puzzle_emb_ndim > 0:
            self.puzzle_emb = PuzzleEmbedding(num_puzzle_identifiers, config.puzzle_emb_ndim)
        full_len = config.seq_len + self.puzzle_emb_len
        if config.pos_encodings == "learned":
            self.embed_pos = CastedEmbedding(full_len, hidden, init_std=1.0 / self.embed_scale)
        self.L_level = ReasoningModule([Block(config, full_len) for _ in range(config.L_layers)])
        for name in ("H_init", "L_init"):
            init = trunc_normal_(torch.empty(hidden), std=1.0).to(self.forward_dtype)
            self.register_buffer(name, init, persistent=True)
        with torch.no_grad():
            self.q_head.weight.zero_()
            assert self.q_head.bias is not None  # built with bias=True above
            self.q_head.bias.fill_(-5)
        self._rope_cache: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    def _cos_sin(self, seq_len: int, device: torch.device):
        if self.config.pos_encodings not in ("rope", "rope2d"):
            return None
        key = (seq_len, str(device))
        if key not in self._rope_cache:
            with torch.inference_mode(False):  # cached tables must stay usable outside inference mode
                cos, sin = rope_tables(self.config, self.puzzle_emb_len, seq_len)
                self._rope_cache[key] = (cos.to(device), sin.to(device))
        return self._rope_cache[key]

    def _attention_mask(self, inputs: torch.Tensor) -> torch.Tensor | None:
        """[B, 1, 1, P + L] bool, True = attend; PAD keys masked, prefix keys never."""
        if not self.config.mask_pad:
            return None
        keep = inputs != PAD_TOKEN
        prefix = torch.ones(inputs.shape[0], self.puzzle_emb_len, dtype=torch.bool, device=inputs.device)
        return torch.cat((prefix, keep), dim=1)[:, None, None, :]

    def input_embeddings(self, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor) -> torch.Tensor:
        """Input injection x [B, P + L, D]: token embeddings behind the puzzle prefix, times `embed_scale`."""
        dtype, hidden = self.forward_dtype, self.config.hidden_size
        emb = self.embed_tokens(inputs.to(torch.int32), dtype)
        if self.config.puzzle_emb_ndim > 0:
            puzzle = self.puzzle_emb(puzzle_identifiers.to(torch.long), dtype)
            pad = self.puzzle_emb_len * hidden - puzzle.shape[-1]
            if pad > 0:
                puzzle = F.pad(puzzle, (0, pad))
            emb = torch.cat((puzzle.view(-1, self.puzzle_emb_len, hidden), emb), dim=-2)
        if self.config.pos_encodings == "learned":
            if emb.shape[1] != self.embed_pos.embedding_weight.shape[0]:
                raise ValueError(f"learned positions need sequence length {self.config.seq_len}")
            emb = 0.707106781 * (emb + self.embed_pos.embedding_weight.to(dtype))
        return self.embed_scale * emb

    def empty_carry(self, batch_size: int, seq_len: int, device: torch.device | str) -> InnerCarry:
        shape = (batch_size, self.puzzle_emb_len + seq_len, self.config.hidden_size)
        return InnerCarry(*(torch.zeros(shape, dtype=self.forward_dtype, device=device) for _ in range(2)))

    def reset_carry(self, reset: torch.Tensor, carry: InnerCarry) -> InnerCarry:
        """Rows with `reset` set get z_H = H_init, z_L = L_init at every position."""
        flag = reset.view(-1, 1, 1)
        return InnerCarry(
            z_H=torch.where(flag, self.H_init.to(carry.z_H.dtype), carry.z_H),
            z_L=torch.where(flag, self.L_init.to(carry.z_L.dtype), carry.z_L),
        )

    def _cycle(self, z_H, z_L, x, kw):
        for _ in range(self.config.L_cycles):
            z_L = self.L_level(z_L, z_H + x, **kw)
        return self.L_level(z_H, z_L, **kw), z_L

    def forward(self, carry: InnerCarry, batch: dict[str, torch.Tensor]):
        """One ACT step -> (new carry (detached), logits [B, L, V], (q_halt [B], q_continue [B]) fp32)."""
        inputs = batch["inputs"]
        kw = dict(cos_sin=self._cos_sin(inputs.shape[1], inputs.device), attn_mask=self._attention_mask(inputs))
        x = self.input_embeddings(inputs, batch["puzzle_identifiers"])
        z_H, z_L = carry.z_H.to(self.forward_dtype), carry.z_L.to(self.forward_dtype)
        with torch.no_grad():
            for _ in range(self.config.H_cycles - 1):
                z_H, z_L = self._cycle(z_H, z_L, x, kw)
        z_H, z_L = self._cycle(z_H, z_L, x, kw)
        logits = self.lm_head(z_H[:, self.puzzle_emb_len :])
        q = self.q_head(z_H[:, 0]).to(torch.float32)
        return InnerCarry(z_H.detach(), z_L.detach()), logits, (q[..., 0], q[..., 1])


class TRM(nn.Module):
    """ACT wrapper (official `TinyRecursiveReasoningModel_ACTV1`): carry handling, step counting, halting."""

    def __init__(self, config: ModelConfig, num_puzzle_identifiers: int) -> None:
        super().__init__()
        if num_puzzle_identifiers < 1:
            raise ValueError(f"num_puzzle_identifiers must be >= 1, got {num_puzzle_identifiers}")
        self.config = config
        self.inner = TRMInner(config, num_puzzle_identifiers)

    @property
    def forward_dtype(self) -> torch.dtype:
        return self.inner.forward_dtype

    @contextmanager
    def using_dtype(self, dtype: str | torch.dtype) -> Iterator["TRM"]:
        """Run with another activation dtype inside the block (parameters stay fp32)."""
        saved = self.inner.forward_dtype
        self.inner.forward_dtype = dtype_from_name(dtype)
        try:
            yield self
        finally:
            self.inner.forward_dtype = saved

    def trunk_parameters(self) -> list[nn.Parameter]:
        """Every trainable parameter except the per-puzzle embedding table."""
        return [p for name, p in self.named_parameters() if name != PUZZLE_TABLE_KEY]

    def puzzle_parameters(self) -> list[nn.Parameter]:
        return [self.inner.puzzle_emb.weights] if hasattr(self.inner, "puzzle_emb") else []

    def initial_carry(self, batch: dict[str, torch.Tensor]) -> Carry:
        """All rows halted, so the first `forward` loads every row of the batch and resets its state."""
        inputs = batch["inputs"]
        size, device = inputs.shape[0], inputs.device
        return Carry(
            inner_carry=self.inner.empty_carry(size, inputs.shape[1], device),
            steps=torch.zeros(size, dtype=torch.int32, device=device),
            halted=torch.ones(size, dtype=torch.bool, device=device),
            current_data={k: torch.zeros_like(v) for k, v in batch.items()},
        )

    def forward(self, carry: Carry, batch: dict[str, torch.Tensor]) -> tuple[Carry, dict[str, torch.Tensor]]:
        """One ACT step with the official semantics; eval mode never halts before halt_max_steps.

        With `no_ACT_continue=False` training halts on q_halt > q_continue as officially, but the extra
        bootstrapped `target_q_continue` output (unused by TRM) is not computed."""
        inner_carry = self.inner.reset_carry(carry.halted, carry.inner_carry)
        steps = torch.where(carry.halted, 0, carry.steps)
        data = {
            k: torch.where(carry.halted.view((-1,) + (1,) * (batch[k].ndim - 1)), batch[k], v)
            for k, v in carry.current_data.items()
        }
        inner_carry, logits, (q_halt, q_continue) = self.inner(inner_carry, data)
        outputs = {"logits": logits, "q_halt_logits": q_halt, "q_continue_logits": q_continue}
        with torch.no_grad():
            steps = steps + 1
            halted = steps >= self.config.halt_max_steps
            if self.training and self.config.halt_max_steps > 1:
                if self.config.no_ACT_continue:
                    halted = halted | (q_halt > 0)
                else:
                    halted = halted | (q_halt > q_continue)
                explore = torch.rand_like(q_halt) < self.config.halt_exploration_prob
                min_steps = explore * torch.randint_like(steps, low=2, high=self.config.halt_max_steps + 1)
                halted = halted & (steps >= min_steps)
        return Carry(inner_carry, steps, halted, data), outputs
