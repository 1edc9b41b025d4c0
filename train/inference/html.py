"""Parse an HTML page into text blocks and units, each with its DOM path and DOM feature values.

The page's visible text is cut into blocks the way a browser lays it out: block elements (``p``,
``div``, ``li``, ``td``, ``h1``...) start a new block, inline elements (``a``, ``span``, ``b``...)
never split one, ``<br>`` breaks a line inside it. Scripts, styles, templates and hidden elements
are dropped. The extracted text is the blocks joined by ``"\\n"``, and every unit's offsets index it
exactly, as ``label_article`` does for plain text. Parsing uses selectolax's lexbor engine: an
HTML5 parser that was 3x faster than lxml on real pages and, unlike libxml2, keeps content nested
deeper than 255 elements.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import WinnowError
from .segment import split_units

# Larger pages are refused rather than parsed: real article pages are well under 5 MB.
MAX_BYTES = 16 * 1024 * 1024

DROPPED = frozenset(
    [
        "head",
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "math",
        "iframe",
        "object",
        "embed",
        "canvas",
        "select",
        "textarea",
        "audio",
        "video",
        "map",
        "datalist",
    ]
)
BLOCKS = frozenset(
    [
        "html",
        "body",
        "address",
        "article",
        "aside",
        "blockquote",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "td",
        "th",
        "ul",
        "legend",
        "option",
    ]
)
# Ancestor tags and attribute values kept per block: enough for the DOM features, bounded on
# pathologically deep pages.
MAX_PATH_ELEMENTS = 24
MAX_ATTR_TOKENS = 48
# How many ancestors of a block count its text towards their share of the page's text.
SHARE_DEPTH = 8
# Open elements kept per block: enough for the path and the shares above any inline elements.
PATH_TAIL = 64
# A prose block, as jusText calls a block "good": this many words or more, few of them in links,
# ending a sentence. The page's main element is the deepest one above the prose blocks' own
# elements holding more than MAIN_SHARE of the page's prose.
PROSE_WORDS = 10
PROSE_LINK_DENSITY = 0.3
MAIN_SHARE = 0.5
_SENTENCE_END = tuple(".!?:")
_CLOSERS = "\"')]”’"
# lexbor's time grows with the square of nesting depth (100,000 levels: 10 s): deeper pages are
# refused before parsing. Elements browsers close implicitly or never open do not count.
MAX_DEPTH = 20_000
# Text blocks a page may hold. Parsing takes about 1.7 kB a block at its peak: a page of 16 MB of
# bare <p>x</p> (2,000,000 blocks) took 3.3 GB. Real pages have 200 bytes of markup a block or
# more (the densest in ../shared/eval), under 85,000 blocks at the size limit.
MAX_BLOCKS = 200_000
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)[^>]*?(/?)>")
_NOT_NESTING = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "p",
        "li",
        "td",
        "th",
        "tr",
        "dt",
        "dd",
        "option",
    ]
)
HINT_ATTRIBUTES = ("role", "itemprop", "itemtype", "rel")

# Bytes that appear in text of any ASCII-compatible encoding: all but the C0 controls (ESC
# stays for ISO-2022); pages where more than 1% of the first bytes are controls are binary.
_TEXT_BYTES = bytes([7, 8, 9, 10, 11, 12, 13, 27, *range(32, 256)])
_WHITESPACE_CHARS = " \t\r\n\f\v\u00a0\u200b"
_WHITESPACE = re.compile(f"[{_WHITESPACE_CHARS}]+")
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


class HtmlError(WinnowError):
    """An input that cannot be read as an HTML page: binary data, larger than ``MAX_BYTES``,
    nested deeper than ``MAX_DEPTH`` or holding more than ``MAX_BLOCKS`` text blocks."""


class _TooManyBlocks(Exception):
    """Raised by the walker as soon as a page holds more than ``MAX_BLOCKS`` text blocks."""


@dataclass(frozen=True)
class HtmlUnit:
    """One unit of a page: ``text == page.text[start:end]``, and where it sits in the DOM."""

    start: int
    end: int
    text: str
    block: int
    dom_path: str
    dom_tags: str
    dom_attrs: str
    link_density: float
    dom_depth: int
    block_chars: int
    dom_position: float
    parent_text_share: float
    container_text_share: float
    main_element: float

    def dom_columns(self) -> dict[str, Any]:
        """The values of the unit frame's DOM columns (``winnow.features.dom.DOM_COLUMNS``)."""
        return {
            "dom_tags": self.dom_tags,
            "dom_attrs": self.dom_attrs,
            "link_density": self.link_density,
            "dom_depth": self.dom_depth,
            "block_chars": self.block_chars,
            "dom_position": self.dom_position,
            "parent_text_share": self.parent_text_share,
            "container_text_share": self.container_text_share,
            "main_element": self.main_element,
        }


