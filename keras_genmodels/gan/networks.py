"""Generator and discriminator (critic) networks of the GAN family.

Every pair follows one interface, which `gan.model.GAN` checks when it is
built:

- a generator maps a latent batch z of shape `(batch, latent_dim)` (and, for
  a conditional model, a condition c of shape `(batch, condition_dim)`) to
  a batch `(batch,) + data_shape` in [−1, 1] (tanh output);
- a discriminator (a WGAN's critic) maps a batch `(batch,) + data_shape`
  (and c) to one real score per example, `(batch, 1)`: a logit for the
  DCGAN, an unbounded critic value for the WGAN.

Conditional networks take `[z, c]` and `[x, c]`: the generator concatenates
c to z; the discriminator turns c into one extra input channel (a Dense
projection to an H x W map, as the keras-io conditional GAN appends its
one-hot labels as channels). c is a one-hot class vector or a temperature
scaled to [0, 1] (`GAN.condition_vectors`).

- `wgan_gp_generator`, `wgan_gp_critic`: the networks of keras-io's
  `wgan_gp.py` for 28 x 28 x 1 images (the default of `WGANGP`).
- `dcgan_generator`, `dcgan_discriminator`: a DCGAN pair for 28 x 28 images
  in the paper's style (Radford et al. 2015: strided (transposed)
  convolutions, batch normalisation except at the discriminator's input and
  the generator's output, ReLU in the generator, LeakyReLU(0.2) in the
  discriminator, weights N(0, 0.02); the default of `DCGAN`).
- `lattice_generator`, `lattice_critic`: networks for L x L spin lattices
  with periodic (circular) padding, so that no site is an edge site, as on
  the torus the Ising model lives on.
"""

import keras
from keras import layers, ops

from keras_genmodels import _validation as v
from keras_genmodels.periodic import CircularPad2D


def _check_shape(name, shape, rank=3):
    shape = tuple(shape)
    if len(shape) != rank or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in shape):
        raise ValueError(
            f"Expected `{name}` to be (height, width, channels) of positive ints. Received: {name}={shape!r}"
        )
    return shape


def _condition_input(condition_dim):
    if condition_dim is None:
        return None
    return keras.Input((v.check_positive_int("condition_dim", condition_dim),), name="condition")


def _init(seed, i, stddev=None):
    """Seeded initialisers, layer by layer: N(0, stddev) (DCGAN) or Glorot uniform (Keras's default)."""
    seed = None if seed is None else seed + i
    if stddev is None:
        return keras.initializers.GlorotUniform(seed=seed)
    return keras.initializers.RandomNormal(0.0, stddev, seed=seed)


def _generator_input(latent_dim, condition):
    z = keras.Input((v.check_positive_int("latent_dim", latent_dim),), name="z")
    h = z if condition is None else layers.Concatenate(name="z_and_condition")([z, condition])
    return z, h


def _with_condition_channel(x, condition, shape, seed, i, name="condition_map"):
    """x with one more channel: c projected by a Dense layer to an H x W map."""
    if condition is None:
        return x
    h, w = shape[0], shape[1]
    c = layers.Dense(h * w, kernel_initializer=_init(seed, i), name=name)(condition)
    c = layers.Reshape((h, w, 1), name=f"{name}_reshape")(c)
    return layers.Concatenate(name=f"{name}_concat")([x, c])


def _widths(width, *filters):
    """The channel counts `filters` scaled by `width` (a positive float), each at least 1."""
    width = v.check_positive_float("width", width)
    return [max(1, int(round(f * width))) for f in filters]


def _model(inputs, outputs, name):
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs, name=name)


