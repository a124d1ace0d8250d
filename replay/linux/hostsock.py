"""The host's socket calls on raw bytes, through libc (ctypes).

Used only inside the HostIO calls the socket handlers build, so only while
recording: the guest's own sockaddr, option and message bytes go to the host
kernel unchanged and what it answers comes back as bytes (then logged).
Each function returns a result (>= 0) or -errno, never raises OSError.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_socklen = ctypes.c_uint32
_libc.sendmsg.restype = _libc.recvmsg.restype = ctypes.c_ssize_t


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _MsgHdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", _socklen), ("iov", ctypes.POINTER(_IoVec)),
                ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


def _check(result: int) -> int:
    return result if result >= 0 else -(ctypes.get_errno() or 5)


def _buf(data: bytes) -> ctypes.Array:
    return ctypes.create_string_buffer(data, max(len(data), 1))


def socket(domain: int, type_: int, protocol: int) -> int:
    return _check(_libc.socket(domain, type_, protocol))


def socketpair(domain: int, type_: int, protocol: int) -> tuple[int, tuple[int, int]]:
    pair = (ctypes.c_int * 2)()
    result = _check(_libc.socketpair(domain, type_, protocol, pair))
    return result, (pair[0], pair[1])


def with_addr(name: str, fd: int, addr: bytes) -> int:
    """bind or connect."""
    return _check(getattr(_libc, name)(fd, _buf(addr), _socklen(len(addr))))


def listen(fd: int, backlog: int) -> int:
    return _check(_libc.listen(fd, backlog))


def shutdown(fd: int, how: int) -> int:
    return _check(_libc.shutdown(fd, how))


def accept4(fd: int, addrlen: int, flags: int) -> tuple[int, bytes, int]:
    """(new fd or -errno, the peer address, its full length)."""
    buf = ctypes.create_string_buffer(max(addrlen, 1))
    length = _socklen(addrlen)
    result = _check(_libc.accept4(fd, buf, ctypes.byref(length), flags))
    return result, buf.raw[:min(addrlen, length.value)], length.value


def sockname(name: str, fd: int, addrlen: int) -> tuple[int, bytes, int]:
    """getsockname or getpeername: (0 or -errno, the address, its full length)."""
    buf = ctypes.create_string_buffer(max(addrlen, 1))
    length = _socklen(addrlen)
    result = _check(getattr(_libc, name)(fd, buf, ctypes.byref(length)))
    return result, buf.raw[:min(addrlen, length.value)], length.value


def getsockopt(fd: int, level: int, option: int, optlen: int) -> tuple[int, bytes]:
    buf = ctypes.create_string_buffer(max(optlen, 1))
    length = _socklen(optlen)
    result = _check(_libc.getsockopt(fd, level, option, buf, ctypes.byref(length)))
    return result, buf.raw[:min(optlen, length.value)]


def setsockopt(fd: int, level: int, option: int, value: bytes) -> int:
    return _check(_libc.setsockopt(fd, level, option, _buf(value), _socklen(len(value))))


def sendmsg(fd: int, data: bytes, addr: bytes, control: bytes, flags: int) -> int:
    payload = _buf(data)
    iov = _IoVec(ctypes.addressof(payload), len(data))
    name = _buf(addr)
    ctl = _buf(control)
    msg = _MsgHdr(ctypes.addressof(name) if addr else None, len(addr), ctypes.pointer(iov), 1,
                  ctypes.addressof(ctl) if control else None, len(control), 0)
    return _check(_libc.sendmsg(fd, ctypes.byref(msg), flags))


def recvmsg(fd: int, size: int, addrlen: int, controllen: int,
            flags: int) -> tuple[int, bytes, bytes, int, bytes, int]:
    """(length or -errno, data, address, its full length, control bytes, msg_flags)."""
    payload = ctypes.create_string_buffer(max(size, 1))
    iov = _IoVec(ctypes.addressof(payload), size)
    name = ctypes.create_string_buffer(max(addrlen, 1))
    ctl = ctypes.create_string_buffer(max(controllen, 1))
    msg = _MsgHdr(ctypes.addressof(name) if addrlen else None, addrlen, ctypes.pointer(iov), 1,
                  ctypes.addressof(ctl) if controllen else None, controllen, 0)
    result = _check(_libc.recvmsg(fd, ctypes.byref(msg), flags))
    if result < 0:
        return result, b"", b"", 0, b"", 0
    return (result, payload.raw[:min(result, size)], name.raw[:min(addrlen, msg.namelen)], msg.namelen,
            ctl.raw[:msg.controllen], msg.flags)


def close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
