"""ExplorerState's fields found unchecked by the outside check of issue 9: optimizers that are
not a sequence of names, empty or repeated; a run too long to redraw live (its steps slider had
2 x steps / 10 entries); a start outside the run's box."""
import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from gamtoy.widgets.explore import MAX_STEPS, ExplorerState  # noqa: E402


@pytest.mark.parametrize("kw,err,match", [
    (dict(optimizers=5), TypeError, "optimizers must be a name or a sequence of names"),
    (dict(optimizers=[]), ValueError, "optimizers is empty"),
    (dict(optimizers=[["sam"]]), ValueError, r"unknown optimizer\(s\) \[\['sam'\]\]"),
    (dict(optimizers=["sam", "gam", "sam"]), ValueError, r"lists \['sam'\] more than once"),
    (dict(steps=MAX_STEPS + 1), ValueError, f"steps must be <= {MAX_STEPS}"),
    (dict(start_x=1e9), ValueError, r"start_x must be in \[-"),
    (dict(start_y=-np.inf), ValueError, "start_y"),
])
def test_bad_explorer_fields_are_refused_naming_the_field(kw, err, match):
    with pytest.raises(err, match=match):
        ExplorerState(**kw)


def test_good_fields_still_pass():
    s = ExplorerState(optimizers=("sgd", "gsam"), steps=MAX_STEPS, start_x=np.float32(-2.5))
    assert s.optimizers == ("sgd", "gsam") and s.start_x == -2.5
    assert ExplorerState(optimizers="gam").optimizers == ("gam",)
