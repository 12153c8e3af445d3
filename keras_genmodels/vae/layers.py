"""Layers of the VAE family."""

import keras
from keras import ops

from keras_genmodels._validation import check_seed

from keras_genmodels.distribute import ReplicaSeedGenerator


@keras.saving.register_keras_serializable(package="keras_genmodels")
class Sampling(keras.layers.Layer):
    """The reparameterisation trick: draws h ~ N(μ, diag σ²) differentiably.

        h = μ + exp(½ log σ²) ⊙ ε,   ε ~ N(0, I)

    The noise comes from a `keras.random.SeedGenerator`, so a layer built with
    the same seed draws the same sequence of ε. Under a `tf.distribute`
    strategy the replica id is folded into each draw's seed
    (`keras_genmodels.distribute.ReplicaSeedGenerator`), so that replicas draw
    independent noise for their shards of the batch.

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
        self.seed = check_seed("seed", seed)
        self.seed_generator = ReplicaSeedGenerator(seed)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            length = len(inputs) if isinstance(inputs, (list, tuple)) else 1
            raise ValueError(
                "`Sampling` expects a pair [z_mean, z_log_var]. Received: "
                f"{type(inputs).__name__} of length {length}"
            )
        z_mean, z_log_var = inputs
        mean_shape, log_var_shape = tuple(z_mean.shape), tuple(z_log_var.shape)
        if len(mean_shape) != len(log_var_shape) or any(
            a is not None and b is not None and a != b for a, b in zip(mean_shape, log_var_shape)
        ):
            raise ValueError(
                "`z_mean` and `z_log_var` must have the same shape. "
                f"Received: {mean_shape} and {log_var_shape}"
            )
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
