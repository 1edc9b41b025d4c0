"""Hand-made featurizers: cue lexicons, position in the article and context from neighbouring units.

Each is a scikit-learn transformer over a frame with the columns ``text``, ``doc_id``, ``position``
and ``doc_len``; units without an article (``doc_id`` missing) get zero position and context
features plus an indicator, at training and at inference alike. All outputs are non-negative.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer


def _words(*groups: str) -> frozenset[str]:
    return frozenset(w for g in groups for w in g.split())


MODAL_FUTURE = _words(
    "will would could should must may might shall can cannot can't won't wouldn't shouldn't "
    "'ll gonna likely unlikely expected expect expects forecast forecasts predicted predict "
    "probably possibly perhaps ought need needs"
)
HEDGES = _words(
    "perhaps maybe possibly probably arguably apparently seemingly seems seem seemed appear appears "
    "suggest suggests likely unlikely unclear doubt doubtful presumably supposedly somewhat rather "
    "think believe suspect guess feel fear hope"
)
EVALUATIVE = _words(
    "good bad great terrible best worst disaster disastrous failure failed fail wrong right important "
    "crucial absurd shameful brilliant dangerous foolish unacceptable remarkable sadly clearly "
    "obviously surely indeed simply really very too deeply truly outrageous ridiculous welcome "
    "fair unfair mistake success successful poor weak strong shame sorry tragic tragically "
    "ironically frankly honestly hopeless reckless bold wise naive cynical excellent superb "
    "stunning disappointing impressive worrying alarming troubling vital essential necessary "
    "better worse real true false nonsense myth problem problems crisis genuine"
)
FIRST_PERSON = _words("i me my mine myself we us our ours ourselves i'm i've i'd we're we've")
SECOND_PERSON = _words("you your yours yourself yourselves you're you've you'll")
IMPERATIVE_START = _words(
    "sign subscribe click read share follow join download watch listen get learn register log "
    "see try find discover don't let tap visit contact email call send support donate enter "
    "continue view accept manage browse check explore"
)
REPORTING = _words(
    "said says told reported reports according announced confirmed stated added claimed denied "
    "alleged noted insisted explained warned testified wrote tweeted posted"
)
PAGE_FURNITURE = _words(
    "subscribe subscription newsletter cookie cookies privacy terms advertisement advertise share "
    "comment comments sign log login menu home copyright rights reserved photo photograph credit "
    "credits related click follow facebook twitter instagram whatsapp linkedin email print "
    "read more trending popular tags tagged topics editor editors contributor reporter staff "
    "updated published posted ago minutes hours video watch listen podcast getty images ap afp "
    "reuters file site website page account premium paywall disclaimer"
)
MONTHS = _words(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday "
    "saturday sunday yesterday today tomorrow"
)

_TOKEN = re.compile(r"[\w'’]+|[^\w\s]", re.UNICODE)
_URL = re.compile(r"https?://|www\.|\.(?:com|org|net|co\.uk|io)\b", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
_COPYRIGHT = re.compile(r"©|\(c\)|copyright|all rights reserved", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_NUMBER = re.compile(r"\d")
_PERCENT_MONEY = re.compile(r"%|per ?cent|[$€£¥]|\b(?:million|billion|trillion)\b", re.IGNORECASE)
_TIME = re.compile(r"\b\d{1,2}[:.]\d\d\b|\b\d{1,2} ?(?:am|pm|a\.m\.|p\.m\.)", re.IGNORECASE)
_QUOTE = re.compile(r"[\"“”‘’«»]")
_TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*$")

CUE_NAMES: tuple[str, ...] = (
    "modal_future",
    "hedge",
    "evaluative",
    "first_person",
    "second_person",
    "imperative_start",
    "reporting_verb",
    "page_furniture",
    "date_word",
    "url",
    "email",
    "copyright",
    "year",
    "has_number",
    "percent_or_money",
    "clock_time",
    "quote",
    "question",
    "exclamation",
    "ends_with_terminal",
    "log_tokens",
    "short_1_3_tokens",
    "title_case_ratio",
    "upper_case_ratio",
    "starts_lower",
)


# Which rate each lexicon word feeds, so one pass over the words counts them all.
_RATE_LEXICONS = (
    MODAL_FUTURE,
    HEDGES,
    EVALUATIVE,
    FIRST_PERSON,
    SECOND_PERSON,
    REPORTING,
    PAGE_FURNITURE,
    MONTHS,
)
_LEXICON_SLOTS: dict[str, tuple[int, ...]] = {
    word: tuple(k for k, lexicon in enumerate(_RATE_LEXICONS) if word in lexicon)
    for word in frozenset().union(*_RATE_LEXICONS)
}
_LOG_80 = math.log1p(80)


def text_cues(text: str) -> list[float]:
    """The cue vector of one unit, in the order of ``CUE_NAMES``."""
    tokens = _TOKEN.findall(text)
    words = [t.lower().replace("’", "'") for t in tokens if t[0].isalnum() or t[0] == "'"]
    counts = [0] * len(_RATE_LEXICONS)
    for word in words:
        for k in _LEXICON_SLOTS.get(word, ()):
            counts[k] += 1
    modal, hedge, evaluative, first_p, second_p, reporting, furniture, dates = (
        min(c, 3) / 3.0 for c in counts
    )
    n_alpha = title = upper = 0
    for t in tokens:
        if t[0].isalpha():
            n_alpha += 1
            title += t[0].isupper()
            upper += len(t) > 1 and t.isupper()
    stripped = text.strip()
    return [
        modal,
        hedge,
        evaluative,
        first_p,
        second_p,
        float(bool(words) and words[0] in IMPERATIVE_START),
        reporting,
        furniture,
        dates,
        float(_URL.search(text) is not None),
        float(_EMAIL.search(text) is not None),
        float(_COPYRIGHT.search(text) is not None),
        float(_YEAR.search(text) is not None),
        float(_NUMBER.search(text) is not None),
        float(_PERCENT_MONEY.search(text) is not None),
        float(_TIME.search(text) is not None),
        float(_QUOTE.search(text) is not None),
        float("?" in text),
        float("!" in text),
        float(_TERMINAL.search(stripped) is not None),
        min(math.log1p(max(len(words), 1)) / _LOG_80, 1.0),
        float(len(words) <= 3),
        title / max(n_alpha, 1),
        upper / max(n_alpha, 1),
        float(bool(stripped) and stripped[0].islower()),
    ]


def _cue_matrix(texts: Iterable[str]) -> np.ndarray:
    rows = [text_cues(str(t)) for t in texts]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(CUE_NAMES))


def _as_frame(X: pd.DataFrame | Sequence[str]) -> pd.DataFrame:
    """Accept a frame with a ``text`` column or a plain list of unit texts."""
    if isinstance(X, pd.DataFrame):
        return X
    return pd.DataFrame({"text": list(X)})


def _has_article(frame: pd.DataFrame) -> np.ndarray:
    if "doc_id" not in frame or "position" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return (frame["doc_id"].notna() & frame["position"].notna()).to_numpy()


class CueLexiconFeatures(TransformerMixin, BaseEstimator):
    """Rates of modal, hedge, evaluative, person, imperative and reporting words plus page cues.

    These carry what n-grams learn slowly from a small corpus: that "will" forecasts, that "said"
    reports, that "©" and "Subscribe" are page furniture.
    """

    def fit(self, X: pd.DataFrame | Sequence[str], y: object = None) -> CueLexiconFeatures:
        self.n_features_in_ = 1
        return self

    def transform(self, X: pd.DataFrame | Sequence[str]) -> np.ndarray:
        return _cue_matrix(_as_frame(X)["text"])

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([f"cue_{n}" for n in CUE_NAMES], dtype=object)


class PositionFeatures(TransformerMixin, BaseEstimator):
    """Where a unit sits in its article: relative position, first or last few units, no article."""

    def __init__(self, edge: int = 3) -> None:
        self.edge = edge

    def fit(self, X: pd.DataFrame | Sequence[str], y: object = None) -> PositionFeatures:
        if self.edge < 1:
            raise ValueError(f"edge must be >= 1, got {self.edge}")
        self.n_features_in_ = 1
        return self

    def transform(self, X: pd.DataFrame | Sequence[str]) -> np.ndarray:
        frame = _as_frame(X)
        known = _has_article(frame)
        out = np.zeros((len(frame), 6))
        out[:, 5] = ~known
        if known.any():
            pos = frame["position"].to_numpy(dtype=float, na_value=0.0)
            length = np.maximum(frame["doc_len"].to_numpy(dtype=float, na_value=1.0), 1.0)
            from_end = length - 1 - pos
            out[:, 0] = np.where(known, pos / np.maximum(length - 1, 1.0), 0.0)
            out[:, 1] = known & (pos == 0)
            out[:, 2] = known & (pos < self.edge)
            out[:, 3] = known & (from_end < self.edge)
            out[:, 4] = known & (from_end == 0)
        return out

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        names = ["relative", "first", "near_start", "near_end", "last", "no_article"]
        return np.asarray([f"position_{n}" for n in names], dtype=object)


class ContextFeatures(TransformerMixin, BaseEstimator):
    """Cues of the neighbouring units of the same article, as jusText revises a block by its neighbours.

    A short line between short lines is likely a menu; a legal sentence after a copyright line is a
    footer. For each offset in ``-window..window`` (0 excluded) the neighbour's cue vector is
    appended, with a flag where there is no neighbour.
    """

    def __init__(self, window: int = 1) -> None:
        self.window = window

    def fit(self, X: pd.DataFrame | Sequence[str], y: object = None) -> ContextFeatures:
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window}")
        self.n_features_in_ = 1
        return self

    def _offsets(self) -> list[int]:
        return [o for o in range(-self.window, self.window + 1) if o != 0]

    def transform(self, X: pd.DataFrame | Sequence[str]) -> np.ndarray:
        frame = _as_frame(X).reset_index(drop=True)
        n, width = len(frame), len(CUE_NAMES) + 1
        offsets = self._offsets()
        out = np.zeros((n, width * len(offsets)))
        out[:, len(CUE_NAMES) :: width] = 1.0  # "no neighbour" until one is found
        known = _has_article(frame)
        if not known.any():
            return out
        cues = _cue_matrix(frame["text"])
        keys = {
            (doc, int(pos)): i
            for i, (doc, pos, ok) in enumerate(
                zip(frame["doc_id"], frame["position"], known, strict=False)
            )
            if ok
        }
        for i in np.flatnonzero(known):
            doc, pos = frame.at[i, "doc_id"], int(frame.at[i, "position"])
            for k, offset in enumerate(offsets):
                j = keys.get((doc, pos + offset))
                if j is not None:
                    out[i, k * width : k * width + len(CUE_NAMES)] = cues[j]
                    out[i, k * width + len(CUE_NAMES)] = 0.0
        return out

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        names = [*CUE_NAMES, "missing"]
        return np.asarray(
            [f"context{o:+d}_{n}" for o in self._offsets() for n in names], dtype=object
        )


PAST_IRREGULAR = _words(
    "was were had said told went came took made got gave began found left saw met won lost held "
    "fell rose led ran sent brought kept spent stood paid sold built wrote spoke broke chose drove "
    "flew fought hit put set shot struck threw thought knew heard felt became did"
)
PRESENT_COPULA = _words("is are isn't aren't am 's 're")
ABSTRACT_REFERENCE = _words("this that these those it such which what there")

STYLE_NAMES: tuple[str, ...] = (
    "past_tense",
    "present_copula",
    "abstract_reference",
    "proper_nouns",
    "digits",
    "mean_word_length",
    "commas",
    "starts_with_pronoun_i",
)


def text_style(text: str) -> list[float]:
    """Grammatical style of one unit: tense, reference, names, numbers, in the order of ``STYLE_NAMES``."""
    tokens = _TOKEN.findall(text)
    words = [t for t in tokens if t[0].isalnum() or t[0] == "'"]
    lower = [w.lower().replace("’", "'") for w in words]
    n = max(len(words), 1)
    past = sum(w.endswith("ed") and len(w) > 4 for w in lower) + sum(
        w in PAST_IRREGULAR for w in lower
    )
    proper = sum(w[0].isupper() for w in words[1:] if w[0].isalpha())
    return [
        min(past / n * 4, 1.0),
        min(sum(w in PRESENT_COPULA for w in lower) / n * 6, 1.0),
        min(sum(w in ABSTRACT_REFERENCE for w in lower) / n * 6, 1.0),
        min(proper / n * 3, 1.0),
        min(sum(t.isdigit() for t in words) / n * 4, 1.0),
        min(sum(map(len, words)) / n / 10, 1.0),
        min(text.count(",") / 4, 1.0),
        float(bool(lower) and lower[0] in ("i", "we", "my", "our")),
    ]


class StyleFeatures(TransformerMixin, BaseEstimator):
    """Tense, abstract reference, proper names and numbers: what separates a report from a claim
    when neither carries a cue word."""

    def fit(self, X: pd.DataFrame | Sequence[str], y: object = None) -> StyleFeatures:
        self.n_features_in_ = 1
        return self

    def transform(self, X: pd.DataFrame | Sequence[str]) -> np.ndarray:
        rows = [text_style(str(t)) for t in _as_frame(X)["text"]]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(STYLE_NAMES))

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([f"style_{n}" for n in STYLE_NAMES], dtype=object)


_NAME = re.compile(r"(?<=[\w,;:’'\"”)] )[A-Z][\w’'-]*|(?<=\w-)[A-Z][\w’'-]*")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


def mask_text(text: str) -> str:
    """Replace capitalized words inside a sentence with ``Xx`` and numbers with ``0``.

    Invented names and figures in a written corpus say nothing about real news; their shape does.
    """
    return _DIGITS.sub("0", _NAME.sub("Xx", text))


class MaskedText(TransformerMixin, BaseEstimator):
    """The unit texts with names and numbers masked, for an n-gram featurizer that follows it."""

    def fit(self, X: pd.DataFrame | Sequence[str], y: object = None) -> MaskedText:
        self.n_features_in_ = 1
        return self

    def transform(self, X: pd.DataFrame | Sequence[str]) -> list[str]:
        texts = X if isinstance(X, pd.Series) else _as_frame(X)["text"]
        return [mask_text(str(t)) for t in texts]


class CompactTfidfVectorizer(TfidfVectorizer):
    """``TfidfVectorizer`` whose vocabulary is saved as two arrays instead of a dict.

    skops writes a dict as verbose JSON, one node per term: a 300k-term character vocabulary made
    files of 70 MB and took seconds to parse. The terms' UTF-8 bytes and their offsets load in
    milliseconds, and the dict is rebuilt on load.
    """

    def __getstate__(self) -> dict[str, object]:
        state = dict(super().__getstate__())
        vocabulary = state.pop("vocabulary_", None)
        if vocabulary is not None:
            terms = sorted(vocabulary, key=vocabulary.__getitem__)
            encoded = [t.encode("utf-8") for t in terms]
            state["_vocabulary_bytes"] = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
            state["_vocabulary_ends"] = np.cumsum([len(e) for e in encoded], dtype=np.int64)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        state = dict(state)
        data = state.pop("_vocabulary_bytes", None)
        ends = state.pop("_vocabulary_ends", None)
        if data is not None and ends is not None:
            raw = np.asarray(data, dtype=np.uint8).tobytes()
            starts = np.concatenate([[0], np.asarray(ends)[:-1]])
            state["vocabulary_"] = {
                raw[a:b].decode("utf-8"): i
                for i, (a, b) in enumerate(zip(starts, ends, strict=True))
            }
        super().__setstate__(state)
