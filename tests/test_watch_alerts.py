"""Watch areas and alerts on a real store (GeoPackage and PostGIS): one alert per incident and area, again
only when the toll rises; deliveries to a webhook receiver that is down for a while and to an SMTP server,
all on loopback; areas audited and editable by editors only."""
from __future__ import annotations

import threading
import time
from datetime import date

import pytest

from geo.pipeline import default_pipeline
from geo.store import Store
from geo.store.auth import PermissionDenied, User
from geo.text.document import Article
from geo.watch import (AreaError, AreaIndex, Deliverer, SmtpSettings, SourceSpec, Watcher, box_area, circle_area,
                       deliver_due, mark_read, match_new_incidents, polygon_area, receivers, recent_alerts, region_area,
                       remove_area, save_area, sync_sources)
from geo.watch.areas import area_history
from geo.watch.matching import IncidentFacts
from geo.watch.channels import email_message, webhook_body
from watch_servers import ARTICLES, Clock, SmtpSink, WebhookReceiver, at_once, feeds, watch_url  # noqa: F401

SAME_EVENT = ("Four people were killed and three wounded in clashes near the Chaman border crossing in Pakistan "
              "on Monday, a local official said.")


@pytest.fixture(scope="module")
def pipeline():
    return default_pipeline()


@pytest.fixture
def store(watch_url):
    with Store.open(watch_url) as s:
        yield s


@pytest.fixture
def receiver():
    r = WebhookReceiver()
    yield r
    r.down()


def ingest(store, pipeline, text: str, published: date = date(2026, 11, 30)):
    return store.ingest(Article("a", text, published=published), pipeline)


def alerted(alerts) -> list[tuple[str, int]]:
    return sorted((a.area, a.casualties) for a in alerts)


def test_an_alert_fires_once_per_incident_and_area_and_again_when_the_toll_rises(store, pipeline):
    save_area(store, box_area("Balochistan box", 64, 27, 70, 32))
    save_area(store, circle_area("Chaman 30 km", 30.9, 66.45, 30))
    save_area(store, region_area("Balochistan riots", "PK", "Balochistan", event_types=("riot",)))
    save_area(store, box_area("Kivu", 27, -3, 30, 0))
    save_area(store, circle_area("Quetta 10 km", 30.18, 67.0, 10, min_casualties=100))

    ingest(store, pipeline, ARTICLES["chaman"])
    assert alerted(match_new_incidents(store)) == [("Balochistan box", 7), ("Chaman 30 km", 7)]
    assert match_new_incidents(store) == [], "matching again alerts nobody"
    assert ingest(store, pipeline, ARTICLES["chaman"]).status == "unchanged"
    assert ingest(store, pipeline, SAME_EVENT).merged == 1
    assert match_new_incidents(store) == [], "a merge with the same toll alerts nobody"

    assert ingest(store, pipeline, ARTICLES["chaman-toll"], date(2026, 12, 1)).merged == 1
    again = match_new_incidents(store)
    assert alerted(again) == [("Balochistan box", 12), ("Chaman 30 km", 12)]
    assert again[0].fields["killed"] == 9 and again[0].fields["place"] == "Chaman"

    ingest(store, pipeline, ARTICLES["quetta"])
    ingest(store, pipeline, ARTICLES["goma"])
    assert alerted(match_new_incidents(store)) == [("Balochistan box", 13), ("Balochistan riots", 13),
                                                   ("Kivu", 6)]
    assert match_new_incidents(store) == []


def test_two_watchers_matching_at_once_alert_once(watch_url, store, pipeline):
    save_area(store, box_area("Balochistan box", 64, 27, 70, 32))
    save_area(store, region_area("Pakistan", "PK"))
    for name in ("chaman", "quetta"):
        ingest(store, pipeline, ARTICLES[name])
    stores = [Store.open(watch_url) for _ in range(2)]
    made = [alert for found in at_once(match_new_incidents, stores) for alert in found]
    assert len(made) == 4 and len({(a.area, a.incident_id) for a in made}) == 4
    assert len(recent_alerts(store, "ana")) == 4
    for s in stores:
        s.close()


