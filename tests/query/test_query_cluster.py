"""`query --cluster`: the same segments on a local Dask cluster of 2 worker processes
give exactly the answer of the process pool and of one worker; a bad or
unreachable address is one line and a non-zero status.  (In-process through
the CLI's main, to spare a Python start per query.)"""

from __future__ import annotations

import re

import pytest
from query_support import ITERATIONS, QueryTrace

from ttdbg.cli import main

distributed = pytest.importorskip("distributed", reason="the optional extra ttdbg[cluster] is not installed")


@pytest.fixture(scope="module")
def scheduler() -> str:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, host="127.0.0.1")
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def _ttdbg(capsys: pytest.CaptureFixture, *words: str) -> tuple[int, str, str]:
    status = main(list(words))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_cluster_answers_equal_the_pool_and_one_worker(recorded: QueryTrace, scheduler: str,
                                                       capsys: pytest.CaptureFixture) -> None:
    ways = (("--cluster", scheduler), ("--jobs", "1"), ("--jobs", "2"))
    for words, compared in ((("writes", "watched"), ways), (("calls", "add"), ways[:2]),
                            (("values", "watched", "at", "add"), ways[:2])):
        answers = [_ttdbg(capsys, "query", str(recorded.trace), *words, "--json", *how) for how in compared]
        assert all(a[0] == 0 for a in answers), answers
        assert len({a[1] for a in answers}) == 1 and len(answers[0][1].splitlines()) == ITERATIONS
        summary = answers[0][2].strip().splitlines()[-1]
        m = re.search(rf"by 2 workers \((\d+) segments on {re.escape(scheduler)}\)", summary)
        assert m and int(m.group(1)) > 1, summary


def test_bad_or_unreachable_cluster_is_one_line(recorded: QueryTrace, capsys: pytest.CaptureFixture,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTDBG_CLUSTER_TIMEOUT", "1")
    for address in ("nonsense", "tcp://127.0.0.1", "tcp://127.0.0.1:1", "tcp://127.0.0.1:70000", None):
        status, out, err = _ttdbg(capsys, "query", str(recorded.trace), "writes", "watched",
                                  *(["--cluster", address] if address else ["--cluster"]))
        lines = err.strip().splitlines()
        assert status != 0 and not out and len(lines) == 1 and "--cluster" in lines[0], (address, err)
