"""Sockets: socket, socketpair, bind, listen, accept, connect, the send and
receive calls, names, options and shutdown.

A guest socket is a real host socket while recording (AF_UNIX, AF_INET,
AF_INET6 and AF_NETLINK): every call reaches the host kernel with the guest's
own bytes (hostsock.py) and its result, with every byte received and every
address or option the kernel wrote back, is one SYSCALL event.  The replay
answers from the log and never touches the network.  read/write on a socket
go through the same CHAR_READ/CHAR_WRITE events as a terminal's.

The host socket is always non-blocking: a guest socket that blocks waits in
HostIO's Waiter, which polls Ctrl-C, then tries again (SO_RCVTIMEO and
SO_SNDTIMEO bound the wait as on Linux).  SCM_RIGHTS between the two ends
of an AF_UNIX socketpair the recording made (so between its tasks, after
fork) is kernel state: the open files sent wait at the peer end and become
fds there at its next recvmsg that receives bytes, deterministically; the
bytes themselves go through the host socket.  Other control messages, or
SCM_RIGHTS on other sockets, are refused with ENOSYS and the one-line
warning on send; the host's are dropped with MSG_CTRUNC on receive.

Socket calls on descriptors that are not sockets get the kernel's answer:
EBADF for a bad fd, ENOTSOCK for any other (bash calls getpeername(0) to
learn whether stdin is a network connection).  Only the inherited
stdin/stdout/stderr can be real sockets the guest did not make (a program
started by inetd): whether one is is asked of the host (logged), and a
socket call on it is refused with ENOSYS and the warning.
"""

from __future__ import annotations

import errno
import os
import stat as _stat
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..events import ClockSource, FileKind
from . import hostsock
from . import signals as sig
from .abi import ERESTARTSYS, EWAIT, Args, Handler, errno_of, s32
from .files import O_NONBLOCK, O_RDWR, OpenFile, SocketInfo, woke
from .itimer import CLOCK_MONOTONIC
from .sys_fdio import gather, iovecs
from .sys_open import release
from .sysnames import SYSCALL_NUMBERS as N
from .tasks import Wait, WaitKind

if TYPE_CHECKING:
    from ..hostio import Waiter, Writes
    from .kernel import LinuxKernel

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
DOMAINS = {AF_UNIX: "AF_UNIX", AF_INET: "AF_INET", AF_INET6: "AF_INET6", AF_NETLINK: "AF_NETLINK"}
SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET = 1, 2, 5
SOCK_NONBLOCK, SOCK_CLOEXEC = 0o4000, 0o2000000
MSG_PEEK, MSG_CTRUNC, MSG_DONTWAIT, MSG_WAITALL, MSG_NOSIGNAL = 0x2, 0x8, 0x40, 0x100, 0x4000
SOL_SOCKET, SO_ERROR, SO_RCVTIMEO, SO_SNDTIMEO = 1, 4, 20, 21
POLLIN, POLLOUT = 0x1, 0x4
MAX_ADDR = 128                   # sizeof(struct sockaddr_storage)
MSGHDR = struct.Struct("<QI4xQQQQi4x")    # name, namelen, iov, iovlen, control, controllen, flags
MMSGHDR_SIZE = 64                # struct msghdr + unsigned msg_len (+ padding)
UIO_MAXIOV = 1024

# The calls whose first argument is a socket fd.
ON_SOCKET_FD = ("connect", "accept", "accept4", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
                "recvmmsg", "shutdown", "bind", "listen", "getsockname", "getpeername", "setsockopt",
                "getsockopt")


