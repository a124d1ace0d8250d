"""Compare two run.sh result directories (record full vs ttdbg), one row per .exp.

    python3 compare.py NATIVE_RESULTS TTDBG_RESULTS

Prints a Markdown table of the DejaGnu counts per file, then, per file, the
test names whose outcome differs.  The "record" / "turn on process record"
steps are left out of the comparison: on the ttdbg board the replay is always
recording, so the tests skip that step (gdb,use_precord 0).
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

OUTCOME = re.compile(r"^(PASS|FAIL|KPASS|KFAIL|XPASS|XFAIL|UNSUPPORTED|UNRESOLVED|UNTESTED|ERROR): (.*)$")
RECORD_STEP = re.compile(r": (turn on process record|record)$", re.IGNORECASE)


def outcomes(path: Path) -> dict[str, str]:
    """Test name -> outcome for one gdb.sum (missing file: nothing ran)."""
    result: dict[str, str] = {}
    if not path.exists():
        return result
    for line in path.read_text(errors="replace").splitlines():
        m = OUTCOME.match(line)
        if m and not RECORD_STEP.search(m.group(2)):
            result[m.group(2)] = m.group(1)
        elif line.startswith("TIMEOUT"):
            result["(whole file)"] = "TIMEOUT"
    return result


def summary(res: dict[str, str]) -> str:
    if not res:
        return "not run"
    return " ".join(f"{k}={v}" for k, v in sorted(Counter(res.values()).items()))


def main() -> None:
    native, ttdbg = Path(sys.argv[1]), Path(sys.argv[2])
    names = sorted({p.stem for p in native.glob("*.sum")} | {p.stem for p in ttdbg.glob("*.sum")})
    diffs: list[str] = []
    print("| test file | record full | ttdbg | same? |")
    print("|---|---|---|---|")
    for name in names:
        a, b = outcomes(native / f"{name}.sum"), outcomes(ttdbg / f"{name}.sum")
        same = "yes" if a == b else "no"
        print(f"| {name} | {summary(a)} | {summary(b)} | {same} |")
        if a != b:
            diffs.append(f"\n{name}:")
            for test in sorted(set(a) | set(b)):
                if a.get(test) != b.get(test):
                    diffs.append(f"  {a.get(test, '-'):>11} -> {b.get(test, '-'):<11} {test}")
    print("\n".join(diffs))


if __name__ == "__main__":
    main()
