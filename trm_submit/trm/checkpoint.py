"""Weights I/O: our bundled weights format (save, checksum, load, build a model), the safe torch load every
weights file goes through (conversion of official checkpoints: `convert.py`).

Bundled file: `torch.save` of `{"format": "trm-submit-weights", "version": 1, "config", "trunk",
"initial_puzzle_emb", "provenance"}` and, optionally, `"puzzle_rows": {"names": [str], "table": [n, ndim] fp32}`:
trained puzzle-table rows kept by name (the official build's identifier names), for protocols that answer with
the rows a checkpoint trained. Its checksum lives in a sibling `<file>.sha256` in `sha256sum`
format (`<hex>  <file name>`); a `SHA256SUMS` file in the same folder listing the file is accepted too.
A model built from a bundle has one puzzle-table row per view (row i = view i), every row initialised from
the initial embedding; there is no blank row 0, since inference never pads a batch with a blank puzzle.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterable, cast

import torch

from trm_submit.config import ModelConfig
from trm_submit.errors import UserError
from trm_submit.io import outpath
from trm_submit.trm.model import PUZZLE_TABLE_KEY, TRM

BUNDLE_FORMAT = "trm-submit-weights"
BUNDLE_VERSION = 1
CHECKSUM_SUFFIX = ".sha256"
CHECKSUM_LIST = "SHA256SUMS"
POSITIVE_FIELDS = ("hidden_size", "num_heads", "L_layers", "H_cycles", "L_cycles", "vocab_size", "seq_len",
                   "halt_max_steps")


class CheckpointError(UserError):
    """A checkpoint or bundled weights file that cannot be used, with the reason."""


@dataclass
class PuzzleRows:
    """Trained puzzle-table rows by name: `table[i]` is the row of puzzle `names[i]`."""

    names: list[str]
    table: torch.Tensor  # [len(names), puzzle_emb_ndim] fp32

    def index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}


@dataclass
class Bundle:
    config: ModelConfig
    trunk_state: dict[str, torch.Tensor]
    initial_puzzle_emb: torch.Tensor  # [puzzle_emb_ndim] fp32
    provenance: dict[str, Any]
    sha256: str
    rows: PuzzleRows | None = None  # trained rows kept by name (official protocol), else None


MAX_REASON = 200  # characters of a relayed torch message


def parse_scalar(text: str) -> Any:
    """'4' -> 4, '1e-5' -> 1e-05, 'true' -> True, 'null' -> None, quoted or other text -> str."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none", "~", ""):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def config_with_overrides(base: dict[str, Any], overrides: dict[str, Any] | None) -> ModelConfig:
    """ModelConfig from an arch dict plus overrides (string values parsed); unknown override keys fail."""
    fields = set(ModelConfig().to_dict())
    merged = dict(base)
    for key, value in (overrides or {}).items():
        if key not in fields:
            raise CheckpointError(f"unknown architecture override {key!r}; known: {', '.join(sorted(fields))}")
        merged[key] = parse_scalar(value) if isinstance(value, str) else value
    try:
        config = ModelConfig.from_dict(merged)
    except TypeError as exc:
        raise CheckpointError(f"bad architecture config: {exc}") from exc
    for key in POSITIVE_FIELDS:
        value = getattr(config, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise CheckpointError(f"bad architecture config: {key} is {str(value)[:40]!r}, "
                                  "expected a whole number >= 1")
    return config


def expected_state_shapes(config: ModelConfig, num_puzzle_identifiers: int) -> dict[str, tuple[int, ...]]:
    """Key -> shape of a TRM state_dict for `config`, built on the meta device (nothing allocated)."""
    try:
        with torch.device("meta"):
            model = TRM(config, num_puzzle_identifiers)
    except Exception as exc:  # zero heads, a string for a size, ...: the model cannot be built
        raise CheckpointError(f"bad architecture config: {type(exc).__name__}: {exc}") from None
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def check_state_dict(
    state: dict[str, torch.Tensor], config: ModelConfig, num_puzzle_identifiers: int, ignore: Iterable[str] = ()
) -> None:
    """Raise CheckpointError listing missing keys, unexpected keys and shape differences."""
    expected = {k: v for k, v in expected_state_shapes(config, num_puzzle_identifiers).items() if k not in ignore}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [
        f"{k}: checkpoint {list(state[k].shape)} vs model {list(expected[k])}"
        for k in sorted(set(expected) & set(state))
        if tuple(state[k].shape) != expected[k]
    ]
    if missing or unexpected or shapes:
        parts = [f"missing keys: {missing}" if missing else "", f"unexpected keys: {unexpected}" if unexpected else ""]
        parts += [f"shape mismatch {s}" for s in shapes]
        raise CheckpointError("checkpoint does not fit the model config; " + "; ".join(p for p in parts if p))


def load_failure_reason(exc: BaseException) -> str:
    """The part of a torch.load error that says what is wrong with the file, never its advice on unsafe
    options (`weights_only=False` runs code from the file: it is never an option here)."""
    text = " ".join(str(exc).split())
    if "weights_only" in text or "Weights only load failed" in text:
        found = re.search(r"(Unsupported global: [^.]*|Trying to load unsupported GLOBAL \S+|"
                          r"Unsupported operand \S+|WeightsUnpickler error: [^.]*)", text)
        what = found.group(1) if found else "an object type outside plain tensors and containers"
        return f"it holds objects beyond tensors and plain containers ({what}); it was not loaded, nothing in it ran"
    text = text or type(exc).__name__
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default (zip) format since torch 1.6
LEGACY_MAX_BYTES = 1 << 30  # a legacy (non-zip) file is read whole into memory: refused above this size


def is_zip_file(path: Path) -> bool:
    """True for torch's zip format (memory-mappable), False for the legacy pickle format."""
    with open(path, "rb") as fh:
        return fh.read(4) == ZIP_MAGIC


def torch_load(path: Path) -> Any:
    """`torch.load` with weights_only=True on CPU. Zip-format files are memory-mapped, so a multi-GB puzzle
    table stays in the file (pages read on demand, never copied); a legacy-format file cannot be mapped and is
    read whole, so one above LEGACY_MAX_BYTES is refused with a line saying how to re-save it."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise CheckpointError(f"{path.name} is empty (0 bytes); expected a torch weights file")
        mappable = is_zip_file(path)
    except OSError as exc:
        raise CheckpointError(f"cannot read {path.name} ({exc.strerror or exc})") from None
    if mappable:
        try:
            return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except Exception as exc:  # a damaged zip: a plain load of a small file may name the problem better
            if size > LEGACY_MAX_BYTES:
                raise CheckpointError(f"cannot load {path.name} as a weights-only torch file: "
                                      f"{load_failure_reason(exc)}") from None
    elif size > LEGACY_MAX_BYTES:
        raise CheckpointError(f"{path.name} is in torch's legacy (non-zip) format, which cannot be memory-mapped, "
                              f"and is {size / 2**30:.1f} GiB (limit {LEGACY_MAX_BYTES / 2**30:.0f} GiB); re-save it "
                              "with torch.save(torch.load(f, weights_only=True), f2) on a machine with the memory")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors come in many types
        raise CheckpointError(f"cannot load {path.name} as a weights-only torch file: "
                              f"{load_failure_reason(exc)}") from None


SUM_CHUNK_BYTES = 32 << 20  # fp64 working copy of one chunk of table rows


def slim_puzzle_table(table: torch.Tensor) -> torch.Tensor:
    """Initial embedding for new puzzles: mean of the trained rows (row 0, the blank id, excluded)."""
    if table.ndim != 2 or table.shape[0] < 2:
        raise CheckpointError(f"puzzle table must be [num_ids >= 2, ndim], got {list(table.shape)}")
    total = torch.zeros(table.shape[1], dtype=torch.float64)
    rows = max(1, SUM_CHUNK_BYTES // (8 * table.shape[1]))  # a (memory-mapped) table may be ~2.5 GB: chunks
    for start in range(1, table.shape[0], rows):
        total += table[start : start + rows].sum(dim=0, dtype=torch.float64)
    return (total / (table.shape[0] - 1)).to(torch.float32)


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_bundled(
    path: str | Path,
    config: ModelConfig,
    trunk_state: dict[str, torch.Tensor],
    initial_puzzle_emb: torch.Tensor,
    provenance: dict[str, Any],
    rows: PuzzleRows | None = None,
) -> Path:
    """Write the bundled weights file (with the named `rows` when given) and its sibling `<file>.sha256`;
    returns the weights path."""
    path = Path(path)
    trunk = {k: v.detach().to("cpu").clone().contiguous() for k, v in trunk_state.items() if k != PUZZLE_TABLE_KEY}
    check_state_dict(trunk, config, 1, ignore=(PUZZLE_TABLE_KEY,))
    initial = initial_puzzle_emb.detach().to("cpu", torch.float32).clone().reshape(-1)
    if initial.numel() != config.puzzle_emb_ndim:
        raise CheckpointError(f"initial puzzle embedding has {initial.numel()} values, "
                              f"config wants {config.puzzle_emb_ndim}")
    payload = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "config": config.to_dict(),
        "trunk": trunk,
        "initial_puzzle_emb": initial,
        "provenance": dict(provenance),
    }
    if rows is not None:
        check_rows(rows, config, path.name)
        payload["puzzle_rows"] = {"names": list(rows.names), "table": rows.table.detach().to("cpu", torch.float32)
                                  .contiguous()}
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()

    def write(fh: BinaryIO) -> None:  # straight to the file, hashed on the way: the rows are never copied
        torch.save(payload, cast(BinaryIO, _HashingWriter(fh, digest)))

    outpath.write_atomic_stream(path, write)
    checksum = f"{digest.hexdigest()}  {path.name}\n"
    outpath.write_atomic(Path(str(path) + CHECKSUM_SUFFIX), checksum.encode())
    return path


class _HashingWriter:
    """A write-only file object that hashes what passes through it."""

    def __init__(self, fh: BinaryIO, digest: Any) -> None:
        self.fh, self.digest = fh, digest

    def write(self, data: Any) -> int:
        self.digest.update(data)
        return self.fh.write(data)

    def flush(self) -> None:
        self.fh.flush()


def expected_sha256(path: Path) -> str | None:
    """Checksum recorded for `path` in `<file>.sha256` or in `SHA256SUMS` beside it, else None."""
    candidates = [Path(str(path) + CHECKSUM_SUFFIX), path.parent / CHECKSUM_LIST]
    for listing in candidates:
        if listing.is_file():
            try:
                text = listing.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise CheckpointError(f"checksum file {listing.name} is not text (byte {exc.start} is not UTF-8); "
                                      f"expected '<sha256>  {path.name}'") from None
            except OSError as exc:
                raise CheckpointError(f"cannot read checksum file {listing.name} ({exc.strerror or exc})") from None
            for line in text.splitlines():
                digest, _, name = line.strip().partition(" ")
                if name.strip().lstrip("*") == path.name:
                    return digest.lower()
    return None


def load_bundled(path: str | Path, check_sha: bool = True) -> Bundle:
    """Read a bundled weights file; with `check_sha` its sha256 must match the recorded one."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"weights file not found: {path}")
    actual = sha256_file(path)
    if check_sha:
        recorded = expected_sha256(path)
        if recorded is None:
            raise CheckpointError(f"no checksum for {path.name} ({path.name}{CHECKSUM_SUFFIX} or {CHECKSUM_LIST})")
        if recorded != actual:
            raise CheckpointError(f"sha256 mismatch for {path.name}: recorded {recorded}, file has {actual}")
    return bundle_from_payload(torch_load(path), path.name, actual)


def bundle_from_payload(payload: Any, name: str, sha256: str) -> Bundle:
    """A Bundle from a loaded bundled file, every part checked: CheckpointError (one line) when malformed."""
    if not isinstance(payload, dict) or payload.get("format") != BUNDLE_FORMAT:
        raise CheckpointError(f"{name} is not a {BUNDLE_FORMAT} file")
    if payload.get("version") != BUNDLE_VERSION:
        raise CheckpointError(f"{name} has bundle version {str(payload.get('version'))[:20]}, "
                              f"expected {BUNDLE_VERSION}")
    parts = {"config": dict, "trunk": dict, "initial_puzzle_emb": torch.Tensor}
    for key, kind in parts.items():
        if not isinstance(payload.get(key), kind):
            got = "missing" if key not in payload else f"a {type(payload[key]).__name__}"
            raise CheckpointError(f"{name}: '{key}' is {got}, expected a {kind.__name__}")
    trunk = payload["trunk"]
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in trunk.items()):
        raise CheckpointError(f"{name}: 'trunk' is not a state_dict (names to tensors)")
    config = config_with_overrides(payload["config"], None)
    check_state_dict(trunk, config, 1, ignore=(PUZZLE_TABLE_KEY,))
    initial = payload["initial_puzzle_emb"]
    if initial.numel() != config.puzzle_emb_ndim or not initial.is_floating_point():
        raise CheckpointError(f"{name}: initial puzzle embedding is {initial.dtype} with {initial.numel()} values, "
                              f"the config wants {config.puzzle_emb_ndim} floats")
    provenance = payload.get("provenance", {})
    rows = None
    if "puzzle_rows" in payload:
        kept = payload["puzzle_rows"]
        if not isinstance(kept, dict) or not isinstance(kept.get("names"), list) \
                or not isinstance(kept.get("table"), torch.Tensor):
            raise CheckpointError(f"{name}: 'puzzle_rows' is not {{'names': [...], 'table': tensor}}")
        rows = PuzzleRows(kept["names"], kept["table"])
        check_rows(rows, config, name)
    return Bundle(config, trunk, initial, provenance if isinstance(provenance, dict) else {}, sha256, rows)


