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