def test_a_correction_raising_the_toll_past_the_threshold_alerts(store, pipeline):
    save_area(store, circle_area("Chaman", 30.9, 66.45, 30, min_casualties=10))
    ingest(store, pipeline, ARTICLES["chaman"])
    assert match_new_incidents(store) == [], "7 killed and wounded: under the threshold"
    incident = store.incidents().iloc[0]
    version = store.correct(incident.incident_id, {"killed": 8}, who="ana")
    assert alerted(match_new_incidents(store)) == [("Chaman", 11)]
    version = store.correct(incident.incident_id, {"killed": 6}, who="ana", expected_version=version)
    store.correct(incident.incident_id, {"killed": 8}, who="ana", expected_version=version)
    assert match_new_incidents(store) == [], "down and back to a toll already alerted"
    store.correct(incident.incident_id, {"wounded": 30}, who="ana")
    assert alerted(match_new_incidents(store)) == [("Chaman", 38)]


def test_nothing_is_lost_while_the_webhook_receiver_is_down(store, pipeline, receiver):
    clock = Clock()
    save_area(store, box_area("Pakistan", 60, 23, 78, 37, webhook=receiver.url))
    watcher = Watcher(store, extract=pipeline, clock=clock, log=lambda line: None)
    ingest(store, pipeline, ARTICLES["chaman"])
    ingest(store, pipeline, ARTICLES["quetta"])
    report = watcher.round()
    assert len(report.alerts) == 2 and (report.delivered.sent, report.delivered.failed) == (0, 2)
    for step in (30, 60):   # retried after 30 s, then 60 s (doubling): still down
        clock.t += step - 1
        assert watcher.round().delivered.failed == 0, "not retried before its delay"
        clock.t += 1
        assert watcher.round().delivered.failed == 2
    state = receivers(store).iloc[0]
    assert (state.channel, state.target, state.waiting, state.failing) == ("webhook", receiver.url, 2, True)
    assert "ConnectError" in state.last_error

    receiver.up()
    clock.t += 120
    assert watcher.round().delivered.sent == 2
    clock.t += 3600
    assert watcher.round().delivered.sent == 0, "sent once"
    assert sorted(b["place"] for b in receiver.bodies) == ["Chaman", "Quetta"]
    body = next(b for b in receiver.bodies if b["place"] == "Chaman")
    assert {k: body[k] for k in ("area", "event_type", "date", "killed", "wounded")} == \
        {"area": "Pakistan", "event_type": "battle", "date": "2026-11-30", "killed": 4, "wounded": 3}
    assert round(body["lat"], 2) == 30.92 and round(body["lon"], 2) == 66.45 and body["incident_id"]
    assert body["text"].startswith("Battle in Chaman (PK) on 2026-11-30: 4 killed, 3 wounded. Watch area: Pakistan.")
    state = receivers(store).iloc[0]
    assert (state.waiting, state.failing, state.deliveries) == (0, False, 2)
    watcher.close()


def test_email_alerts_reach_an_smtp_server(store, pipeline):
    save_area(store, region_area("Congo", "CD", email="desk@example.org"))
    ingest(store, pipeline, ARTICLES["goma"])
    assert len(match_new_incidents(store)) == 1
    with SmtpSink() as smtp:
        settings = SmtpSettings.from_secrets({"atlas": {"smtp": {"host": "127.0.0.1", "port": smtp.port,
                                                                 "sender": "atlas@example.org"}}})
        deliverer = Deliverer(settings)
        assert deliver_due(store, deliverer).sent == 1
        assert deliver_due(store, deliverer).sent == 0
        deliverer.close()
    [(to, message)] = smtp.messages
    assert to == ["desk@example.org"] and message["From"] == "atlas@example.org"
    assert message["Subject"] == "[atlas] violence against civilians in Goma (Congo)"
    assert "6 killed" in message.get_content() and "Watch area: Congo" in message.get_content()


def test_an_email_area_without_smtp_waits_and_shows_why(store, pipeline):
    save_area(store, region_area("Congo", "CD", email="desk@example.org"))
    ingest(store, pipeline, ARTICLES["goma"])
    match_new_incidents(store)
    assert deliver_due(store, Deliverer()).failed == 1
    assert "no SMTP server configured" in receivers(store).iloc[0].last_error


