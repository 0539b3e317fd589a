"""Incidents as an analyst codes them: type, place, date, casualties, actors, claims, evidence."""
from datetime import date

import pytest

from conftest import SEED

PUBLISHED = date(2025, 11, 8)  # a Saturday


@pytest.fixture(scope="session")
def incidents():
    """Text -> incidents, through the default pipeline, published on Saturday 2025-11-08."""
    from geo.text.document import Article
    from geo.pipeline import default_pipeline
    pipeline = default_pipeline()
    return lambda text, published=PUBLISHED: pipeline(Article("t", text, published=published)).incidents


def only(found):
    assert len(found) == 1, [i.as_json() for i in found]
    return found[0]


# -- the seed article ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seed(incidents):
    return incidents(SEED.read_text(encoding="utf-8"))


def test_seed_thursday_clash_is_one_contested_battle_at_spin_boldak(seed):
    battles = [i for i in seed if i.event_type == "battle" and i.date == date(2025, 11, 6)]
    clash = only(battles)
    assert clash.place.name in ("Spīn Bōldak", "Chaman") and clash.place.has_point
    assert (clash.killed, clash.wounded) == (4, 5)
    assert clash.victims == ["civilians"]
    assert {"Afghan forces", "Pakistani forces"} <= set(clash.actors)
    assert "Afghan official" in clash.claimed_by
    assert clash.contested
    assert clash.evidence.text.startswith("An Afghan official claimed that four Afghan civilians")
    assert any("Chaman border crossing" in s.text for s in clash.sentences)  # the same clash, not a second one


def test_seed_kabul_explosions_of_october_9(seed):
    blast = only([i for i in seed if i.event_type == "explosion_remote_violence"])
    assert blast.place.name == "Kabul" and blast.date == date(2025, 10, 9) and blast.date_precision == "day"
    assert blast.killed is None and blast.wounded is None


def test_seed_october_clashes_keep_vague_counts_and_no_invented_point(seed):
    october = only([i for i in seed if i.event_type == "battle" and i.date_precision == "month"])
    assert october.date == date(2025, 10, 1)
    assert (october.killed, october.killed_low, october.killed_high) == (12, 12, None)
    assert (october.wounded, october.wounded_low) == (100, 100)
    assert october.killed_text == ["killed dozens"] and october.wounded_text == ["wounded hundreds"]
    assert set(october.victims) == {"soldiers", "civilians", "militants"}
    assert october.point is None


def test_seed_talks_in_istanbul_and_the_october_19_ceasefire(seed):
    strategic = [i for i in seed if i.event_type == "strategic_development"]
    talks = only([i for i in strategic if i.topic == "talks"])
    assert talks.place.name == "Istanbul" and talks.place.country == "TR" and talks.geo_precision == 1
    ceasefire = only([i for i in strategic if i.topic == "ceasefire"])
    assert ceasefire.date == date(2025, 10, 19)


def test_seed_has_nothing_for_sentences_that_report_no_event(seed):
    assert len(seed) == 5
    cited = " ".join(s.text for i in seed for s in i.sentences)
    for background in ["designated as a terrorist organization", "Analysts note", "2021 Doha peace accord",
                       "surge in militant attacks", "carry out cross-border attacks"]:
        assert background not in cited


def test_seed_dateline_is_not_where_anything_happened(seed):
    assert all(i.place is None or i.place.name != "Ankara" for i in seed)


# -- event types -------------------------------------------------------------------------------------
@pytest.mark.parametrize("sentence, event_type", [
    ("Fighters clashed with troops near Goma on Monday, killing six.", "battle"),
    ("An airstrike on a market in Idlib killed 12 people on Friday.", "explosion_remote_violence"),
    ("A car bomb exploded outside a police station in Mogadishu, killing three.", "explosion_remote_violence"),
    ("Gunmen shot dead five villagers in Zamfara on Thursday.", "violence_against_civilians"),
    ("Thousands of protesters marched through Nairobi on Tuesday against the tax bill.", "protest"),
    ("Rioters looted shops and torched cars in Dhaka on Wednesday night.", "riot"),
    ("The two sides signed a ceasefire agreement in Doha on Friday.", "strategic_development"),
])
def test_event_types(incidents, sentence, event_type):
    assert only(incidents(sentence)).event_type == event_type


def test_police_firing_on_protesters_is_a_protest(incidents):
    inc = only(incidents("Police opened fire on protesters in Kathmandu, Nepal, killing at least 19 people."))
    assert inc.event_type == "protest" and inc.killed == 19 and inc.killed_low == 19 and inc.killed_high is None
    assert "police" in inc.actors


