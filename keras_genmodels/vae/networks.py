"""Encoder and decoder networks for the VAE.

An encoder maps x to the parameters of Q(h|x) = N(μ(x), diag σ²(x)) and has two
outputs, `[z_mean, z_log_var]`, each `(batch, latent_dim)`. A decoder maps h
to the parameters of p(x|h): logits for a Bernoulli likelihood, the mean for a
Gaussian one, with the data's shape.

Two architectures:
- `"conv"`: the keras.io convolutional VAE (Conv2D 32/64 with stride 2, Dense 16;
  a mirrored Conv2DTranspose decoder), for images whose height and width are
  divisible by 4.
- `"mlp"`: the lecture's multilayer perceptron: Dense+ReLU hidden layers, then
  μ and log σ² heads; the decoder mirrors the hidden layers.
"""

import math
import numbers

import keras
from keras import layers

from keras_genmodels._validation import check_positive_int

ARCHITECTURES = ("conv", "mlp")


def conv_encoder(data_shape, latent_dim, name="encoder"):
    """The keras.io convolutional encoder (Conv2D 32, Conv2D 64, Dense 16)."""
    inputs = keras.Input(shape=data_shape, name="x")
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


def conv_decoder(data_shape, latent_dim, name="decoder"):
    """The keras.io convolutional decoder, ending in linear (logit/mean) outputs."""
    height, width, channels = data_shape
    inputs = keras.Input(shape=(latent_dim,), name="h")
    x = layers.Dense((height // 4) * (width // 4) * 64, activation="relu")(inputs)
    x = layers.Reshape((height // 4, width // 4, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    outputs = layers.Conv2DTranspose(channels, 3, padding="same", name="x_params")(x)
    return keras.Model(inputs, outputs, name=name)


def mlp_encoder(data_shape, latent_dim, hidden_units=(512, 256), name="encoder"):
    """The lecture's MLP encoder: Dense+ReLU layers, then μ and log σ² heads."""
    inputs = keras.Input(shape=data_shape, name="x")
    x = layers.Flatten()(inputs) if len(data_shape) > 1 else inputs
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation="relu", name=f"hidden_{i}")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


def mlp_decoder(data_shape, latent_dim, hidden_units=(512, 256), name="decoder"):
    """The MLP decoder, mirroring the encoder's hidden layers."""
    inputs = keras.Input(shape=(latent_dim,), name="h")
    x = inputs
    for i, units in enumerate(reversed(tuple(hidden_units))):
        x = layers.Dense(units, activation="relu", name=f"hidden_{i}")(x)
    x = layers.Dense(math.prod(data_shape), name="x_params")(x)
    outputs = layers.Reshape(tuple(data_shape))(x) if len(data_shape) > 1 else x
    return keras.Model(inputs, outputs, name=name)


def build_networks(architecture, data_shape, latent_dim, hidden_units=(512, 256)):
    """Return `(encoder, decoder)` for an architecture name."""
    received = data_shape
    try:
        data_shape = tuple(data_shape)
    except TypeError:
        data_shape = None
    if not data_shape or any(
        isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1 for d in data_shape
    ):
        raise ValueError(
            "`data_shape` must be a non-empty tuple of positive ints. "
            f"Received: data_shape={received!r}"
        )
    check_positive_int("latent_dim", latent_dim)
    try:
        hidden_units = tuple(hidden_units)
    except TypeError:
        raise ValueError(
            "`hidden_units` must be a sequence of positive ints. "
            f"Received: hidden_units={hidden_units!r}"
        ) from None
    for units in hidden_units:
        check_positive_int("hidden_units[i]", units)
    if architecture == "conv":
        if len(data_shape) != 3 or data_shape[0] % 4 or data_shape[1] % 4:
            raise ValueError(
                "The 'conv' architecture expects data_shape (height, width, channels) "
                f"with height and width divisible by 4. Received: data_shape={data_shape}"
            )
        return conv_encoder(data_shape, latent_dim), conv_decoder(data_shape, latent_dim)
    if architecture == "mlp":
        return (
            mlp_encoder(data_shape, latent_dim, hidden_units),
            mlp_decoder(data_shape, latent_dim, hidden_units),
        )
    raise ValueError(
        f"`architecture` must be one of {list(ARCHITECTURES)}. "
        f"Received: architecture={architecture!r}"
    )