@dataclass(frozen=True)
class HtmlPage:
    """The extracted text of a page, its units, and the titles the markup declares."""

    text: str
    units: list[HtmlUnit]
    encoding: str
    title: str | None = None
    h1: str | None = None
    og_title: str | None = None


def decode_html(data: bytes, source: str = "page") -> tuple[str, str]:
    """The page as text and the encoding used: BOM, then valid UTF-8, then the declared charset,
    then a sniffed one (charset-normalizer); undecodable bytes are replaced, never fatal.

    Valid UTF-8 wins over a declared single-byte charset: pages that declare ``iso-8859-1`` and
    send UTF-8 are common, the reverse almost never decodes as valid UTF-8.
    """
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(codec, errors="replace"), codec
    head = data[:8192]
    if len(head.translate(None, _TEXT_BYTES)) > len(head) // 100:
        raise HtmlError(f"{source}: not an HTML page (binary content)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(data[:16384])
    if declared:
        try:
            codec = codecs.lookup(declared.group(1).decode("ascii")).name
            return data.decode(codec, errors="replace"), codec
        except (LookupError, UnicodeDecodeError):
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:65536]).best()
    codec = best.encoding if best is not None else "cp1252"
    return data.decode(codec, errors="replace"), codec


class _Element:
    """An open element during the walk: what blocks inside it inherit.

    Its path segment and attribute tokens are worked out only for elements that end up on a
    block's path, once each: most elements of a page hold no text of their own.
    """

    __slots__ = (
        "_attrs",
        "_segment",
        "attributes",
        "chain",
        "children",
        "index",
        "prose_below",
        "tag",
        "text_below",
    )

    def __init__(self, tag: str, attributes: dict[str, str | None], index: int) -> None:
        self.tag = tag
        self.attributes = attributes
        self.index = index
        self.children: dict[str, int] = {}
        self._segment: str | None = None
        self._attrs: tuple[str, ...] | None = None
        # Path, attribute tokens and tags from the root to here, once a block needs them.
        self.chain: tuple[str, tuple[str, ...], tuple[str, ...]] | None = None
        # Characters outside links of the blocks within SHARE_DEPTH below (see _text_shares).
        self.text_below = 0
        # Characters of the prose blocks below, at any depth (see _main_element_flags).
        self.prose_below = 0

    @property
    def segment(self) -> str:
        if self._segment is None:
            self._segment = _segment(self.tag, self.attributes, self.index)
        return self._segment

    @property
    def attrs(self) -> tuple[str, ...]:
        if self._attrs is None:
            self._attrs = _attr_tokens(self.attributes)
        return self._attrs


def _attr_tokens(attributes: dict[str, str | None]) -> tuple[str, ...]:
    tokens: list[str] = []
    for name in ("class", "id"):
        value = attributes.get(name)
        if value:
            tokens += value.lower().split()[:8]
    for name in HINT_ATTRIBUTES:
        value = attributes.get(name)
        if value:
            tokens.append(f"{name}={value.lower().rsplit('/', 1)[-1].split()[0][:40]}")
    return tuple(tokens)


def _may_hide(attributes: dict[str, str | None]) -> bool:
    """Whether an element has any attribute that can hide it: most have none."""
    return "style" in attributes or "hidden" in attributes or "aria-hidden" in attributes


def _hidden(attributes: dict[str, str | None]) -> bool:
    if "hidden" in attributes or (attributes.get("aria-hidden") or "").lower() == "true":
        return True
    style = attributes.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _segment(tag: str, attributes: dict[str, str | None], index: int) -> str:
    classes = (attributes.get("class") or "").split()
    name = f"{tag}.{classes[0]}" if classes else tag
    return f"{name}[{index}]" if index > 1 else name


