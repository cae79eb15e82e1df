"""`trm-submit convert` of official checkpoints: a synthetic official-format file with a puzzle table of >= 1 GiB
converted in a subprocess whose peak memory is measured (the table must stay in the memory-mapped file), the
mean embedding checked against numpy, the rows kept for an official build checked by name; and the one-line
errors (identifier count, missing files, legacy format above its size limit)."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from trm_submit import cli
from trm_submit.config import ModelConfig
from trm_submit.official.convert import IDENTIFIERS_FILE, TEST_IDS_FILE
from trm_submit.trm import checkpoint as ck
from trm_submit.trm.model import PUZZLE_TABLE_KEY, TRM

ROOT = Path(__file__).resolve().parent.parent
FP32 = ROOT / "tests" / "fixtures" / "reference" / "small-fp32" / "checkpoint"
PREFIX = "_orig_mod.model."
GIB = 1 << 30
RSS_LIMIT = 4 * GIB
TABLE_GIB = float(os.environ.get("TRM_CONVERT_TEST_GIB", "1"))  # 2 for the by-hand run of a 2 GiB table
# Run in the child: sample RssAnon (private memory: a copy of the table would land there) while the real CLI
# converts, then report it with the peak resident set (VmHWM, which also counts the mapped file's pages).
CHILD = r"""
import json, sys, threading, time
import torch
def field(name):
    for line in open("/proc/self/status"):
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
base = field("RssAnon")  # the interpreter with torch imported, before the conversion
peak = [0]
done = threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], field("RssAnon"))
        time.sleep(0.002)
