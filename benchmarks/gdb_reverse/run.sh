#!/bin/sh
# Run gdb's gdb.reverse tests (or DIR/NAME.exp from elsewhere in gdb's
# testsuite) one .exp file at a time, either natively (gdb's
# own "record full") or against ttdbg (boards/ttdbg.exp), and keep each file's
# gdb.sum and gdb.log.  Not part of the pytest suite: it needs gdb's sources.
#
#   GDB_TESTSUITE=/path/to/gdb-13.1/gdb/testsuite \
#   TTDBG="/path/to/venv/bin/python -m ttdbg" \
#   benchmarks/gdb_reverse/run.sh native|ttdbg [NAME.exp ...]
#
# WORKDIR (default /tmp/gdbrev-BOARD) is the DejaGnu build directory; results
# land in WORKDIR/results/NAME.{sum,log}.  PER_TEST_TIMEOUT (seconds, default
# 900) bounds each .exp file.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
board=${1:?usage: run.sh native|ttdbg|ttdbg-precsave [NAME.exp ...]}
shift
: "${GDB_TESTSUITE:?set GDB_TESTSUITE to gdb-13.1/gdb/testsuite}"
GDB=${GDB:-$(command -v gdb)}
GDB_DATA_DIRECTORY=${GDB_DATA_DIRECTORY:-/usr/share/gdb}
WORKDIR=${WORKDIR:-/tmp/gdbrev-$board}
PER_TEST_TIMEOUT=${PER_TEST_TIMEOUT:-900}
export TTDBG="${TTDBG:-python3 -m ttdbg}"

mkdir -p "$WORKDIR/results"
cd "$WORKDIR"
if [ ! -f site.exp ]; then
    "$GDB_TESTSUITE/configure" >configure.log 2>&1
    make site.exp >/dev/null
    echo "lappend boards_dir $here/boards" >>site.exp
fi
case $board in
    native) board_args= ;;
    ttdbg-precsave) board_args=--target_board=ttdbg-precsave ;;
    ttdbg) board_args=--target_board=ttdbg ;;
    *) echo "run.sh: board must be native, ttdbg or ttdbg-precsave" >&2; exit 2 ;;
esac
if [ $# -eq 0 ]; then
    set -- $(cd "$GDB_TESTSUITE/gdb.reverse" && ls *.exp)
fi
for exp in "$@"; do
    case $exp in */*) ;; *) exp=gdb.reverse/$exp ;; esac
    name=$(basename "$exp" .exp)
    start=$(date +%s)
    rc=0
    timeout -k 10 "$PER_TEST_TIMEOUT" runtest $board_args GDB="$GDB" \
        GDB_DATA_DIRECTORY="$GDB_DATA_DIRECTORY" "$exp" >/dev/null 2>&1 || rc=$?
    cp gdb.sum "results/$name.sum" 2>/dev/null || :
    cp gdb.log "results/$name.log" 2>/dev/null || :
    [ $rc -eq 124 ] && echo "TIMEOUT after ${PER_TEST_TIMEOUT}s" >>"results/$name.sum"
    counts=$(grep -E '^(PASS|FAIL|KPASS|KFAIL|XPASS|XFAIL|UNSUPPORTED|UNRESOLVED|UNTESTED|ERROR|TIMEOUT)' "results/$name.sum" \
        | sed 's/:.*//; s/ .*//' | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')
    echo "$name: ${counts:-nothing} ($(($(date +%s) - start))s)"
done