# ----------------------------------------------------------- keras-io WGAN-GP
def wgan_gp_generator(latent_dim=128, condition_dim=None, seed=None, name="generator", width=1.0):
    """keras-io's WGAN-GP generator: z (128) -> 28 x 28 x 1 in [−1, 1].

    Dense 4·4·256 (no bias), BN, LeakyReLU(0.2); three blocks of
    UpSampling2D(2), Conv2D 3 x 3 (no bias), BN, with 128 and 64 filters and
    LeakyReLU(0.2), then 1 filter and tanh; 32 x 32 cropped to 28 x 28.

    Args:
        latent_dim: the size of z. Defaults to `128`.
        condition_dim: the size of the condition c, or `None` for an
            unconditional generator. Defaults to `None`.
        seed: int or `None`, the seed of the initial weights. Defaults to `None`.
        name: the model's name. Defaults to `"generator"`.
        width: a factor on every hidden layer's channels (256, 128, 64);
            `1.0` is keras-io's network. Defaults to `1.0`.
    """
    seed = v.check_seed("seed", seed)
    w0, w1, w2 = _widths(width, 256, 128, 64)
    condition = _condition_input(condition_dim)
    z, h = _generator_input(latent_dim, condition)
    h = layers.Dense(4 * 4 * w0, use_bias=False, kernel_initializer=_init(seed, 0), name="project")(h)
    h = layers.BatchNormalization(name="project_bn")(h)
    h = layers.LeakyReLU(0.2, name="project_act")(h)
    h = layers.Reshape((4, 4, w0), name="reshape")(h)
    for i, (filters, activation) in enumerate(((w1, None), (w2, None), (1, "tanh"))):
        h = layers.UpSampling2D(2, name=f"up_{i}")(h)
        h = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=_init(seed, 1 + i),
                          name=f"conv_{i}")(h)
        h = layers.BatchNormalization(name=f"bn_{i}")(h)
        h = layers.LeakyReLU(0.2, name=f"act_{i}")(h) if activation is None else h
    h = layers.Activation("tanh", dtype="float32", name="tanh")(h)  # float32 under mixed precision
    out = layers.Cropping2D(2, name="crop")(h)  # (batch, 28, 28, 1)
    return _model([z] + ([condition] if condition is not None else []), out, name)


def wgan_gp_critic(input_shape=(28, 28, 1), condition_dim=None, seed=None, name="discriminator", width=1.0):
    """keras-io's WGAN-GP critic: 28 x 28 x 1 -> one score.

    Zero-padded to 32 x 32; four Conv2D 5 x 5 stride 2 with 64, 128, 256,
    512 filters and LeakyReLU(0.2), dropout 0.3 after the second and third;
    Flatten, Dropout 0.2, Dense 1. No batch normalisation (the gradient
    penalty is per example; Gulrajani et al. 2017, section 4).

    Args:
        input_shape: `(height, width, channels)`; padded by 2 on each side.
            Defaults to `(28, 28, 1)`.
        condition_dim: the size of c, or `None`. Defaults to `None`.
        seed: int or `None`. Defaults to `None`.
        name: the model's name. Defaults to `"discriminator"`.
        width: a factor on every layer's channels (64, 128, 256, 512);
            `1.0` is keras-io's network. Defaults to `1.0`.
    """
    input_shape = _check_shape("input_shape", input_shape)
    seed = v.check_seed("seed", seed)
    widths = _widths(width, 64, 128, 256, 512)
    condition = _condition_input(condition_dim)
    x_in = keras.Input(input_shape, name="x")
    h = _with_condition_channel(x_in, condition, input_shape, seed, 10)
    h = layers.ZeroPadding2D(2, name="pad")(h)
    for i, (filters, dropout) in enumerate(zip(widths, (0, 0.3, 0.3, 0))):
        h = layers.Conv2D(filters, 5, strides=2, padding="same", kernel_initializer=_init(seed, i),
                          name=f"conv_{i}")(h)
        h = layers.LeakyReLU(0.2, name=f"act_{i}")(h)
        if dropout:
            h = layers.Dropout(dropout, seed=None if seed is None else seed + 20 + i, name=f"dropout_{i}")(h)
    h = layers.Flatten(name="flatten")(h)
    h = layers.Dropout(0.2, seed=None if seed is None else seed + 30, name="dropout_out")(h)
    out = layers.Dense(1, kernel_initializer=_init(seed, 4), dtype="float32", name="score")(h)
    return _model([x_in] + ([condition] if condition is not None else []), out, name)


# ---------------------------------------------------------------------- DCGAN
def dcgan_generator(latent_dim=100, condition_dim=None, seed=None, name="generator", width=1.0):
    """A DCGAN generator for 28 x 28 x 1: z -> Dense 7·7·256, BN, ReLU -> two 5 x 5
    stride-2 transposed convolutions (128 with BN and ReLU, then 1 with tanh).

    Weights N(0, 0.02) as in Radford et al. 2015; `latent_dim` defaults to
    their 100.

    Args:
        latent_dim: the size of z. Defaults to `100`.
        condition_dim: the size of c, or `None`. Defaults to `None`.
        seed: int or `None`. Defaults to `None`.
        name: the model's name. Defaults to `"generator"`.
        width: a factor on the hidden channels (256, 128). Defaults to `1.0`.
    """
    seed = v.check_seed("seed", seed)
    w0, w1 = _widths(width, 256, 128)
    condition = _condition_input(condition_dim)
    z, h = _generator_input(latent_dim, condition)
    h = layers.Dense(7 * 7 * w0, use_bias=False, kernel_initializer=_init(seed, 0, 0.02), name="project")(h)
    h = layers.BatchNormalization(name="project_bn")(h)
    h = layers.ReLU(name="project_act")(h)
    h = layers.Reshape((7, 7, w0), name="reshape")(h)
    h = layers.Conv2DTranspose(w1, 5, strides=2, padding="same", use_bias=False,
                               kernel_initializer=_init(seed, 1, 0.02), name="deconv_0")(h)  # 14 x 14
    h = layers.BatchNormalization(name="bn_0")(h)
    h = layers.ReLU(name="act_0")(h)
    h = layers.Conv2DTranspose(1, 5, strides=2, padding="same", kernel_initializer=_init(seed, 2, 0.02),
                               name="deconv_1")(h)  # 28 x 28
    out = layers.Activation("tanh", dtype="float32", name="tanh")(h)
    return _model([z] + ([condition] if condition is not None else []), out, name)


