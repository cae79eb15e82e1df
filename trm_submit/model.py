"""The TRM network: the official TinyRecursiveModels architecture, parameter names and ACT semantics; no I/O.

`TRM` is the ACT wrapper (official `TinyRecursiveReasoningModel_ACTV1`); its `inner` submodule is the
recursive network, so `TRM.state_dict()` keys equal the official keys with `_orig_mod.model.` stripped.
Parameters are stored in fp32 and cast to the forward dtype at every use (spec 1.7). Besides the official
variants (`rope`, `learned`, `none`, `mlp_t`) the model has our compact-canvas variant: `pos_encodings=
"rope2d"` (row/column rotary positions) with `mask_pad=True` (attention ignores PAD keys), whose predictions
for a grid do not depend on the side of the square canvas it is encoded on.
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
from trm_submit.encoding import MAX_SIDE  # rope2d: prefix slot i sits at (MAX_SIDE + i, MAX_SIDE + i)
from trm_submit.encoding import PAD as PAD_TOKEN  # keys holding it are masked when `mask_pad`

PUZZLE_TABLE_KEY = "inner.puzzle_emb.weights"


def dtype_from_name(name: str | torch.dtype) -> torch.dtype:
    """`"bfloat16"` / `"float32"` (or a torch dtype) -> torch dtype; anything else is an error."""
    if isinstance(name, torch.dtype):
        dtype = name
    else:
        dtype = getattr(torch, str(name), None)
    if dtype not in (torch.bfloat16, torch.float32, torch.float16):
        raise ValueError(f"forward dtype must be bfloat16, float16 or float32, got {name!r}")
    return dtype


def trunc_normal_(tensor: torch.Tensor, std: float, lower: float = -2.0, upper: float = 2.0) -> torch.Tensor:
    """JAX-style truncated normal (spec 1.2): realised std equals `std`; std 0 gives exact zeros."""
    with torch.no_grad():
        if std == 0:
            return tensor.zero_()
        sqrt2 = math.sqrt(2.0)
        a, b = math.erf(lower / sqrt2), math.erf(upper / sqrt2)
        z = (b - a) / 2
        c = (2 * math.pi) ** -0.5
        pdf_u, pdf_l = c * math.exp(-0.5 * lower**2), c * math.exp(-0.5 * upper**2)
        comp_std = std / math.sqrt(1 - (upper * pdf_u - lower * pdf_l) / z - ((pdf_u - pdf_l) / z) ** 2)
        tensor.uniform_(a, b).erfinv_().mul_(sqrt2 * comp_std).clip_(lower * comp_std, upper * comp_std)
    return tensor


def swiglu_width(hidden_size: int, expansion: float) -> int:
    """Official intermediate width: round(expansion * D * 2/3) rounded up to a multiple of 256."""
    return -(round(expansion * hidden_size * 2 / 3) // -256) * 256


def rms_norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    """Parameter-free RMSNorm computed in fp32, cast back to the input dtype (official `rms_norm`)."""
    h = x.to(torch.float32)
    return (h * torch.rsqrt(h.square().mean(-1, keepdim=True) + eps)).to(x.dtype)


def fast_rms_norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    """`rms_norm` through torch's fused kernel (fp32 accumulation, one rounding): the same values, without
    materialising fp32 copies of bf16 activations. tests/test_model.py checks the two agree."""
    return F.rms_norm(x, (x.shape[-1],), eps=eps)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Split-halves rotary embedding of x [B, S, H, d]: x*cos + rotate_half(x)*sin computed in the tables'
    dtype (fp32) and cast back, as officially. The tables repeat their first half in the second, so each half
    is formed in place (x1*c - x2*s, x2*c + x1*s): the same roundings as the official sum, fewer passes."""
    half = x.shape[-1] // 2
    xf = x.to(cos.dtype, copy=True)
    x1, x2 = xf[..., :half], xf[..., half:]
    c, s = cos[:, None, :half], sin[:, None, :half]
    x1_s, x2_s = x1 * s, x2 * s
    x1.mul_(c).sub_(x2_s)
    x2.mul_(c).add_(x1_s)
    return xf.to(x.dtype)


