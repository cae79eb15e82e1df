"""Model speed and memory on this machine: sample-steps/s and achieved GFLOP/s of the TRM at the paper's ARC
config (hidden 512, 8 heads, H_cycles 3, L_cycles 4, batch 8, 30x30 canvas), in bf16 and fp32, against a
matmul of the dominant GEMM shape timed in the same run (the practical ceiling); a training step; what the
compact canvas and early stopping save; and peak inference memory per sample. Prints tables.

FLOPs are counted analytically (multiply-add = 2 FLOPs), per sample and ACT step, S = 16 + side^2 tokens:
  block = 2*S*D*(4D + 3F)   [qkv 3D + o_proj D, gate_up 2F + down F]   + 4*S^2*D   [QK^T and AV]
  step  = H_cycles * (L_cycles + 1) * L_layers * block + 2*side^2*D*V + 4*D   [lm_head, q_head]
  training step = step + 2 * (the last H-cycle's share of it)   [backward = 2x forward, last cycle only]
Elementwise work (norms, RoPE, softmax, SiLU) is not counted.

Usage: python benchmarks/bench_model.py [--steps 1] [--batch 8] [--quick | --full] [--cpu-time] [--threads N]
       [--compile] [--profile]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trm_submit.config import ModelConfig  # noqa: E402
from trm_submit.trm.infer import activation_bytes_per_sample, predict  # noqa: E402
from trm_submit.trm.layers import swiglu_width  # noqa: E402
from trm_submit.trm.model import TRM, prefix_length  # noqa: E402

ARC = ModelConfig()  # the paper's ARC config


def step_flops(config: ModelConfig, side: int) -> float:
    seq, d = prefix_length(config) + side * side, config.hidden_size
    block = 2 * seq * d * (4 * d + 3 * swiglu_width(d, config.expansion)) + 4 * seq * seq * d
    blocks = config.H_cycles * (config.L_cycles + 1) * config.L_layers
    return blocks * block + 2 * side * side * d * config.vocab_size + 4 * d


def train_step_flops(config: ModelConfig, side: int) -> float:
    return step_flops(config, side) * (1 + 2 / config.H_cycles)


CPU_CLOCK = {"on": False}  # --cpu-time: rates from process CPU time / threads (robust to time-slicing)


def timed(fn, repeats: int, warmup=None) -> float:
    """Seconds per call of `fn` after one warm-up call (of `warmup` if given: a batch-1 version is enough to
    create weight casts and rope tables)."""
    (warmup or fn)()
    clock = (lambda: time.process_time() / torch.get_num_threads()) if CPU_CLOCK["on"] else time.perf_counter
    start = clock()
    for _ in range(repeats):
        fn()
    return (clock() - start) / max(repeats, 1)


def matmul_ceiling(dtype: torch.dtype, batch: int, side: int) -> float:
    """GFLOP/s of the gate_up GEMM shape [B*S, D] x [D, 2F] in `dtype`."""
    rows = batch * (16 + side * side)
    a = torch.randn(rows, ARC.hidden_size, dtype=dtype)
    w = torch.randn(2 * swiglu_width(ARC.hidden_size, ARC.expansion), ARC.hidden_size, dtype=dtype)
    seconds = timed(lambda: F.linear(a, w), 5)
    return 2 * rows * a.shape[1] * w.shape[0] / seconds / 1e9


def make_batch(batch: int, side: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {"inputs": torch.randint(0, 12, (batch, side * side), generator=g),
            "puzzle_identifiers": torch.arange(batch) % 4}


def inference_step_seconds(model: TRM, dtype: torch.dtype, batch: int, side: int, steps: int) -> float:
    def runner(size: int):
        data = make_batch(size, side)
        carry = model.inner.reset_carry(torch.ones(size, dtype=torch.bool),
                                        model.inner.empty_carry(size, side * side, "cpu"))
        return lambda: model.inner(carry, data)

    with torch.inference_mode(), model.using_dtype(dtype):
        return timed(runner(batch), steps, warmup=runner(1))


def train_step_seconds(model: TRM, dtype: torch.dtype, batch: int, side: int) -> float:
    def runner(size: int):
        data = make_batch(size, side)

        def one_step() -> None:
            with model.using_dtype(dtype):
                carry = model.inner.reset_carry(torch.ones(size, dtype=torch.bool),
                                                model.inner.empty_carry(size, side * side, "cpu"))
                _, logits, (q_halt, _) = model.inner(carry, data)
                (logits.float().square().mean() + q_halt.sum()).backward()
            model.zero_grad(set_to_none=True)

        return one_step

    model.train()
    try:
        return timed(runner(batch), 1, warmup=runner(1))
    finally:
        model.eval()


def row(name: str, batch: int, seconds: float, flops: float, ceiling: float) -> str:
    rate = flops * batch / seconds / 1e9
    return f"| {name} | {batch} | {seconds:.2f} | {batch / seconds:.3f} | {rate:.1f} | {rate / ceiling:.0%} |"


def tensor_peak_bytes(model: TRM, dtype: torch.dtype, batch: int, side: int) -> int:
    """Peak bytes of live tensors allocated during one inference ACT step (from the profiler's allocation
    events; allocator slack and the parameters are not included)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        inference_step_seconds(model, dtype, batch, side, 1)  # a batch-1 warm-up step, then the step
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    live = peak = 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        live += event.nbytes()
        peak = max(peak, live)
    return peak


