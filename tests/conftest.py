from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED = ROOT / "data" / "articles" / "000_291e9b028d6a323a.txt"


@pytest.fixture(scope="session")
def gazetteer():
    from geo.gazetteer import load_gazetteer
    return load_gazetteer()


@pytest.fixture(scope="session")
def parse():
    """Text -> list of resolved places, through the default pipeline."""
    from geo.document import Article
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
                                 "corrections CASCADE")
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
