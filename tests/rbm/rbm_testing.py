"""Helpers of the RBM tests (tiny models with random weights, state enumeration)."""

import numpy as np

from keras_genmodels.rbm import BernoulliRBM, GaussianBernoulliRBM


def all_states(m):
    """Every binary vector of length m, shape (2^m, m), float64."""
    idx = np.arange(2**m)
    return ((idx[:, None] >> np.arange(m)) & 1).astype("float64")


def random_bernoulli(n_visible, n_hidden, scale=1.0, seed=0, **kwargs):
    """A BernoulliRBM with random N(0, scale^2) weights and biases."""
    rng = np.random.default_rng(seed)
    model = BernoulliRBM(n_visible, n_hidden, seed=seed, **kwargs)
    model.kernel.assign(scale * rng.standard_normal((n_visible, n_hidden)))
    model.visible_bias.assign(scale * rng.standard_normal(n_visible))
    model.hidden_bias.assign(scale * rng.standard_normal(n_hidden))
    return model


def random_gaussian(n_visible, n_hidden, scale=0.5, seed=0, **kwargs):
    """A GaussianBernoulliRBM with random weights and per-unit variances."""
    rng = np.random.default_rng(seed)
    model = GaussianBernoulliRBM(n_visible, n_hidden, seed=seed, **kwargs)
    model.kernel.assign(scale * rng.standard_normal((n_visible, n_hidden)))
    model.visible_bias.assign(rng.standard_normal(n_visible))
    model.hidden_bias.assign(scale * rng.standard_normal(n_hidden))
    model.log_variance.assign(np.log(rng.uniform(0.5, 2.0, n_visible)))
    return model


def logsumexp(a, axis=None):
    """log sum exp(a) along `axis`, stable (float64 NumPy)."""
    a = np.asarray(a, "float64")
    top = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return np.squeeze(out, axis=axis) if axis is not None else out.item()