# -- calls on descriptors that are not sockets of the guest's making ------------------------
def _not_a_socket(k: LinuxKernel, name: str, fd: int) -> int:
    f = k.fds.get(fd)
    if f is None:
        return -errno.EBADF
    if f.std_stream is None:
        return -errno.ENOTSOCK

    def call(hfd: int) -> tuple[int, tuple]:
        try:
            mode = os.fstat(hfd).st_mode
        except OSError as exc:
            return errno_of(exc), ()
        return (-errno.ENOSYS if _stat.S_ISSOCK(mode) else -errno.ENOTSOCK), ()
    result = k.host_fd_syscall(N[name], f, call)
    if result == -errno.ENOSYS:
        k.warn_once(f"sock{name}", f"{name} on a socket is not supported; returning -ENOSYS")
    return result


SocketHandler = Callable[["LinuxKernel", OpenFile, Args], int]


def _on_socket(name: str, body: SocketHandler) -> Handler:
    """The handler of a call on a socket fd: `body` runs for a socket the guest made."""
    def handler(k: LinuxKernel, a: Args) -> int:
        f = k.fds.get(s32(a[0]))
        if f is None or f.socket is None:
            return _not_a_socket(k, name, s32(a[0]))
        return body(k, f, a)
    return handler


# -- the host side (record only) ------------------------------------------------------------
def _host(k: LinuxKernel, name: str, files: list[OpenFile | None], call,
          new_files: tuple[OpenFile, ...] = (), waits: bool = False, events: int = 0) -> int:
    """The call on the host (recording) or from the log.  One that `waits` may
    be cut by the interval timer's SIGALRM: restarted after its handler if
    that has SA_RESTART, else EINTR (abi.ERESTARTSYS).  While other threads
    may run, one waiting for `events` on its socket blocks this thread
    instead (made again when the socket is ready); the call's Waiter given a
    zero timeout first (wait([], 0)) keeps the wait on the host."""
    block = waits and bool(events) and k.can_block()
    if files and files[0] is not None:
        woke(files[0])
    result, writes = k.host_wait_syscall(N[name], files, call, new_files,
                                         k.interrupt_at() if waits else None, block)
    if result == -EWAIT:
        fd = next(fd for fd, f in k.fds.items() if f is files[0])
        k.block(Wait(WaitKind.SOCKET, fds=((fd, events),)))
    k.apply_writes(writes)
    if waits and k.interrupted(result):
        return -ERESTARTSYS
    return result


def _timeout_ms(hfd: int, option: int) -> int | None:
    """SO_RCVTIMEO/SO_SNDTIMEO of the host socket in ms; None when unset."""
    result, raw = hostsock.getsockopt(hfd, SOL_SOCKET, option, 16)
    if result < 0 or len(raw) < 16:
        return None
    sec, usec = struct.unpack("<qq", raw)
    ms = sec * 1000 + (usec + 999) // 1000
    return ms or None


def _retry(wait: Waiter, hfd: int, events: int, blocking: bool, op: Callable[[], tuple]) -> tuple:
    """op() until it no longer answers EAGAIN, waiting for `events` between
    tries while the guest's socket blocks (bounded by the socket's timeout)."""
    timeout = _timeout_ms(hfd, SO_RCVTIMEO if events == POLLIN else SO_SNDTIMEO) if blocking else None
    if timeout is not None:
        wait([], 0)         # a socket timeout: the wait stays on the host, where it can time out
    while True:
        out = op()
        if out[0] != -errno.EAGAIN or not blocking:
            return out
        if not wait([(hfd, events)], timeout) and timeout is not None:
            return out


def _blocking(f: OpenFile, flags: int = 0) -> bool:
    return not f.flags & O_NONBLOCK and not flags & MSG_DONTWAIT


def _new_socket(k: LinuxKernel, info: SocketInfo, flags: int) -> OpenFile:
    return OpenFile(k.fds.new_handle(), FileKind.CHAR, "socket:", O_RDWR | (flags & O_NONBLOCK), socket=info)


def _addr_in(k: LinuxKernel, ptr: int, length: int) -> bytes | int:
    """The sockaddr the guest passes, or -errno."""
    if length > MAX_ADDR or length < 0:
        return -errno.EINVAL
    if not k.can_read(ptr, length):
        return -errno.EFAULT
    return k.read(ptr, length)