def dcgan_discriminator(input_shape=(28, 28, 1), condition_dim=None, seed=None, name="discriminator", width=1.0):
    """A DCGAN discriminator: 5 x 5 stride-2 convolutions with 64 (no BN) and 128 (BN)
    filters, LeakyReLU(0.2), Flatten, Dense 1 (a logit). Weights N(0, 0.02).

    Args:
        input_shape: `(height, width, channels)`. Defaults to `(28, 28, 1)`.
        condition_dim: the size of c, or `None`. Defaults to `None`.
        seed: int or `None`. Defaults to `None`.
        name: the model's name. Defaults to `"discriminator"`.
        width: a factor on the channels (64, 128). Defaults to `1.0`.
    """
    input_shape = _check_shape("input_shape", input_shape)
    seed = v.check_seed("seed", seed)
    w0, w1 = _widths(width, 64, 128)
    condition = _condition_input(condition_dim)
    x_in = keras.Input(input_shape, name="x")
    h = _with_condition_channel(x_in, condition, input_shape, seed, 10)
    h = layers.Conv2D(w0, 5, strides=2, padding="same", kernel_initializer=_init(seed, 0, 0.02), name="conv_0")(h)
    h = layers.LeakyReLU(0.2, name="act_0")(h)
    h = layers.Conv2D(w1, 5, strides=2, padding="same", use_bias=False, kernel_initializer=_init(seed, 1, 0.02),
                      name="conv_1")(h)
    h = layers.BatchNormalization(name="bn_1")(h)
    h = layers.LeakyReLU(0.2, name="act_1")(h)
    h = layers.Flatten(name="flatten")(h)
    out = layers.Dense(1, kernel_initializer=_init(seed, 2, 0.02), dtype="float32", name="logit")(h)
    return _model([x_in] + ([condition] if condition is not None else []), out, name)