def test_alert_text_is_escaped_for_each_channel():
    fields = {"area": "Desk", "incident_id": "x", "event_type": "battle", "date": "2026-11-30",
              "place": "<!channel> & <http://evil.example|click>", "country": "PK", "lat": 1.0, "lon": 2.0,
              "killed": 1, "wounded": None, "casualties": 1,
              "evidence": "He said <script>alert(1)</script> & left.\nBcc: someone@example.org"}
    body = webhook_body(fields)
    assert "<" not in body["text"] and ">" not in body["text"]
    assert "&lt;!channel&gt; &amp; &lt;http://evil.example|click&gt;" in body["text"]
    assert "&lt;script&gt;" in body["text"] and "evidence" not in body
    message = email_message({**fields, "place": "Quetta\r\nBcc: someone@example.org"}, "a@example.org",
                            "b@example.org")
    assert message["Bcc"] is None and "\n" not in message["Subject"]


def test_areas_are_edited_by_editors_and_audited(store):
    viewer, editor = store.for_user(User("vic", "viewer")), store.for_user(User("ed", "editor"))
    with pytest.raises(PermissionDenied):
        save_area(viewer, box_area("Kivu", 27, -3, 30, 0))
    first = save_area(editor, box_area("Kivu", 27, -3, 30, 0))
    assert (first.owner, first.version) == ("ed", 1)
    second = save_area(store, box_area("Kivu", 27, -3, 31, 0, min_casualties=5), expected_version=1)
    assert (second.owner, second.version, second.min_casualties) == ("ed", 2, 5)
    with pytest.raises(AreaError, match="changed by someone else"):
        save_area(editor, box_area("Kivu", 0, 0, 1, 1), expected_version=1)
    remove_area(editor, "Kivu")
    history = area_history(store, "Kivu")
    assert list(history["action"]) == ["remove", "edit", "add"]
    assert list(history["who"]) == ["ed", "local", "ed"]
    assert '"min_casualties": 0' in history.iloc[1]["before"] and '"min_casualties": 5' in history.iloc[1]["after"]
    with pytest.raises(AreaError, match="no watch area"):
        remove_area(editor, "Kivu")


def test_alerts_are_read_per_person(store, pipeline):
    save_area(store, region_area("Congo", "CD"))
    ingest(store, pipeline, ARTICLES["goma"])
    [alert] = match_new_incidents(store)
    assert list(recent_alerts(store, "ana")["read"]) == [False]
    mark_read(store, "ana", [alert.fid])
    mark_read(store, "ana", [alert.fid])
    assert list(recent_alerts(store, "ana")["read"]) == [True]
    assert list(recent_alerts(store, "bob")["read"]) == [False]


def facts(lat, lon, kind="battle", casualties=0, country="PK", admin1=None, id="i"):
    return IncidentFacts(id, kind, lat, lon, country, admin1, casualties)


def test_area_index_matches_shapes_regions_types_and_tolls():
    areas = [circle_area("100 km", 0.0, 0.0, 100), box_area("box", 10, 10, 11, 11, event_types=("riot",)),
             region_area("Sindh", "pk", "Sindh", min_casualties=3), circle_area("dateline", 0.0, 179.9, 50)]
    index = AreaIndex(areas)

    def names(*found):
        return sorted(a.name for a, _ in index.matches(found))
    assert names(facts(0.0, 0.85)) == ["100 km"]            # ~95 km east
    assert names(facts(0.0, 0.95)) == []                    # ~106 km: inside the box, outside the circle
    assert names(facts(10.5, 10.5)) == [] and names(facts(10.5, 10.5, "riot")) == ["box"]
    assert names(facts(None, None, casualties=3, admin1="sindh")) == ["Sindh"]
    assert names(facts(None, None, casualties=2, admin1="Sindh"), facts(25, 68, admin1="Punjab", casualties=9)) == []
    assert names(facts(0.0, -179.9, country=None)) == ["dateline"]


def test_bad_areas_are_refused_with_a_reason():
    with pytest.raises(AreaError, match="W,S,E,N"):
        box_area("x", 10, 0, 5, 1)
    with pytest.raises(AreaError, match="radius"):
        circle_area("x", 0, 0, 0)
    with pytest.raises(AreaError, match="two-letter"):
        region_area("x", "Pakistan")
    with pytest.raises(AreaError, match="webhook"):
        region_area("x", "PK", webhook="javascript:alert(1)")
    with pytest.raises(AreaError, match="GeoJSON"):
        polygon_area("x", {"type": "Point", "coordinates": [0, 0]})