def _addr_out_len(k: LinuxKernel, ptr: int, len_ptr: int) -> int:
    """The room the guest gives for an address (its *addrlen), or -errno."""
    if not ptr:
        return 0
    if not k.can_write(len_ptr, 4):
        return -errno.EFAULT
    length = s32(int.from_bytes(k.read(len_ptr, 4), "little"))
    if length < 0:
        return -errno.EINVAL
    if not k.can_write(ptr, length):
        return -errno.EFAULT
    return length


def _addr_writes(ptr: int, len_ptr: int, addr: bytes, full: int) -> Writes:
    if not ptr:
        return ()
    return ((ptr, addr), (len_ptr, struct.pack("<I", full))) if addr else ((len_ptr, struct.pack("<I", full)),)


# -- making sockets -------------------------------------------------------------------------
def _check_type(k: LinuxKernel, domain: int, type_: int) -> int:
    if type_ & ~(0xF | SOCK_NONBLOCK | SOCK_CLOEXEC):
        return -errno.EINVAL
    if domain not in DOMAINS:
        k.warn_once(f"socket{domain}", f"sockets of address family {domain} are not supported; returning -ENOSYS")
        return -errno.ENOSYS
    return 0


def sys_socket(k: LinuxKernel, a: Args) -> int:
    domain, type_, protocol = s32(a[0]), s32(a[1]), s32(a[2])
    if (bad := _check_type(k, domain, type_)) < 0:
        return bad
    f = _new_socket(k, SocketInfo(domain, type_ & 0xF, protocol), type_)
    fd = k.fds.lowest_free()

    def call(hfds: list[int | None], wait: Waiter) -> tuple[int, Writes, list[int]]:
        hfd = hostsock.socket(domain, (type_ & 0xF) | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol)
        return (fd, (), [hfd]) if hfd >= 0 else (hfd, (), [])
    result = _host(k, "socket", [], call, (f,))
    if result >= 0:
        k.fds.install(fd, f, bool(type_ & SOCK_CLOEXEC))
    return result


def sys_socketpair(k: LinuxKernel, a: Args) -> int:
    domain, type_, protocol, sv = s32(a[0]), s32(a[1]), s32(a[2]), a[3]
    if (bad := _check_type(k, domain, type_)) < 0:
        return bad
    if not k.can_write(sv, 8):
        return -errno.EFAULT
    info = SocketInfo(domain, type_ & 0xF, protocol)
    ends = (_new_socket(k, info, type_), _new_socket(k, info, type_))
    fd0 = k.fds.lowest_free()
    fd1 = k.fds.lowest_free(fd0 + 1)

    def call(hfds: list[int | None], wait: Waiter) -> tuple[int, Writes, list[int]]:
        result, pair = hostsock.socketpair(domain, (type_ & 0xF) | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol)
        return (0, ((sv, struct.pack("<ii", fd0, fd1)),), list(pair)) if result >= 0 else (result, (), [])
    result = _host(k, "socketpair", [], call, ends)
    if result >= 0 and domain == AF_UNIX:
        ends[0].peer, ends[1].peer = ends[1], ends[0]       # for SCM_RIGHTS between the recording's tasks
    if result >= 0:
        k.fds.install(fd0, ends[0], bool(type_ & SOCK_CLOEXEC))
        k.fds.install(fd1, ends[1], bool(type_ & SOCK_CLOEXEC))
    return result


