"""`ttdbg timeline`: one self-contained page with the log's events, keyframes and query hits.

(Here the page is checked by parsing it; test_timeline_browser.py loads it in chromium.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from query_support import ITERATIONS, QueryTrace


class _Marks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.marks: list[dict] = []
        self.tags: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "rect":
            self.marks.append(a)
        for key in ("src", "href"):
            if key in a:
                self.sources.append(a[key])


def test_timeline_page_shows_events_and_hits(recorded: QueryTrace, tmp_path) -> None:
    if recorded.flavour != "static":
        return
    page = tmp_path / "t.html"
    run = recorded.ttdbg("timeline", recorded.trace, "-o", page, "--query", "writes watched")
    assert run.status == 0, run.err
    text = page.read_text()
    parser = _Marks()
    parser.feed(text)
    assert not parser.sources and "<script src" not in text      # nothing fetched
    kinds = {m["class"].split()[1] for m in parser.marks}
    assert {"char_read", "char_write", "query", "keyframes"} <= kinds
    hits = [int(m["data-goto"]) for m in parser.marks if "query" in m["class"]]
    assert len(hits) == ITERATIONS and hits == sorted(hits)
    assert re.search(r"<title>[\d,]+: hit #1 main at query_guest.c:\d+ old=0, new=1</title>", text)
    bad = recorded.ttdbg("timeline", recorded.trace, "-o", page, "--query", "frob")
    assert bad.status == 2 and len(bad.err.strip().splitlines()) == 1