def test_the_area_command(tmp_path, capsys):
    from geo.cli import main
    db = str(tmp_path / "s.gpkg")
    assert main(["area", "add", "Kabul", "--point", "34.5,69.2", "--radius-km", "50", "--types", "battle,riot",
                 "--min-casualties", "3", "--webhook", "http://127.0.0.1:9/hook", "--db", db]) == 0
    assert main(["area", "add", "Sindh", "--country", "pk", "--admin1", "Sindh", "--email", "desk@example.org",
                 "--db", db]) == 0
    capsys.readouterr()
    assert main(["area", "list", "--db", db]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Kabul\t50 km around 34.5000, 69.2000; battle, riot; at least 3 killed + wounded\t"
        "http://127.0.0.1:9/hook\tlocal",
        "Sindh\tSindh, PK; all types; any incident\tdesk@example.org\tlocal"]
    assert main(["area", "remove", "Kabul", "--db", db]) == 0
    assert main(["area", "remove", "Kabul", "--db", db]) == 2
    assert main(["area", "add", "X", "--point", "1,2", "--db", db]) == 2
    assert capsys.readouterr().err.splitlines()[-2:] == ["geo area: error: no watch area named 'Kabul'",
                                                         "geo area: error: --point goes with --radius-km R"]
    import geopandas as gpd
    dataset = tmp_path / "dataset" / "month=2026-11"
    dataset.mkdir(parents=True)
    gpd.GeoDataFrame({"incident_id": ["x"]}, geometry=[None], crs="EPSG:4326").to_parquet(dataset / "part.parquet")
    assert main(["area", "list", "--db", str(tmp_path / "dataset")]) == 2
    assert "a GeoParquet dataset is read-only" in capsys.readouterr().err


def test_an_item_in_a_feed_reaches_the_webhook_within_a_polling_interval(watch_url, feeds, receiver, pipeline):
    """The watcher running on its own (real time, 1 s interval): an item added to the feed is ingested,
    matched and posted to the webhook (`python -m geo bench --watch` measures how soon)."""
    receiver.up()
    feeds.items["news"] = ["goma"]
    store = Store.open(watch_url)
    save_area(store, box_area("Balochistan", 64, 27, 70, 32, webhook=receiver.url))
    sync_sources(store, [SourceSpec(feeds.feed_url("news"), "News", 1.0)])
    watcher = Watcher(store, extract=pipeline, log=lambda line: None)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,))
    thread.start()
    try:
        deadline = time.time() + 30
        while not feeds.statuses("news") and time.time() < deadline:
            time.sleep(0.05)
        feeds.items["news"].append("chaman")
        assert receiver.received.wait(timeout=30), "no alert delivered"
    finally:
        stop.set()
        thread.join(timeout=30)
        watcher.close()
        store.close()
    assert not thread.is_alive()
    assert [b["place"] for b in receiver.bodies] == ["Chaman"]


def test_each_engine_matches_circles_boxes_and_regions_alike(store):
    """On PostGIS the matching is done in the database (GiST), on a GeoPackage by the in-memory R-tree:
    the same alerts either way, circle edges included."""
    from geo.text.incidents import Incident, IncidentPlace, Span
    save_area(store, circle_area("100 km", 0.0, 0.0, 100))
    save_area(store, box_area("box", 10, 10, 11, 11, event_types=("riot",)))
    save_area(store, region_area("Sindh", "pk", "Sindh", min_casualties=3))
    found = {"east 95 km": (0.0, 0.855, "battle", "XX", None, 0), "east 106 km": (0.0, 0.95, "battle", "XX", None, 0),
             "riot in box": (10.5, 10.5, "riot", "XX", None, 0), "battle in box": (10.5, 10.6, "battle", "XX", None, 0),
             "Sindh, 3": (None, None, "battle", "PK", "Sindh", 3), "Sindh, 2": (None, None, "riot", "PK", "Sindh", 2)}
    for i, (name, (lat, lon, kind, country, admin1, killed)) in enumerate(found.items()):
        incident = Incident(kind, IncidentPlace(name, None, country, lat, lon, "city", admin1=admin1), 1,
                            date(2026, 11, 1 + 2 * i), "day", Span(0, 4, name), killed=killed)  # days apart
        store.store_document(Article(name, f"Report {name}."), [incident])
    assert sorted((a.area, a.fields["place"]) for a in match_new_incidents(store)) == [
        ("100 km", "east 95 km"), ("Sindh", "Sindh, 3"), ("box", "riot in box")]
