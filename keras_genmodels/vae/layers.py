"""Layers of the VAE family."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_genmodels")
class Sampling(keras.layers.Layer):
    """The reparameterisation trick: draws h ~ N(μ, diag σ²) differentiably.

        h = μ + exp(½ log σ²) ⊙ ε,   ε ~ N(0, I)

    The noise comes from a `keras.random.SeedGenerator`, so a layer built with
    the same seed draws the same sequence of ε.

    Args:
        seed: int or `None`. Seed of the noise generator. Defaults to `None`.
        **kwargs: base layer keyword arguments (`name`, `dtype`).

    Call arguments:
        inputs: a pair `(z_mean, z_log_var)` of tensors of the same shape.

    Example:

    >>> z_mean, z_log_var = np.zeros((4, 2)), np.zeros((4, 2))
    >>> h = Sampling(seed=1)([z_mean, z_log_var])  # 4 draws from N(0, I)

    References:
        Kingma & Welling, "Auto-Encoding Variational Bayes", arXiv:1312.6114.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"`seed` must be an int or None. Received: seed={seed!r}")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(
            ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator
        )
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config
