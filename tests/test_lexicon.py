"""WordNet's broader classes (lifelog/lexicon.py), read from Debian's wordnet-base (`make setup`)."""

import pytest

from lifelog import lexicon

pytestmark = pytest.mark.skipif(not lexicon.available(), reason="WordNet (wordnet-base) not installed: make setup")


def test_forms_of_a_noun():
    assert lexicon.lemma("animals") == "animal"
    assert lexicon.lemma("mice") == "mouse"
    assert lexicon.lemma("Egyptian cat") == "egyptian_cat"
    assert lexicon.lemma("qwxz") is None


def test_classes_above_a_tag():
    assert {"gun", "weapon"} <= lexicon.broader("cannon")
    assert {"cat", "feline", "mammal", "animal"} <= lexicon.broader("Egyptian cat")
    assert "entity" not in lexicon.broader("cannon")  # too broad to tell anything apart


def test_tags_that_are_kinds_of_a_word():
    tags = ["Egyptian cat", "starfish", "cannon", "minivan", "espresso", "lampshade"]
    assert lexicon.narrower("animals", tags) == ["Egyptian cat", "starfish"]
    assert lexicon.narrower("vehicle", tags) == ["minivan"]
    assert lexicon.narrower("giraffe", tags) == []
    assert lexicon.narrower("thing", tags) == []
