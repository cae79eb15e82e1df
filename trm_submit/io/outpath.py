"""Output paths of a run: resolving `--out` before any work (symlinks followed, folders, device files and
inputs refused, the folder probed for writing), the one atomic-write helper for every file the run writes,
and `SubmissionWriter`, which keeps a run going when a rewrite fails mid-run (disk full, I/O error)."""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterable

from ..errors import UserError

EXIT_WRITE = 3  # the run finished but the file on disk lacks answers it could not write


class OutputError(UserError):
    """An output path that cannot be used (one line, exit code 2, before the run starts)."""


def _kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def default_file_mode() -> int:
    """The mode `open()` gives a new file here: 0o666 minus the umask (0o644 under the usual umask 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a == b


def resolve_target(path: str | Path, flag: str = "--out") -> Path:
    """The real file a write to `path` lands on: symlinks followed; a folder or a non-regular file is an
    OutputError (one line naming `flag`)."""
    text = str(path)
    if not text:
        raise OutputError(f"{flag} is empty; give a file path such as submission.json")
    if text.endswith(("/", os.sep)):
        raise OutputError(f"{flag} {text} names a folder; give a file path such as {text.rstrip('/')}/submission.json")
    target = Path(text).expanduser().resolve()  # follows every symlink, also a dangling one's chain
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputError(f"{flag} {text}: cannot inspect {target} ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        hint = f"; give a file path such as {text}/submission.json" if flag.startswith("--") else ""
        raise OutputError(f"{flag} {text} is a folder{hint}")
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{flag} {text} is {_kind_of(st.st_mode)} ({target}), not a regular file")
    return target


def probe_folder(folder: Path, flag: str = "--out") -> None:
    """Create `folder` if needed and prove a file can be created and removed in it; else OutputError."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{flag}: {folder} exists and is not a folder") from None
    except OSError as exc:
        raise OutputError(f"{flag}: cannot create folder {folder} ({exc.strerror or exc})") from None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".trm-submit-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise OutputError(f"{flag}: cannot write in folder {folder} ({exc.strerror or exc})") from None


def prepare_outputs(out: str | Path, side: Callable[[Path], Iterable[Path]], inputs: dict[str, str | None],
                    flag: str = "--out") -> Path:
    """Check the submission path `out` and the files beside it before a run; returns the real target.

    The paths `side(target)` are checked like `out`; `inputs` maps a flag to an input path that no output
    may be (the same file under any name, hard links included)."""
    target = resolve_target(out, flag)
    outputs = [target] + [resolve_target(p, f"the file beside {flag}") for p in side(target)]
    for name, given in inputs.items():
        if not given:
            continue
        for o in outputs:
            if Path(given).exists() and _same_file(o, Path(given)):
                what = f"{flag} {out}" if o == target else f"{o.name} (written beside {flag} {out})"
                raise OutputError(f"{what} is the same file as {name} {given}; refusing to overwrite an input")
    probe_folder(target.parent, flag)
    return target


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write `data` to the real file behind `path` atomically: temp file beside it, fsync, os.replace.

    A symlink stays a symlink (its target is replaced); the file keeps an existing regular file's mode,
    else gets the mode a new file gets here (0o644 under umask 022)."""
    write_atomic_stream(path, lambda f: f.write(data))


def write_atomic_stream(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """write_atomic for content too large to hold twice in memory: `write(f)` writes it to the open temp file."""
    target = Path(path).resolve()
    try:
        st = os.stat(target)
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"{path} is {_kind_of(st.st_mode)}, not a regular file")
        mode = stat.S_IMODE(st.st_mode)
    except FileNotFoundError:
        mode = default_file_mode()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def write_or_refuse(path: Path, data: bytes) -> None:
    """write_atomic for the files a run writes before its first task: a failure is an OutputError (one line)."""
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise OutputError(f"cannot write {path} ({describe_os_error(exc)})") from None


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def describe_os_error(exc: OSError) -> str:
    """'No space left on device' and the like (errno name when the OS gives no text)."""
    return exc.strerror or errno.errorcode.get(exc.errno or 0, "") or str(exc)


class SubmissionWriter:
    """Rewrites the submission after each task; a failed rewrite (ENOSPC, EIO, ...) is reported once and
    retried after the next task. The last file written stays on disk; `lacking` counts the tasks answered
    in memory that it does not hold."""

    def __init__(self, path: Path, encode: Callable[[dict], bytes]):
        self.path, self.encode = path, encode
        self.answered: set[str] = set()  # tasks whose model answers are in memory
        self.on_disk: set[str] = set()  # of those, the ones the file on disk holds
        self.error: str | None = None  # the last failure, while the file on disk is behind
        self.tasks = 0  # tasks of the submission last written (all of them are lacking when there is no file)

    def answer(self, task_id: str) -> None:
        self.answered.add(task_id)

    def write(self, sub: dict) -> bool:
        """Rewrite the file; False (and one stderr line at the first failure in a row) when it fails. A folder
        removed during the run is created again (one stderr line)."""
        self.tasks = len(sub)
        try:
            self._write_folder_too(self.encode(sub))
        except OSError as exc:
            if self.error is None:
                print(f"trm-submit: cannot rewrite {self.path} ({describe_os_error(exc)}); answers are kept in "
                      f"memory and the journal, and the rewrite is retried after each task", file=sys.stderr)
            self.error = describe_os_error(exc)
            return False
        if self.error is not None:
            print(f"trm-submit: {self.path} rewritten again after the earlier failure", file=sys.stderr)
        self.error, self.on_disk = None, set(self.answered)
        return True

    def _write_folder_too(self, data: bytes) -> None:
        try:
            write_atomic(self.path, data)
        except FileNotFoundError:
            if self.path.parent.exists():
                raise
            self.path.parent.mkdir(parents=True, exist_ok=True)
            print(f"trm-submit: the folder {self.path.parent} was removed during the run; it is created again and "
                  f"{self.path.name} rewritten (the files written beside it before are gone)", file=sys.stderr)
            write_atomic(self.path, data)

    @property
    def missing(self) -> bool:
        """No file at all on disk (its folder is gone and could not be created again)."""
        return not self.path.exists()

    @property
    def lacking(self) -> int:
        """Tasks the file on disk lacks: answers it does not hold, or every task when there is no file."""
        return self.tasks if self.missing else len(self.answered - self.on_disk)

    def final_line(self) -> str | None:
        """The one line for the end of the run when the file on disk lacks answers, else None."""
        if not self.lacking:
            return None
        if self.missing:
            return (f"there is no file at {self.path} ({self.error}): the {len(self.answered)} tasks answered in this "
                    f"run are in memory only (and in the journal where it could be written); rerun with --resume")
        return (f"{self.path} lacks {self.lacking} of the {len(self.answered)} tasks answered in this run "
                f"({self.error}); it is a valid file with fallbacks for them: free space and rerun with --resume")
