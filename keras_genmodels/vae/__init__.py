"""Variational autoencoders (Kingma & Welling 2013)."""

from keras_genmodels.vae.evaluation import elbo, importance_weighted_bound  # noqa: F401
from keras_genmodels.vae.layers import Sampling  # noqa: F401
from keras_genmodels.vae.losses import (  # noqa: F401
    bernoulli_log_likelihood,
    gaussian_log_likelihood,
    kl_diagonal_gaussians,
    kl_standard_normal,
)
from keras_genmodels.vae.model import VAE  # noqa: F401
from keras_genmodels.vae.networks import build_networks  # noqa: F401
