"""Lanes and workers of a `submit` run: which sources run in which group of workers (a lane), how many workers
each gets, and the solver each worker builds (threads, device, weights; in the joint scope the TRM workers
fine-tune together before their first task). `results` runs the lanes and yields every lane record."""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import devices
from ..budget import Budget
from ..config import RunConfig
from ..io import records, tasks
from . import flags, schedule
from .sources import LaneSolver


@dataclass(frozen=True)
class LanePlan:
    """A group of workers running some sources on its pending tasks."""

    name: str
    sources: tuple[str, ...]
    tasks: list[tasks.Task]
    workers: int


@dataclass(frozen=True)
class JointSetup:
    """What the TRM workers of a joint-scope run share: every task of the run, the checkpoint folder and the
    rendezvous of their process group."""

    tasks: list[tasks.Task]
    folder: Path
    group_dir: Path  # a fresh temporary folder holding the rendezvous file

    @property
    def rendezvous(self) -> str:
        return f"file://{self.group_dir / 'rendezvous'}"


def joint_setup(cfg: RunConfig, ch: tasks.Challenges, out: Path) -> JointSetup | None:
    """The joint scope's shared setup (None in the per-task scope): a fresh run clears the checkpoint folder
    of an earlier run; every run forms its process group anew at a fresh rendezvous file."""
    if cfg.ttft_scope != "joint" or cfg.protocol != "ttft":
        return None
    folder = records.joint_folder(out)
    if not cfg.resume:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / records.GROUP_FORMED).unlink(missing_ok=True)
    group_dir = Path(tempfile.mkdtemp(prefix="trm-submit-group-"))
    return JointSetup([ch.tasks[t] for t in ch.order if t in ch.tasks], folder, group_dir)


def cpu_threads(cfg: RunConfig, n_workers: int) -> int:
    """Threads of one worker: --threads, else its share of the cores."""
    return cfg.threads or max(1, (os.cpu_count() or 1) // n_workers)


def trm_solver(cfg: RunConfig, run_budget: Budget, bundle: Any, joint: JointSetup | None, rank: int,
               n_workers: int) -> Any:
    """The TRM solver of worker `rank` for the run's protocol and scope (official, joint or per task)."""
    import torch

    from .solve import JointSolver, TaskSolver

    device = devices.device_for(cfg.device, rank)
    if device.type == "cpu":
        torch.set_num_threads(cpu_threads(cfg, n_workers))
    if cfg.protocol == "official":
        from ..official.protocol import OfficialSolver

        return OfficialSolver(cfg, device, run_budget, loaded=bundle)
    if joint is not None:
        from ..trm import checkpoint

        weights = bundle if bundle is not None else checkpoint.load_bundled(str(cfg.weights))
        return JointSolver.fine_tuned(cfg, device, run_budget, weights, joint.tasks, joint.folder, rank, n_workers,
                                      joint.rendezvous, progress=rank == 0 and not cfg.quiet and sys.stderr.isatty())
    progress = n_workers == 1 and not cfg.quiet and sys.stderr.isatty()
    return TaskSolver(cfg, device, run_budget, progress=progress, bundle=bundle)


@dataclass(frozen=True)
class WorkerSpec:
    """What every worker of a lane builds its solver from; called inside the worker as `spec(rank, n_workers)`
    (picklable: the weights travel only to an in-process worker, `bundle`)."""

    cfg: RunConfig
    run_end_wall: float
    sources: tuple[str, ...]
    joint: JointSetup | None = None
    stop: Callable[[], bool] | None = None
    bundle: Any = None

    def __call__(self, rank: int, n_workers: int) -> schedule.Solver:
        """Pin threads (and the device when TRM runs), load the weights once; in the joint scope the TRM workers
        fine-tune together here, before their first task."""
        from ..grids.kernels import set_threads

        cfg = self.cfg
        run_budget = Budget.from_wall(self.run_end_wall, self.stop) if self.stop is not None \
            else Budget.from_wall(self.run_end_wall)
        set_threads(cpu_threads(cfg, n_workers))  # numba threads: this worker's share of the cores
        if "search" in self.sources:
            from ..search import warm_up

            warm_up()  # numba kernels compiled or loaded once per worker, before the first task's share starts
        make_trm = functools.partial(trm_solver, cfg, run_budget, self.bundle, self.joint, rank, n_workers)
        lane = LaneSolver(cfg, self.sources, run_budget, make_trm if "trm" in self.sources else None)
        if self.joint is not None and "trm" in self.sources:
            lane.start_trm()
        return lane


def plan_lanes(cfg: RunConfig, sources: tuple[str, ...], gpus: int) -> list[tuple[str, tuple[str, ...], int]]:
    """(name, sources, workers) of each lane. The search gets a lane of its own beside the TRM workers when
    TRM runs on CUDA (the CPU cores the GPU workers leave) or when --search-workers asks for it; otherwise one
    lane runs every source of a task in turn (search first)."""
    if "search" in sources and "trm" in sources and (cfg.search_workers > 0 or gpus > 0):
        n_search = cfg.search_workers or max(1, min((os.cpu_count() or 1) - cfg.workers, memory_gib() // 4))
        return [("trm", ("trm",), cfg.workers), ("search", ("search",), n_search)]
    return [("+".join(sources), sources, cfg.workers)]


def memory_gib() -> int:
    """Physical memory in GiB (a search worker stays under 2 GiB; auto lanes leave as much again spare)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**30)
    except (ValueError, OSError, AttributeError):
        return 8


def build_lanes(cfg: RunConfig, ch: tasks.Challenges, sources: tuple[str, ...],
                known: dict[str, list[dict]]) -> list[LanePlan]:
    """Each lane with its pending tasks; workers capped at what can help (one line when a request is reduced)."""
    lanes = []
    gpus = devices.cuda_count(cfg.device) if "trm" in sources else 0
    for name, lane_sources, workers in plan_lanes(cfg, sources, gpus):
        items = [ch.tasks[t] for t in ch.order if t in ch.tasks
                 and not set(lane_sources) <= records.sources_done(known.get(t, []))]
        device = cfg.device if "trm" in lane_sources else "cpu"
        capped, why = flags.cap_workers(workers, len(items), device)
        if why:
            print(why, file=sys.stderr)
        lanes.append(LanePlan(name, lane_sources, items, capped))
    return lanes


def results(cfg: RunConfig, lanes: list[LanePlan], run_budget: Budget, bundle: Any, joint: JointSetup | None,
            notify: Any = None) -> Iterator[dict]:
    """Every lane record of the run, as the workers finish them (one lane of one worker: in this process)."""
    end_wall = run_budget.to_wall()
    if len(lanes) == 1 and lanes[0].workers <= 1:
        lane = lanes[0]
        solver = WorkerSpec(cfg, end_wall, lane.sources, joint, run_budget.stop, bundle)(0, 1)
        yield from schedule.run_serial(lane.tasks, solver, run_budget, cfg.seed)
    else:
        plan = [schedule.Lane(lane.name, lane.tasks, WorkerSpec(cfg, end_wall, lane.sources, joint), lane.workers)
                for lane in lanes]
        yield from schedule.run_lanes(plan, run_budget, cfg.seed, notify=notify)
