"""Kaggle notebook helpers: locate the inputs under `/kaggle/input`, point caches at a writable folder, count
the GPUs, run `trm-submit submit` as a subprocess inside Kaggle's 12-hour limit, and make sure
`/kaggle/working/submission.json` exists and is valid at the end whatever happened to the subprocess.

The notebook in `kernel/` only calls these. The environment variable `TRM_KAGGLE_ROOT` replaces `/kaggle`
(the local dry run points it at a simulated tree); `TRM_TIME_BUDGET` and `TRM_WORKERS` override the CLI's budget
and worker count; `TRM_ARGS` (older name `TRM_SUBMIT_ARGS`) replaces the notebook's `TRM_ARGS` setting, the extra
`submit` flags (protocol, fine-tuning scope, ...).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Sequence

COMPETITION = "arc-prize-2025"  # Kaggle competition slug; ARC Prize 2026: "arc-prize-2026-arc-agi-2"
TEST_FILE = "arc-agi_test_challenges.json"
WEIGHTS_FILE = "trm.pt"
ROOT_ENV = "TRM_KAGGLE_ROOT"
BUDGET_ENV, WORKERS_ENV, ARGS_ENV = "TRM_TIME_BUDGET", "TRM_WORKERS", "TRM_ARGS"
ARGS_ALIAS_ENV = "TRM_SUBMIT_ARGS"  # the older name of TRM_ARGS, still read
KAGGLE_LIMIT_S = 12 * 3600  # a code-competition notebook is stopped after 12 hours
NOTEBOOK_MARGIN_S = 15 * 60  # kept from the limit for start-up, install and the final check
KILL_GRACE_S = 5 * 60  # past the CLI's own budget: SIGTERM; this much later: SIGKILL
CACHE_VARS = ("NUMBA_CACHE_DIR", "TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR", "MPLCONFIGDIR", "XDG_CACHE_HOME")


def kaggle_root() -> Path:
    """`/kaggle`, or the folder named by TRM_KAGGLE_ROOT."""
    return Path(os.environ.get(ROOT_ENV) or "/kaggle")


def set_cache_dirs(root: Path | None = None) -> dict[str, str]:
    """Point every cache (numba, torch inductor, triton, matplotlib, XDG) at a writable folder.

    The folder is `<root>/temp/trm-cache` (not saved as notebook output), else one under the system temp dir.
    The variables are set in this process, so the CLI subprocess inherits them. Returns what was set.
    """
    root = kaggle_root() if root is None else Path(root)
    for base in (root / "temp" / "trm-cache", Path(tempfile.gettempdir()) / "trm-cache"):
        try:
            base.mkdir(parents=True, exist_ok=True)
            if os.access(base, os.W_OK):
                break
        except OSError:
            continue
    else:
        raise OSError(f"no writable cache folder: {root / 'temp'} and {tempfile.gettempdir()} are not writable")
    values = {}
    for var in CACHE_VARS:
        folder = base / var.lower().removesuffix("_dir").removesuffix("_home")
        folder.mkdir(exist_ok=True)
        os.environ[var] = values[var] = str(folder)
    return values


def _test_file_rank(path: Path, input_dir: Path, competition: str) -> tuple:
    """Sort key: the competition's own folder first (2025 `<comp>/`, 2026 `competitions/<comp>/`), then any
    other competition, then datasets; shallower paths before deeper ones."""
    parts = path.relative_to(input_dir).parts
    if parts[0] == competition or parts[:2] == ("competitions", competition):
        group = 0
    elif parts[0] == "competitions":
        group = 1
    else:
        group = 2
    return group, len(parts), str(path)


def find_test_file(input_dir: Path | None = None, competition: str = COMPETITION) -> Path:
    """The competition's `arc-agi_test_challenges.json` under `input_dir` (default `<root>/input`).

    Searches every layout Kaggle uses: `<input>/<comp>/` (2025), `<input>/competitions/<comp>/...` (2026) and
    `<input>/datasets/<owner>/<slug>/...`; when several files exist the competition's own copy wins.
    """
    input_dir = kaggle_root() / "input" if input_dir is None else Path(input_dir)
    if not input_dir.is_dir():
        raise FileNotFoundError(f"input folder {input_dir} does not exist (set {ROOT_ENV} outside Kaggle)")
    found = [p for p in input_dir.rglob(TEST_FILE) if p.is_file()]
    if not found:
        raise FileNotFoundError(f"no {TEST_FILE} under {input_dir}: attach the competition data "
                                f"(competition_sources in kernel-metadata.json)")
    return min(found, key=lambda p: _test_file_rank(p, input_dir, competition))


def find_weights(input_dir: Path | None = None, near: Path | None = None) -> Path | None:
    """The bundled weights `trm.pt` under `input_dir`, preferring the copy in folder `near`; None if absent."""
    input_dir = kaggle_root() / "input" if input_dir is None else Path(input_dir)
    found = [p for p in input_dir.rglob(WEIGHTS_FILE) if p.is_file()] if input_dir.is_dir() else []
    if not found:
        return None
    return min(found, key=lambda p: (near is None or p.parent != Path(near), len(p.parts), str(p)))


def count_cuda_devices(python: str = sys.executable, timeout: float = 300.0) -> int:
    """CUDA devices torch sees, asked in a subprocess (the notebook's kernel never initialises CUDA)."""
    probe = "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)"
    try:
        res = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=timeout)
        return int(res.stdout.strip().splitlines()[-1]) if res.returncode == 0 else 0
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return 0


