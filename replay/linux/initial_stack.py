"""The initial process stack: argv, envp and the auxiliary vector.

Laid out as the Linux kernel's create_elf_tables() does, so that glibc and
musl start-up code (and gdb, through the recorded auxv) see what they expect.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY = 0, 3, 4, 5, 6, 7, 8, 9
AT_UID, AT_EUID, AT_GID, AT_EGID, AT_PLATFORM, AT_HWCAP, AT_CLKTCK = 11, 12, 13, 14, 15, 16, 17
AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN, AT_MINSIGSTKSZ = 23, 25, 26, 31, 51

@dataclass(frozen=True)
class InitialStack:
    sp: int
    auxv: bytes        # the raw auxiliary vector, as qXfer:auxv:read serves it
    arg_span: tuple[int, int] = (0, 0)    # argv's strings (/proc/self/cmdline)
    env_span: tuple[int, int] = (0, 0)    # envp's strings (/proc/self/environ)


def build_stack(stack_top: int, argv: list[bytes], envp: list[bytes], execfn: bytes,
                random16: bytes, aux: dict[int, int],
                platform: bytes = b"x86_64") -> tuple[InitialStack, list[tuple[int, bytes]]]:
    """Compute the stack image; returns (sp, auxv) and the writes to perform."""
    writes: list[tuple[int, bytes]] = []
    pos = stack_top - 16

    def push_bytes(data: bytes) -> int:
        nonlocal pos
        pos -= len(data)
        writes.append((pos, data))
        return pos

    execfn_addr = push_bytes(execfn + b"\0")
    env_addrs = [push_bytes(e + b"\0") for e in reversed(envp)][::-1]
    arg_addrs = [push_bytes(a + b"\0") for a in reversed(argv)][::-1]
    platform_addr = push_bytes(platform + b"\0") if platform else 0   # b"": no AT_PLATFORM (riscv64)
    pos &= ~15
    random_addr = push_bytes(random16)
    pos &= ~15

    auxv_pairs = dict(aux)
    auxv_pairs.update({AT_RANDOM: random_addr, AT_EXECFN: execfn_addr})
    if platform:
        auxv_pairs[AT_PLATFORM] = platform_addr
    auxv = b"".join(struct.pack("<QQ", k, v) for k, v in auxv_pairs.items()) + struct.pack("<QQ", AT_NULL, 0)
    words = [len(argv), *arg_addrs, 0, *env_addrs, 0]
    table = struct.pack(f"<{len(words)}Q", *words) + auxv
    sp = (pos - len(table)) & ~15
    writes.append((sp, table))
    arg_end = arg_addrs[-1] + len(argv[-1]) + 1 if argv else 0
    env_end = env_addrs[-1] + len(envp[-1]) + 1 if envp else 0
    arg_span = (arg_addrs[0], arg_end) if argv else (0, 0)
    env_span = (env_addrs[0], env_end) if envp else (0, 0)
    return InitialStack(sp, auxv, arg_span, env_span), writes
