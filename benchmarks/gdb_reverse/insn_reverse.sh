#!/bin/sh
# Hand translation of gdb.reverse/insn-reverse.exp (which refuses remote
# stubs): for each x86 test case (rdrand, rdseed), step forwards through the
# function and back with reverse-stepi, comparing all registers, under gdb's
# "record full" (native) and under ttdbg.  Prints PASS/FAIL lines per target.
#
#   GDB_TESTSUITE=/path/to/gdb-13.1/gdb/testsuite TTDBG="python3 -m ttdbg" \
#   benchmarks/gdb_reverse/insn_reverse.sh [WORKDIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${GDB_TESTSUITE:?set GDB_TESTSUITE to gdb-13.1/gdb/testsuite}"
TTDBG=${TTDBG:-python3 -m ttdbg}
work=${1:-/tmp/gdbrev-insn}
mkdir -p "$work"
prog=$work/insn-reverse
gcc -g -o "$prog" "$GDB_TESTSUITE/gdb.reverse/insn-reverse.c"
n=0
for func in rdrand rdseed; do
    echo "== native record full: $func"
    gdb -nx -batch -ex 'set pagination off' -ex "set \$_insn_func = \"$func\"" \
        -ex "start $n" -ex "break $func" -ex continue -ex 'record full' \
        -x "$here/insn_reverse_gdb.py" "$prog" 2>&1 | grep -E '^(PASS|FAIL|UNSUPPORTED|  [-+]:)' \
        | tee "$work/native-$func.txt" | grep -cE '^PASS' | sed 's/^/PASS count: /'
    grep -E '^(FAIL|UNSUPPORTED)' "$work/native-$func.txt" || :
    echo "== ttdbg: $func"
    $TTDBG record -q --force -o "$work/trace-$n" "$prog" "$n" </dev/null >/dev/null 2>&1 || :
    $TTDBG replay "$work/trace-$n" -- -nx -batch -ex 'set pagination off' \
        -ex "set \$_insn_func = \"$func\"" -ex "break $func" -ex continue \
        -x "$here/insn_reverse_gdb.py" 2>&1 | grep -E '^(PASS|FAIL|UNSUPPORTED|  [-+]:)' \
        | tee "$work/ttdbg-$func.txt" | grep -cE '^PASS' | sed 's/^/PASS count: /'
    grep -E '^(FAIL|UNSUPPORTED)' "$work/ttdbg-$func.txt" || :
    n=$((n + 1))
done
