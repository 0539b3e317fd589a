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
