"""Batch runs survive every bad line: each bad input is named in one line and the rest are processed;
a store that cannot be written (full disk, read-only) stops the run with one line and loses nothing."""
import json
import os
import subprocess
import sys
import threading

import pytest

from conftest import ROOT
from test_cli import geo

GOOD = {"id": "good", "text": "Clashes in Kandahar on Friday killed four soldiers.", "published": "2025-11-08"}


def _jsonl(path, *objects):
    path.write_text("".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objects))
    return str(path)


def _no_traceback_one_line_each(stderr):
    assert "Traceback" not in stderr
    return [line for line in stderr.splitlines() if line.strip()]


def test_jsonl_fields_of_the_wrong_type_are_named_and_the_rest_processed(tmp_path):
    path = _jsonl(tmp_path / "in.jsonl",
                  dict(GOOD, id="a", title=["a", "list"]), dict(GOOD, id="b", url={"an": "object"}),
                  dict(GOOD, id="c", source=[1]), dict(GOOD, id={"x": 1}), dict(GOOD, id=None),
                  dict(GOOD, id=7, title="Seven"), GOOD)
    r = geo("extract", "--jsonl", path)
    assert r.returncode == 1
    err = "\n".join(_no_traceback_one_line_each(r.stderr))
    assert 'in.jsonl:1: "title" is a list, not a string' in err
    assert 'in.jsonl:2: "url" is an object, not a string' in err
    assert 'in.jsonl:3: "source" is a list, not a string' in err
    assert 'in.jsonl:4: "id" is an object, not a string or a number' in err
    ids = [json.loads(line)["id"] for line in r.stdout.splitlines()]
    assert ids == ["5", "7", "good"]  # a null id is like no id: the line number, never "None"


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["one process", "dask workers"])
def test_nul_in_an_article_is_named_and_the_rest_go_into_the_store(store_url, tmp_path, workers):
    path = _jsonl(tmp_path / "in.jsonl", dict(GOOD, id="nul", text="Clashes in Quetta\u0000 killed two."),
                  dict(GOOD, id="nul-title", title="A\u0000B", text="Shelling hit Kharkiv overnight."), GOOD)
    r = geo("ingest", "--jsonl", path, "--db", store_url, "--quiet", *workers)
    assert r.returncode == 1, r.stderr
    err = _no_traceback_one_line_each(r.stderr)
    assert any("in.jsonl:1:" in line and "NUL" in line for line in err), err
    assert any("in.jsonl:2:" in line and "NUL" in line for line in err), err
    assert "articles: 1 new, 0 unchanged, 2 failed" in r.stdout


def test_ingest_into_a_read_only_store_stops_with_one_line_and_loses_nothing(store_url, tmp_path):
    from geo.store import Store
    path = _jsonl(tmp_path / "in.jsonl", GOOD)
    with Store.open(store_url) as store:
        before = store.counts()
    if store_url.startswith("postgresql"):
        read_only = store_url + "?options=-c%20default_transaction_read_only%3Don"
        r = geo("ingest", "--jsonl", path, "--db", read_only, "--quiet")
    else:
        with _read_only_folder(os.path.dirname(store_url)):
            r = geo("ingest", "--jsonl", path, "--db", store_url, "--quiet")
    assert r.returncode == 2
    (line,) = _no_traceback_one_line_each(r.stderr)
    assert "read-only" in line or "readonly" in line
    with Store.open(store_url) as store:
        assert store.counts() == before


class _read_only_folder:
    """The folder mounted read-only over itself (root), or made unwritable (others)."""

    def __init__(self, folder):
        self.folder = folder

    def __enter__(self):
        if os.geteuid() == 0:
            subprocess.run(["mount", "--bind", self.folder, self.folder], check=True)
            subprocess.run(["mount", "-o", "remount,ro,bind", self.folder], check=True)
        else:
            os.chmod(self.folder, 0o555)
            for name in os.listdir(self.folder):
                os.chmod(os.path.join(self.folder, name), 0o444)

    def __exit__(self, *exc):
        if os.geteuid() == 0:
            subprocess.run(["umount", self.folder], check=True)
        else:
            os.chmod(self.folder, 0o755)


