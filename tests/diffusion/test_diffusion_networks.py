"""Denoising networks: the time embedding against NumPy, shapes, zero output at initialisation,
dependence on t, translation equivariance on the torus, saving, mixed precision and bad input."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_genmodels.diffusion.networks import (
    SinusoidalEmbedding,
    lattice_network,
    unet,
)
from keras_genmodels.training import compute_policy

# Tiny networks: the tests build many of them on busy CPUs.
TINY = {"block_depth": 1, "embedding_dim": 8, "groups": 4, "seed": 0}


def np_(x):
    return ops.convert_to_numpy(x)


def _inputs(shape, batch=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + tuple(shape)).astype("float32")
    t = rng.uniform(0.01, 1.0, batch).astype("float32")
    return x, t


def _perturb_output_layer(net, seed=1):
    """Random weights in the zero-initialised last convolution, so that ε̂ ≠ 0."""
    rng = np.random.default_rng(seed)
    net.get_layer("epsilon").set_weights([rng.normal(0, 0.5, w.shape).astype("float32")
                                          for w in net.get_layer("epsilon").get_weights()])
    return net


# ------------------------------------------------------------ time embedding
def _numpy_embedding(t, dim, max_period, scale):
    half = dim // 2
    omega = np.exp(-math.log(max_period) * np.arange(half) / half)  # ω_k
    angles = scale * np.reshape(t, (-1, 1)).astype("float64") * omega
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=-1)


@pytest.mark.parametrize("dim, max_period, scale", [(32, 10000.0, 1000.0), (6, 100.0, 3.0), (2, 10.0, 1.0)])
@pytest.mark.parametrize("column", [False, True])
def test_embedding_matches_numpy(dim, max_period, scale, column):
    t = np.array([1e-3, 0.25, 0.5, 1.0], "float32")
    t_in = t[:, None] if column else t
    out = np_(SinusoidalEmbedding(dim, max_period, scale)(t_in))
    assert out.shape == (4, dim) and out.dtype == np.float32
    # float32 angles up to scale = 1000: a relative error ~ 1e-7 · 1000 in the phase
    np.testing.assert_allclose(out, _numpy_embedding(t, dim, max_period, scale), atol=2e-4)
    np.testing.assert_allclose(out[:, 0], np.sin(scale * t), atol=2e-4)  # ω_0 = 1
    np.testing.assert_allclose(out[:, dim // 2], np.cos(scale * t), atol=2e-4)


def test_embedding_config_round_trip_and_float32_under_mixed_precision():
    layer = SinusoidalEmbedding(10, max_period=50.0, scale=7.0, name="emb")
    config = layer.get_config()
    clone = SinusoidalEmbedding.from_config(config)
    assert clone.get_config() == config and (clone.dim, clone.max_period, clone.scale) == (10, 50.0, 7.0)
    with compute_policy(True):
        mixed = SinusoidalEmbedding(10, max_period=50.0, scale=7.0)
    assert mixed.compute_dtype == "float32"
    t = np.array([0.3, 0.9], "float32")
    np.testing.assert_array_equal(np_(mixed(t)), np_(layer(t)))


# ------------------------------------------------------------------- shapes
SHAPES = [
    ("mnist-four-widths", lambda: unet((28, 28, 1), widths=(4, 8, 8, 8), **TINY), (28, 28, 1)),  # padded to 32
    ("rgb-two-widths", lambda: unet((32, 32, 3), widths=(4, 8), **TINY), (32, 32, 3)),
    ("odd-sizes", lambda: unet((27, 20, 2), widths=(4, 8, 8), **TINY), (27, 20, 2)),  # padded to 28 x 20
    ("lattice", lambda: lattice_network(16, widths=(4, 8), **TINY), (16, 16, 1)),
]


@pytest.mark.parametrize("make, shape", [c[1:] for c in SHAPES], ids=[c[0] for c in SHAPES])
def test_output_shape_and_zero_prediction_at_initialisation(make, shape):
    net = make()
    assert tuple(net.output.shape[1:]) == shape
    x, t = _inputs(shape)
    out = np_(net([x, t]))
    assert out.shape == (3,) + shape and out.dtype == np.float32
    np.testing.assert_array_equal(out, 0.0)  # the zero-initialised 1 x 1 convolution: ε̂ = 0
    _perturb_output_layer(net)
    out = np_(net([x, t]))
    assert np.all(np.isfinite(out)) and np.abs(out).mean() > 1e-3
    np.testing.assert_allclose(np_(net([x, t[:, None]])), out, rtol=1e-5, atol=1e-6)  # t as (batch, 1)


def test_padding_is_cropped_back_symmetrically():
    # 28 -> 32: two zero sites on each side; the output is the 28 x 28 centre of the 32 x 32 map.
    net = unet((28, 28, 1), widths=(4, 8, 8, 8), **TINY)
    assert net.get_layer("pad").padding == ((2, 2), (2, 2))
    assert net.get_layer("crop").cropping == ((2, 2), (2, 2))
    assert tuple(net.get_layer("conv_in").output.shape[1:3]) == (32, 32)
    assert tuple(net.get_layer("mid_res_0_add").output.shape[1:3]) == (4, 4)  # 32 / 2^3


# ------------------------------------------------------------ one step, t
def test_one_fit_step_moves_the_zero_output_and_the_output_depends_on_t():
    net = unet((8, 8, 2), widths=(4, 8), attention=True, dropout=0.1, **TINY)
    x, t = _inputs((8, 8, 2), batch=4)
    eps = np.random.default_rng(1).standard_normal(x.shape).astype("float32")
    np.testing.assert_array_equal(np_(net([x, t])), 0.0)
    net.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    net.fit([x, t], eps, batch_size=4, epochs=1, verbose=0)
    out = np_(net([x, t]))
    assert np.abs(out).mean() > 1e-4  # the last layer has learnt
    # the same x_t at another time gives another ε̂: t reaches the output through the time projections
    other = np_(net([x, np.full_like(t, 0.5)]))
    assert np.abs(other - out).max() > 1e-5 * np.abs(out).max() + 1e-7
    np.testing.assert_allclose(np_(net([x, t])), out, rtol=1e-6, atol=1e-7)  # deterministic at inference


def test_time_embedding_reaches_every_residual_block():
    net = lattice_network(8, widths=(4, 8), **TINY)
    projections = [layer.name for layer in net.layers if isinstance(layer, keras.layers.Dense)
                   and layer.name.endswith("_time")]
    # block_depth = 1: one block down, one in the middle, one up, each with its projection of t
    assert projections == ["down_0_res_0_time", "mid_res_0_time", "up_0_res_0_time"]
    probe = keras.Model(net.inputs, net.get_layer("up_0_res_0_add").output)
    x, _ = _inputs((8, 8, 1), batch=2)
    a = np_(probe([x, np.array([0.1, 0.1], "float32")]))
    b = np_(probe([x, np.array([0.9, 0.9], "float32")]))
    assert np.abs(a - b).max() > 1e-3


# ------------------------------------------------------- periodic lattices
def test_lattice_network_is_equivariant_under_translations_by_the_pooling_factor():
    L, f = 12, 4  # three widths: pooling factor 2^2
    net = _perturb_output_layer(lattice_network(L, widths=(4, 8, 8), **TINY))
    x, t = _inputs((L, L, 1), batch=2)
    x = np.sign(x)  # spins
    out = np_(net([x, t]))
    for shift in [(f, 0), (0, f), (2 * f, f)]:
        rolled = np_(net([np.roll(x, shift, axis=(1, 2)), t]))
        np.testing.assert_allclose(rolled, np.roll(out, shift, axis=(1, 2)), rtol=1e-4, atol=1e-5)
    # a shift by one site moves the pooling grid: only the torus' translations by f are symmetries
    one = np_(net([np.roll(x, 1, axis=1), t]))
    assert np.abs(one - np.roll(out, 1, axis=1)).max() > 1e-3


# ------------------------------------------------------------------ saving
@pytest.mark.parametrize("make, shape", [
    (lambda: unet((8, 8, 1), widths=(4, 8), attention=True, dropout=0.1, **TINY), (8, 8, 1)),
    (lambda: lattice_network(8, widths=(4, 8), **TINY), (8, 8, 1)),
], ids=["unet-attention", "lattice"])
def test_keras_file_round_trip(make, shape, tmp_path):
    net = _perturb_output_layer(make())
    x, t = _inputs(shape)
    path = tmp_path / "network.keras"
    net.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.name == net.name and len(loaded.weights) == len(net.weights)
    np.testing.assert_allclose(np_(loaded([x, t])), np_(net([x, t])), rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------- precision
def test_mixed_bfloat16_network_returns_float32_close_to_the_float32_network():
    kwargs = dict(widths=(4, 8), attention=True, **TINY)
    with compute_policy(True):
        mixed = unet((8, 8, 1), **kwargs)
    full = unet((8, 8, 1), **kwargs)
    assert mixed.get_layer("down_0_res_0_conv_1").compute_dtype == "bfloat16"
    assert keras.backend.standardize_dtype(mixed.output.dtype) == "float32"
    for a, b in zip(mixed.weights, full.weights):  # the same seeded float32 weights
        np.testing.assert_array_equal(np_(a), np_(b))
    _perturb_output_layer(mixed)
    _perturb_output_layer(full)
    x, t = _inputs((8, 8, 1))
    out, reference = mixed([x, t]), np_(full([x, t]))
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    # bfloat16 keeps ~3 significant digits
    np.testing.assert_allclose(np_(out), reference, atol=0.05 * np.abs(reference).max())


# ------------------------------------------------------- parameter counts
def _residual_params(c_in, width, time_units):
    p = 2 * c_in + 9 * c_in * width + width  # GroupNorm 1, Conv 3 x 3
    p += time_units * width + width  # the time projection
    p += 2 * width + 9 * width * width + width  # GroupNorm 2, Conv 3 x 3
    return p + (c_in * width + width if c_in != width else 0)  # the 1 x 1 skip


def _unet_params(channels, widths, block_depth, embedding_dim):
    """The U-Net's parameters counted layer by layer from its description."""
    e4 = 4 * embedding_dim
    p = embedding_dim * e4 + e4 + e4 * e4 + e4  # the time MLP
    p += channels * widths[0] + widths[0]  # conv_in
    c, skips = widths[0], []
    for w in widths[:-1]:
        for _ in range(block_depth):
            p += _residual_params(c, w, e4)
            c = w
            skips.append(c)
    for _ in range(block_depth):
        p += _residual_params(c, widths[-1], e4)
        c = widths[-1]
    for w in reversed(widths[:-1]):
        for _ in range(block_depth):
            p += _residual_params(c + skips.pop(), w, e4)
            c = w
    return p + widths[0] * channels + channels  # the output convolution


