"""Offline dry run of the Kaggle notebook (`kernel/trm-submit.ipynb`), executed as is with nbclient.

    python scripts/dry_run.py [--dataset dist/kaggle-dataset] [--budget 60] [--tasks 4] [--layout 2026]

Builds a simulated `/kaggle` tree in a temp folder (competition folder with a placeholder
`arc-agi_test_challenges.json` of a few public ARC tasks, the trm-submit dataset, `working/`, `temp/`) and a
simulated image: a fresh venv that sees this environment's packages (torch, numpy, numba, ipykernel, ...)
except trm-submit itself, which the notebook must install from the dataset's wheel. The notebook then runs
with `TRM_KAGGLE_ROOT` pointing at the tree and the network unavailable: in a new network namespace
(`unshare -rn`) where possible, else with a sitecustomize that refuses non-loopback connections. Finally the
submission is checked and the run's work is projected onto a full 240-task run on 4 x L4.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import flop_projection as fp
import kaggle_dataset

from trm_submit import kaggle
from trm_submit.config import InferConfig, ModelConfig, TTFTConfig
from trm_submit.io import datasets, submission, tasks
from trm_submit.io.records import side_paths

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent
KERNEL_NAME = "kaggle-sim"
BLOCK_NETWORK = SCRIPTS / "no_network_sitecustomize.py"  # installed as sitecustomize.py (fallback mode)


def layout_paths(root: Path, layout: str, dataset_id: str) -> tuple[Path, Path]:
    """(competition folder, dataset folder) inside `root/input` for the 2025 or 2026 mount layout."""
    owner, slug = dataset_id.split("/", 1)
    inp = root / "input"
    if layout == "2025":
        return inp / kaggle.COMPETITION, inp / slug
    return inp / "competitions" / kaggle.COMPETITION, inp / "datasets" / owner / slug


def write_placeholder(dest: Path, name: str, split: str, n: int) -> Path:
    """`arc-agi_test_challenges.json` holding the first `n` tasks of a public set (test inputs only)."""
    challenges, _ = datasets.load_split(name, split)
    chosen = {t: challenges[t] for t in sorted(challenges)[:n]}
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / kaggle.TEST_FILE
    path.write_text(json.dumps(chosen))
    return path


def stage_dataset(dest: Path, prestaged: Path | None, weights: Path | None) -> None:
    """Fill the simulated dataset folder: a prestaged dataset (files linked), or a fresh wheel + weights."""
    dest.mkdir(parents=True, exist_ok=True)
    if prestaged is not None:
        for f in prestaged.iterdir():
            if f.is_file():
                os.symlink(f.resolve(), dest / f.name)
        return
    kaggle_dataset.build_package_wheel(dest)
    if weights is not None:
        kaggle_dataset.stage_weights(weights, dest)
        (dest / "SHA256SUMS").write_text(f"{kaggle_dataset.sha256(dest / kaggle.WEIGHTS_FILE)}  "
                                         f"{kaggle.WEIGHTS_FILE}\n")


def make_image_env(dest: Path) -> Path:
    """A venv that sees this environment's packages minus trm-submit; returns its python."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", "--system-site-packages", str(dest)], check=True)
    python = dest / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    visible = dest.parent / "image-site"
    visible.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if "trm_submit" not in entry.name and "trm-submit" not in entry.name:
            os.symlink(entry, visible / entry.name)
    (purelib / "_kaggle_image.pth").write_text(f"import site; site.addsitedir({str(visible)!r})\n")
    return python


def unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0


def isolation_prefix(mode: str, python: Path) -> tuple[str, list[str]]:
    """(mode used, command prefix); the sitecustomize mode installs the socket guard into the image env."""
    if mode == "auto":
        mode = "unshare" if unshare_works() else "sitecustomize"
    if mode == "unshare":
        return mode, ["unshare", "-rn", "--"]
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    shutil.copyfile(BLOCK_NETWORK, Path(purelib, "sitecustomize.py"))
    return mode, []


