"""Worker processes die with the run that started them: on Linux the kernel sends SIGKILL when the parent
goes (prctl PR_SET_PDEATHSIG); everywhere a watcher thread ends the worker once its parent pid is gone.
Without this, a worker of a run killed with kill -9 would keep computing (and hold its GPU) until its
deadline, while a resumed run starts beside it."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_SECONDS = 1.0
EXIT_ORPHANED = 70  # the exit code of a worker that found its parent gone


def _kernel_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent exits; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int, every: float) -> None:
    while True:
        time.sleep(every)
        if os.getppid() != parent_pid:
            os._exit(EXIT_ORPHANED)


def die_with_parent(parent_pid: int | None = None, every: float = WATCH_SECONDS) -> bool:
    """Tie this process's life to `parent_pid` (default: the current parent). Returns whether the kernel
    signal is armed; the watcher thread runs in any case (it also covers a parent gone before arming)."""
    parent_pid = os.getppid() if parent_pid is None else parent_pid
    armed = _kernel_death_signal()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(EXIT_ORPHANED)
    threading.Thread(target=_watch, args=(parent_pid, every), name="trm-lifeline", daemon=True).start()
    return armed
