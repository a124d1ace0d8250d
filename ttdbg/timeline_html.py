"""`ttdbg timeline [TRACE] -o trace.html [--query 'KIND ARGS...']`: a picture of the trace.

One self-contained HTML page (inline SVG, CSS and a few lines of script;
nothing fetched): the instruction axis, one row of marks per kind of
recorded event, the keyframes, and the hits of a query overlaid.  Hovering
a mark shows its icount and what it is (an SVG <title>); clicking it copies
`goto N` to the clipboard.
"""

from __future__ import annotations

import html
import shlex
from collections.abc import Callable

from replay import TraceDir, open_keyframes

from .query import QueryError, parse_question
from .query_cli import ask, runner_for
from .session import DebugSession

WIDTH = 1200
ROW = 26
LEFT = 130
_COLOURS = {"char_read": "#1f77b4", "char_write": "#2ca02c", "clock": "#9467bd", "random": "#e377c2",
            "syscall": "#7f7f7f", "file_open": "#17becf", "exception": "#d62728", "shutdown": "#000000",
            "state_hash": "#bcbd22", "keyframes": "#8c564b", "query": "#ff7f0e"}

_SCRIPT = """
document.querySelectorAll('[data-goto]').forEach(function (m) {
  m.addEventListener('click', function () {
    var text = 'goto ' + m.getAttribute('data-goto');
    var shown = document.getElementById('copied');
    shown.textContent = 'copied: ' + text;
    // The clipboard may be refused (a file:// page, no permission): then the text stays shown to copy by hand.
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text).catch(function () { shown.textContent = text; });
    }
  });
});
"""


def render(trace: TraceDir, query: str | None, say: Callable[[str], None]) -> str:
    session = DebugSession(trace)
    total = max(session.timeline.end.icount, 1)
    rows: dict[str, list[tuple[int, str]]] = {}
    for i, ev in enumerate(session.contents.events):
        kind = ev.kind.name.lower()
        if kind == "end":
            continue
        rows.setdefault(kind, []).append((ev.icount, f"#{i} {ev.describe()}"))
    if query:
        try:
            question = parse_question(shlex.split(query))
            answer = ask(runner_for(session, say), question)
        except (QueryError, ValueError) as exc:
            raise QueryError(f"--query: {exc}") from None
        rows["query"] = [(r["goto"], _hit_text(r)) for r in answer.rows]
    store = open_keyframes(trace, lambda message: None)    # (built by the query, if any; else as they are)
    if store is not None:
        rows["keyframes"] = [(k, "keyframe") for k in store.icounts]
    height = ROW * (len(rows) + 2)
    x = lambda icount: LEFT + (WIDTH - LEFT - 10) * icount / total  # noqa: E731
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" id="axis">']
    for n, (kind, marks) in enumerate(rows.items()):
        y = ROW * (n + 1)
        colour = _COLOURS.get(kind, "#333333")
        svg.append(f'<text x="4" y="{y + 5}" class="label">{html.escape(kind)} ({len(marks)})</text>')
        svg.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - 10}" y2="{y}" class="row"/>')
        for icount, text in marks[:20000]:
            svg.append(f'<rect class="mark {html.escape(kind)}" x="{x(icount) - 1:.1f}" y="{y - 8}" width="3" '
                       f'height="16" fill="{colour}" data-goto="{icount}"><title>{icount:,}: '
                       f'{html.escape(text)}</title></rect>')
    y = ROW * (len(rows) + 1)
    for k in range(11):
        icount = total * k // 10
        svg.append(f'<text x="{x(icount):.1f}" y="{y + 5}" class="tick">{icount:,}</text>')
    svg.append("</svg>")
    title = html.escape(f"ttdbg timeline: {session.program} ({total:,} instructions)")
    return ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>" + title + "</title><style>"
            "body{font-family:sans-serif;margin:1em} .label,.tick{font-size:11px} .tick{text-anchor:middle}"
            ".row{stroke:#ddd} .mark{cursor:pointer} .mark:hover{stroke:#000}</style></head><body>"
            f"<h3>{title}</h3><p>Hover a mark for its instruction count; click to copy <code>goto N</code>. "
            "<span id='copied'></span></p>" + "".join(svg) + "<script>" + _SCRIPT + "</script></body></html>\n")


def _hit_text(row: dict) -> str:
    where = row.get("function") or ""
    if row.get("file"):
        where += f" at {row['file']}:{row['line']}"
    extra = ", ".join(f"{k}={row[k]}" for k in ("old", "new", "value", "return") if row.get(k) is not None)
    return f"hit #{row['index']} {where} {extra}".strip()


def write_timeline(trace: TraceDir, output: str, query: str | None, say: Callable[[str], None]) -> int:
    page = render(trace, query, say)
    try:
        with open(output, "w", encoding="utf-8") as f:
            f.write(page)
    except OSError as exc:
        say(f"cannot write {output}: {exc.strerror}")
        return 66
    say(f"wrote {output} ({len(page):,} bytes)")
    return 0
