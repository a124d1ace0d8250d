/* gdb_syscalls: sysnums.c for the gdb tests (they build gdb_NAME.c): a few system calls by
 * number, two of them write (gdb's `catch syscall write` stops at each). */
#include "sysnums.c"