def kernel_env(tmp: Path, root: Path, python: Path, budget: float, workers: int | None, cli_args: str) -> dict:
    """Environment of the notebook's kernel: the image's python first, this machine's pip config ignored."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "JUPYTER", "TRM_", "KAGGLE"))}
    spec = tmp / "jupyter" / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Kaggle (simulated)", "language": "python"}))
    env.update(PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}", PIP_CONFIG_FILE=os.devnull,
               PYTHONNOUSERSITE="1", JUPYTER_PATH=str(tmp / "jupyter"), JUPYTER_RUNTIME_DIR=str(tmp / "run"),
               JUPYTER_CONFIG_DIR=str(tmp / "jupyter-config"), JUPYTER_PLATFORM_DIRS="1",
               IPYTHONDIR=str(tmp / "ipython"), HOME=str(tmp / "home"))
    env.update({kaggle.ROOT_ENV: str(root), kaggle.BUDGET_ENV: str(budget)})
    if workers:
        env[kaggle.WORKERS_ENV] = str(workers)
    if cli_args:
        env[kaggle.ARGS_ENV] = cli_args
    (tmp / "home").mkdir()
    (tmp / "run").mkdir()
    return env


def cell_text(nb_path: Path) -> str:
    """All stream and error output of an executed notebook, concatenated."""
    nb = json.loads(nb_path.read_text())
    out = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            out.append("".join(o.get("text", "")) if o.get("output_type") == "stream"
                       else "\n".join(o.get("traceback", [])) + "\n")
    return "".join(out)


def check_run(text: str, out: Path, challenges: Path, image: Path, allow_failures: bool) -> list[str]:
    """Problems with the run: invalid submission, package not from the wheel, CLI or task failures."""
    problems = []
    if not out.is_file():
        return [f"{out} missing"]
    problems += submission.validate(submission.load_submission(out), tasks.load_challenges(challenges, log=print))
    where = re.search(r"^trm-submit \S+ from (.+)$", text, re.M)
    if not where or not where.group(1).startswith(str(image)):
        problems.append(f"trm_submit was not imported from the wheel installed into {image}: "
                        f"{where.group(1) if where else 'no package line in the notebook output'}")
    rc = re.search(r"^CLI exit status: (-?\d+)$", text, re.M)
    if not rc or (rc.group(1) != "0" and not allow_failures):
        problems.append(f"CLI exit status {rc.group(1) if rc else 'not printed'}")
    summary = side_paths(out)["summary"]
    errors = json.loads(summary.read_text()).get("errors", {}) if summary.is_file() else {}
    if errors and not allow_failures:
        first = next(iter(errors.items()))
        problems.append(f"{len(errors)} task(s) failed in the model, e.g. {first[0]}: {first[1]}")
    return problems


def projection_report(work_dir: Path, challenges: Path, weights: Path | None, utilization: float) -> dict:
    """Measured work of this run (journal) and the 240-task projection at the default views and steps."""
    from trm_submit.trm import checkpoint

    cfg = checkpoint.load_bundled(weights).config if weights else ModelConfig()
    ttft, infer = TTFTConfig(), InferConfig()
    act = infer.steps or cfg.halt_max_steps
    records = fp.read_journal(side_paths(work_dir / "submission.json")["journal"])
    measured = fp.measured_work(records, cfg, ttft.batch_size, act)
    ch = tasks.load_challenges(challenges, log=lambda m: None)
    sides = {r["task_id"]: int(r["side"]) for r in records}
    defaults = fp.default_work(ch.tasks.values(), cfg, ttft, infer, sides)
    budget = kaggle.KAGGLE_LIMIT_S - kaggle.NOTEBOOK_MARGIN_S
    proj = fp.project(defaults.per_task, budget, utilization=utilization)
    n = max(defaults.tasks, 1)
    lines = [f"model: D={cfg.hidden_size} L_layers={cfg.L_layers} H_cycles={cfg.H_cycles} L_cycles={cfg.L_cycles} "
             f"({'from the weights' if weights else 'defaults, no weights'}); forward at 30x30: "
             f"{fp.human(fp.forward_flops(cfg, 30))}/sample-step",
             f"measured: {measured.tasks} task(s) through the model, {fp.human(measured.total)} "
             f"(TTFT {fp.human(measured.ttft)}, inference {fp.human(measured.infer)})"
             + (f", {fp.human(measured.total / measured.seconds)}/s here" if measured.seconds else ""),
             f"defaults: {ttft.steps} TTFT steps x batch {ttft.batch_size}, {infer.views} views x {act} ACT steps "
             f"per test input; per task (mean of {defaults.tasks} placeholder tasks): "
             f"TTFT {fp.human(defaults.ttft / n)} + inference {fp.human(defaults.infer / n)}",
             fp.format_projection("projection, 240 tasks at the defaults", proj)]
    if measured.tasks:
        lines.append(fp.format_projection("projection, 240 tasks at this run's measured work",
                                          fp.project(measured.per_task, budget, utilization=utilization)))
    models = ({"bundled": cfg} if weights else {}) | {"official": ModelConfig()}
    table = fp.kaggle_table(list(ch.tasks.values()), models, f"{defaults.tasks} placeholder tasks", utilization)
    lines += ["Kaggle projection, both fine-tuning scopes (scripts/flop_projection.py):"] + table
    return {"lines": lines, "fits": proj.fits, "hours": proj.seconds / 3600,
            "needed_utilization": proj.needed_utilization, "measured_tasks": measured.tasks}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", type=Path, default=None,
                   help="prestaged dataset folder (make kaggle-dataset); default: build the wheel afresh")
    p.add_argument("--weights", type=Path, default=REPO / "weights" / "trm.pt",
                   help="used when --dataset is not given and the file exists")
    p.add_argument("--no-weights", action="store_true", help="run without weights (fallbacks only)")
    p.add_argument("--set", default="arc-agi-1", choices=sorted(datasets.DATASETS))
    p.add_argument("--split", default="evaluation", choices=sorted(datasets.SPLITS))
    p.add_argument("--tasks", type=int, default=4, help="placeholder tasks in the test file")
    p.add_argument("--budget", type=float, default=60.0, help="CLI time budget in seconds (TRM_TIME_BUDGET)")
    p.add_argument("--workers", type=int, default=None, help="TRM_WORKERS (default: the notebook decides)")
    p.add_argument("--cli-args", default="", help="extra `submit` flags (TRM_ARGS)")
    p.add_argument("--layout", choices=["2025", "2026"], default="2025", help="Kaggle's /kaggle/input layout")
    p.add_argument("--isolation", choices=["auto", "unshare", "sitecustomize"], default="auto")
    p.add_argument("--utilization", type=float, default=fp.DEFAULT_UTILIZATION, help="assumed share of L4 peak")
    p.add_argument("--allow-failures", action="store_true",
                   help="pass when the CLI or some tasks fail but the submission is valid")
    p.add_argument("--out-dir", type=Path, default=REPO / "out" / "dry-run", help="executed notebook, report")
    p.add_argument("--keep", action="store_true", help="keep the simulated tree (path printed)")
    a = p.parse_args(argv)
    a.out_dir = a.out_dir.resolve()  # the notebook runs in the simulated /kaggle/working: no relative paths
    return a


def prepare(a: argparse.Namespace, tmp: Path) -> tuple[Path, Path, Path | None]:
    """Simulated tree and image env; returns (root, image python, weights used)."""
    root = tmp / "kaggle"
    dataset_id = kaggle_dataset.kernel_template()["dataset_sources"][0]
    comp_dir, ds_dir = layout_paths(root, a.layout, dataset_id)
    write_placeholder(comp_dir, a.set, a.split, a.tasks)
    weights = None if a.no_weights or not a.weights.is_file() else a.weights
    stage_dataset(ds_dir, a.dataset, weights)
    if a.dataset is not None:
        weights = ds_dir / kaggle.WEIGHTS_FILE if (ds_dir / kaggle.WEIGHTS_FILE).exists() else None
    for sub in ("working", "temp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root, make_image_env(tmp / "image"), weights


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="trm-dry-run-"))
    try:
        root, python, weights = prepare(a, tmp)
        mode, prefix = isolation_prefix(a.isolation, python)
        env = kernel_env(tmp, root, python, a.budget, a.workers, a.cli_args)
        a.out_dir.mkdir(parents=True, exist_ok=True)
        executed = a.out_dir / "executed.ipynb"
        cell_timeout = a.budget + kaggle.KILL_GRACE_S + 600
        cmd = prefix + [str(python), str(SCRIPTS / "execute_notebook.py"), str(REPO / "kernel" / "trm-submit.ipynb"),
                        str(executed), "--kernel", KERNEL_NAME, "--cwd", str(root / "working"),
                        "--ipc", str(tmp / "run" / "kernel"), "--timeout", str(cell_timeout)]
        print(f"dry run: /kaggle -> {root} (layout {a.layout}), network blocked by {mode}, budget {a.budget:.0f} s, "
              f"weights: {weights or 'none'}", flush=True)
        rc = subprocess.run(cmd, env=env, cwd=root / "working", timeout=cell_timeout * 3).returncode
        text = cell_text(executed) if executed.is_file() else ""
        print(text)
        challenges = kaggle.find_test_file(root / "input")
        work = root / "working"
        problems = ([f"notebook execution failed (status {rc})"] if rc else [])
        problems += check_run(text, work / "submission.json", challenges, tmp / "image", a.allow_failures)
        for f in work.iterdir():
            if f.is_file():
                shutil.copyfile(f, a.out_dir / f.name)
        report = projection_report(work, challenges, weights, a.utilization)
        report.update(problems=problems, isolation=mode, layout=a.layout, seconds=round(time.monotonic() - t0, 1))
        (a.out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        print("\n".join(report["lines"]))
        print(f"dry run {'PASSED' if not problems else 'FAILED: ' + '; '.join(problems[:5])} "
              f"in {report['seconds']:.0f} s; outputs in {a.out_dir}")
        return 0 if not problems else 1
    finally:
        if a.keep:
            print(f"simulated tree kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
