"""Which device a process computes on: the one place that asks torch about CUDA (imported lazily, so a
search-only process never loads torch)."""

from __future__ import annotations

import os
from typing import Any

NAMES = ("auto", "cpu", "cuda")


def cuda_count(name: str = "auto") -> int:
    """CUDA devices a run asking for device `name` can use (0 for "cpu" or when none is available)."""
    if name == "cpu":
        return 0
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def wants_cuda(name: str) -> bool:
    """Whether device `name` means CUDA here ("auto": when one is available)."""
    if name not in NAMES:
        raise ValueError(f"device must be auto, cpu or cuda, got {name!r}")
    return cuda_count() > 0 if name == "auto" else name == "cuda"


def device_for(name: str, index: int = 0) -> Any:
    """The torch device of worker `index` for device `name` (workers share the CUDA devices round robin)."""
    import torch

    if wants_cuda(name):
        return torch.device("cuda", index % max(1, torch.cuda.device_count()))
    return torch.device("cpu")


def cpu_cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def usable(name: str) -> tuple[int, str]:
    """(how many workers can run side by side, what they are): CUDA devices, else CPU cores."""
    n = cuda_count(name)
    return (n, "CUDA devices") if n else (max(1, cpu_cores()), "CPU cores")
