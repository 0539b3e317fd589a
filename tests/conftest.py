from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED = ROOT / "data" / "articles" / "000_291e9b028d6a323a.txt"


@pytest.fixture(scope="session")
def gazetteer():
    from geo.places.gazetteer import load_gazetteer
    return load_gazetteer()


@pytest.fixture(scope="session")
def parse():
    """Text -> list of resolved places, through the default pipeline."""
    from geo.text.document import Article
    from geo.pipeline import default_pipeline
    pipeline = default_pipeline()
    return lambda text: pipeline(Article("t", text)).places


def requires_shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared evaluation material sits beside the checkout)")
    return path


IN_CI = bool(__import__("os").environ.get("GEO_CI"))
POSTGIS_HELP = ("PostGIS tests need a server: run `.ci/postgis.sh install` (as root) and "
                "`export GEO_TEST_POSTGIS=$(.ci/postgis.sh start)`, or `bash .ci/run` which does both")


def postgis_url() -> str:
    """The throwaway PostGIS database of the tests, emptied; skip (fail in CI) without one."""
    import os
    url = os.environ.get("GEO_TEST_POSTGIS")
    if not url:
        if IN_CI:
            pytest.fail("GEO_TEST_POSTGIS is not set in CI: " + POSTGIS_HELP)
        pytest.skip(POSTGIS_HELP)
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS store_meta, articles, incidents, incident_sources, "
                                 "corrections, user_roles, sign_in_failures, incident_renames CASCADE")
    except sa.exc.OperationalError as exc:
        if IN_CI:
            raise
        pytest.skip(f"PostGIS at {url} is not reachable ({exc.orig}); " + POSTGIS_HELP)
    finally:
        engine.dispose()
    return url


@pytest.fixture(params=["gpkg", "postgis"])
def store_url(request, tmp_path):
    """An empty store on each engine: a GeoPackage file, and the PostGIS test database."""
    return str(tmp_path / "incidents.gpkg") if request.param == "gpkg" else postgis_url()


def require_chromium() -> str:
    """The system's Chromium for the browser tests; skip without it (fail in CI)."""
    import shutil
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if IN_CI:
            pytest.fail("Chromium is missing in CI")
        pytest.skip("browser tests need Chromium: apt-get install chromium (bash .ci/run does it)")
    return path


def start_dashboard(env: dict, *extra: str):
    """`streamlit run dashboard.py` on a free loopback port; (process, base URL) once it answers."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1", *extra],
                            cwd=ROOT, env=dict(os.environ, **env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).status == 200:
                return proc, base
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"streamlit did not start: {proc.stdout.read()}")