class _Walker:
    """Walks the DOM once, iteratively (no recursion limit), and collects the text blocks."""

    def __init__(self) -> None:
        # Per block: its text, the innermost open elements, link density, non-link characters,
        # and how many open elements the tail leaves out (the path is bounded on deep pages).
        self.blocks: list[tuple[str, list[_Element], float, int, int]] = []
        self.stack: list[_Element] = []
        # The block being collected: its pieces of text, visible characters, those inside links.
        self.pieces: list[str] = []
        self.chars = 0
        self.link_chars = 0
        self.in_link = 0
        self.in_pre = 0

    def flush(self) -> None:
        if not self.chars:  # nothing visible: the layout whitespace between blocks
            self.pieces = []
            return
        lines = []
        for line in "".join(self.pieces).split("\n"):
            clean = line.strip() if self.in_pre else _WHITESPACE.sub(" ", line).strip()
            if clean:
                lines.append(clean)
        if lines:
            density = self.link_chars / self.chars if self.chars else 0.0
            plain = self.chars - self.link_chars
            tail = self.stack[-PATH_TAIL:]
            skipped = len(self.stack) - len(tail)
            self.blocks.append(("\n".join(lines), tail, min(density, 1.0), plain, skipped))
            if len(self.blocks) > MAX_BLOCKS:
                raise _TooManyBlocks
        self.pieces = []
        self.chars = self.link_chars = 0

    def text(self, value: str) -> None:
        if not self.in_pre:
            if not value.strip(_WHITESPACE_CHARS):  # layout between tags: most text nodes
                self.pieces.append(" ")
                return
            value = _WHITESPACE.sub(" ", value)
        self.pieces.append(value)
        visible = len(value) - value.count(" ")
        self.chars += visible
        if self.in_link:
            self.link_chars += visible

    def walk(self, root: Any) -> None:
        # Entries: a node to enter, or the element (an _Element) whose node was entered before.
        todo: list[Any] = [root]
        while todo:
            node = todo.pop()
            if isinstance(node, _Element):
                self.leave(node.tag)
                continue
            tag = node.tag
            if tag == "-text":
                value = node.text_content
                if value:
                    self.text(value)
                continue
            if tag in DROPPED or not node.is_element_node:
                continue
            attributes = node.attributes
            if attributes and _may_hide(attributes) and _hidden(attributes):
                continue
            if tag == "br":
                self.pieces.append("\n")
                continue
            todo.append(self.enter(tag, attributes))
            child = node.last_child
            while child is not None:
                todo.append(child)
                child = child.prev

    def enter(self, tag: str, attributes: dict[str, str | None]) -> _Element:
        siblings = self.stack[-1].children if self.stack else {}
        index = siblings[tag] = siblings.get(tag, 0) + 1
        if tag in BLOCKS:
            self.flush()
        element = _Element(tag, attributes, index)
        self.stack.append(element)
        if tag == "a":
            self.in_link += 1
        elif tag == "pre":
            self.in_pre += 1
        return element

    def leave(self, tag: str) -> None:
        if tag in BLOCKS:
            self.flush()
        self.stack.pop()
        if tag == "a":
            self.in_link -= 1
        elif tag == "pre":
            self.in_pre -= 1


class _BlockPlace:
    """Where a block's element sits: its DOM path, the tags above it and their attribute tokens."""

    def __init__(self, elements: list[_Element], depth: int) -> None:
        self.depth = depth
        if depth == len(elements) <= MAX_PATH_ELEMENTS:
            path, self.attrs, tags = _chain(elements)
        else:  # a deep element: only the innermost elements count
            inner = elements[-MAX_PATH_ELEMENTS:]
            path = ">".join(e.segment for e in inner)
            self.attrs = _distinct([t for e in reversed(inner) for t in e.attrs])
            tags = tuple(dict.fromkeys(e.tag for e in reversed(inner)))[::-1]
        self.dom_tags = " ".join(tags)
        self.dom_attrs = " ".join(self.attrs)
        self.dom_path = path if depth <= MAX_PATH_ELEMENTS else "…>" + path


