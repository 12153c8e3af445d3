"""Energy networks E_θ(x): a batch in, one energy per example out.

- `conv_energy_network`: Foster's network for 28 x 28 or 32 x 32 images
  (*Generative Deep Learning*, 2nd ed., ch. 7): four stride-2 convolutions
  with 16 (5 x 5), 32, 64 and 64 (3 x 3) filters and swish activations,
  Dense 64 (swish), Dense 1.
- `mlp_energy_network`: a fully connected network with swish activations, for
  vectors such as 2-D toy data.

Swish (smooth, non-saturating) keeps ∇_x E informative everywhere, which the
Langevin chains need; ReLU's piecewise-constant gradients would not.
"""

import keras
from keras import layers

from keras_genmodels import _validation as v


def _kernel(seed, i):
    """Glorot-uniform kernels (Keras's default), seeded layer by layer when `seed` is an int."""
    return keras.initializers.GlorotUniform(seed=None if seed is None else seed + i)


def conv_energy_network(input_shape=(32, 32, 1), filters=(16, 32, 64, 64), dense_units=64, seed=None,
                        name="energy"):
    """Foster's convolutional energy network (the default for images).

    Args:
        input_shape: `(height, width, channels)`. Defaults to `(32, 32, 1)`.
        filters: filters of the stride-2 convolutions; the first has a 5 x 5
            kernel, the others 3 x 3. Defaults to `(16, 32, 64, 64)`.
        dense_units: units of the hidden dense layer. Defaults to `64`.
        seed: int or `None`, the seed of the initial weights. Defaults to `None`.
        name: the model's name. Defaults to `"energy"`.

    Returns:
        A functional `keras.Model` from `(batch,) + input_shape` to `(batch, 1)`.
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or any(not isinstance(d, int) or d < 1 for d in input_shape):
        raise ValueError(
            f"Expected `input_shape` to be (height, width, channels) of positive ints. Received: input_shape={input_shape}"
        )
    filters = tuple(v.check_positive_int("filters", f) for f in filters)
    seed = v.check_seed("seed", seed)
    dense_units = v.check_positive_int("dense_units", dense_units)
    x_in = keras.Input(input_shape, name="x")
    x = x_in
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, 5 if i == 0 else 3, strides=2, padding="same", activation="swish",
                          kernel_initializer=_kernel(seed, i), name=f"conv_{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation="swish", kernel_initializer=_kernel(seed, len(filters)), name="dense")(x)
    out = layers.Dense(1, kernel_initializer=_kernel(seed, len(filters) + 1), name="energy_out", dtype="float32")(x)  # (batch, 1), float32 under mixed precision
    return keras.Model(x_in, out, name=name)


def mlp_energy_network(input_dim=2, hidden_units=(128, 128), seed=None, name="energy"):
    """A fully connected energy network with swish activations.

    Args:
        input_dim: the dimension of x. Defaults to `2`.
        hidden_units: widths of the hidden layers. Defaults to `(128, 128)`.
        seed: int or `None`, the seed of the initial weights. Defaults to `None`.
        name: the model's name. Defaults to `"energy"`.

    Returns:
        A functional `keras.Model` from `(batch, input_dim)` to `(batch, 1)`.
    """
    input_dim = v.check_positive_int("input_dim", input_dim)
    hidden_units = tuple(v.check_positive_int("hidden_units", u) for u in hidden_units)
    seed = v.check_seed("seed", seed)
    x_in = keras.Input((input_dim,), name="x")
    x = x_in
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation="swish", kernel_initializer=_kernel(seed, i), name=f"dense_{i}")(x)
    out = layers.Dense(1, kernel_initializer=_kernel(seed, len(hidden_units)), name="energy_out", dtype="float32")(x)
    return keras.Model(x_in, out, name=name)
