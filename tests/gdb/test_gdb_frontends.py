"""What GEF- and pwndbg-style front ends ask a real gdb, against `ttdbg serve`.

They find the memory map through `info proc mappings` (gdb must know the pid:
the stub speaks multiprocess thread-ids), then /proc/PID/maps over vFile, then
`monitor info mem`; they read `info auxv` and `info sharedlibrary`.  Each
answer is checked against another reading: the native run under gdb, the ELF
header, or the other ways to the same map - and at two positions in time,
since the map changes as the program runs (the dynamic loader maps libc).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from gdbtest_support import LINKINGS, ttdbg_env

_MAPPING = re.compile(r"^\s*(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+([rwxps-]{4})\s*(\S*)\s*$",
                      re.M)


def proc_mappings(g) -> list[tuple[int, int, str, str]]:
    """`info proc mappings` (no pid) as (start, end, perms, name) rows."""
    text = g.ok("info proc mappings").text
    rows = [(int(a, 16), int(b, 16), perms, name) for a, b, _offset, perms, name in _MAPPING.findall(text)]
    assert rows, text
    return rows


def file_offsets(g) -> set[tuple[str, int]]:
    """(file's base name, offset in it) of each file-backed row of `info proc mappings`."""
    return {(Path(name).name, int(offset, 16))
            for _a, _b, offset, _perms, name in _MAPPING.findall(g.ok("info proc mappings").text)
            if name.startswith("/")}


def remote_maps(g, tmp_path: Path, pid: int, tag: str) -> list[tuple[int, int, str, str]]:
    """/proc/PID/maps fetched with `remote get`, as (start, end, perms, name) rows."""
    local = tmp_path / f"maps-{tag}"
    g.ok(f"remote get /proc/{pid}/maps {local}")
    rows = []
    for line in local.read_text().splitlines():
        fields = line.split()
        span, perms = fields[0], fields[1]
        start, end = (int(x, 16) for x in span.split("-"))
        rows.append((start, end, perms, fields[5] if len(fields) > 5 else ""))
    return rows


def inferior_pid(g) -> int:
    groups = g.ok("-list-thread-groups").payload["groups"]
    assert len(groups) == 1, groups
    return int(groups[0]["pid"])


def recorded_pid(g) -> int:
    m = re.search(r"\(pid (\d+);", g.ok("monitor info").text)
    assert m
    return int(m.group(1))


@pytest.mark.parametrize("linking", LINKINGS)
def test_gdb_knows_the_recorded_pid(connected, linking):
    guest, server, g = connected("basic", linking)
    pid = recorded_pid(g)
    assert inferior_pid(g) == pid
    assert f"process {pid}" in g.ok("info inferiors").text
    info = g.ok("info proc").text
    assert f"process {pid}" in info
    assert f"exe = '{guest.binary}'" in info, info
    assert f"cmdline = '{guest.binary}'" in info, info
    threads = g.ok("-thread-info").payload["threads"]
    assert [t["target-id"] for t in threads] == [f"Thread {pid}.{pid}"]


def test_maps_three_ways_forwards_and_back(connected, tmp_path):
    """info proc mappings == /proc/PID/maps == monitor info mem, at the start and at
    main; libc is mapped at main but not at the start, and gone again after going back."""
    guest, server, g = connected("basic", "dynamic")
    pid = inferior_pid(g)

    def check_here(tag: str) -> set[str]:
        rows = proc_mappings(g)
        assert rows == remote_maps(g, tmp_path, pid, tag)
        mem = monitor_info_mem(g)
        for start, end, perms, _ in rows:          # every mapping lies in an info-mem run of its protection
            covering = [m for m in mem if m[0] <= start and end <= m[1]]
            assert len(covering) == 1, (hex(start), mem)
            assert covering[0][2] == "u" + perms[:2], (perms, covering)
        return {Path(name).name for *_, name in rows if name.startswith("/")}

    at_start = check_here("start")
    assert guest.binary.name in at_start and "libc.so.6" not in at_start, at_start
    g.ok("break main")
    assert g.ok("continue").func == "main"
    at_main = check_here("main")
    assert {"libc.so.6", "ld-linux-x86-64.so.2", guest.binary.name} <= at_main, at_main
    stop = g.ok("reverse-continue")
    assert "No more reverse-execution history" in stop.text, g.dump()
    assert check_here("back") == at_start


def monitor_info_mem(g) -> list[tuple[int, int, str]]:
    """QEMU's format, parsed as GEF parses it: `start-end size attrs`."""
    out = []
    for line in g.ok("monitor info mem").text.splitlines():
        span, size, attrs = line.split()
        start, end = (int(x, 16) for x in span.split("-"))
        assert int(size, 16) == end - start
        out.append((start, end, attrs))
    assert out
    assert all(a[1] <= b[0] for a, b in zip(out, out[1:])), "not in address order"
    return out


def test_mappings_match_a_native_run(connected, native):
    """At main the replay maps the same files as the program run natively under gdb."""
    guest, server, g = connected("basic", "dynamic")
    g.ok("break main")
    g.ok("continue")
    replayed = {Path(name).name for *_, name in proc_mappings(g) if name.startswith("/")}
    _, ng = native("basic", "dynamic")
    natively = {Path(name).name for *_, name in proc_mappings(ng) if name.startswith("/")}
    assert replayed == natively


@pytest.mark.parametrize("linking", LINKINGS)
def test_info_auxv(connected, linking):
    guest, server, g = connected("basic", linking)
    text = g.ok("info auxv").text
    entries = {m.group(1): m.group(2) for m in re.finditer(r"^\d+\s+(AT_\w+)\s+.*?\s(0x[0-9a-f]+|\d+)\b", text, re.M)}
    assert entries.get("AT_PAGESZ") == "4096", text
    assert f'"{guest.binary}"' in text                          # AT_EXECFN
    if linking == "static":                                     # the ELF header's e_entry, read independently
        e_entry = int.from_bytes(guest.binary.read_bytes()[24:32], "little")
        assert int(entries["AT_ENTRY"], 16) == e_entry
    # the same vector as /proc/PID/auxv
    pid = inferior_pid(g)
    local = Path(server.stderr_path).with_name(f"auxv-{linking}")
    g.ok(f"remote get /proc/{pid}/auxv {local}")
    raw = local.read_bytes()
    pairs = [(int.from_bytes(raw[i:i + 8], "little"), int.from_bytes(raw[i + 8:i + 16], "little"))
             for i in range(0, len(raw), 16)]
    assert (6, 4096) in pairs and pairs[-1] == (0, 0)


def test_info_sharedlibrary_matches_native_and_goes_back(connected, native):
    guest, server, g = connected("basic", "dynamic")
    g.ok("break main")
    g.ok("continue")
    names = re.compile(r"(\S+\.so[.\d]*)\s*$", re.M)
    replayed = {Path(n).name for n in names.findall(g.ok("info sharedlibrary").text)}
    assert {"libc.so.6", "ld-linux-x86-64.so.2"} <= replayed
    _, ng = native("basic", "dynamic")
    natively = {Path(n).name for n in names.findall(ng.ok("info sharedlibrary").text)}
    assert replayed == natively
    g.ok("reverse-continue")
    back = {Path(n).name for n in names.findall(g.ok("info sharedlibrary").text)}
    assert "libc.so.6" not in back, back


def test_proc_files_never_come_from_the_host(connected, tmp_path):
    guest, server, g = connected("basic", "static")
    pid = inferior_pid(g)
    reply = g.cmd(f"remote get /proc/{pid}/mountinfo {tmp_path / 'mountinfo'}")
    assert reply.error and "No such file" in reply.error, reply.text
    reply = g.cmd(f"remote get /proc/1/maps {tmp_path / 'init-maps'}")
    assert reply.error, "the host's /proc/1/maps leaked"


def test_continue_then_commands_see_a_stopped_thread(connected):
    """After `continue` the thread is stopped (no "Selected thread is running")."""
    guest, server, g = connected("basic", "static")
    g.ok("continue")
    for command in ("info registers rip", "x/2i $pc", "info proc mappings", "reverse-stepi", "stepi"):
        g.ok(command)
    threads = g.ok("-thread-info").payload["threads"]
    assert threads[0]["state"] == "stopped"


def test_serve_prints_its_port_and_ends_on_sigterm(gdb_guest, gdb, tmp_path):
    guest = gdb_guest("basic", "static")
    proc = subprocess.Popen([sys.executable, "-m", "ttdbg", "serve", str(guest.trace), "--port", "0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=tmp_path, env=ttdbg_env(tmp_path), text=True)
    try:
        line = proc.stdout.readline()
        m = re.fullmatch(r"ttdbg-serve port=(\d+)\n", line)
        assert m, line
        g = gdb(guest.binary)
        g.connect(f"127.0.0.1:{m.group(1)}")
        g.ok("stepi")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert "stopped (SIGTERM)" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


_SEGMENTS = ("cs", "ss", "ds", "es", "fs", "gs")


def segment_registers(g) -> dict[str, int]:
    text = g.ok("info registers " + " ".join(_SEGMENTS)).text
    values = {m.group(1): int(m.group(2), 16) for m in re.finditer(r"^(\w+)\s+(0x[0-9a-f]+)", text, re.M)}
    assert set(values) == set(_SEGMENTS), text
    return values


def test_segment_registers_are_linuxs_and_match_native(connected, native):
    """cs 0x33, ss 0x2b (Linux's user selectors), the others 0, as in the native run;
    at the first instruction, at main, and after going back; fs_base is the TLS."""
    guest, server, g = connected("basic", "static")
    linux = {"cs": 0x33, "ss": 0x2B, "ds": 0, "es": 0, "fs": 0, "gs": 0}
    assert segment_registers(g) == linux
    g.ok("break main")
    g.ok("continue")
    assert segment_registers(g) == linux
    assert int(g.ok("print/x $fs_base").text.split("=")[-1], 16) != 0
    _, ng = native("basic", "static")
    assert segment_registers(ng) == linux
    g.ok("reverse-stepi")
    assert segment_registers(g) == linux


def test_mapping_offsets_match_a_native_run(connected, native, tmp_path):
    """At main each mapped file shows the same file offsets as natively (ld.so's
    mappings, libc's, the program's); device and inode are 00:00 0 (not in the trace)."""
    guest, server, g = connected("basic", "dynamic")
    g.ok("break main")
    g.ok("continue")
    replayed = file_offsets(g)
    _, ng = native("basic", "dynamic")
    natively = file_offsets(ng)
    assert replayed == natively
    assert any(offset for _name, offset in replayed), replayed
    lines = remote_lines = (tmp_path / "maps")
    g.ok(f"remote get /proc/{inferior_pid(g)}/maps {remote_lines}")
    for line in lines.read_text().splitlines():
        assert line.split()[3:5] == ["00:00", "0"], line


def status_fields(g) -> dict[str, str]:
    text = g.ok("info proc status").text
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^(\w+):\t(.*)$", text, re.M)}


def stat_fields(g) -> dict[str, str]:
    """gdb's own reading of /proc/PID/stat (`info proc stat`), by its labels."""
    text = g.ok("info proc stat").text
    return {m.group(1): m.group(2) for m in re.finditer(r"^([^:\n]+): (.*)$", text, re.M)}


def test_proc_status_and_stat_from_the_trace(connected, native):
    """`info proc status` and `info proc stat` (gdb reads /proc/PID/status and stat over
    vFile): the recorded pid, the program's name and ids, stopped under a debugger,
    as the native run shows them; `info proc all` no longer warns."""
    guest, server, g = connected("basic", "static")
    g.ok("break main")
    g.ok("continue")
    pid = recorded_pid(g)
    replayed = status_fields(g)
    _, ng = native("basic", "static")
    natively = status_fields(ng)
    for key in ("Name", "Umask", "State", "Uid", "Gid", "Threads", "SigBlk", "SigIgn", "SigCgt"):
        assert replayed[key] == natively[key], key
    assert replayed["Pid"] == replayed["Tgid"] == str(pid)
    assert int(replayed["PPid"]) > 0
    stat = stat_fields(g)
    assert stat["Process"] == str(pid)
    assert stat["Exec file"] == natively["Name"] == stat_fields(ng)["Exec file"]
    assert stat["State"] == "t"
    assert stat["Parent process"] == replayed["PPid"]
    everything = g.cmd("info proc all")
    assert not everything.error and "warning" not in everything.text.lower(), everything.text


def test_proc_status_counts_threads_here(connected):
    """Threads: in /proc/PID/status is the number of threads at this position, as
    `info threads` lists them, and goes back to 1 before they were made."""
    guest, server, g = connected("threads", "static")
    g.ok("break crunch")
    g.ok("continue")
    threads = len(g.ok("-thread-info").payload["threads"])
    assert threads > 1
    assert status_fields(g)["Threads"] == str(threads)
    g.ok("delete")
    g.ok("break main")
    g.ok("reverse-continue")
    assert status_fields(g)["Threads"] == "1"


def test_task_status_is_the_threads_own(connected, tmp_path):
    """/proc/PID/task/TID/status (pwndbg's procinfo reads it) for each live thread:
    its own name and tid, the process's tgid; a thread that is not there is ENOENT."""
    guest, server, g = connected("threads", "static")
    g.ok("break crunch")
    g.ok("continue")
    pid = recorded_pid(g)
    names = {int(t["target-id"].split(".")[-1].split()[0]): t.get("name")
             for t in g.ok("-thread-info").payload["threads"]}
    tids = sorted(names)
    assert len(tids) > 1
    for tid in tids:
        local = tmp_path / f"status-{tid}"
        g.ok(f"remote get /proc/{pid}/task/{tid}/status {local}")
        fields = dict(line.split(":\t", 1) for line in local.read_text().splitlines())
        assert fields["Pid"] == str(tid) and fields["Tgid"] == str(pid)
        if names[tid]:
            assert fields["Name"] == names[tid]
    reply = g.cmd(f"remote get /proc/{pid}/task/{max(tids) + 1000}/status {tmp_path / 'nothread'}")
    assert reply.error and "No such file" in reply.error


def test_readlink_packet_as_pwndbg_sends_it(connected):
    """pwndbg reads links with `maintenance packet vFile:readlink:HEX` where HEX ends
    with the C string's NUL: the answer is the same link as gdb's own request gets."""
    guest, server, g = connected("basic", "static")
    pid = inferior_pid(g)
    for name, expected in (("exe", str(guest.binary)), ("cwd", None)):
        path = f"/proc/{pid}/{name}\0".encode().hex().upper()
        text = g.ok(f"maintenance packet vFile:readlink:{path}").text
        m = re.search(r'received: "F([0-9a-f]+);(.*)"', text)
        assert m, text
        assert int(m.group(1), 16) == len(m.group(2)) > 0
        if expected:
            assert m.group(2) == expected


def test_proc_status_at_the_end_shows_the_thread_that_ended_it(connected):
    guest, server, g = connected("basic", "static")
    g.ok("monitor goto end")
    g.ok("maintenance flush register-cache")
    fields = status_fields(g)
    assert fields["Threads"] == "1" and fields["Pid"] == str(recorded_pid(g))