def test_parameter_count_of_keras_io_widths():
    net = unet((32, 32, 1), widths=(32, 64, 96, 128), block_depth=2, embedding_dim=32)
    assert net.count_params() == _unet_params(1, (32, 64, 96, 128), 2, 32) == 2_096_897
    # attention at 128 channels: GroupNorm, 4 heads of 32 (query, key, value, output projections)
    heads, key_dim, c = 4, 32, 128
    attention = 2 * c + 3 * (c * heads * key_dim + heads * key_dim) + heads * key_dim * c + c
    assert attention == 66_304
    assert unet((16, 16, 1), widths=(32, 64, 96, 128), attention=True).count_params() == 2_096_897 + attention
    assert lattice_network(16, widths=(8, 16), block_depth=2, embedding_dim=8, groups=4).count_params() == (
        _unet_params(1, (8, 16), 2, 8))


# ---------------------------------------------------------------- bad input
BAD_INPUT = [
    ("embedding-odd-dim", lambda: SinusoidalEmbedding(7), r"`dim` must be a positive even int. Received: dim=7"),
    ("embedding-zero-dim", lambda: SinusoidalEmbedding(0), r"`dim` must be a positive int. Received: dim=0"),
    ("embedding-negative-period", lambda: SinusoidalEmbedding(8, max_period=-1.0),
     r"`max_period` must be a finite float > 0. Received: max_period=-1.0"),
    ("unet-odd-embedding-dim", lambda: unet(embedding_dim=31),
     r"`embedding_dim` must be a positive even int. Received: embedding_dim=31"),
    ("unet-groups-not-dividing", lambda: unet(widths=(32, 60), groups=8),
     r"Expected `groups` to divide every width .* Received: groups=8, widths=\(32, 60\)"),
    ("lattice-groups-not-dividing", lambda: lattice_network(widths=(6, 12), groups=4),
     r"Expected `groups` to divide every width .* Received: groups=4, widths=\(6, 12\)"),
    ("groups-zero", lambda: unet(groups=0), r"`groups` must be a positive int. Received: groups=0"),
    ("lattice-L-not-divisible", lambda: lattice_network(10, widths=(4, 8, 8), groups=4),
     r"Expected `L` to be a multiple of the pooling factor 2\^\(len\(widths\) - 1\) = 4 .*Received: L=10"),
    ("lattice-L-zero", lambda: lattice_network(0), r"`L` must be a positive int. Received: L=0"),
    ("unet-empty-widths", lambda: unet(widths=()),
     r"`widths` must be a non-empty sequence of positive ints. Received: widths=\(\)"),
    ("lattice-empty-widths", lambda: lattice_network(widths=[]), r"non-empty sequence of positive ints"),
    ("unet-width-zero", lambda: unet(widths=(8, 0)), r"Received: widths=\(8, 0\)"),
    ("unet-block-depth-zero", lambda: unet(block_depth=0),
     r"`block_depth` must be a positive int. Received: block_depth=0"),
    ("lattice-block-depth-zero", lambda: lattice_network(block_depth=0),
     r"`block_depth` must be a positive int. Received: block_depth=0"),
    ("unet-data-shape-rank", lambda: unet(data_shape=(28, 28)),
     r"Expected `data_shape` to be \(height, width, channels\) of positive ints. Received: data_shape=\(28, 28\)"),
    ("unet-dropout-one", lambda: unet(dropout=1.0), r"`dropout` must be a float in \[0, 1\). Received: dropout=1.0"),
    ("unet-attention-not-bool", lambda: unet(attention="yes"), r"`attention` must be a bool. Received: attention='yes'"),
    ("unet-seed-float", lambda: unet(seed=1.5), r"`seed` must be None or an int"),
]


@pytest.mark.parametrize("make, expected", [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_a_clear_error(make, expected):
    with pytest.raises(ValueError, match=expected):
        make()
