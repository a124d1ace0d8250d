# ruff: noqa: E501  (a table of command lines, kept one a line)
"""A survey of everyday programs under ttdbg: native run, record, replay, compared.

    python benchmarks/survey.py [--jobs N] [-k SUBSTRING] [--list] [-v] [--timeout S]

For each program found on this machine (shells, coreutils, grep/sed/awk/find,
compressors, git, make, gcc, python3, perl, node, sqlite3, curl/wget against a
local http.server...), in a fresh directory with the same files each time:

1. runs it natively (stdout, exit status);
2. records it with `ttdbg record -q` in a directory of the same path and
   content, and compares stdout and status with the native run (status only
   for cases whose output is not deterministic, e.g. `date`), and counts the
   `ttdbg:` lines (warnings) on its stderr;
3. replays the trace (`ttdbg replay -a`) and compares stdout, stderr and status
   with the recording.

A case passes when all three agree and no warning was printed.  Prints one row
a case and the percentage passing; the exit status is 0 when all pass, else 1.
Not part of the test suite (it takes minutes); -k selects cases by name.
"""

from __future__ import annotations

import argparse
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TTDBG = [sys.executable, "-m", "ttdbg"]
# The system's programs first: a version manager's shims (pyenv's python3) are scripts, which the
# "shebang" case tries on its own.
PATH = os.pathsep.join(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
                        os.environ.get("PATH", "")])
PORT_MARK = "@PORT@"

HELLO_C = '#include <stdio.h>\nint main(void) { printf("hello %d\\n", 6 * 7); return 0; }\n'
MAKEFILE = "all: a.txt b.txt\n\tcat a.txt b.txt > all.txt\n\twc -l all.txt\na.txt:\n\techo a > a.txt\nb.txt:\n\techo b > b.txt\n"
WORDS = "".join(f"{w} {i}\n" for i, w in enumerate(
    "pear apple fig kiwi banana cherry date grape lemon mango apple fig".split()))

PY = {
    "json": "import json; print(json.dumps({'a': [1, 2, {'b': None}]}, sort_keys=True)); print(json.loads('[1,2.5,\"x\"]'))",
    "sqlite3": ("import sqlite3; c = sqlite3.connect('db.sqlite'); c.execute('create table t(x)');"
                "c.executemany('insert into t values (?)', [(i,) for i in range(100)]); c.commit();"
                "print(c.execute('select sum(x), count(*) from t').fetchone())"),
    "sqlite3_wal": ("import sqlite3; c = sqlite3.connect('wal.sqlite'); print(c.execute('pragma journal_mode=wal').fetchone());"
                    "c.execute('create table t(x)'); c.execute('insert into t values (1)'); c.commit();"
                    "print(c.execute('select * from t').fetchall())"),
    "threading": ("import threading; out = []\n"
                  "def f(i): out.append(sum(range(i * 1000)))\n"
                  "ts = [threading.Thread(target=f, args=(i,)) for i in range(4)]\n"
                  "[t.start() for t in ts]; [t.join() for t in ts]; print(sorted(out))"),
    "subprocess": "import subprocess; print(subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip())",
    "asyncio": ("import asyncio\n"
                "async def handle(r, w):\n    w.write((await r.readline()).upper()); await w.drain(); w.close()\n"
                "async def main():\n"
                "    srv = await asyncio.start_server(handle, '127.0.0.1', 0)\n"
                "    port = srv.sockets[0].getsockname()[1]\n"
                "    r, w = await asyncio.open_connection('127.0.0.1', port)\n"
                "    w.write(b'ping\\n'); await w.drain(); print((await r.readline()).decode().strip())\n"
                "    w.close(); srv.close(); await srv.wait_closed()\n"
                "asyncio.run(main())"),
    "asyncio_sleep": ("import asyncio\nasync def t(i):\n    await asyncio.sleep(0.01 * i); return i\n"
                      "async def main(): print(await asyncio.gather(*(t(i) for i in range(5))))\nasyncio.run(main())"),
    "socket": ("import socket, threading\n"
               "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
               "def serve():\n    c, _ = s.accept(); c.sendall(c.recv(100)[::-1]); c.close()\n"
               "t = threading.Thread(target=serve); t.start()\n"
               "c = socket.create_connection(s.getsockname()); c.sendall(b'hello'); print(c.recv(100)); t.join()"),
    "socketpair": "import socket; a, b = socket.socketpair(); a.sendall(b'xyz'); print(b.recv(10))",
    "setitimer": ("import signal, time\nhits = []\nsignal.signal(signal.SIGALRM, lambda *a: hits.append(1))\n"
                  "signal.setitimer(signal.ITIMER_REAL, 0.01, 0.01)\n"
                  "while len(hits) < 3: time.sleep(0.001)\nsignal.setitimer(signal.ITIMER_REAL, 0)\nprint('ticks', len(hits))"),
    "alarm": ("import signal, time\nsignal.signal(signal.SIGALRM, lambda *a: print('alarm'))\n"
              "signal.alarm(1); time.sleep(3); print('after')"),
    "multiprocessing": ("import multiprocessing as mp\nif __name__ == '__main__':\n"
                        "    with mp.Pool(2) as p: print(p.map(abs, range(-3, 3)))"),
    "hashlib": "import hashlib; print(hashlib.sha256(b'x' * 100000).hexdigest())",
    "os_walk": "import os; print(sorted(f for _, _, fs in os.walk('.') for f in fs))",
    "tempfile": "import tempfile, os; d = tempfile.mkdtemp(dir='.'); open(os.path.join(d, 'f'), 'w').write('x'); print(os.listdir(d))",
    "random": "import random; random.seed(1); print(random.random())",
    "urllib": f"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{PORT_MARK}/words.txt').read()[:20])",
}


