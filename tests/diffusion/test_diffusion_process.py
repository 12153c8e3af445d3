"""Diffusion schedules and process math against closed forms, NumPy and Monte Carlo."""

import math

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_genmodels.diffusion import process
from keras_genmodels.diffusion.process import (
    check_eta,
    ddim_step,
    ddpm_step,
    discretized_gaussian_log_likelihood,
    normal_kl,
    posterior_mean_variance,
    predict_x0_from_noise,
    q_sample,
    sampling_timesteps,
)
from keras_genmodels.diffusion.schedules import (
    alphas_cumprod,
    cosine_beta_schedule,
    linear_beta_schedule,
    offset_cosine_rates,
)

NAN = float("nan")
T = 1000
SCHEDULES = {"linear": linear_beta_schedule(T), "cosine": cosine_beta_schedule(T)}


def np_(x):
    return ops.convert_to_numpy(x)


# ---------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------


def test_linear_schedule_endpoints_and_spacing():
    betas = linear_beta_schedule(T)
    assert betas.dtype == np.float64 and betas.shape == (T,)
    assert betas[0] == 1e-4 and betas[-1] == pytest.approx(0.02, abs=1e-15)
    np.testing.assert_allclose(np.diff(betas), (0.02 - 1e-4) / (T - 1), rtol=1e-9)
    np.testing.assert_array_equal(linear_beta_schedule(1), [1e-4])


