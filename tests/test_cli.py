"""The command line as a user meets it: real files, real subprocesses."""
import json
import subprocess
import sys

from conftest import ROOT, SEED


def geo(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "geo", *args], capture_output=True, text=True, cwd=ROOT,
                          input=stdin, timeout=300)


def test_help_lists_the_commands():
    out = geo("--help").stdout
    for command in ["extract", "evaluate", "gazetteer", "geocode", "bench"]:
        assert command in out


def test_extract_files_follows_the_contract():
    r = geo("extract", str(SEED))
    assert r.returncode == 0, r.stderr
    (line,) = r.stdout.splitlines()
    doc = json.loads(line)
    assert doc["id"] == SEED.stem and isinstance(doc["incidents"], list)
    text = SEED.read_text(encoding="utf-8")
    assert doc["places"] and all(text[p["start"]:p["end"]] == p["text"] for p in doc["places"])
    assert [p["start"] for p in doc["places"]] == sorted(p["start"] for p in doc["places"])


def test_extract_jsonl_from_stdin_and_to_a_file(tmp_path):
    out = tmp_path / "out.jsonl"
    lines = "\n".join(json.dumps(x) for x in [
        {"id": "a", "text": "Clashes in Kandahar.", "published": "2025-11-08"},
        {"id": "b", "text": "Talks in Doha."}])
    r = geo("extract", "--jsonl", "-", "--out", str(out), stdin=lines)
    assert r.returncode == 0, r.stderr
    docs = [json.loads(x) for x in out.read_text().splitlines()]
    assert [d["id"] for d in docs] == ["a", "b"]
    assert docs[1]["places"][0]["country"] == "QA"


def test_bad_inputs_are_named_and_the_rest_still_processed(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("articles")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "latin1.txt").write_bytes("Clashes in Kandahar caf\xe9.".encode("latin-1"))
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:
        f.truncate(50 * 1024 * 1024)
    (tmp_path / "script.html").write_text(
        "<html><head><title>Blast</title><script>var place = 'Paris'; alert(1)</script></head><body>"
        "<article><p>A car bomb exploded in Mogadishu on Sunday, officials in Somalia said. "
        "Witnesses described a large blast near the market and heavy smoke over the district.</p>"
        "</article></body></html>")
    (tmp_path / "french.txt").write_text(
        "Des affrontements ont éclaté à Kandahar. " * 5 + "Les habitants ont fui vers le nord du pays "
        "pendant la nuit, selon les autorités locales qui craignent une nouvelle escalade des violences.")
    (tmp_path / "good.txt").write_text("Shelling hit Kharkiv overnight.")
    jsonl = tmp_path_factory.mktemp("jsonl") / "in.jsonl"
    jsonl.write_text('{"id": "j1", "text": "Protests in Lagos."}\nnot json\n[1, 2]\n{"id": "j2"}\n')
    r = geo("extract", str(tmp_path), "--jsonl", str(jsonl))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    err = r.stderr
    assert "empty.txt: empty input" in err
    assert "binary.txt: binary data" in err
    assert "latin1.txt: warning: invalid UTF-8" in err
    assert "huge.txt: too large (52.4 MB" in err
    assert "french.txt: warning: does not look like English" in err
    assert "in.jsonl:2: not JSON" in err and "in.jsonl:3: not a JSON object" in err and 'in.jsonl:4: no "text"' in err
    docs = {d["id"]: d for d in map(json.loads, r.stdout.splitlines())}
    assert set(docs) == {"good", "latin1", "script", "french", "j1"}
    assert [p["country"] for p in docs["script"]["places"]] == ["SO", "SO"]  # the script's "Paris" is gone
    assert docs["latin1"]["places"][0]["text"] == "Kandahar"
    assert docs["j1"]["places"][0]["country"] == "NG"


def test_errors_are_one_line_without_traceback():
    r = geo("extract", "--published", "2025-13-40", "x.txt")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "YYYY-MM-DD" in r.stderr
    r = geo("extract")
    assert r.returncode == 2 and "--jsonl" in r.stderr
    r = geo("evaluate", "missing.jsonl")
    assert r.returncode == 2 and "missing.jsonl" in r.stderr and "Traceback" not in r.stderr


def test_geocode_and_gazetteer_commands():
    r = geo("geocode", "Kandahar")
    assert r.returncode == 0 and json.loads(r.stdout.splitlines()[0])["raw"]["country"] == "AF"
    assert geo("geocode", "Xqzzvillebergstadt").returncode == 1
    info = json.loads(geo("gazetteer", "info").stdout)
    assert info["places"] > 250_000 and "CC BY 4.0" in info["sources"]


def test_demonyms_can_be_left_out():
    text = json.dumps({"id": "d", "text": "Afghan forces shelled Chaman in Pakistan."})
    kinds = [p["kind"] for p in json.loads(geo("extract", "--jsonl", "-", stdin=text).stdout)["places"]]
    assert kinds == ["demonym", "city", "country"]
    kinds = [p["kind"] for p in json.loads(geo("extract", "--no-demonyms", "--jsonl", "-", stdin=text).stdout)["places"]]
    assert kinds == ["city", "country"]


def test_extract_seed_incidents_with_publication_date():
    r = geo("extract", str(SEED), "--published", "2025-11-08")
    assert r.returncode == 0, r.stderr
    incidents = json.loads(r.stdout)["incidents"]
    battle = next(i for i in incidents if i["date"] == "2025-11-06")
    assert battle["event_type"] == "battle" and (battle["killed"], battle["wounded"]) == (4, 5)
    assert battle["contested"] and battle["place"]["country"] in ("AF", "PK")
    text = SEED.read_text(encoding="utf-8")
    for i in incidents:
        assert text[i["evidence"]["start"]:i["evidence"]["end"]] == i["evidence"]["text"]


def test_publication_date_from_the_text_html_metadata_and_a_relative_stamp(tmp_path):
    stated = tmp_path / "stated.txt"
    stated.write_text("Clashes in Kandahar\nPublished: 2025-06-15\n\nTwo soldiers were killed in clashes in "
                      "Kandahar yesterday.\n")
    html = tmp_path / "page.html"
    html.write_text("<html><head><title>Clashes</title><meta property='article:published_time' "
                    "content='2025-03-02T08:00:00Z'></head><body><article><p>Two soldiers were killed in "
                    "clashes in Kandahar yesterday, officials said on the record to reporters.</p></article>"
                    "</body></html>")
    relative = tmp_path / "relative.txt"
    relative.write_text("Clashes in Kandahar\n\n3 days ago\n\nTwo soldiers were killed in clashes in Kandahar "
                        "yesterday.\n")
    r = geo("extract", str(stated), str(html), str(relative), "--retrieved", "2025-11-11")
    assert r.returncode == 0, r.stderr
    dates = {d["id"]: d["incidents"][0]["date"] for d in map(json.loads, r.stdout.splitlines())}
    assert dates == {"stated": "2025-06-14", "page": "2025-03-01", "relative": "2025-11-07"}


def test_evaluate_incidents_reports_the_scores():
    from conftest import requires_shared
    requires_shared("eval", "incidents")
    r = geo("evaluate", "--incidents", "--json")
    assert r.returncode == 0, r.stderr
    score = json.loads(r.stdout)
    assert score["articles"] == 9 and 0.0 <= score["f1"] <= 1.0