def _accept(k: LinuxKernel, f: OpenFile, a: Args, flags: int, name: str) -> int:
    addr_ptr, len_ptr = a[1], a[2]
    if flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC):
        return -errno.EINVAL
    room = _addr_out_len(k, addr_ptr, len_ptr)
    if room < 0:
        return room
    new = _new_socket(k, f.socket or SocketInfo(0, 0, 0), flags)
    fd = k.fds.lowest_free()
    blocking = _blocking(f)

    def call(hfds: list[int | None], wait: Waiter) -> tuple[int, Writes, list[int]]:
        hfd = hfds[0]
        assert hfd is not None
        result, addr, full = _retry(wait, hfd, POLLIN, blocking,
                                    lambda: hostsock.accept4(hfd, room, SOCK_NONBLOCK | SOCK_CLOEXEC))
        if result < 0:
            return result, (), []
        return fd, _addr_writes(addr_ptr, len_ptr, addr, full), [result]
    result = _host(k, name, [f], call, (new,), waits=blocking, events=POLLIN)
    if result >= 0:
        k.fds.install(fd, new, bool(flags & SOCK_CLOEXEC))
    return result


def _accept4(k: LinuxKernel, f: OpenFile, a: Args) -> int:
    return _accept(k, f, a, s32(a[3]), "accept4")


def _accept0(k: LinuxKernel, f: OpenFile, a: Args) -> int:
    return _accept(k, f, a, 0, "accept")


# -- addresses and state --------------------------------------------------------------------
def _bind(k: LinuxKernel, f: OpenFile, a: Args) -> int:
    addr = _addr_in(k, a[1], s32(a[2]))
    if isinstance(addr, int):
        return addr
    return _host(k, "bind", [f], lambda hfds, wait: (hostsock.with_addr("bind", hfds[0], addr), (), []))


def _connect(k: LinuxKernel, f: OpenFile, a: Args) -> int:
    addr = _addr_in(k, a[1], s32(a[2]))
    if isinstance(addr, int):
        return addr
    blocking = _blocking(f)

    def call(hfds: list[int | None], wait: Waiter) -> tuple[int, Writes, list[int]]:
        hfd = hfds[0]
        assert hfd is not None
        result = hostsock.with_addr("connect", hfd, addr)
        if result == -errno.EINPROGRESS and blocking:
            wait([(hfd, POLLOUT)], None)
            result, raw = hostsock.getsockopt(hfd, SOL_SOCKET, SO_ERROR, 4)
            if result == 0:
                result = -int.from_bytes(raw, "little")
        elif result == -errno.EAGAIN and blocking and f.socket and f.socket.domain == AF_UNIX:
            result = _retry(wait, hfd, POLLOUT, True, lambda: (hostsock.with_addr("connect", hfd, addr),))[0]
        return result, (), []
    return _host(k, "connect", [f], call, waits=blocking)


def _listen(k: LinuxKernel, f: OpenFile, a: Args) -> int:
    backlog = s32(a[1])
    return _host(k, "listen", [f], lambda hfds, wait: (hostsock.listen(hfds[0], backlog), (), []))


def _shutdown(k: LinuxKernel, f: OpenFile, a: Args) -> int:
    how = s32(a[1])
    return _host(k, "shutdown", [f], lambda hfds, wait: (hostsock.shutdown(hfds[0], how), (), []))


def _names(name: str) -> SocketHandler:
    def body(k: LinuxKernel, f: OpenFile, a: Args) -> int:
        addr_ptr, len_ptr = a[1], a[2]
        if not addr_ptr:
            return -errno.EFAULT
        room = _addr_out_len(k, addr_ptr, len_ptr)
        if room < 0:
            return room

        def call(hfds: list[int | None], wait: Waiter) -> tuple[int, Writes, list[int]]:
            result, addr, full = hostsock.sockname(name, hfds[0], room)
            return result, (_addr_writes(addr_ptr, len_ptr, addr, full) if result >= 0 else ()), []
        return _host(k, name, [f], call)
    return body


