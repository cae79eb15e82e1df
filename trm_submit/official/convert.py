"""Official checkpoint -> bundled weights (`trm-submit convert`), for published files of several GB.

A published checkpoint is mostly its puzzle-embedding table (`[~876k-1.19M, 512]` fp32, 1.8-2.5 GB). The file
is memory-mapped (`checkpoint.torch_load`), so the table is read from the file page by page and never copied
into the process's own memory; what the bundle keeps is small:

- always: the trunk and the initial embedding for new puzzles, the mean of the trained rows (row 0, the
  blank id, excluded), which is all the per-task and joint fine-tuning scopes need;
- with the output folder of the official dataset builder (`official_data`: `identifiers.json`, list
  index -> name, and `test/all__puzzle_identifiers.npy`, the ids the test split uses): also the rows of every id
  the test split uses (blank excluded), kept by identifier NAME as `PuzzleRows`, which the official protocol
  answers the test inputs with.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trm_submit.trm.checkpoint import CheckpointError, PuzzleRows, save_bundled, sha256_file, slim_puzzle_table
from trm_submit.trm.model import PUZZLE_TABLE_KEY

IDENTIFIERS_FILE = "identifiers.json"
TEST_IDS_FILE = "test/all__puzzle_identifiers.npy"
BLANK_ID = 0
# sha256 of identifiers.json as the official builder writes it (defaults: seed 42, num_aug 1000)
KNOWN_BUILDS = {
    "9f42efad9afc8796ba45dafa973e19484bc7d9006a847eba632453ff397b1ac9": "arc1concept-aug-1000",
    "d7ff9bada1e1b449013a475ea6cd83d4dfda6c38ad40ca58940c2c7e6ad3aca3": "arc2concept-aug-1000",
}


@dataclass(frozen=True)
class OfficialBuild:
    """What a conversion needs from an official dataset build: identifier names and the test split's ids."""

    folder: Path
    names: list[str]  # index = puzzle identifier
    test_ids: np.ndarray  # distinct ids the test split uses, ascending, blank excluded
    identifiers_sha256: str

    @property
    def label(self) -> str:
        """The build's name when its identifier list is a known official one, else its folder name."""
        known = KNOWN_BUILDS.get(self.identifiers_sha256)
        return known if known else f"'{self.folder.name}' (identifiers.json sha256 {self.identifiers_sha256[:12]})"


@dataclass(frozen=True)
class Converted:
    """A written bundle and what it kept."""

    path: Path
    trunk_tensors: int
    trunk_bytes: int
    mean_of_rows: int  # trained rows averaged into the initial embedding
    kept_rows: int  # named rows kept (0 without an official build)
    build: str | None
    kept_bytes: int = 0

    def describe(self) -> str:
        lines = [f"wrote {self.path}",
                 f"kept: trunk {self.trunk_tensors} tensors ({self.trunk_bytes / 2**20:.1f} MB); initial embedding = "
                 f"mean of {self.mean_of_rows:,} trained rows"]
        if self.build is not None:
            lines.append(f"kept: {self.kept_rows:,} named puzzle rows ({self.kept_bytes / 2**20:.1f} MB): every id "
                         f"the test split of official build {self.build} uses")
        else:
            lines.append("kept: no named puzzle rows (enough for --ttft-scope task or joint; --protocol official "
                         "needs a conversion with --official-data)")
        return "\n".join(lines)


def _read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"--official-data: {what} {path} not found (expected the official dataset "
                              "builder's output folder)") from None
    except OSError as exc:
        raise CheckpointError(f"--official-data: cannot read {path} ({exc.strerror or exc})") from None


def read_official_build(folder: str | Path) -> OfficialBuild:
    """Identifier names and the test split's distinct ids of an official build; CheckpointError (one line) when
    a file is missing or malformed."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"--official-data: folder {folder} not found")
    raw = _read_file(folder / IDENTIFIERS_FILE, "identifier list")
    try:
        names = json.loads(raw)
    except ValueError as exc:
        raise CheckpointError(f"--official-data: {IDENTIFIERS_FILE} is not valid JSON: {exc}") from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise CheckpointError(f"--official-data: {IDENTIFIERS_FILE} is not a list of names")
    ids_path = folder / TEST_IDS_FILE
    if not ids_path.is_file():
        raise CheckpointError(f"--official-data: test split ids {ids_path} not found (expected the official dataset "
                              "builder's output folder)")
    try:
        ids = np.load(ids_path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise CheckpointError(f"--official-data: cannot read {TEST_IDS_FILE}: {exc}") from None
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise CheckpointError(f"--official-data: {TEST_IDS_FILE} holds {ids.dtype} {list(ids.shape)}, "
                              "expected a 1-D integer array")
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= len(names)):
        raise CheckpointError(f"--official-data: {TEST_IDS_FILE} uses ids {int(ids.min())}..{int(ids.max())}, "
                              f"but {IDENTIFIERS_FILE} names only 0..{len(names) - 1}")
    distinct = np.unique(ids.astype(np.int64))
    return OfficialBuild(folder, names, distinct[distinct != BLANK_ID], hashlib.sha256(raw).hexdigest())


def test_split_rows(build: OfficialBuild, table: torch.Tensor) -> PuzzleRows:
    """The rows of every id the test split uses, by name; the table must have one row per identifier."""
    if table.shape[0] != len(build.names):
        raise CheckpointError(f"--official-data: {IDENTIFIERS_FILE} names {len(build.names):,} identifiers but the "
                              f"checkpoint's puzzle table has {table.shape[0]:,} rows: not the build that trained it")
    rows = table.index_select(0, torch.from_numpy(build.test_ids))  # reads only these rows of the mapped file
    return PuzzleRows([build.names[i] for i in build.test_ids.tolist()], rows.to(torch.float32))


def convert(
    ckpt_path: str | Path,
    out_path: str | Path,
    arch_overrides: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
    official_data: str | Path | None = None,
) -> Converted:
    """Official checkpoint -> bundled file (trunk, mean embedding, and with `official_data` the test split's
    named rows) plus provenance; the checkpoint is memory-mapped, its table never loaded whole."""
    from .checkpoints import load_official, resolve_checkpoint_file

    build = read_official_build(official_data) if official_data is not None else None  # cheap checks first
    file = resolve_checkpoint_file(ckpt_path)
    config, state = load_official(file, arch_overrides)
    table = state.get(PUZZLE_TABLE_KEY)
    if build is not None and table is None:
        raise CheckpointError(f"{file.name} has no puzzle table ({PUZZLE_TABLE_KEY}); --official-data needs one")
    rows = test_split_rows(build, table) if build is not None and table is not None else None
    initial = slim_puzzle_table(table) if table is not None else torch.zeros(0)
    record = {
        "source_checkpoint": f"{file.parent.name}/{file.name}",
        "source_sha256": sha256_file(file),
        "source_num_puzzle_identifiers": int(table.shape[0]) if table is not None else 0,
        "converted_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if build is not None and rows is not None:
        record.update(official_build=build.label, official_identifiers_sha256=build.identifiers_sha256,
                      kept_puzzle_rows=len(rows.names))
    record.update(provenance or {})
    trunk = {k: v for k, v in state.items() if k != PUZZLE_TABLE_KEY}
    path = save_bundled(out_path, config, trunk, initial, record, rows=rows)
    return Converted(path, len(trunk), sum(v.numel() * v.element_size() for v in trunk.values()),
                     max(0, int(table.shape[0]) - 1) if table is not None else 0,
                     len(rows.names) if rows is not None else 0, build.label if build is not None else None,
                     rows.table.numel() * 4 if rows is not None else 0)
