"""Denoising networks of the diffusion family: ε_θ(x_t, t), U-Nets with a time embedding.

Every network follows one interface, on which `diffusion.model` relies:

- a `keras.Model` with two inputs `[x_t, t]`: the noisy batch x_t of shape
  `(batch,) + data_shape` and the diffusion time t of shape `(batch,)` (or
  `(batch, 1)`), a float in (0, 1] (the model passes (t_index + 1) / T);
- one output, the predicted noise ε̂ = ε_θ(x_t, t), of shape
  `(batch,) + data_shape`, in float32 (its last layer has `dtype="float32"`,
  so that a network built under `mixed_bfloat16` still returns float32).

The networks:

- `unet`: keras-io's DDIM U-Net (`examples/generative/ddim.py`: a 1 x 1
  convolution to `widths[0]`, down blocks of residual blocks and 2 x 2
  average pooling, `block_depth` residual blocks at the lowest resolution,
  up blocks of bilinear upsampling, concatenation with the skips and
  residual blocks, a zero-initialised 1 x 1 convolution out), with Ho et
  al.'s residual block (GroupNorm, swish, 3 x 3 convolution, plus a
  projection of the time embedding, GroupNorm, swish, dropout, 3 x 3
  convolution, and a 1 x 1 convolution on the skip path where the widths
  differ) and optional self-attention at the lowest resolution.
- `lattice_network`: the same U-Net for L x L x 1 spin lattices with
  periodic padding everywhere (`CircularPad2D` before each 3 x 3
  convolution, a periodic bilinear upsampling), so that it is equivariant
  under the lattice translations that are multiples of its pooling factor.
- `SinusoidalEmbedding`: the layer that turns t into Vaswani et al.'s
  sinusoidal features.

References:
    Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models",
    arXiv 2006.11239, Appendix B, and its code
    (github.com/hojonathanho/diffusion, `diffusion_utils/models/unet.py`).
    Vaswani et al. 2017, "Attention Is All You Need", arXiv 1706.03762
    (the sinusoidal embedding, section 3.5).
    Ronneberger, Fischer & Brox 2015, "U-Net", arXiv 1505.04597.
    Wu & He 2018, "Group Normalization", arXiv 1803.08494.
    Béres 2022, keras-io "Denoising Diffusion Implicit Models"
    (keras.io/examples/generative/ddim/).
"""

import math
import numbers

import keras
import numpy as np
from keras import layers, ops

from keras_genmodels import _validation as v
from keras_genmodels.periodic import CircularPad2D

# Attention heads at the lowest resolution: one per 32 channels, 1 to 4.
_MAX_HEADS = 4
_CHANNELS_PER_HEAD = 32


# ------------------------------------------------------------ time embedding
@keras.saving.register_keras_serializable(package="keras_genmodels")
class SinusoidalEmbedding(layers.Layer):
    """The sinusoidal embedding of a diffusion time t: (batch,) or (batch, 1) -> (batch, dim).

        emb(t) = [sin(s t ω_0), ..., sin(s t ω_{d/2−1}), cos(s t ω_0), ..., cos(s t ω_{d/2−1})],
        ω_k = exp(−log(max_period) · k / (d/2)),   k = 0..d/2 − 1,

    with d = `dim` and s = `scale`: Vaswani et al.'s positional encoding of a
    position s·t, as Ho et al. embed the step index. With the default
    `scale=1000` a time t = (t_index + 1) / T of a T = 1000 step model is
    embedded as Ho et al.'s step t_index + 1, and the periods range from 2π
    to 2π·`max_period` steps. Computed in float32 whatever the dtype policy
    (the layer's dtype is float32): bfloat16's 8-bit mantissa cannot hold
    s·t ≈ 1000 to a fraction of a period.

    Args:
        dim: the size of the embedding, a positive even int. Defaults to `32`.
        max_period: the longest period over 2π, a float > 0. Defaults to
            `10000.0`.
        scale: the factor s on t, a float > 0. Defaults to `1000.0`.

    Call arguments:
        t: a float tensor of shape `(batch,)` or `(batch, 1)`.

    Example:
        >>> tuple(SinusoidalEmbedding(8)(np.array([0.5, 1.0], "float32")).shape)
        (2, 8)

    References:
        Vaswani et al. 2017, arXiv 1706.03762, section 3.5.
        Ho, Jain & Abbeel 2020, arXiv 2006.11239, Appendix B.
    """

    def __init__(self, dim=32, max_period=10000.0, scale=1000.0, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.dim = _check_even("dim", dim)
        self.max_period = v.check_positive_float("max_period", max_period)
        self.scale = v.check_positive_float("scale", scale)
        half = self.dim // 2
        # ω_k = exp(−log(max_period) k / (d/2)), a constant of the layer: (d/2,)
        self._frequencies = np.exp(-math.log(self.max_period) * np.arange(half) / half).astype("float32")

    def call(self, t):
        t = ops.reshape(ops.cast(t, "float32"), (-1, 1))  # (batch, 1)
        angles = self.scale * t * ops.convert_to_tensor(self._frequencies)[None, :]  # (batch, d/2)
        return ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)  # (batch, d)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "max_period": self.max_period, "scale": self.scale}


