"""gamtoy.torch: the same algorithms as `gamtoy.optim`, as torch optimizers (tested equal).

    from gamtoy.torch import GAM
    opt = GAM(model.parameters(), torch.optim.SGD, rho=0.1, alpha=0.3, lr=0.1, model=model)
    loss = opt.step(lambda: loss_fn(model(x), y))   # or torch's closure: zero_grad, backward

Recipes for Lightning and Hugging Face: docs/guides/torch.md.
`get(name, params, lr, base=...)` takes the names of `gamtoy.optim.get`. The vector kernels are
in `gamtoy.torch.kernels` (`FORCE_DEVICE_PATH` runs the GPU path on the CPU). Importing this package
imports torch; `import gamtoy` does not.
"""
from .._extras import require

require("torch")  # without the torch extra: one line naming it, not a bare import error

from . import kernels  # noqa: E402
from .optimizers import (  # noqa: E402
    CLASSES,
    GAM,
    GNP,
    GSAM,
    GSAMGAM,
    HVP_MODES,
    SAM,
    SAMGAM,
    Diagnostics,
    FlatnessOptimizer,
    GAMAccel,
    Gradient,
    get,
)

__all__ = ["SAM", "GNP", "GSAM", "GAM", "GAMAccel", "SAMGAM", "GSAMGAM", "Gradient",
           "FlatnessOptimizer", "CLASSES", "HVP_MODES", "Diagnostics", "get", "kernels"]