def check_rows(rows: PuzzleRows, config: ModelConfig, name: str) -> None:
    """CheckpointError unless the names are distinct strings and the table is [len(names), ndim] floats."""
    if not all(isinstance(n, str) for n in rows.names) or len(set(rows.names)) != len(rows.names):
        raise CheckpointError(f"{name}: puzzle row names must be distinct strings")
    shape = tuple(rows.table.shape)
    if shape != (len(rows.names), config.puzzle_emb_ndim) or not rows.table.is_floating_point():
        raise CheckpointError(f"{name}: puzzle rows table is {rows.table.dtype} {list(shape)}, expected floats "
                              f"[{len(rows.names)}, {config.puzzle_emb_ndim}]")


def view_puzzle_id(view: int) -> int:
    """Puzzle-table row of view `view` in a model from `build_model` (row i = view i, no blank row)."""
    if view < 0:
        raise ValueError(f"view index must be >= 0, got {view}")
    return view


def build_model(bundle: Bundle, num_views: int, device: str | torch.device = "cpu") -> TRM:
    """TRM (eval mode) with the bundle's trunk and one puzzle row per view, each set to the initial embedding."""
    if num_views < 1:
        raise ValueError(f"num_views must be >= 1, got {num_views}")
    model = TRM(bundle.config, num_views)
    load_base(model, bundle)
    return model.to(device).eval()


def load_base(model: TRM, bundle: Bundle) -> None:
    """The bundle's trunk into `model`, and its initial embedding into every puzzle row."""
    result = model.load_state_dict(bundle.trunk_state, strict=False)
    if result.unexpected_keys or set(result.missing_keys) - {PUZZLE_TABLE_KEY}:
        raise CheckpointError(f"trunk does not fit: missing {result.missing_keys}, unexpected {result.unexpected_keys}")
    with torch.no_grad():
        for param in model.puzzle_parameters():
            param.copy_(bundle.initial_puzzle_emb.to(param.dtype).expand_as(param))