@dataclass
class Case:
    name: str
    argv: list[str]
    needs: tuple[str, ...] = ()
    deterministic: bool = True     # compare stdout with the native run
    http: bool = False             # needs the local http server (@PORT@ in argv)
    stdin: bytes = b""
    timeout: float | None = None


def sh(cmd: str) -> list[str]:
    return ["sh", "-c", cmd]


def cases() -> list[Case]:
    c = [
        Case("sh-pipeline", sh("cat words.txt | sort | uniq -c | sort -rn | head -3")),
        Case("sh-loop", sh("for i in 1 2 3; do echo $i; done; x=$((6*7)); echo $x")),
        Case("sh-subshell", sh("(cd sub && pwd >/dev/null && ls); echo $?")),
        Case("sh-redirect", sh("echo one > f && echo two >> f && cat < f && rm f")),
        Case("sh-false", sh("false || echo rescued; exit 3")),
        Case("bash-c", ["bash", "-c", "a=(x y z); echo ${#a[@]} ${a[1]}; [[ abc == a* ]] && echo glob"]),
        Case("bash-pipe", ["bash", "-c", "set -o pipefail; seq 100 | grep 7 | wc -l"]),
        Case("dash-c", ["dash", "-c", "echo $((1 << 10))"], needs=("dash",)),
        Case("shebang", ["./script.sh", "arg"]),
        Case("ls", ["ls", "-l", "--time-style=+", "sub"], deterministic=False),
        Case("ls-a", ["ls", "-a"]),
        Case("ls-R", ["ls", "-R"]),
        Case("cat", ["cat", "words.txt"]),
        Case("sort", ["sort", "-k2,2n", "words.txt"]),
        Case("sort-u", ["sort", "-u", "words.txt"]),
        Case("wc", ["wc", "words.txt"]),
        Case("head", ["head", "-n3", "words.txt"]),
        Case("tail", ["tail", "-n3", "words.txt"]),
        Case("date", ["date"], deterministic=False),
        Case("date-fmt", ["date", "-d", "@0", "-u", "+%F %T"]),
        Case("seq", ["seq", "1", "3", "20"]),
        Case("sha256sum", ["sha256sum", "words.txt"]),
        Case("md5sum", ["md5sum", "words.txt"]),
        Case("cp", sh("cp words.txt w2 && cat w2")),
        Case("mv", sh("cp words.txt w3 && mv w3 w4 && ls w4")),
        Case("rm", sh("touch gone && rm gone && ls gone; echo $?")),
        Case("mkdir", ["mkdir", "-p", "a/b/c"]),
        Case("touch", sh("touch -d @1000000 t && stat -c %Y t")),
        Case("ln", sh("ln -s words.txt l && readlink l && cat l | wc -l")),
        Case("ln-hard", sh("ln words.txt h && stat -c %h words.txt")),
        Case("stat", ["stat", "-c", "%s %F %a", "words.txt"]),
        Case("du", ["du", "-s", "--apparent-size", "sub"]),
        Case("df", ["df", "."], deterministic=False),
        Case("env", ["env"]),
        Case("id", ["id"]),
        Case("uname", ["uname", "-s"]),
        Case("tr", sh("tr a-z A-Z < words.txt")),
        Case("cut", ["cut", "-d", " ", "-f1", "words.txt"]),
        Case("tee", sh("echo x | tee out.txt; cat out.txt")),
        Case("basename", sh("basename /a/b/c.txt .txt; dirname /a/b/c.txt")),
        Case("realpath", ["realpath", "sub"]),
        Case("expr", ["expr", "6", "*", "7"]),
        Case("printf", ["printf", "%05.1f|%x\\n", "3.14159", "255"]),
        Case("sleep", ["sleep", "0.1"]),
        Case("nproc", ["nproc"]),
        Case("whoami", ["whoami"]),
        Case("hostname", ["hostname"]),
        Case("ps", ["ps", "-o", "comm="], deterministic=False),
        Case("od", ["od", "-c", "words.txt"]),
        Case("base64", sh("base64 words.txt | base64 -d | wc -c")),
        Case("diff", ["diff", "words.txt", "sub/other.txt"]),
        Case("cmp", ["cmp", "words.txt", "words.txt"]),
        Case("split", sh("split -l 4 words.txt part. && ls part.*")),
        Case("paste", ["paste", "-s", "-d,", "words.txt"]),
        Case("nl", ["nl", "words.txt"]),
        Case("tac", ["tac", "words.txt"]),
        Case("shuf", ["shuf", "-n2", "--random-source=words.txt", "words.txt"]),
        Case("timeout", ["timeout", "5", "true"]),
        Case("yes-head", sh("yes | head -n 3")),
        Case("dd", ["dd", "if=words.txt", "of=copy", "bs=16", "status=none"]),
        Case("chmod", sh("touch x && chmod 640 x && stat -c %a x")),
        Case("truncate", sh("truncate -s 100 big && stat -c %s big")),
        Case("mktemp", sh("mktemp -p . | wc -l")),
        Case("file", ["file", "words.txt"], needs=("file",)),
        Case("grep", ["grep", "-n", "apple", "words.txt"]),
        Case("grep-r", ["grep", "-rl", "fig", "."]),
        Case("grep-E", ["grep", "-cE", "^(a|b)", "words.txt"]),
        Case("sed", ["sed", "s/a/A/g", "words.txt"]),
        Case("sed-i", sh("cp words.txt s && sed -i 's/fig/FIG/' s && grep FIG s")),
        Case("awk", ["awk", "{s += $2} END {print s, NR}", "words.txt"]),
        Case("find", ["find", ".", "-name", "*.txt"]),
        Case("find-type", ["find", ".", "-type", "d"]),
        Case("xargs", sh("printf 'a\\nb\\n' | xargs -n1 echo item")),
        Case("xargs-P", sh("seq 4 | xargs -P2 -n1 echo | sort")),
        Case("tar-c", sh("tar cf t.tar words.txt sub && tar tf t.tar")),
        Case("tar-z", sh("tar czf t.tgz sub && tar xzf t.tgz -O | wc -c")),
        Case("gzip", sh("gzip -k words.txt && gzip -dc words.txt.gz | wc -l")),
        Case("gzip-file", sh("cp words.txt g && gzip g && ls g.gz")),
        Case("xz", sh("xz -k words.txt && xz -dc words.txt.xz | wc -l"), needs=("xz",)),
        Case("xz-T2", sh("xz -T2 -c words.txt | xz -dc | wc -l"), needs=("xz",)),
        Case("bzip2", sh("bzip2 -k words.txt && bzip2 -dc words.txt.bz2 | wc -l"), needs=("bzip2",)),
        Case("zstd", sh("zstd -q words.txt && zstd -qdc words.txt.zst | wc -l"), needs=("zstd",)),
        Case("zip", sh("zip -q z.zip words.txt && unzip -l z.zip | tail -1"), needs=("zip", "unzip")),
        Case("git", sh("git init -q r && cd r && cp ../words.txt . && git add words.txt && "
                       "git -c user.name=a -c user.email=a@b commit -q -m one && git log --format=%s && git status --short"),
             needs=("git",)),
        Case("git-diff", sh("git init -q r && cd r && echo a > f && git add f && git -c user.name=a -c user.email=a@b "
                            "commit -q -m one && echo b > f && git diff --stat"), needs=("git",)),
        Case("make", ["make", "-s"], needs=("make",)),
        Case("make-j2", ["make", "-s", "-j2"], needs=("make",)),
        Case("gcc", sh("gcc -O1 -o hello hello.c && ./hello"), needs=("gcc",)),
        Case("cc-E", ["gcc", "-E", "-P", "hello.c"], needs=("gcc",)),
        Case("perl", ["perl", "-e", "my %h = map { $_ => length } qw(a bb ccc); print join(',', map {\"$_=$h{$_}\"} sort keys %h), \"\\n\""],
             needs=("perl",)),
        Case("perl-file", ["perl", "-ne", "print if /an/", "words.txt"], needs=("perl",)),
        Case("node", ["node", "-e", "console.log([1,2,3].map(x => x * 2).join(' '))"], needs=("node",)),
        Case("node-timer", ["node", "-e", "setTimeout(() => console.log('late'), 50); console.log('early')"], needs=("node",)),
        Case("node-fs", ["node", "-e", "const fs=require('fs'); console.log(fs.readFileSync('words.txt','utf8').split('\\n').length)"],
             needs=("node",)),
        Case("sqlite3", ["sqlite3", "db", "create table t(a); insert into t values (1),(2); select sum(a) from t;"],
             needs=("sqlite3",)),
        Case("sqlite3-wal", ["sqlite3", "db", "pragma journal_mode=wal; create table t(a); insert into t values (5); select * from t;"],
             needs=("sqlite3",)),
        Case("jq", ["jq", "-c", ".a", "data.json"], needs=("jq",)),
        Case("bc", sh("echo '2^20' | bc"), needs=("bc",)),
        Case("openssl", ["openssl", "dgst", "-sha256", "words.txt"], needs=("openssl",)),
        Case("curl", ["curl", "-s", f"http://127.0.0.1:{PORT_MARK}/words.txt"], needs=("curl",), http=True),
        Case("wget", ["wget", "-q", "-O", "-", f"http://127.0.0.1:{PORT_MARK}/words.txt"], needs=("wget",), http=True),
    ]
    for name, code in PY.items():
        c.append(Case(f"python3-{name}", ["python3", "-c", code], needs=("python3",),
                      http=PORT_MARK in code, deterministic=name not in ("alarm",)))
    return c