def test_cosine_alpha_bar_matches_formula_and_decreases():
    s = 0.008
    betas = cosine_beta_schedule(T, s=s)
    abar = alphas_cumprod(betas)

    def f(t):
        return math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2

    expected = np.array([f(t) / f(0) for t in range(1, T + 1)])
    # Only β_T (f(T) = 0 would make it 1) is clipped at max_beta for T = 1000.
    assert np.count_nonzero(betas == 0.999) == 1 and betas[-1] == 0.999
    np.testing.assert_allclose(abar[:-1], expected[:-1], rtol=1e-10)
    assert abar[-1] == pytest.approx(abar[-2] * (1 - 0.999), rel=1e-12) and abar[-1] > 0
    assert np.all(np.diff(abar) < 0) and np.all((betas > 0) & (betas <= 0.999))
    # ᾱ at the half-way step by hand: cos²((0.5 + s)/(1 + s) π/2) / cos²(s/(1 + s) π/2).
    half = math.cos(0.508 / 1.008 * math.pi / 2) ** 2 / math.cos(0.008 / 1.008 * math.pi / 2) ** 2
    assert abar[T // 2 - 1] == pytest.approx(half, rel=1e-12)


def test_alphas_cumprod_by_hand():
    np.testing.assert_allclose(alphas_cumprod([0.1, 0.2, 0.5]), [0.9, 0.72, 0.36], rtol=1e-15)


def test_offset_cosine_rates_ends_and_unit_variance():
    times = np.linspace(0, 1, 5).reshape(5, 1, 1, 1).astype("float32")
    noise, signal = offset_cosine_rates(times, min_signal_rate=0.02, max_signal_rate=0.95)
    assert tuple(signal.shape) == (5, 1, 1, 1) and signal.dtype == tf.float32
    noise, signal = np_(noise).ravel(), np_(signal).ravel()
    assert signal[0] == pytest.approx(0.95, abs=1e-6) and signal[-1] == pytest.approx(0.02, abs=1e-6)
    np.testing.assert_allclose(noise**2 + signal**2, 1.0, atol=1e-6)
    assert np.all(np.diff(signal) < 0)
    traced = tf.function(lambda t: offset_cosine_rates(t)[1])(tf.constant(times))
    np.testing.assert_allclose(np_(traced).ravel(), signal, atol=1e-7)


# ---------------------------------------------------------------------------
# Forward process and posterior
# ---------------------------------------------------------------------------


def test_q_sample_moments(rng):
    abar = alphas_cumprod(SCHEDULES["linear"])
    n = 20_000
    t_values = np.array([0, 300, 999])
    x0_values = np.array([0.7, -0.4, 1.0])
    t = np.repeat(t_values, n)
    x0 = np.repeat(x0_values, n)[:, None, None]  # (3n, 1, 1)
    eps = rng.standard_normal(x0.shape)
    x_t = np_(q_sample(x0, t, eps, abar)).reshape(3, n)
    mean, var = np.sqrt(abar[t_values]) * x0_values, 1 - abar[t_values]
    se = np.sqrt(var / n)
    assert np.all(np.abs(x_t.mean(axis=1) - mean) < 5 * se), (x_t.mean(axis=1), mean)
    # The sample variance of n normal draws has a relative standard error √(2/n) ≈ 1 %.
    np.testing.assert_allclose(x_t.var(axis=1), var, rtol=0.05)
    # And exactly the reparameterisation.
    np.testing.assert_allclose(
        x_t.ravel(), (np.sqrt(abar[t])[:, None, None] * x0 + np.sqrt(1 - abar[t])[:, None, None] * eps).ravel(),
        rtol=1e-12,
    )


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_posterior_matches_bayes_product_of_gaussians(name, rng):
    betas = SCHEDULES[name]
    abar = alphas_cumprod(betas)
    t = np.array([1, 2, 10, 500, 998, 999])
    x0 = rng.standard_normal((len(t), 3))
    x_t = rng.standard_normal((len(t), 3))
    mean, var, log_var = (np_(v) for v in posterior_mean_variance(x0, x_t, t, betas))

    # q(x_{t−1}|x_t, x0) ∝ q(x_t|x_{t−1}) q(x_{t−1}|x0): as functions of x_{t−1},
    # N(x_t; √α_t x_{t−1}, β_t) has precision α_t/β_t and mean x_t/√α_t, and
    # q(x_{t−1}|x0) = N(√ᾱ_{t−1} x0, 1 − ᾱ_{t−1}). Completing the square:
    alpha, a_prev = 1 - betas[t], abar[t - 1]
    precision = alpha / betas[t] + 1 / (1 - a_prev)
    expected_mean = (np.sqrt(alpha) / betas[t])[:, None] * x_t + (np.sqrt(a_prev) / (1 - a_prev))[:, None] * x0
    expected_mean /= precision[:, None]
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(var.ravel(), 1 / precision, rtol=1e-9)
    np.testing.assert_allclose(log_var.ravel(), np.log(1 / precision), rtol=1e-9)
    assert var.shape == (len(t), 1)


def test_posterior_at_the_first_step_is_x0_with_clipped_log_variance(rng):
    betas = SCHEDULES["linear"]
    x0, x_t = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    mean, var, log_var = (np_(v) for v in posterior_mean_variance(x0, x_t, np.array([0, 0]), betas))
    np.testing.assert_allclose(mean, x0, rtol=1e-12)
    np.testing.assert_array_equal(var, 0.0)
    abar = alphas_cumprod(betas)
    beta_tilde_2 = (1 - abar[0]) / (1 - abar[1]) * betas[1]
    np.testing.assert_allclose(log_var, np.log(beta_tilde_2), rtol=1e-12)


def test_predict_x0_inverts_q_sample(rng):
    abar = alphas_cumprod(SCHEDULES["cosine"])
    x0 = rng.standard_normal((4, 5, 5, 1))
    eps = rng.standard_normal(x0.shape)
    t = np.array([0, 10, 700, 998])
    x_t = q_sample(x0, t, eps, abar)
    np.testing.assert_allclose(np_(predict_x0_from_noise(x_t, t, eps, abar)), x0, atol=1e-8)


# ---------------------------------------------------------------------------
# Losses and likelihoods
# ---------------------------------------------------------------------------


def test_noise_prediction_loss_is_per_example_mean_squared_error(rng):
    eps = rng.standard_normal((3, 4, 4, 2)).astype("float32")
    eps_hat = rng.standard_normal(eps.shape).astype("float32")
    loss = np_(process.noise_prediction_loss(eps, eps_hat))
    assert loss.shape == (3,)
    np.testing.assert_allclose(loss, ((eps - eps_hat) ** 2).mean(axis=(1, 2, 3)), rtol=1e-5)


def test_normal_kl_zero_at_equality_and_matches_monte_carlo(rng):
    m1, lv1 = np.array([0.3, -1.0, 2.0]), np.log([0.5, 2.0, 0.1])
    m2, lv2 = np.array([-0.2, 0.5, 1.0]), np.log([1.5, 0.7, 0.4])
    np.testing.assert_allclose(np_(normal_kl(m1, lv1, m1, lv1)), 0.0, atol=1e-12)
    closed = np_(normal_kl(m1, lv1, m2, lv2))
    # KL(N(0, 1) ‖ N(1, e)) = ½ (1 − 0 + (1 + 1)/e − 1) = 1/e by hand.
    assert float(np_(normal_kl(0.0, 0.0, 1.0, 1.0))) == pytest.approx(1 / math.e, rel=1e-6)

    n = 200_000
    x = m1 + np.exp(0.5 * lv1) * rng.standard_normal((n, 3))

    def log_density(x, m, lv):
        return -0.5 * (np.log(2 * np.pi) + lv + (x - m) ** 2 / np.exp(lv))

    log_ratio = log_density(x, m1, lv1) - log_density(x, m2, lv2)
    mc, se = log_ratio.mean(axis=0), log_ratio.std(axis=0) / math.sqrt(n)
    assert np.all(np.abs(closed - mc) < 5 * se + 1e-9), (closed, mc, se)


@pytest.mark.parametrize(
    "mean, log_scale", [(0.0, math.log(0.3)), (0.37, math.log(0.01)), (-0.9, math.log(2.0)), (1.4, math.log(0.05))]
)
def test_discretized_gaussian_probabilities_sum_to_one(mean, log_scale):
    x = (2 * np.arange(256) / 255 - 1).astype("float32")
    log_p = np_(discretized_gaussian_log_likelihood(x, np.full_like(x, mean), np.full_like(x, log_scale)))
    assert log_p.dtype == np.float32 and np.all(np.isfinite(log_p)) and np.all(log_p <= 0)
    # Bins in a far tail are floored at 1e-12 each: at most 256e-12 too much.
    assert np.exp(log_p.astype("float64")).sum() == pytest.approx(1.0, abs=1e-6)


def test_discretized_gaussian_matches_erf_by_hand():
    mean, sigma = 0.1, 0.2
    x = np.array([-1.0, -0.5 - 1 / 255, 2 * 140 / 255 - 1, 1.0])

    def cdf(z):
        return 0.5 * (1 + math.erf(z / math.sqrt(2)))

    expected = [
        math.log(cdf((x[0] + 1 / 255 - mean) / sigma)),
        math.log(cdf((x[1] + 1 / 255 - mean) / sigma) - cdf((x[1] - 1 / 255 - mean) / sigma)),
        math.log(cdf((x[2] + 1 / 255 - mean) / sigma) - cdf((x[2] - 1 / 255 - mean) / sigma)),
        math.log(1 - cdf((x[3] - 1 / 255 - mean) / sigma)),
    ]
    got = np_(discretized_gaussian_log_likelihood(x, mean, math.log(sigma)))
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    # A bin far in a tail is floored at log 1e-12, not −∞ or NaN.
    far = np_(discretized_gaussian_log_likelihood(np.array([0.0]), 1.0, math.log(1e-3)))
    assert far[0] == pytest.approx(math.log(1e-12))


def test_bernoulli_log_likelihood_by_hand_and_stable():
    x = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    logits = np.array([0.0, math.log(3.0), -math.log(4.0), 200.0, -200.0])
    expected = [math.log(0.5), math.log(0.25), math.log(0.2), 0.0, 0.0]
    got = np_(process.bernoulli_log_likelihood(x, logits))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------
# Sampling steps
# ---------------------------------------------------------------------------


def _noised(rng, abar, t, shape=(4, 3, 3, 1)):
    x0 = rng.standard_normal(shape)
    eps = rng.standard_normal(shape)
    return x0, eps, np_(q_sample(x0, t, eps, abar))


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_ddpm_step_with_true_noise_is_the_posterior_mean(name, rng):
    betas = SCHEDULES[name]
    abar = alphas_cumprod(betas)
    t = np.array([0, 1, 50, 999])
    x0, eps, x_t = _noised(rng, abar, t)
    mean = np_(ddpm_step(x_t, t, eps, betas, abar, noise=None))
    np.testing.assert_allclose(mean, np_(posterior_mean_variance(x0, x_t, t, betas)[0]), atol=1e-9)
    np.testing.assert_allclose(mean[0], x0[0], atol=1e-9)  # t = 1 returns x0 itself
    # σ_t² = β_t, and no noise at the first step.
    z = rng.standard_normal(x0.shape)
    noisy = np_(ddpm_step(x_t, t, eps, betas, abar, noise=z))
    sigma = np.where(t > 0, np.sqrt(betas[t]), 0.0)[:, None, None, None]
    np.testing.assert_allclose(noisy, mean + sigma * z, atol=1e-12)


def test_ddim_with_eta_one_is_the_ddpm_posterior(rng):
    betas = SCHEDULES["linear"]
    abar = alphas_cumprod(betas)
    t = np.array([1, 2, 400, 999])
    x0, eps, x_t = _noised(rng, abar, t)
    z = rng.standard_normal(x0.shape)
    mean = np_(ddim_step(x_t, t, t - 1, eps, abar, 1.0, None))
    noisy = np_(ddim_step(x_t, t, t - 1, eps, abar, 1.0, z))
    post_mean, post_var, _ = (np_(v) for v in posterior_mean_variance(x0, x_t, t, betas))
    np.testing.assert_allclose(((noisy - mean) / z) ** 2, np.broadcast_to(post_var, z.shape), rtol=1e-8)
    np.testing.assert_allclose(mean, post_mean, atol=1e-9)
    fixed_small = np_(ddpm_step(x_t, t, eps, betas, abar, noise=z, variance="posterior"))
    np.testing.assert_allclose(fixed_small, noisy, atol=1e-9)


def test_deterministic_ddim_with_exact_noise_recovers_x0(rng):
    abar = alphas_cumprod(SCHEDULES["cosine"])
    x0 = rng.standard_normal((2, 4, 4, 1))
    eps = rng.standard_normal(x0.shape)
    ts = sampling_timesteps(T, 10)
    x = np_(q_sample(x0, np.full(2, ts[0]), eps, abar))
    for t, t_prev in zip(ts, list(ts[1:]) + [-1]):
        t_b, t_prev_b = np.full(2, t), np.full(2, t_prev)
        eps_hat = (x - np.sqrt(abar[t]) * x0) / np.sqrt(1 - abar[t])  # the exact ε for this x0
        # η = 0 ignores the noise.
        x = np_(ddim_step(x, t_b, t_prev_b, eps_hat, abar, 0.0, 1e3 * rng.standard_normal(x0.shape)))
        if t_prev >= 0:
            np.testing.assert_allclose(x, np.sqrt(abar[t_prev]) * x0 + np.sqrt(1 - abar[t_prev]) * eps, atol=1e-8)
    np.testing.assert_allclose(x, x0, atol=1e-8)


def test_steps_trace_in_a_tf_function_and_float32_agrees_with_float64(rng):
    betas = SCHEDULES["linear"]
    abar = alphas_cumprod(betas)
    x0 = rng.standard_normal((3, 4, 4, 1))
    eps = rng.standard_normal(x0.shape)
    t = np.array([0, 10, 999])

    def steps(x0, eps, t):
        x_t = q_sample(x0, t, eps, abar)
        mean, _, _ = posterior_mean_variance(x0, x_t, t, betas)
        a = ddim_step(x_t, t, t - 1, eps, abar, 0.5, eps)
        b = ddpm_step(x_t, t, eps, betas, abar, eps)
        return x_t, mean, a, b, process.noise_prediction_loss(eps, x_t)

    eager64 = steps(x0, eps, t)
    traced32 = tf.function(steps)(tf.constant(x0, "float32"), tf.constant(eps, "float32"), tf.constant(t, "int32"))
    for a, b in zip(eager64, traced32):
        assert b.dtype == tf.float32
        np.testing.assert_allclose(np_(b), np_(a), rtol=1e-4, atol=1e-4)


def test_sampling_timesteps():
    np.testing.assert_array_equal(sampling_timesteps(1000, 10), np.arange(999, 0, -100))
    np.testing.assert_array_equal(sampling_timesteps(10, 3), [9, 6, 2])  # steps 10, 6.67 → 7, 3.33 → 3
    np.testing.assert_array_equal(sampling_timesteps(7, 7), np.arange(6, -1, -1))
    np.testing.assert_array_equal(sampling_timesteps(5, 1), [4])
    for total in range(1, 41):
        for steps in range(1, total + 1):
            ts = sampling_timesteps(total, steps)
            assert len(ts) == steps and ts[0] == total - 1 and ts[-1] >= 0
            assert np.all(np.diff(ts) < 0)
            gaps = -np.diff(np.append(ts, -1))  # every gap within one of T / steps
            assert np.all(np.abs(gaps - total / steps) < 1)


# ---------------------------------------------------------------------------
# Bad input: what was expected and what was received
# ---------------------------------------------------------------------------

_X = np.zeros((2, 3))
_ABAR = alphas_cumprod(linear_beta_schedule(10))

BAD_INPUT = [
    (lambda: linear_beta_schedule(0), r"`T` must be a positive int.* Received: T=0"),
    (lambda: linear_beta_schedule(10.0), r"`T` must be a positive int.* Received: T=10\.0"),
    (lambda: linear_beta_schedule(True), r"`T` must be a positive int.* Received: T=True"),
    (lambda: linear_beta_schedule(10, beta_end=1.5), r"`beta_end` must be a float in \(0, 1\)\. Received: beta_end=1\.5"),
    (lambda: linear_beta_schedule(10, beta_start=0.0), r"`beta_start` must be a float in \(0, 1\)\. Received: beta_start=0\.0"),
    (lambda: linear_beta_schedule(10, beta_start=NAN), r"`beta_start` must be a float in \(0, 1\)\. Received: beta_start=nan"),
    (lambda: linear_beta_schedule(10, 0.1, 0.01), r"`beta_start` must be <= `beta_end`\. Received: beta_start=0\.1, beta_end=0\.01"),
    (lambda: cosine_beta_schedule(0), r"`T` must be a positive int.* Received: T=0"),
    (lambda: cosine_beta_schedule(10, s=0.0), r"`s` must be a finite float > 0\. Received: s=0\.0"),
    (lambda: cosine_beta_schedule(10, s=NAN), r"`s` must be a finite float > 0\. Received: s=nan"),
    (lambda: cosine_beta_schedule(10, max_beta=1.0), r"`max_beta` must be a float in \(0, 1\)\. Received: max_beta=1\.0"),
    (lambda: alphas_cumprod([0.1, 1.5]), r"`betas` must be a 1-D array of values in \(0, 1\)\. Received: betas\[1\]=1\.5"),
    (lambda: alphas_cumprod([0.1, NAN]), r"`betas` must be .* in \(0, 1\)\. Received: betas\[1\]=nan"),
    (lambda: alphas_cumprod([]), r"`betas` must be a non-empty 1-D array.* Received: shape=\(0,\)"),
    (lambda: alphas_cumprod([[0.1]]), r"`betas` must be a non-empty 1-D array.* Received: shape=\(1, 1\)"),
    (lambda: offset_cosine_rates(_X, 0.9, 0.5), r"`min_signal_rate` must be < `max_signal_rate`\. Received: min_signal_rate=0\.9, max_signal_rate=0\.5"),
    (lambda: offset_cosine_rates(_X, max_signal_rate=1.5), r"`max_signal_rate` must be a float in \[0, 1\]\. Received: max_signal_rate=1\.5"),
    (lambda: sampling_timesteps(10, 11), r"`steps` must be an int in \[1, T\]\. Received: steps=11 with T=10"),
    (lambda: sampling_timesteps(10, 0), r"`steps` must be a positive int.* Received: steps=0"),
    (lambda: check_eta(1.5), r"`eta` must be a float in \[0, 1\]\. Received: eta=1\.5"),
    (lambda: check_eta(-0.1), r"`eta` must be a float in \[0, 1\]\. Received: eta=-0\.1"),
    (lambda: check_eta(NAN), r"`eta` must be a float in \[0, 1\]\. Received: eta=nan"),
    (lambda: check_eta("0.5"), r"`eta` must be a float in \[0, 1\]\. Received: eta='0\.5'"),
    (lambda: ddim_step(_X, 3, 2, _X, _ABAR, 2.0, None), r"`eta` must be a float in \[0, 1\]\. Received: eta=2\.0"),
    (lambda: ddpm_step(_X, 3, _X, _ABAR, _ABAR, None, variance="large"), r"`variance` must be one of \['beta', 'posterior'\]\. Received: variance='large'"),
]


@pytest.mark.parametrize("call, message", BAD_INPUT, ids=[str(i) for i in range(len(BAD_INPUT))])
def test_bad_input_names_expected_and_received(call, message):
    with pytest.raises(ValueError, match=message):
        call()