def test_ingest_on_a_full_disk_stops_with_one_line_and_the_store_intact(tmp_path):
    import resource

    from geo.places.gazetteer import build_index
    from geo.store import Store
    db = tmp_path / "store.gpkg"
    words = " ".join(f"The people of the town said that it was calm on day {i}." for i in range(300))
    articles = [dict(GOOD, id=f"a{i}", text=f"Clashes in Kandahar on Friday killed {i} soldiers. {words} {i}")
                for i in range(40)]
    path = _jsonl(tmp_path / "in.jsonl", *articles)
    Store.open(db).close()
    build_index()  # the gazetteer's index is built now, not under the small disk below
    size = db.stat().st_size
    limit = size + 200_000   # room for a few articles, then the disk is "full"

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    r = subprocess.run([sys.executable, "-m", "geo", "ingest", "--jsonl", path, "--db", str(db), "--quiet"],
                       capture_output=True, text=True, cwd=ROOT, timeout=600, preexec_fn=small_disk)
    assert r.returncode == 2
    (line,) = _no_traceback_one_line_each(r.stderr)
    assert "cannot write" in line and str(db.name) in line
    with Store.open(db) as store:
        counts = store.counts()
        assert 0 < counts["articles"] < 40 and counts["incident_sources"] >= counts["articles"]
        with store.read() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_devices_and_fifos_are_named_and_lines_are_read_with_a_bound(tmp_path):
    r = geo("extract", "--jsonl", "/dev/zero")
    assert r.returncode == 1 and "/dev/zero: a character device, not a file" in r.stderr
    r = geo("extract", "/dev/null")
    assert r.returncode == 1 and "/dev/null: a character device, not a file" in r.stderr

    fifo = tmp_path / "zeros"
    os.mkfifo(fifo)

    def endless_zeros():
        try:
            with open(fifo, "wb") as f:
                for _ in range(10_000):
                    f.write(bytes(1 << 20))
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=endless_zeros, daemon=True)
    writer.start()
    r = geo("extract", "--jsonl", str(fifo), "--max-bytes", "100000")
    assert r.returncode == 1 and "zeros:1: binary data" in r.stderr and len(r.stderr.splitlines()) == 1

    article = tmp_path / "piped"
    os.mkfifo(article)
    threading.Thread(target=lambda: article.write_text(GOOD["text"]), daemon=True).start()
    r = geo("extract", str(article))
    assert r.returncode == 0 and json.loads(r.stdout)["places"][0]["text"] == "Kandahar"

    long_line = tmp_path / "long.jsonl"
    with open(long_line, "w") as f:
        f.write('{"id": "long", "text": "' + "a" * 3_000_000 + '"}\n' + json.dumps(GOOD) + "\n")
    r = geo("extract", "--jsonl", str(long_line), "--max-bytes", "1000000")
    assert r.returncode == 1 and "long.jsonl:1: line too large" in r.stderr
    assert [json.loads(line)["id"] for line in r.stdout.splitlines()] == ["good"]


def test_a_file_of_bad_lines_is_summarised_after_a_few(tmp_path):
    path = _jsonl(tmp_path / "big.txt", *["not json at all"] * 3000, GOOD)
    r = geo("extract", "--jsonl", path)
    assert r.returncode == 1
    err = _no_traceback_one_line_each(r.stderr)
    assert len(err) <= 12 and "big.txt: 2990 more bad lines not shown" in err[-1], err
    assert [json.loads(line)["id"] for line in r.stdout.splitlines()] == ["good"]


def test_file_names_with_glob_characters_are_read_as_files(tmp_path):
    odd = tmp_path / "report [final] *draft?.txt"
    odd.write_text(GOOD["text"])
    r = geo("extract", str(odd))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["id"] == "report [final] *draft?"


def test_negative_bbox_and_malformed_store_urls(tmp_path):
    db = str(tmp_path / "store.gpkg")
    geo("ingest", "--jsonl", _jsonl(tmp_path / "in.jsonl", GOOD), "--db", db)
    out = tmp_path / "west.geojson"
    r = geo("export", "--db", db, "--bbox", "-10,0,10,20", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["features"] == []
    r = geo("export", "--db", db, "--bbox", "60,25,75,40", "-o", str(out))
    assert r.returncode == 0 and len(json.loads(out.read_text())["features"]) == 1
    for url in ("postgresql://user:pw@host:notaport/db", "postgresql://[::1/db", "sqlite:///"):
        for command in (["export", "-o", str(out)], ["ingest", "--jsonl", str(tmp_path / "in.jsonl")]):
            r = geo(*command, "--db", url)
            assert r.returncode == 2, (url, r.stderr)
            (line,) = _no_traceback_one_line_each(r.stderr)
            assert "pw" not in line
