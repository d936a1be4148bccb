"""The small-MLP laboratory: the optimizers of `gamtoy.optim` on a flat-vector MLP.

    >>> model, data = gamtoy.mlp.quick_setup("moons")
    >>> out = gamtoy.mlp.train(model, data, gamtoy.optim.get("gam", lr=0.1), steps=300)

Data: make_data("moons" | "spirals" | "gmm" | "digits"), digits being scikit-learn's 8x8 images.
The papers' experiments in miniature, each claim with a paired interval and a verdict:
`gamtoy.mlp.experiments` (figures: `gamtoy.mlp.plots`).
"""
from .data import Dataset, make_data
from .hessian import dense_hessian, hessian_operator, hutchinson_trace, top_eigenvalues
from .model import Model
from .oracle import FullBatchOracle, MiniBatchOracle, check_data, make_oracle
from .train import quick_setup, train

__all__ = ["Model", "Dataset", "make_data", "FullBatchOracle", "MiniBatchOracle", "make_oracle",
           "dense_hessian", "hessian_operator", "hutchinson_trace", "top_eigenvalues", "train",
           "quick_setup", "check_data"]