# ------------------------------------------------------------- spin lattices
def _periodic_conv(h, filters, seed, i, name, activation=None, kernel=3):
    h = CircularPad2D(kernel // 2, name=f"{name}_pad")(h)
    return layers.Conv2D(filters, kernel, padding="valid", activation=activation,
                         kernel_initializer=_init(seed, i), name=name)(h)


def _check_lattice(L):
    L = v.check_positive_int("L", L)
    if L % 4:
        raise ValueError(f"Expected `L` to be a multiple of 4 (two stride-2 stages). Received: L={L}")
    return L


def lattice_generator(L=16, latent_dim=64, condition_dim=None, filters=64, seed=None, name="generator"):
    """A generator of L x L spin configurations, periodic: z -> (L/4)² x 2·filters ->
    two upsampling stages (nearest ×2, periodic 3 x 3 convolutions with BN and
    LeakyReLU(0.2)) -> a periodic 3 x 3 convolution to one channel, tanh.

    The output m ∈ (−1, 1) per site is the mean spin; `GAN.sample` draws
    s = ±1 with P(s = +1) = (1 + m) / 2 for spin data.

    Args:
        L: the lattice size, a multiple of 4. Defaults to `16`.
        latent_dim: the size of z. Defaults to `64`.
        condition_dim: the size of c (1 for a temperature), or `None`. Defaults to `None`.
        filters: channels of the last stage (the first has twice as many). Defaults to `64`.
        seed: int or `None`. Defaults to `None`.
        name: the model's name. Defaults to `"generator"`.
    """
    L = _check_lattice(L)
    filters = v.check_positive_int("filters", filters)
    seed = v.check_seed("seed", seed)
    condition = _condition_input(condition_dim)
    z, h = _generator_input(latent_dim, condition)
    q = L // 4
    h = layers.Dense(q * q * 2 * filters, use_bias=False, kernel_initializer=_init(seed, 0), name="project")(h)
    h = layers.BatchNormalization(name="project_bn")(h)
    h = layers.LeakyReLU(0.2, name="project_act")(h)
    h = layers.Reshape((q, q, 2 * filters), name="reshape")(h)
    for i, f in enumerate((2 * filters, filters)):
        h = layers.UpSampling2D(2, name=f"up_{i}")(h)
        h = _periodic_conv(h, f, seed, 1 + 2 * i, f"conv_{i}a")
        h = layers.BatchNormalization(name=f"bn_{i}")(h)
        h = layers.LeakyReLU(0.2, name=f"act_{i}")(h)
    h = _periodic_conv(h, 1, seed, 9, "to_spins")
    out = layers.Activation("tanh", dtype="float32", name="tanh")(h)  # (batch, L, L, 1)
    return _model([z] + ([condition] if condition is not None else []), out, name)


def lattice_critic(L=16, condition_dim=None, filters=64, seed=None, name="discriminator", magnetization_feature=True):
    """A critic of L x L spin configurations, periodic: periodic 3 x 3 convolutions
    (filters, then 2·filters and 4·filters at stride 2) with LeakyReLU(0.2), a global
    average over the sites (translation invariant, as the Ising energy), Dense 1.

    The first layer also sees the products of nearest neighbours s_i s_{i+x},
    s_i s_{i+y} as two extra channels (periodic), whose mean is −e/2: the
    energy is then one linear read-out away. With `magnetization_feature`
    the read-out also sees N m² (`SquaredMagnetization`), the global,
    spin-flip invariant statistic that an average of local patches cannot
    form: without it the critic of a 32 x 32 lattice cannot tell the law of
    |m|, and its generator overshoots <|m|>.

    Args:
        L: the lattice size, a multiple of 4. Defaults to `16`.
        condition_dim: the size of c (1 for a temperature), or `None`. Defaults to `None`.
        filters: channels of the first convolution. Defaults to `64`.
        seed: int or `None`. Defaults to `None`.
        name: the model's name. Defaults to `"discriminator"`.
        magnetization_feature: whether the read-out sees N m². Defaults to `True`.
    """
    L = _check_lattice(L)
    filters = v.check_positive_int("filters", filters)
    seed = v.check_seed("seed", seed)
    condition = _condition_input(condition_dim)
    x_in = keras.Input((L, L, 1), name="x")
    h = NeighbourProducts(name="bonds")(x_in)
    h = _with_condition_channel(h, condition, (L, L), seed, 10)
    h = _periodic_conv(h, filters, seed, 0, "conv_0")
    h = layers.LeakyReLU(0.2, name="act_0")(h)
    for i, f in enumerate((2 * filters, 4 * filters)):
        h = CircularPad2D(1, name=f"conv_{i + 1}_pad")(h)
        h = layers.Conv2D(f, 4, strides=2, padding="valid", kernel_initializer=_init(seed, 1 + i),
                          name=f"conv_{i + 1}")(h)
        h = layers.LeakyReLU(0.2, name=f"act_{i + 1}")(h)
    h = layers.GlobalAveragePooling2D(name="average")(h)
    if v.check_bool("magnetization_feature", magnetization_feature):
        h = layers.Concatenate(name="with_magnetization")([h, SquaredMagnetization(name="squared_magnetization")(x_in)])
    out = layers.Dense(1, kernel_initializer=_init(seed, 5), dtype="float32", name="score")(h)
    return _model([x_in] + ([condition] if condition is not None else []), out, name)


@keras.saving.register_keras_serializable(package="keras_genmodels")
class SquaredMagnetization(layers.Layer):
    """(batch, L, L, 1) spins -> (batch, 1): N m² with m = Σ_i s_i / N, N = L².

    Invariant under s → −s; its Monte Carlo mean N <m²> = T χ + N <|m|>² is
    of order 1 well above T_c and of order N below. Computed in float32.
    """

    def __init__(self, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)

    def call(self, x):
        x = ops.cast(x, "float32")
        n = ops.cast(ops.prod(ops.shape(x)[1:]), "float32")
        m = ops.mean(x, axis=(1, 2, 3))
        return ops.expand_dims(n * m * m, -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)


@keras.saving.register_keras_serializable(package="keras_genmodels")
class NeighbourProducts(layers.Layer):
    """(batch, L, L, 1) spins -> (batch, L, L, 3): s, s·s_right, s·s_down (periodic).

    The mean of the two bond channels over the sites is −E/(N) / 2 for the
    nearest-neighbour Ising energy E = −Σ_<ij> s_i s_j.
    """

    def call(self, x):
        right = ops.roll(x, -1, axis=2)
        down = ops.roll(x, -1, axis=1)
        return ops.concatenate([x, x * right, x * down], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (3 * input_shape[-1],)
