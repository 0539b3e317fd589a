"""The toll reader: how ordinary news phrasing of the dead and wounded comes out, with the shipped model."""
import json
from datetime import date

import pytest

from conftest import requires_shared


@pytest.fixture(scope="module")
def incidents():
    from geo.pipeline import default_pipeline
    from geo.text.document import Article
    pipeline = default_pipeline()
    return lambda text: pipeline(Article("t", text, published=date(2024, 5, 10))).incidents


def only(incs):
    assert len(incs) == 1, [(i.event_type, i.killed, i.evidence.text) for i in incs]
    return incs[0]


@pytest.mark.parametrize("text, killed, wounded", [
    ("A roadside bomb killed seven civilians and injured three more in Helmand province on Friday.", 7, 3),
    ("A local journalist has been shot dead in Karachi, police said.", 1, None),
    ("Attackers hacked to death at least nine people in a village near Beni on Sunday.", 9, None),
    ("Gunmen killed no fewer than 15 people in Omoku, Rivers State.", 15, None),
    ("Five aid workers were kidnapped and killed in Borno State.", 5, None),
    ("A tribal leader was killed in Kandahar on Monday.", 1, None),
    ("Gunmen shot and killed a former police officer in Peshawar on Tuesday.", 1, None),
    ("A bystander and a policeman were killed when a grenade exploded in Srinagar.", 2, None),
    ("Suicide bombers attacked a market in Maiduguri on Friday. At least 30 people were killed and 40 wounded.",
     30, 40),
])
def test_lede_phrasings_give_the_toll(incidents, text, killed, wounded):
    inc = only(incidents(text))
    assert (inc.killed, inc.wounded) == (killed, wounded)


def test_another_is_one_more(incidents):
    inc = only(incidents("Three soldiers were killed in an ambush near Gao. Another died later in hospital."))
    assert (inc.killed, inc.killed_low) == (4, 4)


def test_who_speaks_is_not_a_victim(incidents):
    inc = only(incidents("An Afghan official said four civilians were killed in clashes in Spin Boldak on Friday."))
    assert inc.killed == 4


def test_a_range_keeps_both_ends(incidents):
    inc = only(incidents("5-6 people were killed by gunfire in Port-au-Prince on Sunday, police said."))
    assert (inc.killed, inc.killed_low, inc.killed_high) == (5, 5, 6)


def test_vague_words_keep_acled_rule(incidents):
    inc = only(incidents("Dozens were killed in shelling of Kharkiv on Friday."))
    assert (inc.killed, inc.killed_low, inc.killed_high) == (12, 12, None)


def test_shipped_model_is_small_and_has_a_card():
    from geo.learn.tolls import MODEL_PATH
    from geo.text.tolls import shipped_model
    assert shipped_model() is not None
    assert MODEL_PATH.stat().st_size < 2_000_000
    card = MODEL_PATH.with_suffix(".md").read_text()
    assert "Cross-validated" in card and "WAD" in card


def test_training_learns_which_numbers_count_the_dead():
    """A model fitted on part of the WAD ledes reads a toll it never saw; labels come from the gold."""
    from geo.learn.tolls import fit, labelled_candidates, read_wad
    from geo.places.normalize import lower_same_length
    from geo.text.casualties import find_counts
    from geo.text.tolls import candidates
    ledes = read_wad(requires_shared("eval", "wad", "dev.jsonl"))[:300]
    labelled = [x for x in map(labelled_candidates, ledes) if x]
    assert len(labelled) > 200 and all(label in ("killed", "wounded", "none") for row in labelled for _, label in row)
    model = fit(ledes)
    text = "Militants stormed a village on Sunday, killing 23 villagers and wounding 8, officials said on 2 June."
    low = lower_same_length(text)
    labels = {text[c.num_start:c.end]: model.label(c.features) for c in candidates(text, low, 0, len(text),
                                                                                  find_counts(text, 0, len(text)))}
    assert labels["23"] == "killed" and labels["8"] == "wounded" and labels["2"] == "none"
    assert json.loads(json.dumps(model.to_json()))["classes"] == ["killed", "wounded", "none"]


def test_corrections_are_exported_as_labelled_examples_for_the_next_training(store_url, tmp_path):
    """An editor's fixed toll becomes a training example the toll reader's trainer reads, with its source."""
    import subprocess
    import sys
    from conftest import ROOT
    from geo.learn.tolls import labelled_candidates, read_labelled
    from geo.pipeline import default_pipeline
    from geo.store import Store
    from geo.text.document import Article
    article = Article("wire-1", "A car bomb exploded outside a market in Mogadishu on Friday, killing at least 7 "
                      "people and wounding 20, police said.", published=date(2025, 11, 8),
                      url="https://example.org/mogadishu")
    with Store.open(store_url) as store:
        store.ingest(article, default_pipeline())
        incident = store.incidents().iloc[0]
        store.correct(incident.incident_id, {"killed": 9}, who="ana")
    out = tmp_path / "corrections.jsonl"
    r = subprocess.run([sys.executable, "-m", "geo", "export", "--corrections", "--db", store_url, "-o", str(out)],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "1 corrections" in r.stdout
    example = json.loads(out.read_text())
    assert (example["field"], example["before"], example["after"], example["killed"]) == ("killed", 7, 9, 9)
    assert "ana" in example["source"] and "example.org/mogadishu" in example["source"]
    assert "Mogadishu" in example["text"]
    lede = read_labelled(out)[0]
    assert lede.killed == 9 and labelled_candidates(lede) is None  # 9 is no number of the text: nothing to learn


def test_a_named_victim_is_one_death(incidents):
    inc = only(incidents("United States forces killed Qasem Soleimani, head of Iran's Quds Force, in an airstrike "
                         "near Baghdad airport on Friday."))
    assert inc.killed == 1
