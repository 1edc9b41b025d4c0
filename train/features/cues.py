"""Cue lexicons and style rates: what n-grams learn slowly from a small corpus, as hand-made rates."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler

from ..registry import featurizers
from .base import FRAME_COLUMNS, Columns, UnitFeaturizer


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


class CueLexiconFeatures(UnitFeaturizer):
    """Rates of modal, hedge, evaluative, person, imperative and reporting words plus page cues.

    These carry what n-grams learn slowly from a small corpus: that "will" forecasts, that "said"
    reports, that "©" and "Subscribe" are page furniture.
    """

    def transform(self, X: pd.DataFrame | Sequence[str]) -> np.ndarray:
        return _cue_matrix(self._frame(X)["text"])

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([f"cue_{n}" for n in CUE_NAMES], dtype=object)


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


_CLITIC = re.compile(r"(?<=\w)'(?:ll|s|re|ve|d|m)$")


def text_style(text: str, split_clitics: bool = False) -> list[float]:
    """Grammatical style of one unit: tense, reference, names, numbers, in the order of ``STYLE_NAMES``.

    With ``split_clitics`` a contraction's clitic also counts (``it's`` adds ``'s``), so the lexicon
    entries ``'s`` and ``'re`` can match.
    """
    tokens = _TOKEN.findall(text)
    words = [t for t in tokens if t[0].isalnum() or t[0] == "'"]
    lower = [w.lower().replace("’", "'") for w in words]
    if split_clitics:
        lower += [m.group() for w in lower if (m := _CLITIC.search(w))]
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


class StyleFeatures(UnitFeaturizer):
    """Tense, abstract reference, proper names and numbers: what separates a report from a claim
    when neither carries a cue word."""

    split_clitics = False

    def transform(self, X: pd.DataFrame | Sequence[str]) -> np.ndarray:
        rows = [text_style(str(t), self.split_clitics) for t in self._frame(X)["text"]]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(STYLE_NAMES))

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([f"style_{n}" for n in STYLE_NAMES], dtype=object)


class CliticStyleFeatures(StyleFeatures):
    """``StyleFeatures`` whose contractions also count their clitic, so ``'s`` and ``'re`` match."""

    split_clitics = True


@featurizers.register(
    "cues.v1", trusted_types=("winnow.features.cues.CueLexiconFeatures",), streamable=True
)
def cues() -> tuple[Any, Columns]:
    """Cue-lexicon rates, scaled to [0, 1]."""
    return make_pipeline(CueLexiconFeatures(), MaxAbsScaler()), FRAME_COLUMNS


@featurizers.register(
    "style.v1", trusted_types=("winnow.features.cues.StyleFeatures",), streamable=True
)
def style() -> tuple[Any, Columns]:
    """Tense, reference, proper-name and number rates."""
    return StyleFeatures(), FRAME_COLUMNS


@featurizers.register(
    "style.v2", trusted_types=("winnow.features.cues.CliticStyleFeatures",), streamable=True
)
def style_v2() -> tuple[Any, Columns]:
    """``style.v1`` with contractions split, so the copula entries ``'s`` and ``'re`` count."""
    return CliticStyleFeatures(), FRAME_COLUMNS
