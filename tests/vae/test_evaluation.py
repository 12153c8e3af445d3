"""ELBO and importance-weighted bound against an exactly solvable VAE.

With a linear decoder x = W h + b and Gaussian noise σ², the marginal is
p(x) = N(x | b, W Wᵀ + σ² I), and with orthogonal columns of W the exact
posterior is a diagonal Gaussian, which a linear encoder can represent.
"""

import keras
import numpy as np
import pytest

from keras_genmodels.vae import VAE, elbo, importance_weighted_bound

W = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
B = np.array([0.5, -1.0, 0.2])
SIGMA2 = 0.5
POST_VAR = 1.0 / np.diag(np.eye(2) + W.T @ W / SIGMA2)  # (1/3, 1/9)


def _linear_gaussian_vae(mean_shift=0.0, log_var_shift=0.0):
    x_in = keras.Input((3,))
    mean = keras.layers.Dense(2, name="mean")(x_in)
    log_var = keras.layers.Dense(2, name="log_var")(x_in)
    encoder = keras.Model(x_in, [mean, log_var])
    kernel = W * POST_VAR / SIGMA2  # μ = (x − b) W Σ / σ²
    encoder.get_layer("mean").set_weights([kernel, -B @ kernel + mean_shift])
    encoder.get_layer("log_var").set_weights([np.zeros((3, 2)), np.log(POST_VAR) + log_var_shift])
    h_in = keras.Input((2,))
    out = keras.layers.Dense(3, name="out")(h_in)
    decoder = keras.Model(h_in, out)
    decoder.get_layer("out").set_weights([W.T, B])
    return VAE(encoder, decoder, likelihood="gaussian", sigma2=SIGMA2, seed=0, architecture="custom")


def _exact_log_marginal(x):
    cov = W @ W.T + SIGMA2 * np.eye(3)
    d = x - B
    _, logdet = np.linalg.slogdet(cov)
    return -0.5 * (np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d) + logdet + 3 * np.log(2 * np.pi))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((40, 2))
    return (h @ W.T + B + np.sqrt(SIGMA2) * rng.standard_normal((40, 3))).astype("float32")


def test_exact_posterior_makes_both_bounds_tight(data):
    model = _linear_gaussian_vae()
    exact = _exact_log_marginal(data)
    # log w = log p(x|h) + log p(h) − log Q(h|x) = log p(x) for every draw h
    iw = importance_weighted_bound(model, data, num_samples=10)
    np.testing.assert_allclose(iw["per_example"], exact, atol=2e-4)
    # the ELBO equals log p(x) in expectation (single draws scatter around it)
    e = elbo(model, data, num_samples=400)
    assert abs(e["mean"] - exact.mean()) < 0.03, (e["mean"], exact.mean())


def test_importance_weighting_tightens_a_loose_posterior(data):
    model = _linear_gaussian_vae(mean_shift=0.6, log_var_shift=0.7)
    exact = _exact_log_marginal(data).mean()
    l1 = elbo(model, data, num_samples=200)["mean"]
    l10 = importance_weighted_bound(model, data, num_samples=10)["mean"]
    l5000 = importance_weighted_bound(model, data, num_samples=5000, max_decodes=4000)["mean"]
    assert l1 < l10 < l5000 <= exact + 0.02
    assert exact - l1 > 0.3, "the shifted posterior should give a visibly loose ELBO"
    assert exact - l5000 < 0.03, (exact, l5000)


def test_chunking_does_not_change_the_bound(data):
    model = _linear_gaussian_vae(mean_shift=0.3)
    keras.utils.set_random_seed(1)
    a = importance_weighted_bound(model, data[:5], num_samples=1000, max_decodes=5 * 1000)
    b = importance_weighted_bound(model, data[:5], num_samples=1000, max_decodes=7)
    # one chunk vs chunks of one draw: different noise, same estimator
    exact = _exact_log_marginal(data[:5]).mean()
    assert abs(a["mean"] - exact) < 0.03 and abs(b["mean"] - exact) < 0.03, (a["mean"], b["mean"], exact)


def test_accepts_tf_data(data):
    import tensorflow as tf

    model = _linear_gaussian_vae()
    ds = tf.data.Dataset.from_tensor_slices((data, np.zeros(len(data)))).batch(16)
    out = importance_weighted_bound(model, ds, num_samples=2)
    assert out["n"] == len(data)
    np.testing.assert_allclose(out["mean"], _exact_log_marginal(data).mean(), atol=2e-4)


def test_bad_arguments(data):
    model = _linear_gaussian_vae()
    with pytest.raises(ValueError, match="num_samples"):
        importance_weighted_bound(model, data, num_samples=0)
    with pytest.raises(ValueError, match="at least one example"):
        elbo(model, data[:0])


def test_a_model_computing_in_bfloat16_is_evaluated_in_float32():
    """A VAE built under mixed_bfloat16 (the main job's recipe) returns bfloat16 from its layers;
    both bounds still come out, in float32, and close to the float32 model's."""
    rng = np.random.default_rng(0)
    x = rng.random((6, 28, 28, 1)).astype("float32")
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        low = VAE(latent_dim=2, architecture="conv", seed=0)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    full = VAE(latent_dim=2, architecture="conv", seed=0)
    full.set_weights(low.get_weights())
    for model in (low, full):
        model.reseed(0)
    e_low, e_full = elbo(low, x), elbo(full, x)
    iw_low = importance_weighted_bound(low, x, num_samples=64)
    iw_full = importance_weighted_bound(full, x, num_samples=64)
    assert iw_low["per_example"].dtype == np.float32
    assert np.isfinite(iw_low["mean"]) and np.isfinite(e_low["mean"])
    # bfloat16 keeps 8 bits of mantissa: the bounds of ~550 nats agree to about a percent.
    np.testing.assert_allclose(iw_low["mean"], iw_full["mean"], rtol=0.02)
    np.testing.assert_allclose(e_low["mean"], e_full["mean"], rtol=0.02)
