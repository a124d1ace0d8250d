"""Running a scan's segments on a Dask distributed cluster (`--cluster tcp://HOST:PORT`).

The optional extra `ttdbg[cluster]` (dask[distributed]) is imported here
only, and only when a cluster is asked for.  Each worker runs the same
`scan_segment` a pool worker runs, reading the trace at the same path: the
workers need the storage the trace is on (a shared file system, or the same
machine) and ttdbg installed in the Python they run.  Results come back in
segment order, so the merge is the pool's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

from .errors import ReplayError

CONNECT_SECONDS = 10       # how long to try to reach the scheduler (TTDBG_CLUSTER_TIMEOUT overrides)
_ADDRESS = re.compile(r"(tcp|tls)://[^\s/]+:\d{1,5}")


def check_address(address: str) -> str:
    """The scheduler's address as given, or one clear line."""
    if not _ADDRESS.fullmatch(address) or int(address.rpartition(":")[2]) > 65535:
        raise ReplayError(f"--cluster: not a scheduler address: {address!r} (tcp://HOST:PORT, e.g. tcp://node1:8786)")
    return address


class Cluster:
    """A connection to the scheduler at `address` (one clear line if there is none)."""

    def __init__(self, address: str) -> None:
        check_address(address)
        try:
            from distributed import Client
        except ImportError:
            raise ReplayError("--cluster needs Dask distributed: pip install 'ttdbg[cluster]'") from None
        try:
            seconds = float(os.environ.get("TTDBG_CLUSTER_TIMEOUT", CONNECT_SECONDS))
        except ValueError:
            seconds = CONNECT_SECONDS
        try:
            self.client = Client(address, timeout=f"{seconds}s", set_as_default=False)
        except (OSError, ValueError, TypeError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ReplayError(f"--cluster: cannot reach the scheduler at {address}: {first}") from None
        workers = self.client.scheduler_info().get("workers", {})
        self.workers = sum(max(1, int(w.get("nthreads", 1))) for w in workers.values())
        if not self.workers:
            self.client.close()
            raise ReplayError(f"--cluster: the scheduler at {address} has no workers "
                              f"(start some: dask worker {address})")

    def map(self, function: Callable[[Any], Any], tasks: list) -> Iterator[Any]:
        """function(task) for each task, results in task order as they are taken; closes the connection."""
        # pure=False: a segment is a distinct task even when two are alike (no caching by argument).
        futures = self.client.map(function, tasks, pure=False)
        try:
            for future in futures:
                yield future.result()
        finally:
            self.client.close()
