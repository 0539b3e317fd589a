"""The watcher polls feeds on loopback into a real store (GeoPackage and PostGIS): new items once, across
restarts and with two watchers at once; ETag 304s; a failing source backs off, then recovers."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from geo.store import Store
from geo.watch import SourceSpec, Watcher, WatchError, read_sources_file, source_status, sync_sources
from geo.watch import tables
from geo.watch.polling import backoff_delay, poll_source
from geo.watch.sources import parse_interval
from watch_servers import Clock, at_once, feeds, page, watch_url  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def counting():
    """The default pipeline, counting the articles it extracts (by URL)."""
    from geo.pipeline import default_pipeline
    pipeline = default_pipeline()

    def make():
        calls: Counter = Counter()
        lock = threading.Lock()

        def extract(article):
            with lock:
                calls[article.url] += 1
            return pipeline(article)
        extract.calls = calls
        return extract
    return make


def watcher(url: str, extract, clock=None) -> Watcher:
    return Watcher(Store.open(url), extract=extract, clock=clock or Clock(), log=lambda line: None)


def test_new_items_are_ingested_once_across_restarts_and_unchanged_feeds_cost_a_304(watch_url, feeds, counting):
    extract = counting()
    feeds.items["news"] = ["chaman", "kandahar"]
    clock = Clock()
    first = watcher(watch_url, extract, clock)
    sync_sources(first.store, [SourceSpec(feeds.feed_url("news"), "News", 60)])
    report = first.round()
    assert [(p.new_items, p.articles_new) for p in report.polled] == [(2, 2)]
    first.store.close()

    feeds.items["news"].append("goma")       # a new item, then the watcher restarts
    clock.t += 61
    second = watcher(watch_url, extract, clock)
    assert [(p.new_items, p.not_modified) for p in second.round().polled] == [(1, False)]
    clock.t += 61
    assert [p.not_modified for p in second.round().polled] == [True]
    assert feeds.statuses("news") == [200, 200, 304]

    assert second.store.counts()["articles"] == 3
    assert set(extract.calls.values()) == {1}, "every item is read and extracted once"
    state = source_status(second.store).iloc[0]
    assert (state.items_seen, state.failures, state.last_error, state.label) == (3, 0, None, "News")
    assert state.last_item == "Report goma" and state.last_success == clock.t
    second.close()
    second.store.close()


def test_two_watchers_at_once_never_ingest_one_item_twice(watch_url, feeds, counting):
    extract = counting()
    feeds.items["news"] = ["chaman", "kandahar"]
    watchers = [watcher(watch_url, extract) for _ in range(2)]
    sync_sources(watchers[0].store, [SourceSpec(feeds.feed_url("news"), None, 60)])

    # Both find the source due: its lease lets one of them poll it.
    rounds = at_once(lambda w: w.round(), watchers)
    assert sorted(len(r.polled) for r in rounds) == [0, 1]
    # Both poll the feed at once (a lease that ran out mid-poll): each new item is claimed by one of them.
    feeds.items["news"] += ["goma", "quetta"]
    with watchers[0].store.read() as conn:
        row = conn.execute(sa.select(tables.sources)).one()
    results = at_once(lambda w: poll_source(w.store, row, w.fetcher, w.extract, w.clock() + 120), watchers)
    assert sorted(r.new_items for r in results) in ([0, 2], [1, 1])
    assert watchers[0].store.counts()["articles"] == 4
    assert sorted(extract.calls.values()) == [1, 1, 1, 1]
    with watchers[0].store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.items)
                            .where(tables.items.c.status == "done")).scalar() == 4
    for w in watchers:
        w.close()
        w.store.close()


def test_a_failing_source_backs_off_exponentially_then_recovers(watch_url, feeds, counting):
    feeds.items["flaky"] = ["quetta"]
    feeds.failures["flaky"] = 2
    clock = Clock()
    w = watcher(watch_url, counting(), clock)
    sync_sources(w.store, [SourceSpec(feeds.feed_url("flaky"), "Flaky", 100)])

    assert [p.ok for p in w.round().polled] == [False]
    state = source_status(w.store).iloc[0]
    assert state.failures == 1 and "HTTP 500" in state.last_error and state.next_poll == clock.t + 200
    clock.t += 150
    assert w.round().polled == [], "backing off: not polled before its delay"
    clock.t += 50
    assert [p.ok for p in w.round().polled] == [False]
    assert source_status(w.store).iloc[0].next_poll == clock.t + 400
    clock.t += 400
    assert [(p.ok, p.new_items) for p in w.round().polled] == [(True, 1)]
    state = source_status(w.store).iloc[0]
    assert (state.failures, state.last_error, state.items_seen, state.next_poll) == (0, None, 1, clock.t + 100)
    assert feeds.statuses("flaky") == [500, 500, 200]
    assert w.seconds_to_next() <= 30
    w.close()
    w.store.close()


def test_a_page_source_and_file_urls(tmp_path, counting):
    (tmp_path / "goma.html").write_bytes(page("goma"))
    url = tmp_path.as_uri() + "/goma.html"
    w = watcher(str(tmp_path / "s.gpkg"), counting())
    sync_sources(w.store, [SourceSpec(url, "A page", 60)])
    assert [(p.ok, p.new_items) for p in w.round().polled] == [(True, 1)]
    w.clock.t += 60
    assert [p.not_modified for p in w.round().polled] == [True]
    assert w.store.counts()["articles"] == 1
    w.close()
    w.store.close()


def test_sources_file_and_the_once_command(tmp_path, feeds, capsys):
    from geo.cli import main
    feeds.items["news"] = ["goma", "quetta"]
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nurl = "{feeds.feed_url("news")}"\nlabel = "News"\ninterval = "15m"\n\n'
                       f'[[source]]\nurl = "{feeds.url("/feed/missing.xml")}"\n')
    db = str(tmp_path / "s.gpkg")
    assert main(["watch", str(sources), "--once", "--db", db, "--secrets", str(tmp_path / "none.toml")]) == 1
    out = capsys.readouterr()
    assert "2 polled, 1 failed; items: 2 new" in out.out and "missing.xml: error: HTTP 404" in out.err
    with Store.open(db) as store:
        assert store.counts()["articles"] == 2
        assert list(source_status(store)["interval_s"]) == [900.0, 900.0]
    assert main(["watch", str(sources), "--once", "--db", db]) == 0   # nothing due yet
    assert "0 polled" in capsys.readouterr().out

    sources.write_text("[[source]]\nurl = 'ftp://example.org/feed'\n")
    assert main(["watch", str(sources), "--once", "--db", db]) == 2
    assert capsys.readouterr().err.strip() == f"geo watch: error: {sources}: source 1 needs a url (http://, " \
        "https:// or file://)"


def test_intervals_and_backoff():
    assert [parse_interval(x) for x in ("90s", "15m", "2h", "1d", 30)] == [90, 900, 7200, 86400, 30]
    with pytest.raises(WatchError):
        parse_interval("soon")
    assert [backoff_delay(60, n) for n in (1, 2, 3)] == [120, 240, 480]
    assert backoff_delay(60, 30) == 6 * 3600


def test_bad_sources_files_say_what_is_wrong(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[source]\n")
    with pytest.raises(WatchError, match="not valid TOML"):
        read_sources_file(bad)
    bad.write_text("[[source]]\nurl = 'http://127.0.0.1/x'\ninterval = 'often'\n")
    with pytest.raises(WatchError, match="interval 'often'"):
        read_sources_file(bad)


def test_the_watch_service_stops_cleanly_on_sigterm(tmp_path, feeds):
    """As systemd stops it: SIGTERM ends the loop between rounds, exit status 0."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT
    feeds.items["news"] = ["goma"]
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nurl = "{feeds.feed_url("news")}"\ninterval = "1s"\n')
    proc = subprocess.Popen([sys.executable, "-m", "geo", "watch", str(sources), "--db", str(tmp_path / "s.gpkg")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        deadline = time.time() + 120
        while feeds.statuses("news")[-2:] != [200, 304] and time.time() < deadline:   # polled, then again
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert feeds.statuses("news")[:2] == [200, 304] and proc.returncode == 0, err
    assert "1 new items, 1 new articles" in err and "stopped after" in err


def test_an_item_that_cannot_be_extracted_is_retried_and_the_other_sources_go_on(watch_url, feeds, counting):
    healthy = counting()
    broken = {"on": True}

    def extract(article):
        if broken["on"] and "goma" in (article.url or ""):
            raise RuntimeError("extraction crashed")
        return healthy(article)
    feeds.items["bad"], feeds.items["good"] = ["goma"], ["quetta"]
    clock = Clock()
    w = watcher(watch_url, extract, clock)
    sync_sources(w.store, [SourceSpec(feeds.feed_url("bad"), "Bad", 10),
                           SourceSpec(feeds.feed_url("good"), "Good", 10)])
    def polled(report):
        return sorted((p.url.rsplit("/", 1)[1], p.ok, p.new_items) for p in report.polled)
    assert polled(w.round()) == [("bad.xml", False, 0), ("good.xml", True, 1)]
    assert source_status(w.store).set_index("label").loc["Bad", "last_error"] == "RuntimeError: extraction crashed"
    broken["on"] = False
    clock.t += 20   # after the backoff: the feed is fetched in full again (no 304) and the item read
    assert polled(w.round()) == [("bad.xml", True, 1), ("good.xml", True, 0)]
    assert w.store.counts()["articles"] == 2
    w.close()
    w.store.close()


def test_a_source_removed_while_it_is_polled_is_simply_gone(tmp_path, feeds, counting):
    from geo.store.auth import User
    from geo.watch.sources import remove_source
    feeds.items["news"] = ["goma"]
    w = watcher(str(tmp_path / "s.gpkg"), counting())
    sync_sources(w.store, [SourceSpec(feeds.feed_url("news"), "News", 60)])
    fetch = w.fetcher.get

    def fetch_then_removed(url, *args):
        got = fetch(url, *args)
        if url.endswith("news.xml"):
            remove_source(w.store.for_user(User("ana", "admin")), url)
        return got
    w.fetcher.get = fetch_then_removed
    assert [p.new_items for p in w.round().polled] == [1]
    assert source_status(w.store).empty and w.round().polled == []
    w.close()
    w.store.close()
