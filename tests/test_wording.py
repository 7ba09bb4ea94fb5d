"""The customer wording's language files: every language says the same things.

Each language file must have exactly the keys of every other, the same number of
sentences in each list of pieces, and each piece the same placeholders (a Swedish
sentence that names `{apn}` where the English one does not would say a fact only one
language knows). The loader refuses a file that is not shaped as `Words`.
"""

from __future__ import annotations

import dataclasses
import string
from importlib import resources

import pytest
import yaml

from diagnostics.diagnosis.messages import LANGUAGES
from diagnostics.diagnosis.wording import (
    CustomerTest,
    Template,
    WordingError,
    Words,
    load_words,
    parse_words,
)
from protocol.causes import Cause

FILES = resources.files("diagnostics.diagnosis").joinpath("languages")
PIECES = {"saw", "did", "steps", "resumes"}
"""Fields that hold a list of pieces (each piece a sentence or its alternatives)."""


def raw(language: str) -> object:
    return yaml.safe_load(FILES.joinpath(f"{language}.yaml").read_text(encoding="utf-8"))


def keys(data: object, path: str = "") -> set[str]:
    """Every mapping key of a language file, by its dotted path."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            found.add(here)
            found |= keys(value, here)
    return found


def placeholders(text: object) -> frozenset[str]:
    """The placeholders of a piece, over all its alternatives."""
    alternatives = (text,) if isinstance(text, str) else text
    assert isinstance(alternatives, tuple)
    return frozenset(
        name for alt in alternatives for _, name, _, _ in string.Formatter().parse(alt) if name
    )


def pieces(obj: object, path: str = "") -> dict[str, frozenset[str]]:
    """Every piece of wording of a `Words`, by its path, with its placeholders."""
    found: dict[str, frozenset[str]] = {}
    if isinstance(obj, Words | Template | CustomerTest):
        for field in dataclasses.fields(obj):
            value = getattr(obj, field.name)
            here = f"{path}.{field.name}" if path else field.name
            if field.name in PIECES or (isinstance(obj, CustomerTest) and field.name == "steps"):
                for n, piece in enumerate(value):
                    found[f"{here}[{n}]"] = placeholders(piece)
            elif field.name == "months":
                found[here] = frozenset()
            else:
                found |= pieces(value, here)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            found |= pieces(value, f"{path}.{key}")
    elif obj is not None:
        found[path] = placeholders(obj)
    return found


def test_there_is_one_file_per_language():
    files = {p.name for p in FILES.iterdir() if p.name.endswith(".yaml")}
    assert files == {f"{language}.yaml" for language in LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_language_has_the_keys_of_the_first(language):
    first, other = keys(raw(LANGUAGES[0])), keys(raw(language))
    assert sorted(first - other) == [], f"{language} lacks these"
    assert sorted(other - first) == [], f"{language} has these, {LANGUAGES[0]} not"


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_piece_has_the_placeholders_of_the_first(language):
    first, other = pieces(load_words(LANGUAGES[0])), pieces(load_words(language))
    assert set(first) == set(other), "the languages have different numbers of sentences"
    differ = {path: (first[path], other[path]) for path in first if first[path] != other[path]}
    assert differ == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_language_names_every_cause_and_twelve_months(language):
    words = load_words(language)
    assert set(words.templates) == set(Cause)
    assert len(words.months) == 12


def test_a_language_is_loaded_once():
    assert load_words("en") is load_words("en")


def test_an_unknown_language_has_no_file():
    with pytest.raises(WordingError, match="no language file"):
        load_words("xx")


def _english() -> dict[str, object]:
    data = raw("en")
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("greeting"), "missing keys \\['greeting'\\]"),
        (lambda d: d.update(greting="Hi"), "unknown keys \\['greting'\\]"),
        (lambda d: d.update(greeting=["Hi", "Hello"]), "greeting: expected a string"),
        (lambda d: d["templates"].update(no_such_cause={"subject": "x"}), "not a cause id"),
        (lambda d: d["templates"]["power_loss"].update(saw="one"), "power_loss.saw: expected"),
        (lambda d: d["templates"]["power_loss"].pop("subject"), "missing keys \\['subject'\\]"),
        (lambda d: d["tests"]["swap"].update(steps=[1]), "tests.swap.steps: expected a string"),
    ],
)
def test_the_loader_refuses_a_misshapen_file(change, message):
    data = _english()
    change(data)
    with pytest.raises(WordingError, match=message):
        parse_words(yaml.safe_dump(data, allow_unicode=True))


def test_a_dumped_file_loads_as_the_original():
    data = _english()
    assert parse_words(yaml.safe_dump(data, allow_unicode=True)) == load_words("en")