# -- the fixture every case starts from ---------------------------------------------------
def populate(work: Path) -> None:
    work.mkdir(parents=True)
    (work / "words.txt").write_text(WORDS)
    (work / "hello.c").write_text(HELLO_C)
    (work / "Makefile").write_text(MAKEFILE)
    (work / "data.json").write_text('{"a": [1, {"b": "c"}], "d": 4}\n')
    (work / "script.sh").write_text("#!/bin/sh\necho script \"$1\"\n")
    (work / "script.sh").chmod(0o755)
    (work / "sub").mkdir()
    (work / "sub" / "other.txt").write_text(WORDS.replace("fig", "FIG"))
    (work / "sub" / "empty").write_text("")


def environment(work: Path) -> dict[str, str]:
    keep = {k: os.environ[k] for k in ("USER", "LOGNAME") if k in os.environ}
    return {**keep, "PATH": PATH, "HOME": str(work), "LANG": "C", "LC_ALL": "C", "TZ": "UTC", "TERM": "dumb",
            "GIT_CONFIG_NOSYSTEM": "1", "TTDBG_TRACE_DIR": str(work.parent / "traces")}


@dataclass
class Result:
    name: str
    verdict: str = "pass"
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.problems and not self.warnings


def _run(argv: list[str], cwd: Path, env: dict[str, str], stdin: bytes, timeout: float) -> tuple[int, bytes, bytes]:
    try:
        p = subprocess.run(argv, cwd=cwd, env=env, input=stdin, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return -999, e.stdout or b"", e.stderr or b""
    status = p.returncode if p.returncode >= 0 else 128 - p.returncode
    return status, p.stdout, p.stderr


def _short(b: bytes) -> str:
    s = b.decode("utf-8", "replace").strip().replace("\n", "\\n")
    return s[:120] + ("..." if len(s) > 120 else "")


TTDBG_LINE = re.compile(rb"^ttdbg: .*$", re.M)
TTDBG_LINES = re.compile(rb"^ttdbg: .*\n?", re.M)


def run_case(case: Case, base: Path, port: int, timeout: float) -> Result:
    r = Result(case.name)
    start = time.perf_counter()
    argv = [a.replace(PORT_MARK, str(port)) for a in case.argv]
    if "/" not in argv[0]:
        prog = shutil.which(argv[0], path=PATH)
        assert prog is not None
        argv[0] = prog
    t = case.timeout or timeout
    work = base / case.name / "work"
    trace = base / case.name / "trace"
    env = environment(work)

    populate(work)
    n_status, n_out, n_err = _run(argv, work, env, case.stdin, t)
    shutil.rmtree(work)
    populate(work)
    r_status, r_out, r_err = _run([*TTDBG, "record", "-q", "-o", str(trace), *argv], work, env, case.stdin, t * 5)
    r.warnings = [m.decode("utf-8", "replace") for m in TTDBG_LINE.findall(r_err)]
    if r_status == -999:
        r.problems.append("record timed out")
    elif r_status != n_status:
        r.problems.append(f"status native {n_status} record {r_status} (stderr: {_short(TTDBG_LINE.sub(b'', r_err))})")
    if case.deterministic and r_status != -999 and r_out != n_out:
        r.problems.append(f"stdout native {_short(n_out)!r} record {_short(r_out)!r}")
    if (trace / "events.log").exists():
        p_status, p_out, p_err = _run([*TTDBG, "replay", "-a", str(trace)], base, env, b"", t * 5)
        guest_err = TTDBG_LINES.sub(b"", r_err)
        if p_status != r_status:
            r.problems.append(f"status record {r_status} replay {p_status} ({_short(p_err)})")
        elif p_out != r_out:
            r.problems.append(f"stdout record {_short(r_out)!r} replay {_short(p_out)!r}")
        elif TTDBG_LINES.sub(b"", p_err) != guest_err:
            r.problems.append(f"stderr record {_short(guest_err)!r} replay {_short(p_err)!r}")
    else:
        r.problems.append("no trace")
    shutil.rmtree(base / case.name, ignore_errors=True)
    r.seconds = time.perf_counter() - start
    r.verdict = "FAIL" if r.problems else "WARN" if r.warnings else "pass"
    return r


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve_http(directory: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "words.txt").write_text(WORDS)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Quiet(*a, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", "-j", type=int, default=1)
    ap.add_argument("-k", action="append", default=[], help="only cases whose name contains this (repeatable)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every problem and warning")
    ap.add_argument("--timeout", type=float, default=60.0, help="native seconds per case (record/replay get 5x)")
    args = ap.parse_args()
    todo, missing = [], []
    for case in cases():
        if args.k and not any(k in case.name for k in args.k):
            continue
        absent = [n for n in (case.argv[0], *case.needs) if "/" not in n and shutil.which(n, path=PATH) is None]
        (missing if absent else todo).append(case)
    if args.list:
        for case in todo:
            print(case.name)
        return 0
    if not todo:
        print("survey: no case selected", file=sys.stderr)
        return 2
    base = Path(tempfile.mkdtemp(prefix="ttdbg-survey-"))
    server, port = serve_http(base / "www")
    results: list[Result] = []
    try:
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            for r in pool.map(lambda c: run_case(c, base, port, args.timeout), todo):
                results.append(r)
                warned = [f"{len(r.warnings)} ttdbg line(s): {r.warnings[0]}"] if r.warnings else []
                detail = "; ".join(r.problems + warned)
                print(f"{r.name:24} {r.verdict:5} {r.seconds:6.1f}s  {detail if args.verbose else detail[:100]}",
                      flush=True)
    finally:
        server.shutdown()
        shutil.rmtree(base, ignore_errors=True)
    passed = sum(r.passed for r in results)
    print(f"\n{passed}/{len(results)} passed ({100 * passed / len(results):.1f}%): same output and status as native, "
          f"no ttdbg warning, replay exact" + (f"; skipped (not installed): {', '.join(c.name for c in missing)}"
                                                if missing else ""))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
