"""Stage the Kaggle upload folders: `dist/kaggle-dataset/` (package wheel, weights, wheels of dependencies the
Kaggle image may lack, dataset-metadata.json, SHA256SUMS) and `dist/kaggle-kernel/` (the notebook and its
kernel-metadata.json with the owner, dataset and competition filled in).

    python scripts/kaggle_dataset.py [--weights weights/trm.pt] [--owner NAME] [--competition SLUG]

The dataset is flat (no sub-folders), so the notebook's `pip --find-links` sees every wheel in one folder.
Dependency wheels are downloaded for Kaggle's Python and platform (never torch: the image brings its CUDA
build); pip on Kaggle installs one only if the image lacks that package.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KERNEL_DIR = REPO / "kernel"
# Usually in Kaggle's image; shipped anyway so a missing one never stops the offline install.
DEPENDENCY_WHEELS = ("orjson>=3.8", "tqdm>=4.60", "numba>=0.59", "llvmlite", "pyyaml>=6.0")
PYTHON_VERSIONS = ("3.11", "3.12")
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
OWNER_PLACEHOLDER = "your-kaggle-username"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def kernel_template() -> dict:
    return json.loads((KERNEL_DIR / "kernel-metadata.json").read_text())


def fresh_dir(path: Path, marker: str) -> None:
    """Empty `path` for staging; refuse a non-empty folder that does not hold our `marker` file."""
    if path.exists():
        if any(path.iterdir()) and not (path / marker).exists():
            raise SystemExit(f"{path} is not empty and holds no {marker}: refusing to delete it")
        shutil.rmtree(path)
    path.mkdir(parents=True)


def build_package_wheel(dest: Path, python: str = sys.executable) -> Path:
    """`pip wheel --no-deps .` of this repository into `dest` (offline when setuptools is importable)."""
    cmd = [python, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dest), str(REPO)]
    if importlib.util.find_spec("setuptools") is not None:
        cmd.insert(4, "--no-build-isolation")
    subprocess.run(cmd, check=True)
    wheels = sorted(dest.glob("trm_submit-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one trm_submit wheel in {dest}, found {[w.name for w in wheels]}")
    return wheels[0]


def download_dependency_wheels(dest: Path, python_versions: list[str], python: str = sys.executable) -> None:
    """Binary wheels of DEPENDENCY_WHEELS for each Python version on manylinux x86_64 (needs PyPI)."""
    for version in python_versions:
        cmd = [python, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
               "--python-version", version, "--implementation", "cp", "-d", str(dest)]
        for platform in PLATFORMS:
            cmd += ["--platform", platform]
        subprocess.run(cmd + list(DEPENDENCY_WHEELS), check=True)


def stage_weights(weights: Path, dest: Path) -> Path:
    """Check the bundled weights load (format and sha256), then copy them in as `trm.pt`."""
    from trm_submit.kaggle import WEIGHTS_FILE
    from trm_submit.trm import checkpoint

    bundle = checkpoint.load_bundled(weights)
    target = dest / WEIGHTS_FILE
    shutil.copyfile(weights, target)
    if sha256(target) != bundle.sha256:
        raise SystemExit(f"copy of {weights} does not match its checksum")
    for extra in ("README.md",):  # the model card travels with the weights
        if (weights.parent / extra).is_file():
            shutil.copyfile(weights.parent / extra, dest / "MODEL_CARD.md")
    return target


def dataset_metadata(dataset_id: str, has_weights: bool) -> dict:
    contents = "trm-submit wheel, dependency wheels" + (", TRM weights (trm.pt)" if has_weights else "")
    return {"title": "trm-submit offline package", "id": dataset_id,
            "subtitle": "Offline install of trm-submit for ARC Prize notebooks",
            "description": f"{contents}. trm-submit code: MIT. Wheels: their projects' licenses. "
                           f"Weights: see MODEL_CARD.md.",
            "licenses": [{"name": "other"}]}


def stage_kernel(dest: Path, owner: str, dataset_id: str, competition: str) -> None:
    """Copy the notebook and write kernel-metadata.json with owner, dataset and competition filled in."""
    fresh_dir(dest, "kernel-metadata.json")
    meta = kernel_template()
    shutil.copyfile(KERNEL_DIR / meta["code_file"], dest / meta["code_file"])
    meta["id"] = f"{owner}/{meta['id'].split('/', 1)[1]}"
    meta["dataset_sources"] = [dataset_id]
    meta["competition_sources"] = [competition]
    meta["enable_internet"] = False
    (dest / "kernel-metadata.json").write_text(json.dumps(meta, indent=2) + "\n")


def write_checksums(dest: Path) -> None:
    lines = [f"{sha256(p)}  {p.name}" for p in sorted(dest.iterdir()) if p.is_file() and p.name != "SHA256SUMS"]
    (dest / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from trm_submit.kaggle import COMPETITION

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=REPO / "dist" / "kaggle-dataset")
    p.add_argument("--kernel-out", type=Path, default=REPO / "dist" / "kaggle-kernel")
    p.add_argument("--weights", type=Path, default=REPO / "weights" / "trm.pt")
    p.add_argument("--owner", default=os.environ.get("KAGGLE_USERNAME") or OWNER_PLACEHOLDER)
    p.add_argument("--competition", default=COMPETITION)
    p.add_argument("--python-version", action="append", dest="python_versions",
                   help=f"Kaggle's Python (repeatable; default {' and '.join(PYTHON_VERSIONS)})")
    p.add_argument("--no-download", action="store_true", help="skip dependency wheels (offline staging)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    template = kernel_template()
    dataset_id = f"{args.owner}/{template['dataset_sources'][0].split('/', 1)[1]}"
    fresh_dir(args.out, "dataset-metadata.json")
    wheel = build_package_wheel(args.out)
    if not args.no_download:
        download_dependency_wheels(args.out, args.python_versions or list(PYTHON_VERSIONS))
    has_weights = args.weights.is_file()
    if has_weights:
        stage_weights(args.weights, args.out)
    else:
        print(f"WARNING: {args.weights} not found: the dataset has no weights and the notebook will write "
              f"fallback attempts only", file=sys.stderr)
    (args.out / "dataset-metadata.json").write_text(json.dumps(dataset_metadata(dataset_id, has_weights),
                                                               indent=2) + "\n")
    write_checksums(args.out)
    stage_kernel(args.kernel_out, args.owner, dataset_id, args.competition)
    for p in sorted(args.out.iterdir()):
        print(f"{p.stat().st_size / 2**20:9.2f} MiB  {p.relative_to(REPO) if p.is_relative_to(REPO) else p}")
    print(f"package wheel: {wheel.name}; dataset id: {dataset_id}; competition: {args.competition}")
    if args.owner == OWNER_PLACEHOLDER:
        print("set --owner (or KAGGLE_USERNAME) to your Kaggle user name before uploading", file=sys.stderr)
    print(f"upload: kaggle datasets create -p {args.out} -r zip   (new versions: kaggle datasets version "
          f"-p {args.out} -r zip -m NOTES)\nrun:    kaggle kernels push -p {args.kernel_out} --accelerator NvidiaL4")
    return 0


if __name__ == "__main__":
    sys.exit(main())