def _getsockopt(k: LinuxKernel, f: OpenFile, a: Args) -> int:
    level, option, val_ptr, len_ptr = s32(a[1]), s32(a[2]), a[3], a[4]
    if not k.can_write(len_ptr, 4):
        return -errno.EFAULT
    room = s32(int.from_bytes(k.read(len_ptr, 4), "little"))
    if room < 0:
        return -errno.EINVAL
    room = min(room, 1 << 16)
    if not k.can_write(val_ptr, room):
        return -errno.EFAULT

    def call(hfds: list[int | None], wait: Waiter) -> tuple[int, Writes, list[int]]:
        result, value = hostsock.getsockopt(hfds[0], level, option, room)
        if result < 0:
            return result, (), []
        return result, ((val_ptr, value), (len_ptr, struct.pack("<I", len(value)))), []
    return _host(k, "getsockopt", [f], call)


def _setsockopt(k: LinuxKernel, f: OpenFile, a: Args) -> int:
    level, option, val_ptr, length = s32(a[1]), s32(a[2]), a[3], s32(a[4])
    if length < 0:
        return -errno.EINVAL
    if not k.can_read(val_ptr, min(length, 1 << 16)):
        return -errno.EFAULT
    value = k.read(val_ptr, min(length, 1 << 16))
    return _host(k, "setsockopt", [f], lambda hfds, wait: (hostsock.setsockopt(hfds[0], level, option, value),
                                                           (), []))


# -- sending --------------------------------------------------------------------------------
def _send(k: LinuxKernel, f: OpenFile, name: str, data: bytes, addr: bytes, flags: int,
          extra: Callable[[int], Writes] = lambda n: ()) -> int:
    """Send `data` (all of it on a blocking stream socket, as Linux does)."""
    blocking = _blocking(f, flags)
    stream = f.socket is not None and f.socket.type == SOCK_STREAM
    host_flags = flags | MSG_DONTWAIT | MSG_NOSIGNAL

    def call(hfds: list[int | None], wait: Waiter) -> tuple[int, Writes, list[int]]:
        hfd = hfds[0]
        assert hfd is not None
        done = 0
        while True:
            part = data[done:]
            (result,) = _retry(wait, hfd, POLLOUT, blocking,
                               lambda part=part: (hostsock.sendmsg(hfd, part, addr, b"", host_flags),))
            if result < 0:
                result = done or result
                break
            done += result
            if done >= len(data) or not (blocking and stream):
                result = done
                break
            wait([], 0)     # part was sent: the rest waits on the host (the call is not made again)
        return result, (extra(result) if result >= 0 else ()), []
    result = _host(k, name, [f], call, waits=blocking, events=POLLOUT)
    if result == -errno.EPIPE and not flags & MSG_NOSIGNAL:
        k.deliver_self_signal(sig.SIGPIPE)
    return result


def _sendto(k: LinuxKernel, f: OpenFile, a: Args) -> int:
    buf, length, flags, addr_ptr, addr_len = a[1], a[2], s32(a[3]), a[4], s32(a[5])
    if not k.can_read(buf, length):
        return -errno.EFAULT
    addr = _addr_in(k, addr_ptr, addr_len) if addr_ptr else b""
    if isinstance(addr, int):
        return addr
    return _send(k, f, "sendto", k.read(buf, length), addr, flags)


def _msghdr(k: LinuxKernel, msg: int) -> tuple | int:
    if not k.can_read(msg, MSGHDR.size):
        return -errno.EFAULT
    return MSGHDR.unpack(k.read(msg, MSGHDR.size))


SOL_SOCKET, SCM_RIGHTS = 1, 1
CMSGHDR = struct.Struct("<Qii")      # cmsg_len, cmsg_level, cmsg_type
SCM_MAX_FD = 253
MSG_CMSG_CLOEXEC = 0x40000000


