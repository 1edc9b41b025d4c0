"""Config loading: validation errors name the key, suggest the nearest one, and overrides apply."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from winnow.cli import main
from winnow.config import load_config
from winnow.errors import ConfigError
from winnow.fit.pipeline import build_pipeline, resolve_params

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = "name: t\ndata:\n  source: [data/corpus/*.jsonl]\nfeatures:\n  - name: tfidf_words.v1\n"
# Featurizers whose parameters are checked by the featurizer itself, not by the config schema.
FEATURES = MINIMAL + "  - name: context.v2\n  - name: neighbourhood.v1\n  - name: word_vectors.v1\n"


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_shipped_config_validates_and_builds(path: Path) -> None:
    config = load_config(path)
    resolve_params(config)
    assert build_pipeline(config).steps[-1][0] == "model"


def test_at_least_three_shipped_configs() -> None:
    assert len(CONFIGS) >= 3 and "default.yaml" in [p.name for p in CONFIGS]


def test_unknown_key_suggests_the_nearest(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "modle:\n  name: logreg.v1\n")
    with pytest.raises(ConfigError, match=r"unknown key 'modle' \(did you mean 'model'\?\)"):
        load_config(path)


def test_nested_unknown_key_names_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "data:\n  lables: [a, b]\n")
    with pytest.raises(ConfigError, match=r"data\.lables.*did you mean 'labels'"):
        load_config(path)


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "data:\n  seed: thirteen\n")
    with pytest.raises(ConfigError, match=r"data\.seed: expected an integer"):
        load_config(path)


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\nfeatures: [\n  - x: 1\n")
    with pytest.raises(ConfigError, match=rf"{path}:\d+:\d+: YAML syntax error"):
        load_config(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")


def test_unknown_registry_name_lists_valid_names(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL + "model:\n  name: logreg.v2\n"))
    with pytest.raises(ConfigError, match=r"unknown model 'logreg.v2'.*valid names: .*logreg\.v1"):
        resolve_params(config)


def test_unknown_builder_argument_is_named(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL), ["features.0.params.ngram=[1,2]"])
    with pytest.raises(ConfigError, match=r"features\.0\.params: unknown argument 'ngram'"):
        resolve_params(config)


def test_impossible_values_are_refused(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL), ["model.params.C=0"])
    resolve_params(config)
    with pytest.raises(ConfigError, match=r"model: C must be > 0"):
        build_pipeline(config)
    with pytest.raises(ConfigError, match="split_ratios"):
        load_config(write(tmp_path, MINIMAL), ["data.split_ratios={train: 1.0, test: 0.0}"])


def test_set_overrides_any_key_and_defaults_are_resolved(tmp_path: Path) -> None:
    config = load_config(Path("configs/default.yaml"), ["model.params.C=4", "data.seed=7"])
    resolve_params(config)
    assert config.model.params["C"] == 4.0 and config.data.seed == 7
    assert config.model.params["random_state"] == 0  # a builder default, now explicit
    assert config.to_dict()["features"][0]["params"]["ngram_range"] == (1, 2)


def test_cli_reports_config_errors_in_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, MINIMAL + "modle: {}\n")
    assert main(["train", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "did you mean 'model'" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "overrides", "message"),
    [
        (MINIMAL + "modle: {}\n", [], "did you mean 'model'"),
        ("name: t\nfeatures: [\n", [], r"run\.yaml:\d+:\d+: YAML syntax error"),
        (MINIMAL + "data:\n  seed: x\n", [], "data.seed: expected an integer"),
        (MINIMAL + "model:\n  name: forest.v1\n", [], "unknown model 'forest.v1'.*valid names"),
        (MINIMAL, ["model.params.C=-1"], "C must be > 0"),
        (MINIMAL, ["data.split_ratios={train: 0.9, test: 0.0, dev: 0.1}"], "split_ratios"),
        (MINIMAL, ["model.params"], "expected KEY=VALUE"),
        (
            MINIMAL,
            ["model.params.class_weight={opnion: 2.0}"],
            r"model\.params\.class_weight\.opnion: not one of data\.labels .*did you mean 'opinion'",
        ),
        (
            MINIMAL,
            ["model.params.class_weight={opinion: -1}"],
            r"class_weight\.opinion: weight must be a number > 0, got -1",
        ),
        (
            MINIMAL,
            ["model.params.class_weight=balancd"],
            r"class_weight: expected 'balanced', a mapping of a string to a number or null",
        ),
        (
            FEATURES,
            ["features.1.params.window=0"],
            r"features\.1: window must be from 1 to 1,024, got 0",
        ),
        (
            FEATURES,
            ["features.2.params.span=0"],
            r"features\.2: span must be from 1 to 1,024, got 0",
        ),
        (
            FEATURES,
            ["features.3.params.damping=-4"],
            r"features\.3: damping must be a number >= 0, got -4",
        ),
        (
            FEATURES,
            ["features.2.params.cues=[page_furniture, menus]"],
            r"features\.2: cues must name cues\.v2 cues, got \['page_furniture', 'menus'\]",
        ),
        (
            MINIMAL + "model:\n  name: linear_svm.v1\n",
            ["data.labels=[news, opinion]", "model.params.opinion_expert_C=0.1"],
            r"model\.params\.opinion_expert_C: .* data\.labels lacks event",
        ),
        (
            MINIMAL + "model:\n  name: linear_svm.v1\n",
            ["model.params.opinion_expert_C=0.1", "model.params.opinion_share=1"],
            r"model: opinion_share must be between 0 and 1, got 1",
        ),
        (
            MINIMAL + "model:\n  name: linear_svm.v1\n",
            ["model.params.splitter_C=0.25", "model.params.splitter_columns=50"],
            r"model\.params\.splitter_columns: 50 must equal the columns of the last featurizers "
            r"of fixed width \(word_vectors\.v1\), 0 here",
        ),
        (
            MINIMAL + "model:\n  name: linear_svm.v1\n",
            ["data.splitter_only=[data/corpus_pages/r8_news_a.jsonl]"],
            r"data\.splitter_only: its units train the event-vs-opinion splitter alone, and the "
            r"model has none \(set model\.params\.splitter_C, or data\.splitter_only=\[\] to train "
            r"the whole model on them\)",
        ),
        (
            MINIMAL,
            ["data.splitter_only=data/corpus_pages/r8_news_a.jsonl"],
            r"data\.splitter_only: expected a list, got 'data/corpus_pages/r8_news_a\.jsonl'",
        ),
    ],
)
def test_every_bad_config_is_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    overrides: list[str],
    message: str,
) -> None:
    path = write(tmp_path, text)
    args = ["train", str(path), "--output", str(tmp_path / "out")]
    for o in overrides:
        args += ["--set", o]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("winnow: error: ") and "\n" not in err
    assert re.search(message, err), err
    assert not (tmp_path / "out").exists()
    assert main(["--debug", *args]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_missing_config_file_from_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "configs/nope.yaml"]) == 2
    assert (
        capsys.readouterr().err.strip() == "winnow: error: configs/nope.yaml: no such config file"
    )


def test_exponent_floats_without_a_dot_are_numbers(tmp_path: Path) -> None:
    # YAML 1.1 reads 2e-5 as a string; the README writes defaults this way (issue 13.14).
    config = load_config("configs/complement_nb.yaml", ["model.params.alpha=2e-5"])
    assert config.model.params["alpha"] == 2e-5
    path = tmp_path / "c.yaml"
    path.write_text(Path("configs/complement_nb.yaml").read_text() + "\n")
    search = load_config(path, ["search.params={model.alpha: [1e-5, 3e-4]}"]).search
    assert search.params == {"model.alpha": [1e-5, 3e-4]}


def test_every_argument_of_every_command_has_help() -> None:
    import argparse

    from winnow.cli import build_parser

    def parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
        found = [parser]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    found += parsers(child)
        return found

    missing = [
        f"{p.prog} {a.dest}"
        for p in parsers(build_parser())
        for a in p._actions
        if not a.help and not isinstance(a, argparse._SubParsersAction)
    ]
    assert missing == []
    serve = build_parser().parse_args(["serve", "m"])
    assert (serve.host, serve.port) == ("127.0.0.1", 8000)
    (text,) = [p.format_help() for p in parsers(build_parser()) if p.prog == "winnow serve"]
    assert "(default: 127.0.0.1)" in text and "(default: 8000)" in text


def test_no_hidden_data_paths(tmp_path: Path) -> None:
    """A config used outside the repository names its own data: nothing defaults to repo files."""
    config = tmp_path / "mine.yaml"
    config.write_text("name: mine\nfeatures: [{name: cues.v1}]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"mine\.yaml: data\.source: list at least one data file"):
        load_config(config)
    config.write_text(
        "name: mine\ndata: {source: [x.jsonl]}\nfeatures: [{name: cues.v1}]\n", encoding="utf-8"
    )
    assert load_config(config).evaluation.extra_sets == []
