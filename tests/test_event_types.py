"""Event types as ACLED codes them, and what is no incident at all."""
from datetime import date

import pytest


@pytest.fixture(scope="module")
def types():
    from geo.pipeline import default_pipeline
    from geo.text.document import Article
    pipeline = default_pipeline()
    return lambda text, published=date(2024, 5, 10): [
        i.event_type for i in pipeline(Article("t", text, published=published)).incidents]


@pytest.mark.parametrize("text", [
    "Police arrested 40 opposition activists in Harare on Tuesday.",
    "Soldiers seized a cache of weapons and ammunition in a raid near Maiduguri on Monday.",
    "Turkish forces set up a new observation post in Idlib province on Sunday.",
    "Rebels took control of the town of Bunagana on Monday.",
    "Dozens of fighters defected to the government in Jawzjan province on Friday.",
    "The warring parties agreed a prisoner exchange in Aden on Thursday.",
])
def test_strategic_developments(types, text):
    assert types(text) == ["strategic_development"]


def test_violent_demonstrations_are_riots(types):
    assert types("Protesters threw stones at police and set fire to cars in Nairobi on Monday.") == ["riot"]
    assert types("Demonstrators clashed with security forces during a rally in Caracas on Saturday.") == ["riot"]
    assert types("Thousands of protesters marched peacefully through Belgrade on Saturday.") == ["protest"]


def test_chemical_weapons_are_remote_violence(types):
    assert types("A helicopter dropped containers of chlorine on Saraqib on Thursday.") == \
        ["explosion_remote_violence"]


@pytest.mark.parametrize("text", [
    "A gas cylinder explosion at a factory in Karachi killed five workers on Monday.",
    "Bombings are common in Quetta, the capital of Balochistan province.",
    "North Korea carried out new missile tests off its east coast on Sunday.",
    "A plane crash near Piobbico killed 12 people on Friday.",
])
def test_accidents_generalities_and_weapons_tests_are_no_incident(types, text):
    assert types(text) == []


def test_killing_told_with_an_arrest_is_violence(types):
    assert types("Four police officers have been arrested over the murder of 10 people who were killed in "
                 "Cuitzeo over the weekend.") == ["violence_against_civilians"]


def test_undated_snippet_still_counts(types):
    assert types("Warplanes bombed rebel positions in Idlib province.", published=None) == \
        ["explosion_remote_violence"]


def test_the_capital_places_an_event():
    from geo.pipeline import default_pipeline
    from geo.text.document import Article
    doc = default_pipeline()(Article("t", "Unidentified gunmen shot dead a journalist on Sunday in the Somali "
                                     "capital, police said.", published=date(2024, 5, 10)))
    inc = doc.incidents[0]
    assert inc.place.name == "Mogadishu" and inc.geo_precision == 1 and inc.killed == 1


def test_one_event_told_in_other_words_is_one_incident():
    from geo.pipeline import default_pipeline
    from geo.text.document import Article
    text = ("At least 100 people were killed in a terrorist attack on a hospital in Kabul on Tuesday. "
            "Intelligence officials said the attackers had detonated a car bomb at the gate. The attack that "
            "killed 100 was the deadliest this year.")
    incs = [i for i in default_pipeline()(Article("t", text, published=date(2024, 5, 10))).incidents]
    assert len(incs) == 1 and incs[0].killed == 100 and incs[0].place.name == "Kabul"


def test_the_next_sentence_places_an_unplaced_event():
    from geo.pipeline import default_pipeline
    from geo.text.document import Article
    text = ("Seven people were killed in northern Kenya on Saturday when gunmen attacked a school. "
            "The school lies on the outskirts of Lokichogio, officials said.")
    inc = default_pipeline()(Article("t", text, published=date(2024, 5, 10))).incidents[0]
    assert inc.place.name == "Lokichokio" and inc.point is not None and inc.killed == 7


@pytest.mark.parametrize("text, place", [
    ("Gunmen killed 12 villagers in Zamfara State on Sunday, police in Abuja said.", "Zamfara"),
    ("An airstrike killed 5 people in a village in Kunduz province, a spokesman in Kabul said.", "Kunduz"),
])
def test_where_the_source_speaks_is_not_where_it_happened(text, place):
    from geo.pipeline import default_pipeline
    from geo.text.document import Article
    inc = default_pipeline()(Article("t", text, published=date(2024, 5, 10))).incidents[0]
    assert inc.place.name == place and inc.geo_precision == 3


def test_weapons_found_and_territory_taken(types):
    assert types("Police discovered a cache of grenades and ammunition near Cuttack on Monday.") == \
        ["strategic_development"]
    assert types("Government forces regained control of the town of Shoqra on Sunday.") == ["battle"]
    assert types("Police fired tear gas at crowds in Kowloon on Tuesday.") == ["protest"]