# ------------------------------------------------------------------- checks
def _check_even(name, value):
    value = v.check_positive_int(name, value)
    if value % 2:
        raise ValueError(f"`{name}` must be a positive even int. Received: {name}={value!r}")
    return value


def _check_data_shape(data_shape):
    try:
        shape = tuple(data_shape)
    except TypeError:
        shape = None
    if shape is None or len(shape) != 3 or any(
        isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1 for d in shape
    ):
        raise ValueError(
            "Expected `data_shape` to be (height, width, channels) of positive ints. "
            f"Received: data_shape={data_shape!r}"
        )
    return tuple(int(d) for d in shape)


def _check_widths(widths, groups):
    """`widths` as a tuple of positive ints, each a multiple of `groups` (a positive int)."""
    try:
        widths = tuple(widths)
    except TypeError:
        widths = ()
    if not widths or any(isinstance(w, bool) or not isinstance(w, numbers.Integral) or w < 1 for w in widths):
        raise ValueError(f"`widths` must be a non-empty sequence of positive ints. Received: widths={widths!r}")
    widths = tuple(int(w) for w in widths)
    groups = v.check_positive_int("groups", groups)
    if any(w % groups for w in widths):
        raise ValueError(
            "Expected `groups` to divide every width (GroupNormalization splits the channels into "
            f"`groups` equal groups). Received: groups={groups}, widths={widths}"
        )
    return widths, groups


def _check_dropout(dropout):
    dropout = v.check_positive_float("dropout", dropout, allow_zero=True)
    if dropout >= 1:
        raise ValueError(f"`dropout` must be a float in [0, 1). Received: dropout={dropout!r}")
    return dropout