def memory_table(model: TRM, side: int) -> list[str]:
    lines = ["| dtype | peak B=1 (MB) | peak B=2 (MB) | per sample (MB) | [S, D] buffers per sample | formula (MB) |",
             "|---|---|---|---|---|---|"]
    for dtype in (torch.bfloat16, torch.float32):
        one, two = (tensor_peak_bytes(model, dtype, b, side) for b in (1, 2))
        buffer = (16 + side * side) * ARC.hidden_size * torch.finfo(dtype).bits / 8
        formula = activation_bytes_per_sample(ARC, side * side, dtype)
        lines.append(f"| {str(dtype).removeprefix('torch.')} | {one / 1e6:.1f} | {two / 1e6:.1f} | "
                     f"{(two - one) / 1e6:.1f} | {(two - one) / buffer:.1f} | {formula / 1e6:.1f} |")
    return lines


EARLY_STOP_CONFIG = ARC.replace(hidden_size=64, num_heads=2, H_cycles=2, L_cycles=2)


def early_stop_table() -> list[str]:
    """predict() with early stopping: 32 rows of a 10x10 canvas, batch 8, up to 16 ACT steps, one thread, on
    a small random model (D 64, H_cycles 2, L_cycles 2) so that the table is cheap. Random weights: the
    saving shown is the mechanism's (rows leave, waiting rows take their place), not what a trained model
    gets, which depends on how soon its argmax settles."""
    torch.manual_seed(0)
    model = TRM(EARLY_STOP_CONFIG, 4).eval()
    rng = np.random.default_rng(0)
    tokens = rng.integers(2, 12, size=(32, 100)).astype(np.uint8)
    ids = np.zeros(len(tokens), np.int64)
    lines = ["| early_stop_k | wall s | mean steps run | step compute saved |", "|---|---|---|---|"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    for k in (None, 4, 2, 1):
        start = time.perf_counter()
        pred = predict(model, tokens, ids, steps=16, batch_size=8, early_stop_k=k, dtype="bfloat16")
        seconds = time.perf_counter() - start
        mean = pred.steps_run.mean()
        lines.append(f"| {k} | {seconds:.1f} | {mean:.2f} | {1 - mean / 16:.0%} |")
    torch.set_num_threads(threads)
    return lines


def machine() -> str:
    cpu = platform.processor() or "cpu"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=1, help="timed ACT steps per case (after a batch-1 warm-up)")
    ap.add_argument("--quick", action="store_true", help="bf16 inference and matmul only")
    ap.add_argument("--full", action="store_true", help="add the fp32 training step and 10x10 at batch --batch")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile of the block stack")
    ap.add_argument("--profile", action="store_true", help="print the top ops of one bf16 step")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time with process CPU time / threads instead of wall time (for a shared machine)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = ap.parse_args()
    CPU_CLOCK["on"] = args.cpu_time
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    began = time.perf_counter()
    model = TRM(ARC, 4).eval()
    b, side = args.batch, 30
    clock = "process CPU time / threads" if args.cpu_time else "wall time"
    print(f"machine: {machine()}; timed by {clock}\nconfig: paper ARC (D 512, 8 heads, H 3, L 4, 2 layers), batch {b}, "
          f"{side}x{side} canvas, {step_flops(ARC, side) / 1e9:.1f} GFLOP per sample-step\n")
    lines = ["| case | batch | s per ACT step | sample-steps/s | GFLOP/s | of matmul |", "|---|---|---|---|---|---|"]
    dtypes = [torch.bfloat16] if args.quick else [torch.bfloat16, torch.float32]
    for dtype in dtypes:
        name = str(dtype).removeprefix("torch.")
        ceiling = matmul_ceiling(dtype, b, side)
        lines.append(f"| matmul {name} [{b * (16 + side * side)}x512]x[512x3072] | - | - | - | {ceiling:.1f} | 100% |")
        seconds = inference_step_seconds(model, dtype, b, side, args.steps)
        lines.append(row(f"inference {name}", b, seconds, step_flops(ARC, side), ceiling))
        if not args.quick and (dtype == torch.bfloat16 or args.full):
            lines.append(row(f"training step {name}", b, train_step_seconds(model, dtype, b, side),
                             train_step_flops(ARC, side), ceiling))
        if dtype == torch.bfloat16 and not args.quick:
            sweep = [(20, round(b * 916 / 416)), (10, round(b * 916 / 116))] + ([(10, b)] if args.full else [])
            for small, small_batch in sweep:  # same tokens per batch as the 30x30 case, then batch b
                seconds = inference_step_seconds(model, dtype, small_batch, small, args.steps)
                lines.append(row(f"inference {name}, {small}x{small} canvas", small_batch, seconds,
                                 step_flops(ARC, small), ceiling))
        if dtype == torch.bfloat16 and args.compile:
            compiled = TRM(ARC, 4).eval()
            compiled.load_state_dict(model.state_dict())
            compiled.inner.L_level = torch.compile(compiled.inner.L_level, dynamic=False)
            start = time.perf_counter()
            inference_step_seconds(compiled, dtype, b, side, 1)
            print(f"torch.compile warm-up (compilations + two steps): {time.perf_counter() - start:.0f} s")
            seconds = inference_step_seconds(compiled, dtype, b, side, args.steps)
            lines.append(row(f"inference {name}, torch.compile", b, seconds, step_flops(ARC, side), ceiling))
    print("\n".join(lines))
    if not args.quick:
        print("\npeak tensor memory of one inference ACT step (30x30):")
        print("\n".join(memory_table(model, side)))
        print("\nearly stopping (predict, 32 rows, 10x10, batch 8, <= 16 steps, small random model, bf16, 1 thread):")
        print("\n".join(early_stop_table()))
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU]) as prof:
            inference_step_seconds(model, torch.bfloat16, b, side, 1)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
    print(f"\nbenchmark wall time {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