def _positive_env(name: str, kind: type) -> float | int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a {kind.__name__}") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r} must be positive")
    return value


def workers_for(n_gpus: int) -> int:
    """One worker per GPU; one on a CPU-only machine; TRM_WORKERS overrides."""
    override = _positive_env(WORKERS_ENV, int)
    return int(override) if override is not None else max(1, n_gpus)


def cli_budget(started: float, now: float | None = None, limit: float = KAGGLE_LIMIT_S,
               margin: float = NOTEBOOK_MARGIN_S) -> float:
    """Seconds for the CLI: the 12-hour limit minus the margin minus what the notebook already used
    (`started` = time.time() at the notebook's first cell). TRM_TIME_BUDGET overrides."""
    override = _positive_env(BUDGET_ENV, float)
    if override is not None:
        return float(override)
    used = (time.time() if now is None else now) - started
    return max(0.0, limit - margin - used)


def submit_args(setting: str = "") -> tuple[str, ...]:
    """Extra `submit` flags, split as a shell would: the environment's TRM_ARGS, else TRM_SUBMIT_ARGS, else the
    notebook's `setting`; a ValueError naming where they came from when they cannot be split."""
    source, raw = "the TRM_ARGS setting", setting
    for name in (ARGS_ENV, ARGS_ALIAS_ENV):
        if os.environ.get(name, "").strip():
            source, raw = name, os.environ[name]
            break
    try:
        return tuple(shlex.split(raw))
    except ValueError as exc:
        raise ValueError(f"{source}={raw!r} cannot be split into flags ({exc})") from None


@dataclass(frozen=True)
class RunPlan:
    """Everything the notebook's CLI call needs, found and decided before it starts."""

    challenges: Path
    out: Path
    weights: Path | None
    gpus: int
    workers: int
    budget: float
    extra_args: tuple[str, ...] = ()

    @property
    def log(self) -> Path:
        return self.out.with_name("trm-submit.log")

    def command(self, python: str = sys.executable) -> list[str]:
        """`python -m trm_submit submit ...`; without weights the flag is left out (fallbacks only)."""
        cmd = [python, "-m", "trm_submit", "submit", "--challenges", str(self.challenges), "--out", str(self.out),
               "--time-budget", f"{self.budget:.0f}", "--workers", str(self.workers), "--quiet"]
        if self.weights is not None:
            cmd += ["--weights", str(self.weights)]
        return cmd + list(self.extra_args)

    def describe(self) -> str:
        import trm_submit

        rerun = os.environ.get("KAGGLE_IS_COMPETITION_RERUN")
        lines = [f"trm-submit {trm_submit.__version__} from {Path(trm_submit.__file__).parent}",
                 f"test file: {self.challenges}", f"output:    {self.out}",
                 f"weights:   {self.weights or 'NONE FOUND: the submission will hold fallback attempts only'}",
                 f"GPUs: {self.gpus}, workers: {self.workers}, CLI budget: {self.budget:.0f} s "
                 f"({self.budget / 3600:.2f} h), competition rerun: {bool(rerun)}",
                 "command: " + shlex.join(self.command())]
        return "\n".join(lines)


def plan_run(root: Path | None = None, started: float | None = None, args: str = "") -> RunPlan:
    """Find the test file and weights, count GPUs, decide workers and budget; `args` = the notebook's TRM_ARGS
    setting (extra `submit` flags, see `submit_args`)."""
    root = kaggle_root() if root is None else Path(root)
    input_dir = root / "input"
    challenges = find_test_file(input_dir)
    wheels = sorted(input_dir.rglob("trm_submit-*.whl"))
    weights = find_weights(input_dir, near=wheels[-1].parent if wheels else None)
    gpus = count_cuda_devices()
    out = root / "working" / "submission.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    budget = cli_budget(time.time() if started is None else started)
    extra = submit_args(args)
    return RunPlan(challenges, out, weights, gpus, workers_for(gpus), budget, extra)