threading.Thread(target=sample, daemon=True).start()
from trm_submit.cli import main
rc = main(sys.argv[1:])
done.set()
peak[0] = max(peak[0], field("RssAnon"))
print("MEMORY " + json.dumps({"rc": rc, "base_anon": base, "peak_anon": peak[0], "hwm": field("VmHWM")}))
"""


def tiny_config(ndim: int = 512) -> ModelConfig:
    """A small trunk with the official table width (D = puzzle_emb_ndim = 512, one layer)."""
    return ModelConfig(hidden_size=ndim, num_heads=8, L_layers=1, expansion=1.0, puzzle_emb_ndim=ndim,
                       halt_max_steps=2, forward_dtype="float32")


def write_official_checkpoint(folder: Path, cfg: ModelConfig, table: torch.Tensor) -> Path:
    """`folder/step_0` as the official pretrain.py writes it (prefixed keys) and `config.json` beside it."""
    torch.manual_seed(0)
    state = {PREFIX + k: v for k, v in TRM(cfg, 2).state_dict().items() if k != PUZZLE_TABLE_KEY}
    state[PREFIX + PUZZLE_TABLE_KEY] = table
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(state, folder / "step_0")
    (folder / "config.json").write_text(json.dumps({"arch": cfg.to_dict()}))
    return folder / "step_0"


def write_official_data(folder: Path, names: list[str], test_ids: np.ndarray) -> Path:
    (folder / "test").mkdir(parents=True, exist_ok=True)
    (folder / IDENTIFIERS_FILE).write_text(json.dumps(names))
    np.save(folder / TEST_IDS_FILE, test_ids.astype(np.int32))
    return folder


def identifier_names(n: int) -> list[str]:
    return ["<blank>"] + [f"{i:08x}|||t{i % 8}|||0{(i * 7) % 10}12345678"[:32] for i in range(1, n)]


def run_child(args: list[str]) -> tuple[dict, str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.monotonic()
    res = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=env, timeout=900)
    seconds = time.monotonic() - start
    line = next((ln for ln in res.stdout.splitlines() if ln.startswith("MEMORY ")), None)
    assert line is not None, res.stdout + res.stderr
    return json.loads(line.removeprefix("MEMORY ")), res.stdout, seconds


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc to read the child's memory")
def test_large_official_checkpoint_converts_without_loading_its_table(tmp_path: Path) -> None:
    ndim = 512
    n = int(TABLE_GIB * GIB) // (ndim * 4)  # 1 GiB: 524,288 rows (an official ARC-1 table has 876,406)
    table_bytes = n * ndim * 4
    need = 2 * table_bytes + 256 * 2**20  # scratch table + checkpoint, both on disk at once
    free = shutil.disk_usage(tmp_path).free
    if free < need:
        pytest.skip(f"needs {need / GIB:.1f} GiB free in {tmp_path}, has {free / GIB:.1f} GiB")
    # the table lives in a file-backed numpy memmap: writing the checkpoint never holds it in private memory
    scratch = tmp_path / "table.f32"
    mm = np.memmap(scratch, dtype=np.float32, mode="w+", shape=(n, ndim))
    rng = np.random.default_rng(0)
    total = np.zeros(ndim, dtype=np.float64)
    for start in range(0, n, 1 << 15):
        chunk = rng.standard_normal((min(1 << 15, n - start), ndim), dtype=np.float32)
        chunk += np.float32(start / n)  # rows differ in mean: a wrong row range shows in the mean
        mm[start : start + len(chunk)] = chunk
        total += chunk[1:].sum(0, dtype=np.float64) if start == 0 else chunk.sum(0, dtype=np.float64)
    oracle_mean = (total / (n - 1)).astype(np.float32)  # numpy oracle: mean of rows 1..n-1 (blank row 0 excluded)
    test_ids = rng.integers(0, n, size=3000)
    test_ids[:5] = [0, 0, n - 1, 1, n - 1]  # the blank id and repeats
    kept_ids = sorted(set(test_ids.tolist()) - {0})
    oracle_rows = np.array(mm[kept_ids])
    mm.flush()
    cfg = tiny_config(ndim)
    ckpt = write_official_checkpoint(tmp_path / "ckpt", cfg, torch.from_numpy(mm))
    del mm
    scratch.unlink()
    names = identifier_names(n)
    data = write_official_data(tmp_path / "arc-build", names, test_ids)
    out = tmp_path / "weights" / "trm.pt"

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    mem, stdout, seconds = run_child(["convert", str(ckpt.parent), "--out", str(out), "--official-data", str(data)])
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(f"table {table_bytes / GIB:.2f} GiB ({n:,} rows): convert took {seconds:.1f} s, peak RSS "
          f"{mem['hwm'] / 2**20:.0f} MiB (children max {children_peak / 2**20:.0f} MiB, before {before / 2**20:.0f}),"
          f" peak RssAnon {mem['peak_anon'] / 2**20:.0f} MiB ({mem['base_anon'] / 2**20:.0f} MiB with torch imported)")
    assert mem["rc"] == 0, stdout
    assert mem["hwm"] < RSS_LIMIT and children_peak < max(RSS_LIMIT, before + 1)
    # a copy of the table would be private (anonymous) memory; the mapped file's pages are not
    assert mem["peak_anon"] - mem["base_anon"] < table_bytes / 4
    assert f"mean of {n - 1:,} trained rows" in stdout and f"{len(kept_ids):,} named puzzle rows" in stdout

    bundle = ck.load_bundled(out)
    np.testing.assert_allclose(bundle.initial_puzzle_emb.numpy(), oracle_mean, rtol=0, atol=1e-6)
    assert bundle.rows is not None and bundle.rows.names == [names[i] for i in kept_ids]
    assert np.array_equal(bundle.rows.table.numpy(), oracle_rows)
    assert bundle.provenance["kept_puzzle_rows"] == len(kept_ids)
    assert bundle.provenance["source_num_puzzle_identifiers"] == n
    assert out.stat().st_size < table_bytes / 50


# ---- the small fixture: what is kept, and one-line errors ----------------------------------------------------

def small_official_data(tmp_path: Path, n_names: int = 8, ids: tuple[int, ...] = (3, 5, 3, 0)) -> Path:
    return write_official_data(tmp_path / "build", identifier_names(n_names), np.array(ids))


def test_convert_keeps_the_test_split_rows_by_name(tmp_path: Path, capsys) -> None:
    data = small_official_data(tmp_path)
    assert cli.main(["convert", str(FP32 / "step_0"), "--out", str(tmp_path / "w.pt"), "--official-data",
                     str(data)]) == 0
    text = capsys.readouterr().out
    assert "trunk 14 tensors" in text and "mean of 7 trained rows" in text
    assert "2 named puzzle rows" in text and "official build 'build' (identifiers.json sha256" in text
    table = torch.load(FP32 / "step_0", weights_only=True)[PREFIX + PUZZLE_TABLE_KEY]
    bundle = ck.load_bundled(tmp_path / "w.pt")
    names = identifier_names(8)
    assert bundle.rows is not None and bundle.rows.names == [names[3], names[5]]
    assert torch.equal(bundle.rows.table, table[[3, 5]])


def test_convert_without_official_data_keeps_trunk_and_mean_only(tmp_path: Path, capsys) -> None:
    assert cli.main(["convert", str(FP32 / "step_0"), "--out", str(tmp_path / "w.pt")]) == 0
    assert "no named puzzle rows" in capsys.readouterr().out
    assert ck.load_bundled(tmp_path / "w.pt").rows is None


@pytest.mark.parametrize("damage, message", [
    ("count", "names 9 identifiers but the checkpoint's puzzle table has 8 rows"),
    ("no-ids", "test split ids"),
    ("no-names", "identifier list"),
    ("range", "uses ids 3..8, but identifiers.json names only 0..7"),
    ("folder", "folder"),
])
def test_official_data_problems_are_one_line_exit_2(tmp_path: Path, capsys, damage: str, message: str) -> None:
    data = small_official_data(tmp_path, n_names=9 if damage == "count" else 8,
                               ids=(3, 8) if damage == "range" else (3, 5))
    if damage == "no-ids":
        (data / TEST_IDS_FILE).unlink()
    elif damage == "no-names":
        (data / IDENTIFIERS_FILE).unlink()
    elif damage == "folder":
        data = tmp_path / "absent"
    code = cli.main(["convert", str(FP32 / "step_0"), "--out", str(tmp_path / "w.pt"), "--official-data", str(data)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "w.pt").exists()


def test_legacy_format_is_read_when_small_and_refused_when_large(tmp_path: Path, monkeypatch, capsys) -> None:
    state = torch.load(FP32 / "step_0", weights_only=True)
    legacy = tmp_path / "legacy" / "step_0"
    legacy.parent.mkdir()
    torch.save(state, legacy, _use_new_zipfile_serialization=False)
    shutil.copyfile(FP32 / "config.json", legacy.parent / "config.json")
    assert not ck.is_zip_file(legacy) and ck.is_zip_file(FP32 / "step_0")
    assert cli.main(["convert", str(legacy), "--out", str(tmp_path / "a.pt")]) == 0
    assert torch.equal(ck.load_bundled(tmp_path / "a.pt").initial_puzzle_emb,
                       ck.slim_puzzle_table(state[PREFIX + PUZZLE_TABLE_KEY]))
    monkeypatch.setattr(ck, "LEGACY_MAX_BYTES", legacy.stat().st_size - 1)
    assert cli.main(["convert", str(legacy), "--out", str(tmp_path / "b.pt")]) == 2
    assert "legacy (non-zip) format, which cannot be memory-mapped" in capsys.readouterr().err
    assert ck.torch_load(FP32 / "step_0")  # zip files are still mapped whatever the legacy limit


def test_a_known_official_build_is_named(tmp_path: Path, capsys, monkeypatch) -> None:
    from trm_submit.official import convert

    data = small_official_data(tmp_path)
    digest = hashlib.sha256((data / IDENTIFIERS_FILE).read_bytes()).hexdigest()
    monkeypatch.setitem(convert.KNOWN_BUILDS, digest, "arc1concept-aug-1000")
    assert cli.main(["convert", str(FP32 / "step_0"), "--out", str(tmp_path / "w.pt"), "--official-data",
                     str(data)]) == 0
    assert "test split of official build arc1concept-aug-1000 uses" in capsys.readouterr().out
    provenance = ck.load_bundled(tmp_path / "w.pt").provenance
    assert provenance["official_build"] == "arc1concept-aug-1000"
    assert provenance["official_identifiers_sha256"] == digest and provenance["kept_puzzle_rows"] == 2