# -- casualties ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("sentence, killed, low, high", [
    ("Four soldiers were killed in clashes in Kandahar on Friday.", 4, 4, 4),
    ("Twenty-three people were killed in an airstrike on Aleppo on Friday.", 23, 23, 23),
    ("At least 7 people were killed when a bomb exploded in Quetta on Friday.", 7, 7, None),
    ("More than 200 people died in fighting in El Fasher on Friday.", 200, 200, None),
    ("Seven police officers and six militants were killed in a gunfight in Bannu on Friday.", 13, 13, 13),
    ("A drone struck a convoy near Gao on Friday, killing three.", 3, 3, 3),
    ("The death toll from Friday's bombing in Peshawar rose to 45.", 45, 45, 45),
    ("Clashes in Tripoli on Friday left 9 dead.", 9, 9, 9),
    ("Dozens were killed in shelling of Kharkiv on Friday.", 12, 12, None),
    ("Hundreds were killed in fighting around Khartoum last month.", 100, 100, None),
])
def test_killed_counts(incidents, sentence, killed, low, high):
    inc = only(incidents(sentence))
    assert (inc.killed, inc.killed_low, inc.killed_high) == (killed, low, high)
    assert inc.killed_text  # the wording is kept


def test_wounded_counts_and_others(incidents):
    inc = only(incidents("A suicide bomber killed two people and five others were wounded in Kabul on Friday."))
    assert (inc.killed, inc.wounded) == (2, 5)
    inc = only(incidents("A missile strike on Odesa on Friday killed nine people, including three children, "
                         "and injured over 200 others."))
    assert (inc.killed, inc.wounded, inc.wounded_low, inc.wounded_high) == (9, 200, 200, None)
    assert inc.victims == ["civilians"]


def test_victims_by_kind(incidents):
    inc = only(incidents("Nine soldiers and three civilians were killed in an ambush in Borno on Friday."))
    assert inc.killed == 12 and inc.victims == ["soldiers", "civilians"]


def test_differing_tolls_keep_both_in_the_range_and_are_contested(incidents):
    inc = only(incidents("Over 70 villagers were killed in an attack by bandits in Wase, Nigeria, on Friday. "
                         "The army denied the account and reported eight deaths."))
    assert (inc.killed, inc.killed_low, inc.killed_high) == (8, 8, 70)
    assert inc.contested


def test_a_toll_told_in_the_next_sentence_belongs_to_the_event(incidents):
    inc = only(incidents("Pakistani airstrikes hit a market in Kabul yesterday. Hospital sources said five "
                         "people were killed and several wounded."))
    assert inc.date == date(2025, 11, 7) and inc.killed == 5
    assert (inc.wounded, inc.wounded_low) == (None, 2) and inc.wounded_text == ["several wounded"]
    assert "Hospital sources" in inc.claimed_by


def test_absurd_numbers_are_rejected_with_a_reason(incidents):
    inc = only(incidents("Rebels killed 10,000,000 people in an attack on Goma on Friday."))
    assert inc.killed is None and any("not plausible" in n for n in inc.notes)


def test_no_casualties_is_zero_not_unknown(incidents):
    inc = only(incidents("A rocket hit an empty school in Sderot on Friday; no one was hurt."))
    assert inc.wounded == 0


# -- dates -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("phrase, expected, precision", [
    ("on Oct. 9", date(2025, 10, 9), "day"),
    ("on October 9, 2024", date(2024, 10, 9), "day"),
    ("on Thursday night", date(2025, 11, 6), "day"),
    ("yesterday", date(2025, 11, 7), "day"),
    ("last month", date(2025, 10, 1), "month"),
    ("in October", date(2025, 10, 1), "month"),
])
def test_dates_against_publication(phrase, expected, precision):
    from geo.text.dates import find_dates
    text = f"Militants attacked a checkpoint in Bannu {phrase}."
    found = find_dates(text, PUBLISHED)
    assert [(d.date, d.precision) for d in found] == [(expected, precision)]


def test_undated_event_takes_the_publication_date_and_says_so(incidents):
    inc = only(incidents("Gunmen killed four farmers in Benue."))
    assert inc.date == PUBLISHED and inc.date_from == "publication"
    assert only(incidents("Gunmen killed four farmers in Benue.", None)).date is None


def test_history_is_not_news(incidents):
    assert incidents("Militants killed 30 people in an attack on Peshawar in 2014.") == []
    assert incidents("The 2021 Doha accord was signed by both sides.") == []


# -- places ------------------------------------------------------------------------------------------
def test_the_place_is_where_it_happened_not_every_place_named(incidents):
    inc = only(incidents("Clashes between Pakistani and Afghan forces in Spin Boldak on Thursday killed four "
                         "civilians, Afghan officials in Kabul said."))
    assert inc.place.name == "Spīn Bōldak"


def test_no_locatable_place_gives_a_null_point(incidents):
    inc = only(incidents("Five civilians were killed in a shootout between Pakistani and Afghan soldiers at "
                         "the border on Friday."))
    assert inc.point is None and inc.as_json()["place"]["lat"] is None


def test_precision_near_a_town_and_province(incidents):
    assert only(incidents("Eight people were killed in a shooting near Rafah, Gaza, on Friday.")).geo_precision == 2
    assert only(incidents("A drone strike killed a woman in rural Tartus Governorate, Syria, on Friday.")
                ).geo_precision == 3