def _chain(elements: list[_Element]) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The DOM path, distinct attribute tokens (innermost first) and distinct tags (each where it
    last occurs) of a chain of elements from the root, kept on each element: sibling blocks share
    all but their own element's part. The first ``MAX_ATTR_TOKENS`` distinct tokens of a chain are
    those of its element's tokens followed by its parent's first ``MAX_ATTR_TOKENS``."""
    known = len(elements)
    while known and elements[known - 1].chain is None:
        known -= 1
    for i in range(known, len(elements)):
        element = elements[i]
        if i == 0:
            element.chain = (element.segment, _distinct(element.attrs), (element.tag,))
        else:
            path, attrs, tags = elements[i - 1].chain  # type: ignore[misc]
            own_attrs, tag = element.attrs, element.tag
            if own_attrs:
                attrs = _distinct(own_attrs + attrs)
            if tags[-1] != tag:
                tags = (*(t for t in tags if t != tag), tag) if tag in tags else (*tags, tag)
            element.chain = (f"{path}>{element.segment}", attrs, tags)
    return elements[-1].chain  # type: ignore[return-value]


def _distinct(tokens: Sequence[str]) -> tuple[str, ...]:
    """The first ``MAX_ATTR_TOKENS`` distinct tokens, in order."""
    return tuple(dict.fromkeys(tokens))[:MAX_ATTR_TOKENS]


def _attr_string(attrs: Sequence[str]) -> str:
    """The first ``MAX_ATTR_TOKENS`` distinct attribute tokens, innermost element first."""
    return " ".join(_distinct(attrs))


def _block_element(path: list[_Element]) -> int:
    """Index in ``path`` of the innermost block element: the element the block belongs to."""
    for i in range(len(path) - 1, -1, -1):
        if path[i].tag in BLOCKS:
            return i
    return len(path) - 1


def _text_shares(
    blocks: list[tuple[str, list[_Element], float, int, int]], owners: list[int]
) -> list[tuple[float, float]]:
    """For each block, the share of the page's text outside links that lies under its parent
    element, and under its third ancestor: the story's container holds most of a page's text,
    a menu's or a teaser's container little of it (the idea of readability's container score)."""
    for (_, path, _, plain, _), own in zip(blocks, owners, strict=True):
        for element in path[max(0, own - SHARE_DEPTH) : own]:
            element.text_below += plain
    total = max(sum(block[3] for block in blocks), 1)
    shares = []
    for (_, path, _, plain, _), own in zip(blocks, owners, strict=True):
        # Both ancestors are among the SHARE_DEPTH the block counted itself under.
        parent = path[own - 1].text_below if own >= 1 else plain
        container = path[max(0, own - 3)].text_below if own >= 1 else plain
        shares.append((round(parent / total, 4), round(container / total, 4)))
    return shares


def _is_prose(text: str, density: float) -> bool:
    """A block of running text: long, mostly outside links, ending a sentence."""
    return (
        density < PROSE_LINK_DENSITY
        and text.count(" ") + 1 >= PROSE_WORDS
        and text.rstrip().rstrip(_CLOSERS).endswith(_SENTENCE_END)
    )


def _main_element_flags(blocks: list[tuple[str, list[_Element], float, int, int]]) -> list[bool]:
    """Whether each block lies under the page's main element: the deepest element above the
    prose blocks' own elements that holds more than ``MAIN_SHARE`` of the page's prose
    characters, as readability and trafilatura find the story's container (never one paragraph,
    however long; two halves make their parent the main element). Short lines inside it
    (headings, list items, specs, code) are the story's too; a page without prose has none."""
    prose = [
        (path[: _block_element(path)], plain)
        for text, path, density, plain, _ in blocks
        if _is_prose(text, density)
    ]
    for ancestors, plain in prose:
        for element in ancestors:
            element.prose_below += plain
    needed = MAIN_SHARE * sum(plain for _, plain in prose)
    main, main_depth = None, -1
    for ancestors, _ in prose:
        for depth in range(len(ancestors) - 1, main_depth, -1):
            if ancestors[depth].prose_below > needed:
                main, main_depth = ancestors[depth], depth
                break
    if main is None:
        return [False] * len(blocks)
    return [main in block[1] for block in blocks]


def nesting_depth(markup: str) -> int:
    """The deepest nesting of elements in ``markup``, read from its tags alone (no parse).

    Pages with fewer tags than ``MAX_DEPTH`` cannot nest deeper and are not scanned.
    """
    if markup.count("<") <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    for closing, tag, self_closing in _TAG.findall(markup):
        if self_closing or tag.lower() in _NOT_NESTING:
            continue
        depth = max(depth - 1, 0) if closing else depth + 1
        deepest = max(deepest, depth)
    return deepest


def _first_text(root: Any, selector: str) -> str | None:
    node = root.css_first(selector)
    if node is None:
        return None
    text = _WHITESPACE.sub(" ", node.text(deep=True)).strip()
    return text or None


def parse_html(
    data: bytes | str,
    source: str = "page",
    max_bytes: int = MAX_BYTES,
    max_chars: int | None = None,
) -> HtmlPage:
    """Parse a page into its extracted text and units; malformed markup is parsed as browsers do.

    Binary data and pages over ``max_bytes`` raise ``HtmlError`` naming ``source``. A unit longer
    than ``max_chars`` is cut into pieces, as ``split_units`` does.
    """
    from selectolax.lexbor import LexborHTMLParser

    size = len(data.encode("utf-8", errors="replace") if isinstance(data, str) else data)
    if size > max_bytes:
        raise HtmlError(
            f"{source}: page of {size / 1e6:.1f} MB is larger than the {max_bytes / 1e6:.0f} MB limit"
        )
    if isinstance(data, bytes):
        markup, encoding = decode_html(data, source)
    else:
        markup, encoding = data, "str"
    markup = markup.replace("\x00", "")
    depth = nesting_depth(markup)
    if depth > MAX_DEPTH:
        raise HtmlError(
            f"{source}: elements nested {depth:,} deep, more than the {MAX_DEPTH:,} this parser reads"
        )
    tree = LexborHTMLParser(markup)
    root = tree.root
    if root is None:
        return HtmlPage("", [], encoding)
    og = root.css_first('meta[property="og:title"]')
    og_title = _WHITESPACE.sub(" ", og.attributes.get("content") or "").strip() if og else ""
    title, h1 = _first_text(root, "title"), _first_text(root, "h1")
    walker = _Walker()
    try:
        walker.walk(root)
        walker.flush()
    except _TooManyBlocks:
        raise HtmlError(
            f"{source}: more than {MAX_BLOCKS:,} text blocks, more than this parser reads"
        ) from None
    titles = {t.lower() for t in (title, h1, og_title) if t}
    n_blocks = len(walker.blocks)
    units: list[HtmlUnit] = []
    parts: list[str] = []
    offset = 0
    owners = [_block_element(block[1]) for block in walker.blocks]
    shares = _text_shares(walker.blocks, owners)
    in_main = _main_element_flags(walker.blocks)
    for b, (text, path, density, _, skipped) in enumerate(walker.blocks):
        own = owners[b]
        place = _BlockPlace(path[: own + 1], skipped + own + 1)
        dom_attrs = place.dom_attrs
        if text.lower() in titles:
            dom_attrs = _attr_string(["hint=title", *place.attrs])
        link_density = round(density, 4)
        position = round(b / (n_blocks - 1), 4) if n_blocks > 1 else 0.0
        parent_share, container_share = shares[b]
        for segment in split_units(text, max_chars=max_chars):
            units.append(
                HtmlUnit(
                    start=offset + segment.start,
                    end=offset + segment.end,
                    text=segment.text,
                    block=b,
                    dom_path=place.dom_path,
                    dom_tags=place.dom_tags,
                    dom_attrs=dom_attrs,
                    link_density=link_density,
                    dom_depth=place.depth,
                    block_chars=len(text),
                    dom_position=position,
                    parent_text_share=parent_share,
                    container_text_share=container_share,
                    main_element=float(in_main[b]),
                )
            )
        parts.append(text)
        offset += len(text) + 1
    return HtmlPage("\n".join(parts), units, encoding, title, h1, og_title or None)
