"""Building blocks of the TRM network, official semantics: casted linear/embedding layers (fp32 parameters cast
at use), parameter-free RMSNorm, rotary tables (official 1-D and our row/column `rope2d`), SwiGLU, attention,
the post-norm block and the shared reasoning stack. model.py composes them; no I/O here.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from trm_submit.config import ModelConfig
from trm_submit.grids.encoding import (
    MAX_SIDE,  # rope2d: prefix slot i sits at (MAX_SIDE + i, MAX_SIDE + i)
)


def dtype_from_name(name: str | torch.dtype) -> torch.dtype:
    """`"bfloat16"` / `"float32"` (or a torch dtype) -> torch dtype; anything else is an error."""
    dtype = name if isinstance(name, torch.dtype) else getattr(torch, str(name), None)
    if dtype not in (torch.bfloat16, torch.float32, torch.float16):
        raise ValueError(f"forward dtype must be bfloat16, float16 or float32, got {name!r}")
    return dtype


def trunc_normal_(tensor: torch.Tensor, std: float, lower: float = -2.0, upper: float = 2.0) -> torch.Tensor:
    """JAX-style truncated normal (the official init): realised std equals `std`; std 0 gives exact zeros."""
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