def _pump(stream: IO[str], sinks: Sequence[IO[str]]) -> None:
    """Copy lines to every sink; a failing sink is skipped, never left to block the CLI on a full pipe."""
    for line in stream:
        for sink in sinks:
            try:
                sink.write(line)
                sink.flush()
            except (OSError, ValueError):
                pass


def run_cli(cmd: Sequence[str], timeout: float, log_path: Path | None = None, grace: float = 60.0) -> int:
    """Run `cmd` in its own process group, echoing its output (and appending it to `log_path`).

    After `timeout` seconds the group gets SIGTERM (the CLI then writes its file and exits), after `grace`
    more SIGKILL. Returns the exit status (negative: killed by that signal; 127: could not start).
    """
    log = open(log_path, "a", encoding="utf-8") if log_path else None
    try:
        try:
            proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    encoding="utf-8", errors="replace", bufsize=1, start_new_session=True)
        except OSError as exc:
            print(f"could not start {cmd[0]}: {exc}", flush=True)
            return 127
        reader = threading.Thread(target=_pump, args=(proc.stdout, [sys.stdout] + ([log] if log else [])),
                                  daemon=True)
        reader.start()
        try:
            proc.wait(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            print(f"CLI still running after {timeout:.0f} s: SIGTERM", flush=True)
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                print(f"CLI still running {grace:.0f} s after SIGTERM: SIGKILL", flush=True)
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
        _signal_group(proc, signal.SIGKILL)  # leftover workers of the group must not outlive the run
        reader.join(timeout=10)
        return proc.returncode
    finally:
        if log:
            log.close()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass(frozen=True)
class FinalCheck:
    """State of the submission after the run: valid or not, and whether it had to be repaired."""

    path: Path
    valid: bool
    repaired: bool
    reason: str
    n_tasks: int
    kept_tasks: int

    def describe(self) -> str:
        state = "valid" if self.valid else "INVALID"
        how = f"repaired ({self.reason}); kept {self.kept_tasks} task(s) of the CLI's file" \
            if self.repaired else "as written by the CLI"
        return f"{self.path}: {state}, {self.n_tasks} tasks, {how}"


def _quiet(_: str) -> None:
    pass


def write_fallback(challenges: Path, out: Path) -> None:
    """Write a complete skeleton (fallback attempts for every test input) so a valid file exists at once."""
    from .io import submission, tasks

    submission.write_atomic(out, submission.skeleton(tasks.load_challenges(challenges, log=_quiet)))


def _valid_tasks(sub: dict, ch) -> list[str]:
    """Ids of the tasks whose entries in `sub` are individually valid for `ch`."""
    from .io import submission, tasks

    keep = []
    for task_id in ch.order:
        if task_id not in sub:
            continue
        one = tasks.Challenges(tasks={k: v for k, v in ch.tasks.items() if k == task_id},
                               rejected={k: v for k, v in ch.rejected.items() if k == task_id}, order=[task_id])
        if not submission.validate({task_id: sub[task_id]}, one):
            keep.append(task_id)
    return keep


def finalize(challenges: Path, out: Path, cli_rc: int | None = None) -> FinalCheck:
    """Validate `out` against `challenges`; if it is missing or invalid, rewrite it from the skeleton, keeping
    every task whose entries in the old file are valid. Raises only if the challenges file is unusable."""
    from .io import submission, tasks

    ch = tasks.load_challenges(challenges, log=_quiet)
    try:
        sub = submission.load_submission(out) if out.exists() else None
        problems = ["file missing"] if sub is None else submission.validate(sub, ch)
    except tasks.InputFileError as exc:
        sub, problems = None, [f"unreadable: {exc}"]
    if not problems:
        return FinalCheck(out, True, False, "", len(ch.order), len(ch.order))
    fixed = submission.skeleton(ch)
    readable: dict[str, Any] = sub if isinstance(sub, dict) else {}
    kept = _valid_tasks(readable, ch) if readable else []
    for task_id in kept:
        fixed[task_id] = readable[task_id]
    submission.write_atomic(out, fixed)
    reason = f"CLI exit status {cli_rc}; {problems[0]}" + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
    valid = not submission.validate(submission.load_submission(out), ch)
    return FinalCheck(out, valid, True, reason, len(ch.order), len(kept))