def rope_tables(config: ModelConfig, prefix_len: int, seq_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin tables [prefix_len + seq_len, head_dim] (fp32, CPU) for `rope` or `rope2d`."""
    head_dim = config.hidden_size // config.num_heads
    if config.pos_encodings == "rope":
        inv_freq = 1.0 / (config.rope_theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        t = torch.arange(prefix_len + seq_len, dtype=torch.float32)
        angles = torch.outer(t, inv_freq)
    else:
        side = math.isqrt(seq_len)
        if side * side != seq_len or side > MAX_SIDE:
            raise ValueError(f"rope2d needs a square canvas of side <= {MAX_SIDE}, got sequence length {seq_len}")
        if head_dim % 4:
            raise ValueError(f"rope2d needs a head dimension divisible by 4, got {head_dim}")
        quarter = head_dim // 2
        inv_freq = 1.0 / (config.rope_theta ** (torch.arange(0, quarter, 2, dtype=torch.float32) / quarter))
        cells = torch.arange(seq_len)
        prefix = torch.arange(prefix_len) + MAX_SIDE
        rows = torch.cat((prefix, cells // side)).to(torch.float32)
        cols = torch.cat((prefix, cells % side)).to(torch.float32)
        angles = torch.cat((torch.outer(rows, inv_freq), torch.outer(cols, inv_freq)), dim=-1)
    emb = torch.cat((angles, angles), dim=-1)
    return emb.cos(), emb.sin()


class CastedLinear(nn.Module):
    """Linear layer with fp32 weights cast to the input dtype at use.

    Without autograd the cast weight is cached until the weight changes (its version counter or storage),
    which saves one cast per call in inference; the values are the same as casting every time.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(trunc_normal_(torch.empty(out_features, in_features), std=in_features**-0.5))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self._cast: tuple[tuple, torch.Tensor] | None = None

    def _weight_as(self, dtype: torch.dtype) -> torch.Tensor:
        w = self.weight
        if w.dtype == dtype or torch.is_grad_enabled():
            return w.to(dtype)
        key = (dtype, w.device, w.data_ptr(), w._version)
        if self._cast is None or self._cast[0] != key:
            with torch.inference_mode(False):  # a normal tensor, usable outside inference mode too
                self._cast = (key, w.detach().to(dtype))
        return self._cast[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias.to(x.dtype) if self.bias is not None else None
        return F.linear(x, self._weight_as(x.dtype), bias)


class CastedEmbedding(nn.Module):
    """Embedding table (fp32, official parameter name `embedding_weight`) cast before lookup."""

    def __init__(self, num_embeddings: int, dim: int, init_std: float) -> None:
        super().__init__()
        self.embedding_weight = nn.Parameter(trunc_normal_(torch.empty(num_embeddings, dim), std=init_std))

    def forward(self, ids: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return F.embedding(ids, self.embedding_weight.to(dtype))


class PuzzleEmbedding(nn.Module):
    """Per-puzzle table `weights` [num_ids, ndim] fp32, zero-initialised; rows cast after lookup."""

    def __init__(self, num_ids: int, ndim: int) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(num_ids, ndim))

    def forward(self, ids: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return self.weights[ids].to(dtype)


class SwiGLU(nn.Module):
    def __init__(self, hidden_size: int, expansion: float) -> None:
        super().__init__()
        width = swiglu_width(hidden_size, expansion)
        self.gate_up_proj = CastedLinear(hidden_size, 2 * width, bias=False)
        self.down_proj = CastedLinear(width, hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
        if torch.is_grad_enabled():
            return self.down_proj(F.silu(gate) * up)
        return self.down_proj(F.silu(gate).mul_(up))  # same values, one allocation less


class Attention(nn.Module):
    """Bidirectional multi-head attention with one packed qkv projection (rows: Q heads, K heads, V heads)."""

    def __init__(self, hidden_size: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads, self.head_dim = num_heads, hidden_size // num_heads
        self.qkv_proj = CastedLinear(hidden_size, 3 * num_heads * self.head_dim, bias=False)
        self.o_proj = CastedLinear(num_heads * self.head_dim, hidden_size, bias=False)

    def forward(self, x: torch.Tensor, cos_sin, attn_mask: torch.Tensor | None) -> torch.Tensor:
        batch, seq, _ = x.shape
        nh = self.num_heads
        qkv = self.qkv_proj(x).view(batch, seq, 3 * nh, self.head_dim)
        qk = qkv[:, :, : 2 * nh] if cos_sin is None else apply_rope(qkv[:, :, : 2 * nh], *cos_sin)
        q, k, v = (t.transpose(1, 2) for t in (qk[:, :, :nh], qk[:, :, nh:], qkv[:, :, 2 * nh :]))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return self.o_proj(out.transpose(1, 2).reshape(batch, seq, nh * self.head_dim))


class Block(nn.Module):
    """Post-norm block: h = norm(h + attn(h)); h = norm(h + mlp(h)) (attn replaced by a token MLP if mlp_t)."""

    def __init__(self, config: ModelConfig, full_seq_len: int) -> None:
        super().__init__()
        self.eps, self.use_mlp_t = config.rms_norm_eps, config.mlp_t
        if config.mlp_t:
            self.mlp_t = SwiGLU(full_seq_len, config.expansion)
        else:
            self.self_attn = Attention(config.hidden_size, config.num_heads)
        self.mlp = SwiGLU(config.hidden_size, config.expansion)

    def forward(self, h: torch.Tensor, cos_sin=None, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.use_mlp_t:
            t = h.transpose(1, 2)
            h = fast_rms_norm(t + self.mlp_t(t), self.eps).transpose(1, 2)
        else:
            h = fast_rms_norm(h + self.self_attn(h, cos_sin, attn_mask), self.eps)
        return fast_rms_norm(h + self.mlp(h), self.eps)


class ReasoningModule(nn.Module):
    """The one shared stack: net(h, inj) = blocks(h + inj)."""

    def __init__(self, layers: list[Block]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, h: torch.Tensor, injection: torch.Tensor, **kw) -> torch.Tensor:
        h = h + injection
        for layer in self.layers:
            h = layer(h, **kw)
        return h


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

    @property
    def inner(self) -> InnerCarry:
        return self.inner_carry


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
        """Input injection x [B, P + L, D]: scaled token embeddings behind the puzzle prefix (spec 1.3)."""
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
        """One ACT step with the official semantics (spec 2); eval mode never halts before halt_max_steps.

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
