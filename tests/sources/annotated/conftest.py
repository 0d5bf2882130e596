import pytest

from spatialforge.sources.synthetic import render_synthetic

SIZE = (160, 120)


@pytest.fixture(scope="session")
def samples():
    """Two synthetic scenes with exact ground truth, the source every fixture writer exports."""
    return [render_synthetic(5, i, SIZE) for i in range(2)]
