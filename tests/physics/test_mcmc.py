"""General Metropolis-Hastings over binary vectors, τ_int, and the chain schedule."""

import math

import numpy as np
import pytest

from keras_genmodels.physics import exact, lattice, mcmc


def _ar1(phi, n_steps, n_chains, seed=0):
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
    tau = mcmc.integrated_autocorrelation_time(x)
    assert tau == pytest.approx((1 + phi) / (1 - phi), rel=0.08)
    rho = mcmc.autocorrelation(x)
    assert rho[0] == 1.0
    assert rho[1] == pytest.approx(phi, abs=0.02)


def test_tau_of_a_constant_series_is_one():
    assert mcmc.integrated_autocorrelation_time(np.ones((50, 3))) == 1.0


def test_tau_rejects_too_short_series():
    with pytest.raises(ValueError, match="n_steps >= 2.*Received: shape=\\(1,\\)"):
        mcmc.integrated_autocorrelation_time(np.ones(1))


def _table_energy(d, seed=0):
    """A non-local energy: an arbitrary value per state (no structure at all)."""
    table = np.random.default_rng(seed).uniform(-2.0, 2.0, size=2**d)
    powers = 1 << np.arange(d)

    def energy(x):
        return table[np.asarray(x, np.int64) @ powers]

    return energy, table, powers


def _chi2_per_dof(samples, powers, p):
    counts = np.bincount(samples.astype(np.int64) @ powers, minlength=p.size)
    expected = p * samples.shape[0]
    return float(np.sum((counts - expected) ** 2 / expected)) / (p.size - 1)


def test_general_sampler_matches_an_arbitrary_distribution():
    d, T = 5, 1.3
    energy, table, powers = _table_energy(d)
    p = np.exp(-table / T)
    p /= p.sum()
    mh = mcmc.MetropolisHastings(energy, d, temperature=T)
    result = mh.sample(20000, n_chains=200, seed=1)
    assert result.samples.shape == (20000, d)
    assert set(np.unique(result.samples)) <= {0, 1}
    assert _chi2_per_dof(result.samples, powers, p) < 2.0
    # Power: the same samples are far from the distribution at another T.
    q = np.exp(-table / (2 * T))
    assert _chi2_per_dof(result.samples, powers, q / q.sum()) > 10.0
    # The reported schedule follows the measured tau.
    info = result.info
    assert info.thin == max(1, math.ceil(max(info.tau.values())))
    assert info.burn_in >= 20 * max(info.tau.values())
    assert 0 < result.acceptance_rate < 1


def test_general_sampler_is_reproducible_and_honours_a_fixed_schedule():
    energy, _, _ = _table_energy(4)
    mh = mcmc.MetropolisHastings(energy, 4)
    a = mh.sample(300, n_chains=30, burn_in=7, thin=3, seed=5)
    b = mh.sample(300, n_chains=30, burn_in=7, thin=3, seed=5)
    c = mh.sample(300, n_chains=30, burn_in=7, thin=3, seed=6)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)
    assert (a.info.burn_in, a.info.thin, a.info.pilot_steps) == (7, 3, 0)
    assert a.info.n_steps == 7 + 9 * 3


def test_ising_delta_energy_and_checkerboard_groups_sample_the_boltzmann_law():
    # The general sampler, given the Ising ΔE and the checkerboard colours,
    # against the exact distribution of the 4x4 lattice.
    L, T = 4, 3.0
    mh = mcmc.MetropolisHastings(
        lattice.energy_binary_flat(L),
        L * L,
        temperature=T,
        delta_energy_fn=lattice.delta_energy_binary_flat(L),
        site_groups=lattice.checkerboard_groups(L),
    )
    x = np.random.default_rng(0).integers(0, 2, (3, L * L), dtype=np.int8)
    sites = lattice.checkerboard_groups(L)[0]
    # Same ΔE from delta_energy_fn as from energy differences.
    plain = mcmc.MetropolisHastings(lattice.energy_binary_flat(L), L * L, temperature=T)
    np.testing.assert_allclose(mh.delta_energy(x, sites), plain.delta_energy(x.copy(), sites))
    result = mh.sample(20000, n_chains=500, seed=2)
    e = lattice.energy(result.samples.reshape(-1, L, L), encoding="binary") / 16
    ex = exact.exact_observables(L, T)["energy"]
    err = e.std() / math.sqrt(len(e)) * math.sqrt(max(result.info.tau_samples.values()))
    assert abs(e.mean() - ex) < 4 * err
    assert err < 0.01


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(energy_fn=None, n_variables=3), "energy_fn.*callable"),
        (dict(energy_fn=np.sum, n_variables=0), "n_variables.*Received: n_variables=0"),
        (dict(energy_fn=np.sum, n_variables=3, temperature=0.0), "temperature.*Received"),
        (dict(energy_fn=np.sum, n_variables=3, site_groups=[[0, 1]]), "cover each of the 3"),
        (dict(energy_fn=np.sum, n_variables=3, delta_energy_fn=3), "delta_energy_fn"),
    ],
)
def test_bad_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mcmc.MetropolisHastings(**kwargs)


def test_bad_sampling_requests():
    mh = mcmc.MetropolisHastings(lambda x: x.sum(axis=1).astype(float), 3)
    with pytest.raises(ValueError, match="n_samples.*Received: n_samples=0"):
        mh.sample(0)
    with pytest.raises(ValueError, match="burn_in.*Received: burn_in=-1"):
        mh.sample(10, burn_in=-1)
    with pytest.raises(ValueError, match="thin.*Received: thin=0"):
        mh.sample(10, thin=0)
    with pytest.raises(ValueError, match="initial.*shape \\(2, 3\\)"):
        mh.sample(10, n_chains=2, initial=np.full((2, 3), 2))
    bad = mcmc.MetropolisHastings(lambda x: np.zeros(7), 3)
    with pytest.raises(ValueError, match="one energy per row.*Received: shape=\\(7,\\)"):
        bad.sample(10, n_chains=2)
