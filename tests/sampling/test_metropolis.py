"""General Metropolis-Hastings over binary vectors, against exact distributions."""

import math

import numpy as np
import pytest

from keras_genmodels.sampling import MetropolisHastings


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
    mh = MetropolisHastings(energy, d, temperature=T)
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
    mh = MetropolisHastings(energy, 4)
    a = mh.sample(300, n_chains=30, burn_in=7, thin=3, seed=5)
    b = mh.sample(300, n_chains=30, burn_in=7, thin=3, seed=5)
    c = mh.sample(300, n_chains=30, burn_in=7, thin=3, seed=6)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)
    assert (a.info.burn_in, a.info.thin, a.info.pilot_steps) == (7, 3, 0)
    assert a.info.n_steps == 7 + 9 * 3


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
        MetropolisHastings(**kwargs)


def test_bad_sampling_requests():
    mh = MetropolisHastings(lambda x: x.sum(axis=1).astype(float), 3)
    with pytest.raises(ValueError, match="n_samples.*Received: n_samples=0"):
        mh.sample(0)
    with pytest.raises(ValueError, match="burn_in.*Received: burn_in=-1"):
        mh.sample(10, burn_in=-1)
    with pytest.raises(ValueError, match="thin.*Received: thin=0"):
        mh.sample(10, thin=0)
    with pytest.raises(ValueError, match="initial.*shape \\(2, 3\\)"):
        mh.sample(10, n_chains=2, initial=np.full((2, 3), 2))
    bad = MetropolisHastings(lambda x: np.zeros(7), 3)
    with pytest.raises(ValueError, match="one energy per row.*Received: shape=\\(7,\\)"):
        bad.sample(10, n_chains=2)


def test_unknown_keyword_names_the_valid_ones():
    mh = MetropolisHastings(lambda x: x.sum(axis=1).astype(float), 3)
    with pytest.raises(ValueError, match=(
        "Unknown keyword argument of `MetropolisHastings.sample`: 'burnin' "
        "\\(did you mean 'burn_in'\\?\\). Expected keywords among \\['n_samples', 'n_chains', "
        "'burn_in', 'thin', 'initial', 'seed', 'measure', 'burn_in_factor', 'thin_factor', "
        "'min_pilot', 'max_pilot'\\]. Received: burnin=10"
    )):
        mh.sample(4, burnin=10)
    # The schedule options themselves still reach the driver.
    result = mh.sample(4, n_chains=2, min_pilot=4, max_pilot=8, thin_factor=2.0, seed=0)
    assert result.info.pilot_steps <= 8


def test_seeds():
    mh = MetropolisHastings(lambda x: x.sum(axis=1).astype(float), 3)
    a = mh.sample(20, n_chains=4, burn_in=3, thin=1, seed=np.random.SeedSequence(7))
    b = mh.sample(20, n_chains=4, burn_in=3, thin=1, seed=np.random.default_rng(np.random.SeedSequence(7)))
    np.testing.assert_array_equal(a.samples, b.samples)
    with pytest.raises(ValueError, match="`seed` must be None, an int in \\[0, 2\\*\\*63 - 2\\]"):
        mh.sample(4, seed=-1)