def _rights(k: LinuxKernel, f: OpenFile, control: int, controllen: int) -> list[OpenFile] | int:
    """The open files an SCM_RIGHTS control message sends, or -errno.  Only between
    the two ends of a socketpair of the recording (the receiver is a task of it);
    other control messages, or other sockets, are refused with ENOSYS and a warning."""
    if not k.can_read(control, controllen):
        return -errno.EFAULT
    raw = k.read(control, controllen)
    files: list[OpenFile] = []
    at = 0
    while at + CMSGHDR.size <= controllen:
        length, level, type_ = CMSGHDR.unpack_from(raw, at)
        if length < CMSGHDR.size or at + length > controllen:
            return -errno.EINVAL
        if level != SOL_SOCKET or type_ != SCM_RIGHTS or f.peer is None:
            k.warn_once("sendmsg-control", "sendmsg with control messages other than SCM_RIGHTS on a socketpair "
                        "of the recording is not supported; returning -ENOSYS")
            return -errno.ENOSYS
        count = (length - CMSGHDR.size) // 4
        for (fd,) in struct.iter_unpack("<i", raw[at + CMSGHDR.size:at + CMSGHDR.size + 4 * count]):
            sent = k.fds.get(fd)
            if sent is None:
                return -errno.EBADF
            files.append(sent)
        at += (length + 7) & ~7
    if not files or len(files) > SCM_MAX_FD:
        return -errno.EINVAL
    return files


def _deliver_rights(k: LinuxKernel, f: OpenFile, msg: int, flags: int, control: int, room: int) -> None:
    """After a recvmsg that received something: the open files sent to this end with
    the oldest message not yet received become new fds here, in an SCM_RIGHTS control
    message (MSG_CTRUNC, and none, when the control room is too small)."""
    if not f.rights:
        return
    files = f.rights.pop(0)
    msg_flags = struct.unpack("<i", k.read(msg + 48, 4))[0]
    need = CMSGHDR.size + 4 * len(files)
    if control and room >= need and k.can_write(control, need):
        fds = []
        for sent in files:
            fd = k.fds.lowest_free()
            k.fds.install(fd, sent, bool(flags & MSG_CMSG_CLOEXEC))
            fds.append(fd)
        k.write(control, CMSGHDR.pack(need, SOL_SOCKET, SCM_RIGHTS) + struct.pack(f"<{len(fds)}i", *fds))
        k.write(msg + 40, struct.pack("<Q", (need + 7) & ~7 if room >= (need + 7) & ~7 else need))
    else:
        k.write(msg + 48, struct.pack("<i", msg_flags | MSG_CTRUNC))
    for sent in files:                  # the reference the message held
        sent.refs -= 1
        if sent.refs == 0:
            release(k, sent)


def _sendmsg_parts(k: LinuxKernel, f: OpenFile, msg: int) -> tuple[bytes, bytes, list[OpenFile]] | int:
    """(data, address, open files sent) of a struct msghdr to send, or -errno."""
    hdr = _msghdr(k, msg)
    if isinstance(hdr, int):
        return hdr
    name, namelen, iov, iovlen, control, controllen, _flags = hdr
    rights: list[OpenFile] = []
    if controllen:
        got = _rights(k, f, control, controllen)
        if isinstance(got, int):
            return got
        rights = got
    vecs = iovecs(k, iov, iovlen, too_many=errno.EMSGSIZE)
    if isinstance(vecs, int):
        return vecs
    data = gather(k, vecs)
    if isinstance(data, int):
        return data
    addr = _addr_in(k, name, namelen) if name else b""
    if isinstance(addr, int):
        return addr
    return data, addr, rights


def _in_flight(f: OpenFile, rights: list[OpenFile], result: int) -> int:
    """A message that carried open files was sent: they wait at the peer end (held by it)."""
    if rights and result >= 0 and f.peer is not None:
        for sent in rights:
            sent.refs += 1
        f.peer.rights.append(rights)
    return result


def _sendmsg(k: LinuxKernel, f: OpenFile, a: Args) -> int:
    parts = _sendmsg_parts(k, f, a[1])
    if isinstance(parts, int):
        return parts
    return _in_flight(f, parts[2], _send(k, f, "sendmsg", parts[0], parts[1], s32(a[2])))


