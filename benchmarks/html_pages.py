"""winnow on raw HTML pages beside trafilatura and jusText, the extractors people use now.

Both read the same pages in one process; each one's output is scored by the set's own scorer
(``score_docs.py pages_html``: balanced accuracy, content vs boilerplate). trafilatura returns
only the main text, so each of its lines counts as content and everything it drops as boilerplate;
jusText's paragraphs not classed boilerplate count as content.
Pages per second count parsing and labelling (winnow) or extraction (trafilatura), not loading.

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
from pathlib import Path

from winnow import load_model


def winnow_rows(
    model_path: Path, pages: list[Path], together: bool = True
) -> tuple[list[dict], float]:
    """winnow's labelled units and pages/s: the pages scored together (``label_html_pages``, as
    one would label a crawl), or one ``label_html`` call a page."""
    model = load_model(model_path)
    data = [(p.name, p.read_bytes()) for p in pages]
    start = time.perf_counter()
    rows = []
    if together:
        for doc, _, units in model.label_html_pages(data):
            rows += [{"doc": doc, **u} for u in units]
    else:
        for doc, page in data:
            _, units = model.label_html(page, doc=doc)
            rows += [{"doc": doc, **u} for u in units]
    return rows, len(pages) / (time.perf_counter() - start)


def trafilatura_rows(pages: list[Path]) -> tuple[list[dict], float]:
    import trafilatura

    data = [p.read_bytes() for p in pages]
    start = time.perf_counter()
    rows = []
    for path, page in zip(pages, data, strict=True):
        text = trafilatura.extract(page) or ""
        rows += [{"doc": path.name, "text": line, "label": "event"} for line in text.splitlines()]
    return rows, len(pages) / (time.perf_counter() - start)


def justext_rows(pages: list[Path]) -> tuple[list[dict], float]:
    import justext

    stoplist = justext.get_stoplist("English")
    data = [p.read_bytes() for p in pages]
    start = time.perf_counter()
    rows = []
    for path, page in zip(pages, data, strict=True):
        try:
            paragraphs = justext.justext(page, stoplist)
        except Exception:  # jusText raises on pages it cannot parse; count them as all dropped
            paragraphs = []
        rows += [
            {"doc": path.name, "text": p.text, "label": "event"}
            for p in paragraphs
            if not p.is_boilerplate
        ]
    return rows, len(pages) / (time.perf_counter() - start)


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
    args = parser.parse_args()
    pages = sorted(args.pages.glob("page*.html"))
    scorer = args.pages.parent / "score_docs.py"
    rows, single = winnow_rows(args.model, pages, together=False)
    print(f"winnow {args.model}, one page a call: {score(scorer, rows)}; {single:.1f} pages/s")
    rows, speed = winnow_rows(args.model, pages)
    print(f"winnow {args.model}, pages together: {score(scorer, rows)}; {speed:.1f} pages/s")
    try:
        rows, anchor_speed = trafilatura_rows(pages)
    except ImportError:
        print("trafilatura not installed: anchor skipped")
        return 0
    print(f"trafilatura: {score(scorer, rows)}; {anchor_speed:.1f} pages/s")
    print(
        f"winnow speed vs trafilatura: {speed / anchor_speed:.2f}x "
        f"(one page a call: {single / anchor_speed:.2f}x)"
    )
    rows, justext_speed = justext_rows(pages)
    print(f"jusText: {score(scorer, rows)}; {justext_speed:.1f} pages/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
