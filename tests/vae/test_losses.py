"""The ELBO's terms against hand computations and Monte Carlo."""

import math

import numpy as np
import pytest
from keras import ops

from keras_genmodels.vae import losses


def test_kl_closed_form_matches_monte_carlo(rng):
    mean0 = np.array([[0.3, -1.0, 2.0]], "float64")
    log_var0 = np.log(np.array([[0.5, 2.0, 0.1]]))
    mean1 = np.array([[-0.2, 0.5, 1.0]])
    log_var1 = np.log(np.array([[1.5, 0.7, 0.4]]))
    closed = float(ops.convert_to_numpy(
        losses.kl_diagonal_gaussians(mean0, log_var0, mean1, log_var1))[0])

    n = 400_000
    h = mean0 + np.exp(0.5 * log_var0) * rng.standard_normal((n, 3))

    def log_density(h, m, lv):
        return -0.5 * np.sum(np.log(2 * np.pi) + lv + (h - m) ** 2 / np.exp(lv), axis=1)

    log_ratio = log_density(h, mean0, log_var0) - log_density(h, mean1, log_var1)
    mc, se = log_ratio.mean(), log_ratio.std() / math.sqrt(n)
    assert abs(closed - mc) < 4 * se + 1e-6, (closed, mc, se)


def test_kl_standard_normal_is_special_case_and_zero_at_prior(rng):
    mean = rng.standard_normal((5, 4)).astype("float32")
    log_var = rng.standard_normal((5, 4)).astype("float32")
    a = ops.convert_to_numpy(losses.kl_standard_normal(mean, log_var))
    b = ops.convert_to_numpy(losses.kl_diagonal_gaussians(mean, log_var, 0.0, 0.0))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert np.all(a > 0)
    zero = ops.convert_to_numpy(losses.kl_standard_normal(np.zeros((2, 3)), np.zeros((2, 3))))
    np.testing.assert_allclose(zero, 0.0, atol=1e-7)


def test_kl_by_hand():
    # μ = 1, σ² = e: KL = -½ (1 + 1 - 1 - e) = (e - 1) / 2
    kl = ops.convert_to_numpy(losses.kl_standard_normal(np.array([[1.0]]), np.array([[1.0]])))
    assert kl[0] == pytest.approx((math.e - 1) / 2, rel=1e-6)


def test_bernoulli_log_likelihood_by_hand():
    x = np.array([[1.0, 0.0, 1.0]])
    logits = np.array([[0.0, math.log(3.0), -math.log(4.0)]])
    # p = [1/2, 3/4, 1/5]: log p(x) = log 1/2 + log 1/4 + log 1/5
    expected = math.log(0.5) + math.log(0.25) + math.log(0.2)
    got = ops.convert_to_numpy(losses.bernoulli_log_likelihood(x, logits))[0]
    assert got == pytest.approx(expected, rel=1e-6)


def test_bernoulli_log_likelihood_is_stable_for_large_logits():
    x = np.array([[1.0, 0.0]], "float32")
    logits = np.array([[200.0, -200.0]], "float32")
    got = ops.convert_to_numpy(losses.bernoulli_log_likelihood(x, logits))
    assert np.isfinite(got).all() and abs(got[0]) < 1e-6
    wrong = ops.convert_to_numpy(losses.bernoulli_log_likelihood(1 - x, logits))
    assert wrong[0] == pytest.approx(-400.0, rel=1e-5)


def test_gaussian_log_likelihood_by_hand():
    x = np.array([[1.0, 2.0]])
    mean = np.array([[0.0, 2.5]])
    sigma2 = 0.5
    expected = -0.5 * (1.0 + 0.25) / sigma2 - 0.5 * 2 * math.log(2 * math.pi * sigma2)
    got = ops.convert_to_numpy(losses.gaussian_log_likelihood(x, mean, sigma2))[0]
    assert got == pytest.approx(expected, rel=1e-6)


def test_image_shaped_inputs_sum_over_every_pixel(rng):
    x = (rng.random((3, 4, 4, 1)) > 0.5).astype("float32")
    logits = rng.standard_normal((3, 4, 4, 1)).astype("float32")
    got = ops.convert_to_numpy(losses.bernoulli_log_likelihood(x, logits))
    p = 1 / (1 + np.exp(-logits))
    ref = np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))
    np.testing.assert_allclose(got, ref, rtol=1e-5)
