"""Make the parity fixture of `--protocol official` (tests/fixtures/official-protocol/) with the official code.

Runs, on CPU, the official TinyRecursiveModels code (https://github.com/SamsungSAILMontreal/TinyRecursiveModels):
1. its dataset builder (`dataset/build_arc_dataset.py`) on a handful of ARC-AGI-1 tasks written in Kaggle layout
   (a few evaluation tasks as the test subset, without solutions as on Kaggle, plus one training task), with a
   small `--num-aug`;
2. a small random official-format checkpoint (`step_0` + `config.json`) built with the official model class, its
   puzzle table and q_head seeded random (both are zero-initialised officially, which would make every vote tie);
3. the official evaluator (`evaluators/arc.py`, class ARC) over the build's test split exactly as pretrain.py's
   `evaluate` does it (`PuzzleDataset` test mode batches, the last one padded with blank id 0; the loss head in
   eval mode called until every row halted, i.e. halt_max_steps ACT steps), with device placement changed from
   CUDA to CPU and a single-process gloo group for the evaluator's `gather_object`.

Written to OUT: `official-data/` (identifiers.json, test_puzzles.json and the test split; the train split is not needed
to answer and is left out), `checkpoint/` (step_0, config.json), `official/submission.json` (the evaluator's file)
and `official/votes.json` (per task and test input, in test_puzzles.json order, the evaluator's distinct
predictions with their vote count and mean sigmoid(q_halt), ranked as the evaluator ranks them).

It also shows the evaluator's accumulation defect: `aggregated_voting=True` (the default) never clears earlier
votes, so evaluating the same checkpoint again with the same evaluator object doubles every count; the script
checks that and stores the fixture from the first, fresh evaluation only.

Rerun (needs the official checkout, the ARC-AGI-1 JSON in Kaggle layout, and torch/numpy/numba/pydantic/einops/
argdantic; the builder's RNG is numpy's legacy global one, so the build is reproducible):

    python scripts/official_parity_fixture.py --official /path/to/TinyRecursiveModels \
        --data ../shared/data/arc-agi-1 --out tests/fixtures/official-protocol
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

EVAL_TASKS = ("6ea4a07e", "4cd1b7b2", "66e6c45b", "be03b35f")  # small grids; 6ea4a07e has two test inputs
TRAIN_TASKS = ("0d3d703e",)
NUM_AUG = 4
ARCH = {  # a tiny official ARC architecture, float32 so our answers can be compared to 1e-6
    "name": "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1",
    "loss": {"name": "losses@ACTLossHead", "loss_type": "stablemax_cross_entropy"},
    "puzzle_emb_ndim": 32, "H_cycles": 2, "L_cycles": 2, "H_layers": 0, "L_layers": 2, "hidden_size": 32,
    "expansion": 4, "num_heads": 2, "pos_encodings": "rope", "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
    "halt_max_steps": 3, "halt_exploration_prob": 0.1, "forward_dtype": "float32", "mlp_t": False,
    "puzzle_emb_len": 16, "no_ACT_continue": True,
}
EVAL_BATCH = 8  # global_batch_size of the evaluation (the last batch is padded with blank rows)
SEED = 4  # chosen among 0-9: a count-2 vote outranks higher mean q, an empty crop at rank 3, no empty in a top 2
PAD_EOS_SCALE = 0.5  # lm_head rows of PAD and EOS scaled down: fewer predictions that crop to an empty grid


def write_inputs(data: Path, prefix: Path) -> None:
    """The chosen tasks in the builder's Kaggle layout: evaluation without solutions, training with them."""
    ev = json.loads((data / "arc-agi_evaluation_challenges.json").read_text())
    tr = json.loads((data / "arc-agi_training_challenges.json").read_text())
    tr_sol = json.loads((data / "arc-agi_training_solutions.json").read_text())
    Path(f"{prefix}_evaluation_challenges.json").write_text(json.dumps({k: ev[k] for k in EVAL_TASKS}))
    Path(f"{prefix}_training_challenges.json").write_text(json.dumps({k: tr[k] for k in TRAIN_TASKS}))
    Path(f"{prefix}_training_solutions.json").write_text(json.dumps({k: tr_sol[k] for k in TRAIN_TASKS}))


def build(official: Path, prefix: Path, out: Path) -> None:
    cmd = [sys.executable, "-m", "dataset.build_arc_dataset", "--input-file-prefix", str(prefix),
           "--output-dir", str(out), "--subsets", "training", "evaluation", "--test-set-name", "evaluation",
           "--num-aug", str(NUM_AUG)]
    subprocess.run(cmd, cwd=official, check=True)


def make_checkpoint(num_ids: int, folder: Path):
    """Random official model (seeded) saved as pretrain.py saves it: `_orig_mod.model.`-prefixed state_dict."""
    import torch
    from models.losses import ACTLossHead
    from models.recursive_reasoning.trm import TinyRecursiveReasoningModel_ACTV1

    torch.manual_seed(SEED)
    cfg = {k: v for k, v in ARCH.items() if k not in ("name", "loss")}
    cfg.update(batch_size=EVAL_BATCH, seq_len=900, vocab_size=12, num_puzzle_identifiers=num_ids)
    model = TinyRecursiveReasoningModel_ACTV1(cfg)
    with torch.no_grad():
        model.inner.puzzle_emb.weights.normal_(0, 1)
        model.inner.puzzle_emb.weights[0].zero_()  # the blank row is never trained
        model.inner.q_head.weight.normal_(0, 0.5)
        model.inner.q_head.bias.zero_()
        model.inner.lm_head.weight[:2] *= PAD_EOS_SCALE
    head = ACTLossHead(model, loss_type=ARCH["loss"]["loss_type"])
    folder.mkdir(parents=True, exist_ok=True)
    state = {f"_orig_mod.{k}": v.detach().clone() for k, v in head.state_dict().items()}
    torch.save(state, folder / "step_0")
    (folder / "config.json").write_text(json.dumps({"arch": ARCH}, indent=1))
    return head.eval()