def _sendmmsg(k: LinuxKernel, f: OpenFile, a: Args) -> int:
    """Each message in turn, as Linux does; the count of those sent."""
    vec, vlen, flags = a[1], min(a[2] & 0xFFFFFFFF, UIO_MAXIOV), s32(a[3])
    sent = 0
    for i in range(vlen):
        entry = vec + i * MMSGHDR_SIZE
        if not k.can_write(entry + MSGHDR.size, 4):
            return sent or -errno.EFAULT
        parts = _sendmsg_parts(k, f, entry)
        if isinstance(parts, int):
            return sent or parts
        result = _in_flight(f, parts[2], _send(k, f, "sendmmsg", parts[0], parts[1], flags,
                                               lambda n, at=entry: ((at + MSGHDR.size, struct.pack("<I", n)),)))
        if result < 0:
            return sent or result
        sent += 1
    return sent


# -- receiving ------------------------------------------------------------------------------
def _receive(k: LinuxKernel, f: OpenFile, name: str, size: int, addr_room: int, flags: int,
             place: Callable[[bytes, bytes, int, int], Writes]) -> int:
    """One receive of up to `size` bytes; `place(data, addr, addr_full, msg_flags)`
    says where they go in guest memory."""
    blocking = _blocking(f, flags)
    stream = f.socket is not None and f.socket.type == SOCK_STREAM
    waitall = bool(flags & MSG_WAITALL) and blocking and stream and not flags & MSG_PEEK
    host_flags = (flags & ~MSG_WAITALL) | MSG_DONTWAIT

    def call(hfds: list[int | None], wait: Waiter) -> tuple[int, Writes, list[int]]:
        hfd = hfds[0]
        assert hfd is not None
        data, addr, full, msg_flags = b"", b"", 0, 0
        while True:
            result, got, addr, full, control, msg_flags = _retry(
                wait, hfd, POLLIN, blocking,
                lambda want=size - len(data): hostsock.recvmsg(hfd, want, addr_room, 0, host_flags))
            if result < 0:
                if not data:
                    return result, (), []
                break
            data += got
            if not waitall or result == 0 or len(data) >= size:
                break
            wait([], 0)     # part was received: the rest waits on the host (the call is not made again)
        length = len(data) if waitall or stream else result
        return length, place(data, addr, full, msg_flags), []
    return _host(k, name, [f], call, waits=blocking, events=POLLIN)


def _recvfrom(k: LinuxKernel, f: OpenFile, a: Args) -> int:
    buf, length, flags, addr_ptr, len_ptr = a[1], a[2], s32(a[3]), a[4], a[5]
    if not k.can_write(buf, length):
        return -errno.EFAULT
    room = _addr_out_len(k, addr_ptr, len_ptr)
    if room < 0:
        return room

    def place(data: bytes, addr: bytes, full: int, msg_flags: int) -> Writes:
        return ((buf, data),) + _addr_writes(addr_ptr, len_ptr, addr, full)
    return _receive(k, f, "recvfrom", length, room, flags, place)


def _recvmsg_layout(k: LinuxKernel, msg: int) -> tuple[list[tuple[int, int]], int, int, int] | int:
    """(iovecs, name pointer, name room, control room) of a struct msghdr to fill."""
    hdr = _msghdr(k, msg)
    if isinstance(hdr, int):
        return hdr
    name, namelen, iov, iovlen, _control, controllen, _flags = hdr
    if not k.can_write(msg, MSGHDR.size):
        return -errno.EFAULT
    vecs = iovecs(k, iov, iovlen, too_many=errno.EMSGSIZE)
    if isinstance(vecs, int):
        return vecs
    for base, length in vecs:
        if not k.can_write(base, length):
            return -errno.EFAULT
    if name and not k.can_write(name, namelen):
        return -errno.EFAULT
    return vecs, name, namelen if name else 0, controllen


def _scatter(vecs: list[tuple[int, int]], data: bytes) -> Writes:
    writes = []
    pos = 0
    for base, length in vecs:
        chunk = data[pos:pos + length]
        if not chunk:
            break
        writes.append((base, chunk))
        pos += len(chunk)
    return tuple(writes)


