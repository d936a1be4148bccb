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


def _torch_devices():
    """`cpu` always; `cuda` where a GPU is present (GAMTOY_TEST_DEVICES=cpu,cuda overrides)."""
    import os
    want = os.environ.get("GAMTOY_TEST_DEVICES")
    if want:
        return [d.strip() for d in want.split(",") if d.strip()]
    try:
        import torch
    except ImportError:
        return ["cpu"]
    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


@pytest.fixture(params=_torch_devices())
def device(request):
    """The torch device a torch test runs on: every torch test that puts a tensor on a device
    takes this parameter (the file-format tests and the forking kill -9 test are CPU-only)."""
    return request.param


@pytest.fixture(scope="module")
def torch_one_thread():
    """One torch thread for a module: bit-reproducible across processes, no spinning on a loaded
    box (use with `pytestmark = pytest.mark.usefixtures("torch_one_thread")`)."""
    import torch
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
