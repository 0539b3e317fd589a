"""Any text at all: offsets stay valid and nothing raises."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

WORDS = ["Kabul", "Paris", "Texas", "U.S.", "Calif.", "Spin", "Boldak", "Nice", "the", "of", "and", "North",
         "ANKARA", ",", "—", ".", "'s", "Mr.", "said", "\n", "  ", "Jessica", "Williams", "province", "city of",
         "Gaza", "Bosnia", "Herzegovina", "Ж", "東京", "é", "-", "St.", "Louis"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=400), st.lists(st.sampled_from(WORDS), max_size=60).map(" ".join)))
def test_any_text_gives_valid_offsets(parse, text):
    for place in parse(text):
        m = place.mention
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start:m.end] == m.text
        j = place.as_json()
        assert j["lat"] is None or -90 <= j["lat"] <= 90


INCIDENT_WORDS = WORDS + ["killed", "wounded", "at least", "dozens", "twenty-three", "10,000,000", "clashes",
                          "airstrike", "protesters", "ceasefire", "talks", "on Thursday", "Oct. 9", "yesterday",
                          "including", "the shooting", "denied", "this account", "Afghan", "forces", "said",
                          "according to", "in", "near", "no one", "were", "and", "7", "2021", "—", "'s"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=400), st.lists(st.sampled_from(INCIDENT_WORDS), max_size=80).map(" ".join)),
       st.one_of(st.none(), st.dates()))
def test_incident_extraction_never_raises_and_cites_the_text(text, published):
    from geo.text.document import Article
    from geo.text.incidents import EVENT_TYPES
    from geo.pipeline import default_pipeline
    for inc in default_pipeline()(Article("t", text, published=published)).incidents:
        j = inc.as_json()
        assert j["event_type"] in EVENT_TYPES and j["geo_precision"] in (1, 2, 3)
        assert text[j["evidence"]["start"]:j["evidence"]["end"]] == j["evidence"]["text"]
        for kind in ("killed", "wounded"):
            value, low, high = j[kind], j[kind + "_low"], j[kind + "_high"]
            assert value is None or value >= 0
            assert low is None or high is None or low <= high