# -- actors and claims ---------------------------------------------------------------------------------
def test_claimed_by_and_according_to(incidents):
    inc = only(incidents("According to the health ministry, 12 people were killed in an airstrike on Khan "
                         "Younis on Friday."))
    assert inc.claimed_by == ["health ministry"]


def test_group_claiming_its_own_attack_is_an_actor(incidents):
    inc = only(incidents("Al-Shabaab claims that its fighters overran a base in Lower Shabelle on Friday, "
                         "killing several soldiers."))
    assert "Al-Shabaab" in inc.actors and "Al-Shabaab" in inc.claimed_by


# -- bad input ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "   \n ", "The weather in Paris was mild on Friday.",
                                  "Analysts say the talks could fail and violence may return."])
def test_no_event_no_incident(incidents, text):
    assert incidents(text) == []


def test_contract_shape(incidents):
    keys = {"event_type", "geo_precision", "place", "date", "date_precision", "killed", "killed_low",
            "killed_high", "wounded", "wounded_low", "wounded_high", "actors", "claimed_by", "contested",
            "evidence"}
    text = "An airstrike on a market in Idlib killed 12 people on Friday."
    j = only(incidents(text)).as_json()
    assert keys <= set(j)
    assert set(j["place"]) == {"name", "geonameid", "country", "lat", "lon"}
    assert text[j["evidence"]["start"]:j["evidence"]["end"]] == j["evidence"]["text"]


# -- news as it is written elsewhere: present tense, datelines, follow-ups -----------------------------
@pytest.mark.parametrize("sentence, event_type", [
    ("Suspected militants abduct 25 women near Maiduguri, Borno State, Nigeria, on Friday.",
     "violence_against_civilians"),
    ("Thousands of people demonstrate in Tel Aviv on Friday demanding a hostage deal.", "protest"),
    ("The Arakan Army captures the town of Kyaukphyu on Friday after weeks of fighting.", "battle"),
    ("A strike on a car near Nabatieh kills two people on Friday, the health ministry says.",
     "explosion_remote_violence"),
])
def test_present_tense_reports(incidents, sentence, event_type):
    assert only(incidents(sentence)).event_type == event_type


def test_a_new_toll_is_a_new_incident_and_a_follow_up_is_not(incidents):
    found = incidents("Israeli airstrikes on tents in Khan Yunis kill at least 15 people on Friday. An Israeli "
                      "soldier is killed and two others are wounded by an explosive device in Rafah on Friday.")
    assert sorted(i.killed for i in found) == [1, 15]
    inc = only(incidents("NIAMEY (Reuters) - Islamist militants killed 29 soldiers in an attack on an army base in "
                         "western Niger on Tuesday, the defence ministry said. The attack near the town of Tahoua "
                         "was carried out by hundreds of fighters, and security forces killed dozens of the "
                         "assailants. The violence has killed thousands of people across the Sahel."))
    assert inc.killed == 29 and inc.place.name == "Tahoua" and "militants" in inc.actors
    assert "defence ministry" in inc.claimed_by


def test_the_dateline_is_not_who_says_so(incidents):
    inc = only(incidents("BEIRUT, April 2 (Reuters) - Israel said it struck a car near Nabatieh on Friday, "
                         "killing two people."))
    assert inc.claimed_by == ["Israel"]


@pytest.mark.parametrize("published", [date.min, date.max, None])
def test_dates_at_the_ends_of_the_calendar_never_crash(incidents, published):
    for phrase in ("yesterday", "last month", "last year", "on Oct. 9", "3 days ago", "on Friday", "in 2021"):
        incidents(f"Clashes in Kabul {phrase} killed 4 soldiers.", published)


def test_a_long_text_is_read_in_parts_with_offsets_into_the_whole(monkeypatch):
    """Huge inputs are cut into parts so time and memory stay linear; every offset still points into the
    text the user gave."""
    import geo.pipeline
    from geo.pipeline import default_pipeline
    from geo.text.document import Article
    text = "\n\n".join([SEED.read_text(encoding="utf-8")] * 4)
    whole = default_pipeline()(Article("t", text, published=date(2025, 11, 8)))
    monkeypatch.setattr(geo.pipeline, "PART_CHARS", len(text) // 3)
    parted = default_pipeline()(Article("t", text, published=date(2025, 11, 8)))
    assert [p.mention.text for p in parted.places] == [p.mention.text for p in whole.places]
    assert all(text[p.mention.start:p.mention.end] == p.mention.text for p in parted.places)
    assert all(text[i.evidence.start:i.evidence.end] == i.evidence.text for i in parted.incidents)
    mentions = {(p.mention.start, p.mention.end) for p in parted.places}
    assert all((i.place.start, i.place.end) in mentions for i in parted.incidents
               if i.place and i.place.start is not None)
    assert len(parted.incidents) >= len(whole.incidents)
