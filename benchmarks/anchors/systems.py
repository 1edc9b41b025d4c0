"""The systems under comparison, each behind one small interface: train and save, load, predict."""

from __future__ import annotations

import random
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import pandas as pd
from winnow import load_model
from winnow.config import load_config
from winnow.fit.pipeline import FRAME_COLUMNS
from winnow.fit.run import run


class Model(Protocol):
    """A loaded model: labels a frame of units (article columns optional) or a list of texts."""

    def predict_frame(self, frame: pd.DataFrame) -> list[str]:
        """The label of each row of ``frame``."""
        ...

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The label of each text, each read as a lone sentence."""
        ...


class System(Protocol):
    """A trainable system: ``train`` fits and saves, ``load`` reads the saved model back."""

    name: str

    def train(self, train: pd.DataFrame, out: Path, seed: int) -> float:
        """Fit on ``train`` (text, label), save to the folder ``out``; return the fit seconds."""
        ...

    def load(self, path: Path) -> Model:
        """The model saved at ``path``."""
        ...


class WinnowModel:
    """A winnow package: scores test units with their article context, as winnow is meant to."""

    def __init__(self, path: Path) -> None:
        self.classifier = load_model(path)

    def predict_frame(self, frame: pd.DataFrame) -> list[str]:
        """Labels through ``proba_frame``, so doc_id/position/doc_len reach the context features."""
        proba = self.classifier.proba_frame(frame[FRAME_COLUMNS])
        return [self.classifier.labels[i] for i in proba.argmax(axis=1)]

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Labels of lone sentences through the public ``predict``."""
        return self.classifier.predict(list(texts))


class WinnowSystem:
    """One shipped config trained by ``winnow.fit.run.run``, which reads the corpus itself."""

    def __init__(self, config: Path, overrides: Sequence[str] = ()) -> None:
        self.config = Path(config)
        self.overrides = ["evaluation.bootstrap=0", "evaluation.extra_sets=[]", *overrides]
        self.name = f"winnow {self.config.stem}"

    def train(self, train: pd.DataFrame, out: Path, seed: int) -> float:
        """Run the config; its own split must be the benchmark's train split, or this refuses."""
        config = load_config(self.config, self.overrides)
        result = run(config, output=out, progress=False)
        if result.metrics["n_train"] != len(train):
            raise RuntimeError(
                f"{self.config}: trained on {result.metrics['n_train']} units, "
                f"the benchmark's train split has {len(train)}"
            )
        return float(result.metrics["timings_s"]["fit"])

    def load(self, path: Path) -> Model:
        """The verified package, loaded with winnow's own loader."""
        return WinnowModel(path)


_PUNCT = re.compile(r"([^\w\s])")
_SPACE = re.compile(r"\s+")
_PREFIX = "__label__"


def fasttext_tokens(text: str) -> str:
    """Lowercase, punctuation split off, one line: fastText only splits on whitespace."""
    return _SPACE.sub(" ", _PUNCT.sub(r" \1 ", text.lower())).strip()


class FastTextModel:
    """A fastText supervised model; predicts on lists (its single-string path breaks on NumPy 2)."""

    def __init__(self, path: Path) -> None:
        import fasttext

        self.model = fasttext.load_model(str(path / "model.bin"))
        self.fallback = self.model.labels[0][len(_PREFIX) :]

    def predict_frame(self, frame: pd.DataFrame) -> list[str]:
        """Labels from the text column alone."""
        return self.predict(frame["text"].tolist())

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The top label of each text."""
        labels, _ = self.model.predict([fasttext_tokens(t) for t in texts], k=1)
        return [found[0][len(_PREFIX) :] if found else self.fallback for found in labels]


class FastTextSystem:
    """fastText supervised: word bigrams and character n-grams, one thread like the others."""

    name = "fastText"

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = {
            "epoch": 25,
            "lr": 0.5,
            "wordNgrams": 2,
            "dim": 50,
            "minn": 2,
            "maxn": 5,
            "bucket": 200_000,
            "loss": "softmax",
            "thread": 1,
            **params,
        }

    def train(self, train: pd.DataFrame, out: Path, seed: int) -> float:
        """Write the training file outside ``out`` (so it is not counted as model size), then fit."""
        import fasttext

        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "train.txt"
            data.write_text(
                "".join(
                    f"{_PREFIX}{label} {fasttext_tokens(text)}\n"
                    for text, label in zip(train["text"], train["label"], strict=True)
                ),
                encoding="utf-8",
            )
            began = time.perf_counter()
            model = fasttext.train_supervised(input=str(data), seed=seed, verbose=0, **self.params)
            took = time.perf_counter() - began
        model.save_model(str(out / "model.bin"))
        return took

    def load(self, path: Path) -> Model:
        """The saved ``model.bin``."""
        return FastTextModel(path)


_BOW = """
[components.textcat.model]
@architectures = "spacy.TextCatBOW.v3"
exclusive_classes = true
length = 262144
ngram_size = {ngram_size}
no_output_layer = false
nO = null
"""

# spaCy's own default single-label ensemble, with no static vectors: none can be downloaded here.
_ENSEMBLE = """
[components.textcat.model]
@architectures = "spacy.TextCatEnsemble.v2"
nO = null

