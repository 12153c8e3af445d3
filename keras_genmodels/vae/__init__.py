"""Variational autoencoders (Kingma & Welling 2013).

- `VAE`: the `keras.Model` (a `GenerativeModel`) with a `Sampling` layer,
  the keras.io convolutional networks or the lecture's MLP (`build_networks`),
  Bernoulli or Gaussian decoders; trained with `fit` on the ELBO.
- `elbo`, `importance_weighted_bound`: bounds on log p(x) in nats.
- `kl_diagonal_gaussians`, `kl_standard_normal`, `bernoulli_log_likelihood`,
  `gaussian_log_likelihood`: the ELBO's terms in closed form.

The names are imported when first used (`keras_genmodels._lazy`), so that the
command line reads the family's flags without importing TensorFlow.
"""

from keras_genmodels._lazy import lazy_attributes

__all__ = [
    "Sampling",
    "VAE",
    "bernoulli_log_likelihood",
    "build_networks",
    "elbo",
    "gaussian_log_likelihood",
    "importance_weighted_bound",
    "kl_diagonal_gaussians",
    "kl_standard_normal",
]

__getattr__, __dir__ = lazy_attributes(__name__, {
    "VAE": "model",
    "Sampling": "layers",
    "build_networks": "networks",
    "elbo": "evaluation",
    "importance_weighted_bound": "evaluation",
    "bernoulli_log_likelihood": "losses",
    "gaussian_log_likelihood": "losses",
    "kl_diagonal_gaussians": "losses",
    "kl_standard_normal": "losses",
})
