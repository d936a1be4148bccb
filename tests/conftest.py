import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_close():
    np.random.seed(0)
    yield
    plt.close("all")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True, scope="session")
def _fresh_cache(tmp_path_factory):
    """Experiments cache results on disk: tests start from an empty cache, never a stale one."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GAMTOY_CACHE", str(tmp_path_factory.mktemp("gamtoy_cache")))
    yield
    mp.undo()
