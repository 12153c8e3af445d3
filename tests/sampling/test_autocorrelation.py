"""ρ(t), τ_int and the effective sample size on series whose autocorrelation is known."""

import math

import numpy as np
import pytest

from keras_genmodels.sampling import (
    autocorrelation,
    check_schedule_options,
    effective_sample_size,
    integrated_autocorrelation_time,
    run_chains,
)


def _ar1(phi, n_steps, n_chains, seed=0):
    """x_t = φ x_{t-1} + ε_t, started in its stationary law: ρ(t) = φ^t."""
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((n_steps, n_chains))
    x = np.empty_like(eps)
    x[0] = eps[0] / math.sqrt(1 - phi**2)  # start in the stationary law
    for t in range(1, n_steps):
        x[t] = phi * x[t - 1] + eps[t]
    return x


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_tau_of_an_ar1_series(phi):
    # rho(t) = phi^t, so tau_int = 1 + 2 sum phi^t = (1 + phi) / (1 - phi).
    x = _ar1(phi, 20000, 8)
    tau = integrated_autocorrelation_time(x)
    assert tau == pytest.approx((1 + phi) / (1 - phi), rel=0.08)
    rho = autocorrelation(x)
    assert rho[0] == 1.0
    assert rho[1] == pytest.approx(phi, abs=0.02)


def test_tau_of_a_constant_series_is_one():
    assert integrated_autocorrelation_time(np.ones((50, 3))) == 1.0


def test_tau_rejects_too_short_series():
    with pytest.raises(ValueError, match="n_steps >= 2.*Received: shape=\\(1,\\)"):
        integrated_autocorrelation_time(np.ones(1))


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.8])
def test_effective_sample_size_of_an_ar1_series(phi):
    # ESS = n_chains * n_steps / tau_int with tau_int = (1 + phi) / (1 - phi).
    n_steps, n_chains = 20000, 8
    x = _ar1(phi, n_steps, n_chains, seed=1)
    ess = effective_sample_size(x)
    assert ess == pytest.approx(n_chains * n_steps * (1 - phi) / (1 + phi), rel=0.08)
    assert ess == pytest.approx(n_chains * n_steps / integrated_autocorrelation_time(x))
    # One chain: the 1-D and (n_steps, 1) forms agree.
    assert effective_sample_size(x[:, 0]) == pytest.approx(effective_sample_size(x[:, :1]))


def test_effective_sample_size_predicts_the_spread_of_chain_means():
    # Var(mean of all values) = σ² / ESS: 200 independent AR(1) data sets of
    # 4 chains, σ² = 1 / (1 - φ²), against the ESS of one of them.
    phi, n_steps, n_chains = 0.7, 4000, 4
    means = [_ar1(phi, n_steps, n_chains, seed=s).mean() for s in range(200)]
    ess = effective_sample_size(_ar1(phi, n_steps, n_chains, seed=1000))
    predicted = 1.0 / (1 - phi**2) / ess
    # The sample variance of 200 means is within ~20% (2σ) of the truth.
    assert np.var(means, ddof=1) == pytest.approx(predicted, rel=0.25)
    # Power: the naive σ² / n (independent samples) is 5.7x too small.
    assert np.var(means, ddof=1) > 3 * (1.0 / (1 - phi**2)) / (n_steps * n_chains)


def test_effective_sample_size_bad_input():
    with pytest.raises(ValueError, match="n_steps >= 2.*Received: shape=\\(1, 3\\)"):
        effective_sample_size(np.ones((1, 3)))
    with pytest.raises(ValueError, match="`c` must be a finite float > 0. Received: c=0"):
        effective_sample_size(np.arange(9.0), c=0)


def test_run_chains_schedule_follows_the_measured_tau():
    # Chains that are AR(1) processes in their one observable: tau = (1+phi)/(1-phi) = 9.
    phi, n_chains = 0.8, 64
    rng = np.random.default_rng(0)
    state = rng.standard_normal(n_chains) / math.sqrt(1 - phi**2)

    def step(n):
        nonlocal state
        for _ in range(n):
            state = phi * state + rng.standard_normal(n_chains)

    kept, info = run_chains(step, lambda: state[:, None].copy(), 200, lambda: state.copy(),
                            observables=("x",))
    assert len(kept) == 200 and kept[0].shape == (n_chains,)
    assert info.tau["x"] == pytest.approx(9.0, rel=0.2)
    assert info.thin == math.ceil(info.tau["x"])
    assert info.burn_in >= 20 * info.tau["x"] and info.reliable
    assert info.tau_samples["x"] < 2.0  # thinned by tau: nearly independent


def test_schedule_options_name_the_valid_keywords():
    def sampler(n_samples, *, burn_in="auto", **schedule):
        return check_schedule_options(sampler, schedule)

    assert sampler(3, min_pilot=4) == {"min_pilot": 4}
    with pytest.raises(ValueError) as e:
        sampler(3, burnin=10)
    message = str(e.value)
    assert "Unknown keyword argument of `" in message and "sampler`: 'burnin'" in message
    assert "did you mean 'burn_in'?" in message
    assert "['n_samples', 'burn_in', 'burn_in_factor', 'thin_factor', 'min_pilot', 'max_pilot']" in message
    assert message.endswith("Received: burnin=10")