def _check_name(name):
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name` must be a non-empty str. Received: name={name!r}")
    return name


# ------------------------------------------------------------------ builder
class _UNetBuilder:
    """Builds the layers of one U-Net: seeded initialisers, one after the other, and its convolutions.

    Every layer with weights takes the next seed, seed + 0, seed + 1, ...
    (or `None`), so that a seeded network is the same on every build.
    """

    def __init__(self, seed, groups, dropout, periodic):
        self.seed = seed
        self.groups = groups
        self.dropout = dropout
        self.periodic = periodic
        self._count = 0

    def _next_seed(self):
        self._count += 1
        return None if self.seed is None else self.seed + self._count - 1

    def init(self):
        """Glorot uniform (Keras's default), with the next seed."""
        return keras.initializers.GlorotUniform(seed=self._next_seed())

    def conv3(self, h, filters, name):
        """A 3 x 3 convolution that keeps H x W: zero ("same") or periodic padding."""
        if not self.periodic:
            return layers.Conv2D(filters, 3, padding="same", kernel_initializer=self.init(), name=name)(h)
        h = CircularPad2D(1, name=f"{name}_pad")(h)
        return layers.Conv2D(filters, 3, padding="valid", kernel_initializer=self.init(), name=name)(h)

    def upsample(self, h, name):
        """Bilinear upsampling by 2; on the torus, of the periodically padded map, cropped back.

        Bilinear resizing with half-pixel centres reads output site j of
        the doubled map at input coordinate j/2 − 1/4: padding by one site
        (wrapped), resizing and cropping two sites per side interpolates
        the first and last sites with their periodic neighbours.
        """
        if not self.periodic:
            return layers.UpSampling2D(2, interpolation="bilinear", name=name)(h)
        h = CircularPad2D(1, name=f"{name}_pad")(h)
        h = layers.UpSampling2D(2, interpolation="bilinear", name=name)(h)  # 2(n + 2) sites
        return layers.Cropping2D(2, name=f"{name}_crop")(h)  # 2n sites

    def residual_block(self, x, time, width, name):
        """Ho et al.'s residual block, x (batch, H, W, C) -> (batch, H, W, width):

            h = Conv3(swish(GN(x))) + Dense(time)[:, None, None, :]
            h = Conv3(Dropout(swish(GN(h))))
            out = h + (x if C == width else Conv1(x))

        `time` is swish of the time embedding, (batch, 4·embedding_dim).
        """
        if x.shape[-1] == width:
            skip = x
        else:
            skip = layers.Conv2D(width, 1, kernel_initializer=self.init(), name=f"{name}_skip")(x)
        h = layers.GroupNormalization(self.groups, name=f"{name}_norm_1")(x)
        h = layers.Activation("swish", name=f"{name}_act_1")(h)
        h = self.conv3(h, width, f"{name}_conv_1")
        p = layers.Dense(width, kernel_initializer=self.init(), name=f"{name}_time")(time)  # (batch, width)
        p = layers.Reshape((1, 1, width), name=f"{name}_time_reshape")(p)
        h = layers.Add(name=f"{name}_add_time")([h, p])  # broadcast over H x W
        h = layers.GroupNormalization(self.groups, name=f"{name}_norm_2")(h)
        h = layers.Activation("swish", name=f"{name}_act_2")(h)
        if self.dropout:
            h = layers.Dropout(self.dropout, seed=self._next_seed(), name=f"{name}_dropout")(h)
        h = self.conv3(h, width, f"{name}_conv_2")
        return layers.Add(name=f"{name}_add")([skip, h])

    def attention_block(self, x, name):
        """Self-attention over the H·W sites with a residual: x + MHA(GN(x)), 1 to 4 heads.

        Without positional encoding it is equivariant under any permutation
        of the sites, translations included.
        """
        _, height, width, channels = x.shape
        heads = max(1, min(_MAX_HEADS, channels // _CHANNELS_PER_HEAD))
        h = layers.GroupNormalization(self.groups, name=f"{name}_norm")(x)
        h = layers.Reshape((height * width, channels), name=f"{name}_flatten")(h)  # (batch, H·W, C)
        h = layers.MultiHeadAttention(heads, channels // heads, kernel_initializer=self.init(),
                                      name=f"{name}_mha")(h, h)
        h = layers.Reshape((height, width, channels), name=f"{name}_unflatten")(h)
        return layers.Add(name=f"{name}_add")([x, h])

    def unet(self, x, t, widths, block_depth, embedding_dim, attention):
        """The U-Net from x (batch, H, W, C_in), H and W multiples of 2^(len(widths) − 1), and t (batch,)."""
        # The time embedding, shared by every block: Ho et al.'s two Dense layers on the sinusoids.
        e = SinusoidalEmbedding(embedding_dim, name="time_embedding")(t)
        e = layers.Dense(4 * embedding_dim, activation="swish", kernel_initializer=self.init(), name="time_dense_1")(e)
        e = layers.Dense(4 * embedding_dim, kernel_initializer=self.init(), name="time_dense_2")(e)
        time = layers.Activation("swish", name="time_act")(e)  # (batch, 4·embedding_dim)

        h = layers.Conv2D(widths[0], 1, kernel_initializer=self.init(), name="conv_in")(x)
        skips = []
        for i, width in enumerate(widths[:-1]):  # down: H -> H / 2 per level
            for j in range(block_depth):
                h = self.residual_block(h, time, width, f"down_{i}_res_{j}")
                skips.append(h)
            h = layers.AveragePooling2D(2, name=f"down_{i}_pool")(h)
        for j in range(block_depth):  # the lowest resolution
            h = self.residual_block(h, time, widths[-1], f"mid_res_{j}")
            if attention and j == 0:  # Ho et al.'s middle: residual, attention, residual
                h = self.attention_block(h, "mid_attention")
        for i, width in reversed(list(enumerate(widths[:-1]))):  # up: H / 2 -> H per level
            h = self.upsample(h, f"up_{i}_upsample")
            for j in range(block_depth):
                h = layers.Concatenate(name=f"up_{i}_concat_{j}")([h, skips.pop()])
                h = self.residual_block(h, time, width, f"up_{i}_res_{j}")
        return h

    def output(self, h, channels):
        """The zero-initialised 1 x 1 convolution to ε̂, in float32: ε̂ = 0 at initialisation."""
        return layers.Conv2D(channels, 1, kernel_initializer="zeros", dtype="float32", name="epsilon")(h)


def _check_common(widths, block_depth, embedding_dim, groups, seed, name):
    widths, groups = _check_widths(widths, groups)
    block_depth = v.check_positive_int("block_depth", block_depth)
    embedding_dim = _check_even("embedding_dim", embedding_dim)
    seed = v.check_seed("seed", seed)
    return widths, block_depth, embedding_dim, groups, seed, _check_name(name)


def _inputs(data_shape):
    return keras.Input(data_shape, name="x_t"), keras.Input((), name="t")


# -------------------------------------------------------------------- images
def unet(data_shape=(28, 28, 1), widths=(32, 64, 96, 128), block_depth=2, embedding_dim=32, attention=False,
         groups=8, dropout=0.0, seed=None, name="unet"):
    """keras-io's DDIM U-Net with a time embedding in every residual block: [x_t, t] -> ε̂.

    From keras-io's `ddim.py`: a 1 x 1 convolution to `widths[0]`; for each
    of `widths[:-1]` a down block (`block_depth` residual blocks, whose
    outputs are kept as skips, then 2 x 2 average pooling); `block_depth`
    residual blocks of `widths[-1]` channels; for each of `widths[:-1]` in
    reverse an up block (bilinear upsampling by 2, then `block_depth` times
    a concatenation with the last skip and a residual block); a 1 x 1
    convolution to the data's channels with a zero kernel, so that ε̂ = 0,
    the mean of its target, at initialisation (keras-io; the loss starts at
    E‖ε‖² per site = 1).

    Unlike keras-io, which concatenates an embedding of the noise variance
    to the input once, t enters every residual block as in Ho et al. 2020:
    the embedding e = Dense(Dense_swish(SinusoidalEmbedding(t))) (both
    Dense layers of `4·embedding_dim` units) is projected per block by a
    Dense layer on swish(e) and added after its first convolution. The
    residual blocks are Ho et al.'s (GroupNorm, swish, Conv 3 x 3, + time,
    GroupNorm, swish, dropout, Conv 3 x 3, with a 1 x 1 convolution on
    the skip path where the channel count changes); keras-io's use batch
    normalisation and no time input.

    With `attention`, a self-attention block (GroupNorm, multi-head
    attention over the H·W sites with one head per 32 channels, 1 to 4,
    and a residual connection) follows the first residual block of the
    lowest resolution (Ho et al.'s middle: residual, attention, residual).

    An image whose height or width is not a multiple of the pooling factor
    2^(len(widths) − 1) is zero-padded up to one inside the network (half on
    each side, the odd site at the end) and the output cropped back:
    28 x 28 becomes 32 x 32 with four widths.

    Args:
        data_shape: `(height, width, channels)` of x_t and ε̂. Defaults to
            `(28, 28, 1)`.
        widths: the channels of each resolution, highest first; keras-io's
            DDIM uses `(32, 64, 96, 128)`. Defaults to `(32, 64, 96, 128)`.
        block_depth: the residual blocks per resolution (down, middle; the
            up blocks have as many). Defaults to `2`.
        embedding_dim: the size of the sinusoidal embedding of t, an even
            int. Defaults to `32`.
        attention: whether to add self-attention at the lowest resolution.
            Defaults to `False`.
        groups: the groups of every GroupNormalization; it must divide every
            width (then every concatenation of widths too). Defaults to `8`.
        dropout: the dropout rate inside the residual blocks, in [0, 1)
            (Ho et al. use 0.1 on CIFAR-10). Defaults to `0.0`.
        seed: int or `None`, the seed of the initial weights and of the
            dropout. Defaults to `None`.
        name: the model's name. Defaults to `"unet"`.

    Returns:
        A `keras.Model` with inputs `[x_t, t]`, x_t of shape
        `(batch,) + data_shape` and t of shape `(batch,)` in (0, 1], and the
        float32 output ε̂ of shape `(batch,) + data_shape`.

    Example:
        >>> net = unet((28, 28, 1), widths=(16, 32), seed=0)
        >>> tuple(net([np.zeros((2, 28, 28, 1)), np.array([0.5, 1.0])]).shape)
        (2, 28, 28, 1)

    References:
        Ho, Jain & Abbeel 2020, arXiv 2006.11239, Appendix B.
        keras.io/examples/generative/ddim/.
    """
    data_shape = _check_data_shape(data_shape)
    widths, block_depth, embedding_dim, groups, seed, name = _check_common(
        widths, block_depth, embedding_dim, groups, seed, name)
    attention = v.check_bool("attention", attention)
    dropout = _check_dropout(dropout)
    builder = _UNetBuilder(seed, groups, dropout, periodic=False)

    x_in, t_in = _inputs(data_shape)
    factor = 2 ** (len(widths) - 1)
    height, width, channels = data_shape
    pad_h, pad_w = (-height) % factor, (-width) % factor  # up to the next multiple of the factor
    padding = ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2))
    h = x_in if not (pad_h or pad_w) else layers.ZeroPadding2D(padding, name="pad")(x_in)
    h = builder.unet(h, t_in, widths, block_depth, embedding_dim, attention)
    if pad_h or pad_w:
        h = layers.Cropping2D(padding, name="crop")(h)  # back to data_shape, before the float32 output
    return keras.Model([x_in, t_in], builder.output(h, channels), name=name)


# ------------------------------------------------------------ spin lattices
def lattice_network(L=16, widths=(32, 64), block_depth=2, embedding_dim=32, groups=8, seed=None,
                    name="lattice_unet"):
    """The U-Net of `unet` for L x L x 1 spin lattices, periodic: [x_t, t] -> ε̂.

    Every 3 x 3 convolution is `CircularPad2D(1)` and a "valid" convolution,
    and the bilinear upsampling is periodic too, so that no site is an edge
    site, as on the torus of the Ising model. Average pooling, the 1 x 1
    convolutions and GroupNorm commute with translations, so that the
    network is equivariant under the translations by multiples of its
    pooling factor f = 2^(len(widths) − 1) in each direction:

        ε_θ(roll(x, (a f, b f)), t) = roll(ε_θ(x, t), (a f, b f)).

    No attention and no dropout: the arguments not listed are `unet`'s
    defaults.

    Args:
        L: the lattice size, a multiple of 2^(len(widths) − 1). Defaults to
            `16`.
        widths: the channels of each resolution, highest first. Defaults to
            `(32, 64)`.
        block_depth: the residual blocks per resolution. Defaults to `2`.
        embedding_dim: the size of the sinusoidal embedding of t, an even
            int. Defaults to `32`.
        groups: the groups of every GroupNormalization, a divisor of every
            width. Defaults to `8`.
        seed: int or `None`, the seed of the initial weights. Defaults to
            `None`.
        name: the model's name. Defaults to `"lattice_unet"`.

    Returns:
        A `keras.Model` with inputs `[x_t, t]`, x_t of shape `(batch, L, L, 1)`
        and t of shape `(batch,)`, and the float32 output ε̂ of shape
        `(batch, L, L, 1)`.

    Example:
        >>> net = lattice_network(8, widths=(8, 16), groups=4, seed=0)
        >>> tuple(net([np.ones((2, 8, 8, 1)), np.array([0.1, 0.9])]).shape)
        (2, 8, 8, 1)
    """
    widths, block_depth, embedding_dim, groups, seed, name = _check_common(
        widths, block_depth, embedding_dim, groups, seed, name)
    L = v.check_positive_int("L", L)
    factor = 2 ** (len(widths) - 1)
    if L % factor:
        raise ValueError(
            f"Expected `L` to be a multiple of the pooling factor 2^(len(widths) - 1) = {factor} "
            f"(no padding on a torus). Received: L={L}, widths={widths}"
        )
    builder = _UNetBuilder(seed, groups, 0.0, periodic=True)
    x_in, t_in = _inputs((L, L, 1))
    h = builder.unet(x_in, t_in, widths, block_depth, embedding_dim, attention=False)
    return keras.Model([x_in, t_in], builder.output(h, 1), name=name)
