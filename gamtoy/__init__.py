"""gamtoy: a small, exact, fast laboratory for flatness-seeking optimizers.

SAM, GNP, GSAM and GAM as estimators over exact 2D landscapes, a small MLP and (optionally)
PyTorch models; flatness measures R0, R1, surrogate gap h and the Hessian spectrum.
"""
from . import flatness, landscapes, optim, outcomes
from .run import Trajectory, run

__version__ = "0.1.0"
__all__ = ["landscapes", "optim", "flatness", "outcomes", "run", "Trajectory"]
