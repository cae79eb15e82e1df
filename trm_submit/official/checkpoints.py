"""Official TRM checkpoints (`step_N` files): plain state_dicts whose keys may carry `_orig_mod.` and `model.`
prefixes; their architecture comes from `config.json` or `all_config.yaml` beside the file (the `arch` block),
else from the tensors' shapes on top of the paper's ARC defaults, then from explicit overrides (`--arch`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable

import torch

from trm_submit.trm.checkpoint import (
    BUNDLE_FORMAT,
    CheckpointError,
    check_state_dict,
    config_with_overrides,
    parse_scalar,
    torch_load,
)
from trm_submit.trm.model import PUZZLE_TABLE_KEY, TRM

_PREFIXES = ("_orig_mod.", "model.")


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """`["H_cycles=3", "forward_dtype=float32"]` -> `{"H_cycles": 3, "forward_dtype": "float32"}`."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CheckpointError(f"override {item!r} is not of the form key=value")
        out[key.strip()] = parse_scalar(value)
    return out


def _read_config_file(path: Path) -> Any:
    """A `config.json` (json) or an official `all_config.yaml` (PyYAML's safe loader); an unreadable file is a
    CheckpointError of one line."""
    text = path.read_text()
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise CheckpointError(f"{path.name} is not valid JSON: {exc}") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where is not None else ""
        reason = getattr(exc, "problem", None) or type(exc).__name__
        raise CheckpointError(f"{path.name} is not valid YAML{at}: {reason}") from None


def read_arch_block(folder: Path) -> dict[str, Any] | None:
    """The `arch` block of `config.json` or `all_config.yaml` in `folder`, or None when neither exists."""
    json_path, yaml_path = folder / "config.json", folder / "all_config.yaml"
    path = json_path if json_path.is_file() else yaml_path if yaml_path.is_file() else None
    if path is None:
        return None
    data = _read_config_file(path)
    arch = data.get("arch", data) if isinstance(data, dict) else None
    if not isinstance(arch, dict):
        raise CheckpointError(f"{path.name} has no arch mapping")
    return arch


def strip_prefixes(state: dict[str, Any]) -> dict[str, Any]:
    """Drop leading `_orig_mod.` and `model.` from every key (official compile / loss-head wrappers)."""
    out = {}
    for key, value in state.items():
        for prefix in _PREFIXES:
            key = key.removeprefix(prefix)
        out[key] = value
    return out


def infer_arch_from_state(state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Fields the tensors determine: hidden_size, vocab_size, L_layers, puzzle_emb_ndim, forward_dtype."""
    arch: dict[str, Any] = {}
    if "inner.embed_tokens.embedding_weight" in state:
        arch["vocab_size"], arch["hidden_size"] = state["inner.embed_tokens.embedding_weight"].shape
    layers = {int(m.group(1)) for k in state if (m := re.match(r"inner\.L_level\.layers\.(\d+)\.", k))}
    if layers:
        arch["L_layers"] = max(layers) + 1
    arch["puzzle_emb_ndim"] = state[PUZZLE_TABLE_KEY].shape[1] if PUZZLE_TABLE_KEY in state else 0
    if "inner.H_init" in state:
        arch["forward_dtype"] = str(state["inner.H_init"].dtype).removeprefix("torch.")
    return arch


def resolve_checkpoint_file(path: str | Path) -> Path:
    """A checkpoint file, or the highest `step_N` file of a checkpoint folder."""
    path = Path(path)
    if path.is_dir():
        steps = [p for p in path.iterdir() if re.fullmatch(r"step_\d+", p.name) and p.is_file()]
        if not steps:
            raise CheckpointError(f"no step_N checkpoint file in folder {path}")
        return max(steps, key=lambda p: int(p.name.split("_")[1]))
    if not path.is_file():
        raise CheckpointError(f"checkpoint file not found: {path}")
    return path


def load_official(path: str | Path, arch_overrides: dict[str, Any] | None = None):
    """Official checkpoint -> (ModelConfig, state_dict with keys as `TRM.state_dict()`), shape-checked."""
    file = resolve_checkpoint_file(path)
    raw = torch_load(file)
    if not isinstance(raw, dict) or not raw:
        raise CheckpointError(f"{file.name} is not a state_dict")
    if raw.get("format") == BUNDLE_FORMAT:
        raise CheckpointError(f"{file.name} is a bundled weights file; load it with load_bundled")
    if not all(isinstance(v, torch.Tensor) for v in raw.values()):
        raise CheckpointError(f"{file.name} is not a state_dict of tensors")
    state = strip_prefixes(raw)
    arch = read_arch_block(file.parent)
    config = config_with_overrides(arch if arch is not None else infer_arch_from_state(state), arch_overrides)
    num_ids = state[PUZZLE_TABLE_KEY].shape[0] if PUZZLE_TABLE_KEY in state else 1
    check_state_dict(state, config, num_ids)
    return config, state


def load_official_model(path: str | Path, arch_overrides: dict[str, Any] | None = None) -> TRM:
    """Official checkpoint -> TRM (eval mode, CPU) with the checkpoint's full puzzle table."""
    config, state = load_official(path, arch_overrides)
    num_ids = state[PUZZLE_TABLE_KEY].shape[0] if PUZZLE_TABLE_KEY in state else 1
    model = TRM(config, num_ids)
    model.load_state_dict(state)
    return model.eval()
