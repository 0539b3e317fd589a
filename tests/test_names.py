"""People, organisations and teams named like places stay off the map; the places beside them do not."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SAMPLE = ROOT / "tests" / "data" / "names"


def place_names(parse, text):
    return [p.mention.text for p in parse(text)]


@pytest.mark.parametrize("text, places", [
    ("Boko Haram fighters attacked a village near Maiduguri in Borno State on Sunday, killing 12 people.",
     ["Maiduguri", "Borno State"]),
    ("Senator Flores said the border wall in Texas would not be built.", ["Texas"]),
    ("Bush visited Paris on Monday before flying to Berlin.", ["Paris", "Berlin"]),
    ('"We had some fights at that bar, but none this big," Douglas said. Police were called to a bar in '
     "Chiefland.", ["Chiefland"]),
    ("Michael Jordan scored 32 points as Chicago beat Utah in Salt Lake City. Jordan said the win was the best "
     "of his career.", ["Chicago", "Utah", "Salt Lake City"]),
    ("King Abdullah of Jordan met Michael Jordan in Amman.", ["Jordan", "Amman"]),
])
def test_people_and_organisations_named_like_places_stay_off_the_map(parse, text, places):
    assert place_names(parse, text) == places


def test_without_the_name_reader_the_rules_alone_take_them_for_places(gazetteer):
    """What the learned reader adds: the rules alone keep "Douglas" who said, and the Jordan who scored."""
    from geo.text.recognize import Recognizer
    rules = Recognizer(gazetteer, names=None)
    assert "Douglas" in [m.text for m in rules.find('"None this big," Douglas said. A bar in Chiefland.')]
    assert [m.text for m in rules.find("Michael Jordan scored. Jordan said it was his best game.")].count("Jordan") == 2


def test_shipped_model_loads_and_has_a_card():
    from geo.learn.names import MODEL_PATH
    from geo.text.names import shipped_model
    model = shipped_model()
    assert model is not None and 0 < model.threshold < 0.5
    assert MODEL_PATH.stat().st_size < 1_000_000
    card = MODEL_PATH.with_suffix(".md").read_text()
    for words in ("Cross-validated", "GUM", "wikigold", "CC BY 2.5 (Wikinews)", "Dev sets"):
        assert words in card, words


def test_corpora_are_read_with_their_entities_sources_and_licences():
    from geo.learn.corpora import read_gum, read_wikigold
    texts, version = read_gum(SAMPLE / "gum")
    afghan = next(t for t in texts if t.id == "GUM_news_afghan")
    assert afghan.source.startswith("https://en.wikinews.org/") and afghan.licence == "CC BY 2.5 (Wikinews)"
    entities = {(afghan.text[e.start:e.end], e.type) for e in afghan.entities}
    assert ("Dean Kamen", "person") in entities and ("Herat", "place") in entities
    assert "U.S. President Donald Trump's policies" in afghan.text
    assert "github.com/amir-zeldes/gum" in version
    wiki, source = read_wikigold(SAMPLE / "wikigold_sample.conll")
    assert len(wiki) == 9 and "sha256" in source and all(t.licence.startswith("CC BY 4.0") for t in wiki)
    first = wiki[1]
    assert ("Pittsburgh", "place") in {(first.text[e.start:e.end], e.type) for e in first.entities}
    assert "Camp Howe, near Pittsburgh, on September 1, 1862." in first.text


def test_train_names_on_a_corpus_sample_writes_a_model_and_its_card(tmp_path):
    out = tmp_path / "names.json"
    run = subprocess.run([sys.executable, "-m", "geo", "train", "names", "--gum", str(SAMPLE / "gum"),
                          "--wikigold", str(SAMPLE / "wikigold_sample.conll"), "--cv", "2", "--c", "1",
                          "--out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    model = json.loads(out.read_text())
    assert model["classes"] == ["other", "place"] and model["weights"] and 0 < model["threshold"] < 1
    card = out.with_suffix(".md").read_text()
    assert "2 folds" in card and "CC BY 2.5 (Wikinews)" in card and "CC BY 4.0" in card
