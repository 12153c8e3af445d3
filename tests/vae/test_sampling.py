"""The reparameterisation layer."""

import numpy as np
import pytest
from keras import ops

from keras_genmodels.vae import Sampling


def test_sample_mean_and_std_match_mu_and_sigma():
    n = 200_000
    mu = np.array([1.0, -2.0, 0.0], "float32")
    sigma = np.array([0.5, 2.0, 1e-3], "float32")
    z_mean = np.broadcast_to(mu, (n, 3))
    z_log_var = np.broadcast_to(np.log(sigma**2), (n, 3))
    h = ops.convert_to_numpy(Sampling(seed=7)([z_mean, z_log_var]))
    se = sigma / np.sqrt(n)
    assert np.all(np.abs(h.mean(0) - mu) < 5 * se)
    np.testing.assert_allclose(h.std(0), sigma, rtol=0.01)


def test_seed_makes_draws_reproducible_and_distinct():
    z = (np.zeros((4, 2), "float32"), np.zeros((4, 2), "float32"))
    a = ops.convert_to_numpy(Sampling(seed=1)(z))
    b = ops.convert_to_numpy(Sampling(seed=1)(z))
    c = ops.convert_to_numpy(Sampling(seed=2)(z))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    layer = Sampling(seed=1)
    first, second = ops.convert_to_numpy(layer(z)), ops.convert_to_numpy(layer(z))
    assert not np.allclose(first, second), "successive calls must draw new noise"


def test_gradient_flows_to_mean_and_log_var():
    import tensorflow as tf

    mu = tf.Variable(np.zeros((8, 2), "float32"))
    lv = tf.Variable(np.zeros((8, 2), "float32"))
    with tf.GradientTape() as tape:
        h = Sampling(seed=0)([mu, lv])
        loss = tf.reduce_sum(h**2)
    g_mu, g_lv = tape.gradient(loss, [mu, lv])
    assert np.abs(g_mu.numpy()).sum() > 0 and np.abs(g_lv.numpy()).sum() > 0


def test_config_round_trip():
    layer = Sampling(seed=5, name="s")
    clone = Sampling.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.seed == 5


def test_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        Sampling(seed="abc")
