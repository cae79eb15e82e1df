"""Execute a notebook with nbclient in the current (network-isolated) environment; used by dry_run.py.

    python execute_notebook.py NOTEBOOK OUT.ipynb --kernel NAME --cwd DIR --ipc PREFIX --timeout SEC

First probes the network (a TCP connect to a public address must fail), then runs every cell on the named
kernel with ZeroMQ over IPC sockets (no TCP, so no loopback interface is needed), and writes the executed
notebook. Exit status: 0 = all cells ran; 1 = a cell raised; 3 = the network was reachable.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

PROBE_ADDRESSES = (("1.1.1.1", 53), ("8.8.8.8", 53))


def network_reachable(timeout: float = 2.0) -> str | None:
    """The first public address a TCP connect reaches, else None."""
    for host, port in PROBE_ADDRESSES:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return f"{host}:{port}"
        except OSError:
            continue
    return None


def execute(notebook: Path, out: Path, kernel: str, cwd: Path, ipc: str, timeout: float) -> int:
    import nbformat
    from jupyter_client import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(notebook, as_version=4)
    km = KernelManager(kernel_name=kernel, transport="ipc", ip=ipc)
    client = NotebookClient(nb, km=km, timeout=timeout, resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute()
        status = 0
    except CellExecutionError as exc:
        print(f"notebook cell failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
              file=sys.stderr)
        status = 1
    finally:
        nbformat.write(nb, out)
        if km.has_kernel:  # a client given its own manager leaves the kernel running
            km.shutdown_kernel(now=False)
    return status


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("notebook", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--kernel", required=True)
    p.add_argument("--cwd", type=Path, required=True)
    p.add_argument("--ipc", required=True, help="absolute path prefix of the kernel's IPC sockets")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per cell")
    a = p.parse_args(argv)
    reached = network_reachable()
    if reached:
        print(f"network is reachable ({reached}): refusing to run the dry run", file=sys.stderr)
        return 3
    print("network probe: no public address reachable", flush=True)
    return execute(a.notebook, a.out, a.kernel, a.cwd, a.ipc, a.timeout)


if __name__ == "__main__":
    sys.exit(main())
