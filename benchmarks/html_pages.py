"""winnow on raw HTML pages beside trafilatura and jusText, the extractors people use now.

Both read the same pages in one process; each one's output is scored by the set's own scorer
(``score_docs.py pages_html``: balanced accuracy, content vs boilerplate). trafilatura returns
only the main text, so each of its lines counts as content and everything it drops as boilerplate;
jusText's paragraphs not classed boilerplate count as content.
Pages per second count parsing and labelling (winnow) or extraction (trafilatura), not loading:
each tool reads every page ``--repeats`` times in a row and the fastest pass counts, so that no
tool pays for being measured first in a cold process (the first pass is printed beside it).

    pip install trafilatura lxml_html_clean    # the anchor only; winnow does not need it
    python benchmarks/html_pages.py MODEL [--pages ../shared/eval/pages_html]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from winnow import load_model


def timed(label: Callable[[], list[dict]], repeats: int) -> tuple[list[dict], float, float]:
    """``label()``'s rows, and the seconds of its fastest and of its first of ``repeats`` calls."""
    times, rows = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        rows = label()
        times.append(time.perf_counter() - start)
    return rows, min(times), times[0]


Pages = list[tuple[str, bytes]]


def winnow_label(model_path: Path, data: Pages, together: bool) -> Callable[[], list[dict]]:
    """winnow's labelling of the pages: scored together (``label_html_pages``, as one would label
    a crawl), or one ``label_html`` call a page."""
    model = load_model(model_path)

    def label() -> list[dict]:
        rows = []
        if together:
            for doc, _, units in model.label_html_pages(data):
                rows += [{"doc": doc, **u} for u in units]
        else:
            for doc, page in data:
                _, units = model.label_html(page, doc=doc)
                rows += [{"doc": doc, **u} for u in units]
        return rows

    return label


def trafilatura_label(data: Pages) -> Callable[[], list[dict]]:
    """trafilatura's main text of each page, each line counted as content."""
    import trafilatura

    def label() -> list[dict]:
        rows = []
        for name, page in data:
            text = trafilatura.extract(page) or ""
            rows += [{"doc": name, "text": line, "label": "event"} for line in text.splitlines()]
        return rows

    return label


def justext_label(data: Pages) -> Callable[[], list[dict]]:
    """jusText's paragraphs not classed boilerplate, counted as content."""
    import justext

    stoplist = justext.get_stoplist("English")

    def label() -> list[dict]:
        rows = []
        for name, page in data:
            try:
                paragraphs = justext.justext(page, stoplist)
            except Exception:  # jusText raises on pages it cannot parse; count them as all dropped
                paragraphs = []
            rows += [
                {"doc": name, "text": p.text, "label": "event"}
                for p in paragraphs
                if not p.is_boilerplate
            ]
        return rows

    return label


def score(scorer: Path, rows: list[dict]) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as out:
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    result = subprocess.run(
        [sys.executable, str(scorer), "pages_html", out.name],
        capture_output=True,
        text=True,
        check=True,
    )
    Path(out.name).unlink()
    return result.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--pages", type=Path, default=Path("../shared/eval/pages_html"))
    parser.add_argument(
        "--repeats", type=int, default=3, help="passes a tool makes; the fastest counts"
    )
    args = parser.parse_args()
    pages = sorted(args.pages.glob("page*.html"))
    scorer = args.pages.parent / "score_docs.py"
    n = len(pages)
    data = [(p.name, p.read_bytes()) for p in pages]

    def run(name: str, label: Callable[[], list[dict]]) -> float:
        rows, best, first = timed(label, max(args.repeats, 1))
        print(f"{name}: {score(scorer, rows)}; {n / best:.1f} pages/s (first pass {n / first:.1f})")
        return n / best

    single = run(f"winnow {args.model}, one page a call", winnow_label(args.model, data, False))
    speed = run(f"winnow {args.model}, pages together", winnow_label(args.model, data, True))
    try:
        anchor_speed = run("trafilatura", trafilatura_label(data))
    except ImportError:
        print("trafilatura not installed: anchor skipped")
        return 0
    print(
        f"winnow speed vs trafilatura: {speed / anchor_speed:.2f}x "
        f"(one page a call: {single / anchor_speed:.2f}x)"
    )
    run("jusText", justext_label(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