def _recvmsg(k: LinuxKernel, f: OpenFile, a: Args) -> int:
    return _recvmsg_one(k, f, "recvmsg", a[1], s32(a[2]))


def _recvmsg_one(k: LinuxKernel, f: OpenFile, name_: str, msg: int, flags: int, msg_len_at: int = 0) -> int:
    """One message into the struct msghdr at `msg` (recvmmsg: its length also at `msg_len_at`)."""
    layout = _recvmsg_layout(k, msg)
    if isinstance(layout, int):
        return layout
    vecs, name, name_room, control_room = layout

    def place(data: bytes, addr: bytes, full: int, msg_flags: int) -> Writes:
        # No control messages are passed on (an SCM_RIGHTS fd would be ttdbg's): the
        # host had no room for them, so it dropped any with MSG_CTRUNC; msg_controllen 0.
        out = _scatter(vecs, data)
        out += ((msg + 8, struct.pack("<I", full if name else 0)),)
        if name and addr:
            out += ((name, addr),)
        if msg_len_at:
            out += ((msg_len_at, struct.pack("<I", len(data))),)
        return out + ((msg + 40, bytes(8)), (msg + 48, struct.pack("<i", msg_flags)))
    control = MSGHDR.unpack(k.read(msg, MSGHDR.size))[4]
    result = _receive(k, f, name_, sum(length for _b, length in vecs), name_room, flags, place)
    if result > 0 and not flags & MSG_PEEK:
        _deliver_rights(k, f, msg, flags, control, control_room)
    return result


MSG_WAITFORONE = 0x10000


def _recvmmsg(k: LinuxKernel, f: OpenFile, a: Args) -> int:
    """Each message in turn into the array, as Linux does (MSG_WAITFORONE: only the
    first may wait); the count received.  The timeout, as on Linux, is looked at only
    after each message (on CLOCK_MONOTONIC, logged)."""
    vec, vlen, flags, timeout_ptr = a[1], min(a[2] & 0xFFFFFFFF, UIO_MAXIOV), s32(a[3]), a[4]
    deadline = None
    if timeout_ptr:
        if not k.can_read(timeout_ptr, 16):
            return -errno.EFAULT
        sec, nsec = struct.unpack("<qq", k.read(timeout_ptr, 16))
        if sec < 0 or not 0 <= nsec < 1_000_000_000:
            return -errno.EINVAL
        deadline = k.clock(ClockSource.CLOCK_GETTIME, CLOCK_MONOTONIC) + sec * 1_000_000_000 + nsec
    got = 0
    for i in range(vlen):
        entry = vec + i * MMSGHDR_SIZE
        if not k.can_write(entry + MSGHDR.size, 4):
            return got or -errno.EFAULT
        one = flags | (MSG_DONTWAIT if got and flags & MSG_WAITFORONE else 0)
        result = _recvmsg_one(k, f, "recvmmsg", entry, one & ~MSG_WAITFORONE, msg_len_at=entry + MSGHDR.size)
        if result < 0:
            return got or result
        got += 1
        if deadline is not None and k.clock(ClockSource.CLOCK_GETTIME, CLOCK_MONOTONIC) >= deadline:
            break
    return got


HANDLERS: dict[str, Handler] = {
    "socket": sys_socket,
    "socketpair": sys_socketpair,
    **{name: _on_socket(name, body) for name, body in (
        ("connect", _connect), ("accept", _accept0), ("accept4", _accept4), ("sendto", _sendto),
        ("recvfrom", _recvfrom), ("sendmsg", _sendmsg), ("recvmsg", _recvmsg), ("sendmmsg", _sendmmsg),
        ("recvmmsg", _recvmmsg), ("shutdown", _shutdown), ("bind", _bind), ("listen", _listen),
        ("getsockname", _names("getsockname")), ("getpeername", _names("getpeername")),
        ("setsockopt", _setsockopt), ("getsockopt", _getsockopt))},
}