[components.textcat.model.linear_model]
@architectures = "spacy.TextCatBOW.v3"
exclusive_classes = true
length = 262144
ngram_size = 1
no_output_layer = false

[components.textcat.model.tok2vec]
@architectures = "spacy.Tok2Vec.v2"

[components.textcat.model.tok2vec.embed]
@architectures = "spacy.MultiHashEmbed.v2"
width = 64
rows = [2000, 2000, 500, 1000, 500]
attrs = ["NORM", "LOWER", "PREFIX", "SUFFIX", "SHAPE"]
include_static_vectors = false

[components.textcat.model.tok2vec.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = 64
window_size = 1
maxout_pieces = 3
depth = 2
"""

_PIPELINE = """
[nlp]
lang = "en"
pipeline = ["textcat"]

[components]

[components.textcat]
factory = "textcat"
threshold = 0.0
"""


def spacy_config(architecture: Literal["bow", "ensemble"], ngram_size: int = 2) -> str:
    """The config of a blank English pipeline with one exclusive-class textcat."""
    model = _BOW.format(ngram_size=ngram_size) if architecture == "bow" else _ENSEMBLE
    return _PIPELINE + model


class SpacyModel:
    """A saved spaCy pipeline; the label is the top of ``doc.cats``."""

    def __init__(self, path: Path) -> None:
        import spacy

        self.nlp = spacy.load(path)

    def predict_frame(self, frame: pd.DataFrame) -> list[str]:
        """Labels from the text column alone."""
        return self.predict(frame["text"].tolist())

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The top category of each text, in one process."""
        return [max(doc.cats, key=doc.cats.get) for doc in self.nlp.pipe(texts, batch_size=256)]


class SpacySystem:
    """spaCy textcat (bow or ensemble) on a blank "en" pipeline, trained by a plain update loop."""

    def __init__(
        self,
        architecture: Literal["bow", "ensemble"],
        epochs: int | None = None,
        dropout: float = 0.2,
        batch_size: int = 32,
    ) -> None:
        self.architecture = architecture
        self.name = f"spaCy textcat {architecture}"
        self.epochs = epochs if epochs is not None else {"bow": 6, "ensemble": 8}[architecture]
        self.dropout = dropout
        self.batch_size = batch_size

    def train(self, train: pd.DataFrame, out: Path, seed: int) -> float:
        """Build from the config, fit a fixed number of epochs (tokenizing included), save."""
        from spacy.training import Example
        from spacy.util import fix_random_seed, load_model_from_config, minibatch
        from thinc.api import Config

        began = time.perf_counter()
        fix_random_seed(seed)
        nlp = load_model_from_config(
            Config().from_str(spacy_config(self.architecture)), auto_fill=True, validate=True
        )
        labels = sorted(set(train["label"]))
        textcat = nlp.get_pipe("textcat")
        for label in labels:
            textcat.add_label(label)
        examples = [
            Example.from_dict(nlp.make_doc(text), {"cats": {k: float(k == y) for k in labels}})
            for text, y in zip(train["text"], train["label"], strict=True)
        ]
        optimizer = nlp.initialize(lambda: examples)
        order = random.Random(seed)
        for _ in range(self.epochs):
            order.shuffle(examples)
            for batch in minibatch(examples, size=self.batch_size):
                nlp.update(batch, drop=self.dropout, sgd=optimizer)
        took = time.perf_counter() - began
        nlp.to_disk(out)
        return took

    def load(self, path: Path) -> Model:
        """The saved pipeline folder."""
        return SpacyModel(path)