def evaluate(head, evaluator, build_dir: Path) -> None:
    """pretrain.py's `evaluate` loop for one evaluator, on CPU."""
    import torch
    from puzzle_dataset import PuzzleDataset, PuzzleDatasetConfig

    dataset = PuzzleDataset(PuzzleDatasetConfig(seed=SEED, dataset_paths=[str(build_dir)], global_batch_size=EVAL_BATCH,
                                                test_set_mode=True, epochs_per_iter=1, rank=0, num_replicas=1),
                            split="test")
    with torch.inference_mode():
        evaluator.begin_eval()
        return_keys = set(evaluator.required_outputs)
        for _set_name, batch, _size in dataset:
            carry = head.initial_carry(batch)
            while True:
                carry, _loss, _metrics, preds, all_finish = head(carry=carry, batch=batch, return_keys=return_keys)
                if all_finish:
                    break
            evaluator.update_batch(batch, preds)


def ranked_votes(evaluator) -> dict:
    """Per task and test input (test_puzzles.json order), the evaluator's candidates ranked as its `result` does."""
    from dataset.build_arc_dataset import arc_grid_to_np, grid_hash

    out = {}
    for name, puzzle in evaluator.test_puzzles.items():
        per_test = []
        for pair in puzzle["test"]:
            p_map: dict = {}
            for h, q in evaluator._local_preds.get(name, {}).get(grid_hash(arc_grid_to_np(pair["input"])), []):
                p_map.setdefault(h, [0, 0])
                p_map[h][0] += 1
                p_map[h][1] += q
            for stats in p_map.values():
                stats[1] /= stats[0]
            ranked = sorted(p_map.items(), key=lambda kv: kv[1], reverse=True)
            per_test.append([{"grid": evaluator._local_hmap[h].tolist(), "count": s[0], "mean_q": s[1]}
                             for h, s in ranked])
        out[name] = per_test
    return out


def main() -> int:
    global SEED
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--official", required=True, help="checkout of SamsungSAILMontreal/TinyRecursiveModels")
    ap.add_argument("--data", default="../shared/data/arc-agi-1", help="ARC-AGI-1 JSON in Kaggle layout")
    ap.add_argument("--out", default="tests/fixtures/official-protocol")
    ap.add_argument("--seed", type=int, default=SEED, help="torch seed of the random checkpoint")
    ap.add_argument("--official-commit", default=None, help="commit of the checkout (default: git rev-parse HEAD)")
    a = ap.parse_args()
    SEED = a.seed
    official, data, out = Path(a.official).resolve(), Path(a.data).resolve(), Path(a.out).resolve()
    sys.path.insert(0, str(official))
    os.chdir(official)
    import torch
    import torch.distributed as dist
    from dataset.common import PuzzleDatasetMetadata
    from evaluators.arc import ARC

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        write_inputs(data, tmp_path / "arc-agi")
        build_dir = tmp_path / "build"
        build(official, tmp_path / "arc-agi", build_dir)
        dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
        meta = PuzzleDatasetMetadata(**json.loads((build_dir / "test" / "dataset.json").read_text()))
        if out.exists():
            shutil.rmtree(out)
        head = make_checkpoint(meta.num_puzzle_identifiers, out / "checkpoint")
        evaluator = ARC(str(build_dir), meta)  # aggregated_voting=True, as pretrain.py creates it
        evaluate(head, evaluator, build_dir)
        (out / "official").mkdir(parents=True)
        evaluator.result(str(out / "official"), rank=0, world_size=1)
        votes = ranked_votes(evaluator)
        (out / "official" / "votes.json").write_text(json.dumps(votes))
        # the accumulation defect: a second evaluation with the same evaluator object doubles every count
        evaluate(head, evaluator, build_dir)
        again = ranked_votes(evaluator)
        doubled = all(2 * a["count"] == b["count"] for t in votes for pa, pb in zip(votes[t], again[t])
                      for a, b in zip(pa, pb)) and all(len(pa) == len(pb) for t in votes
                                                        for pa, pb in zip(votes[t], again[t]))
        print(f"second evaluation of the same ARC evaluator: every count doubled = {doubled}")
        if not doubled:
            raise SystemExit("expected the aggregated votes to double on a second evaluation")
        dist.destroy_process_group()
        (out / "official-data" / "test").mkdir(parents=True)
        for name in ("identifiers.json", "test_puzzles.json"):
            shutil.copy(build_dir / name, out / "official-data" / name)
        for f in (build_dir / "test").iterdir():
            shutil.copy(f, out / "official-data" / "test" / f.name)
    commit = a.official_commit or subprocess.run(["git", "rev-parse", "HEAD"], cwd=official, capture_output=True,
                                                 text=True).stdout.strip()
    (out / "official" / "provenance.json").write_text(json.dumps({
        "official_commit": commit or "unknown (not a git checkout)", "eval_tasks": EVAL_TASKS,
        "train_tasks": TRAIN_TASKS, "num_aug": NUM_AUG, "eval_batch": EVAL_BATCH, "seed": SEED,
        "torch": torch.__version__, "script": "scripts/official_parity_fixture.py"}, indent=1))
    n_pairs = sum(len(v) for v in votes.values())
    print(f"wrote {out}: {len(votes)} tasks, {n_pairs} test inputs, "
          f"{sum(len(c) for v in votes.values() for c in v)} distinct predictions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
