"""Ising Monte Carlo (multispin Metropolis, NumPy Metropolis, Wolff) against exact enumeration."""

import math

import numpy as np
import pytest

from keras_genmodels.physics import exact, lattice, multispin, sampler, wolff
from keras_genmodels.sampling import MetropolisHastings

# Below, at and above T_c.
TEMPERATURES = (1.5, 2.269, 3.0)
ENGINES = (("metropolis", "multispin"), ("metropolis", "numpy"), ("wolff", "auto"))


def _expected_acceptance(L, T):
    """E_p[mean_i min(1, exp(-ΔE_i / T))]: each half-sweep starts from p."""
    spins = exact.all_configurations(L)
    p = exact.probabilities(L, T)
    d = 2 * spins * lattice.local_field(spins)
    acc = np.minimum(1.0, np.exp(-d / T)).mean(axis=(1, 2))
    return float(p @ acc)


@pytest.mark.parametrize("method, backend", ENGINES)
@pytest.mark.parametrize("T", TEMPERATURES)
def test_monte_carlo_agrees_with_enumeration_at_L4(T, method, backend):
    result = sampler.sample_ising(4, T, 12000, method=method, backend=backend, seed=11)
    assert result.spins.shape == (12000, 4, 4)
    est = result.observables(n_blocks=40)
    ex = exact.exact_observables(4, T)
    for name in ("energy", "abs_magnetization", "heat_capacity", "susceptibility"):
        value, error = est[name]
        assert abs(value - ex[name]) < 4 * error, (name, est[name], ex[name])
        # The error bars are small enough for the comparison to mean something.
        assert error < (0.01 if name in ("energy", "abs_magnetization") else 0.15) * abs(ex[name])
    # Power: the same samples are many error bars away from T + 0.15.
    other = exact.exact_observables(4, T + 0.15)
    assert abs(est["energy"].deviation(other["energy"])) > 6


def test_schedule_is_taken_from_the_measured_tau():
    result = sampler.sample_ising(8, 2.6, 512, method="metropolis", seed=0)
    tau = max(result.info.tau.values())
    assert result.info.thin == math.ceil(tau)
    assert result.info.burn_in >= 20 * tau
    assert result.info.burn_in >= result.info.pilot_steps
    assert set(result.info.tau) == {"energy", "abs_magnetization"}
    # Near T_c, Metropolis decorrelates far more slowly than Wolff.
    slow = sampler.sample_ising(16, lattice.T_C, 256, method="metropolis", seed=0, max_pilot=1024)
    fast = sampler.sample_ising(16, lattice.T_C, 256, method="wolff", seed=0)
    assert slow.info.tau["abs_magnetization"] > 4 * fast.info.tau["abs_magnetization"]


@pytest.mark.parametrize("T", [1.5, 3.0])
def test_multispin_acceptance_rate_is_exact(T):
    # The bit-sliced Bernoulli draws accept with exactly min(1, exp(-ΔE/T)).
    result = sampler.sample_ising(4, T, 4096 * 40, method="metropolis", backend="multispin", seed=3)
    expected = _expected_acceptance(4, T)
    assert result.acceptance_rate == pytest.approx(expected, rel=0.01)
    numpy = sampler.sample_ising(4, T, 20000, method="metropolis", backend="numpy", seed=3)
    assert numpy.acceptance_rate == pytest.approx(expected, rel=0.03)


def test_multispin_limits_are_deterministic():
    L = 6
    s = np.random.default_rng(0).choice(np.array([-1, 1], np.int8), size=(100, L, L))
    # T -> infinity: every proposal is accepted, so one sweep negates everything.
    hot = multispin.MultispinMetropolis(L, 1e12, s, seed=0)
    hot.sweep(1)
    np.testing.assert_array_equal(hot.spins(), -s)
    # T -> 0: exactly the flips with ΔE <= 0 are accepted (black, then white).
    cold = multispin.MultispinMetropolis(L, 1e-3, s, seed=0)
    cold.sweep(1)
    ref = s.copy()
    colour = np.indices((L, L)).sum(0) % 2
    for c in (0, 1):
        d = 2 * ref * lattice.local_field(ref)
        ref = np.where((colour == c) & (d <= 0), -ref, ref)
    np.testing.assert_array_equal(cold.spins(), ref)


def test_pack_unpack_round_trip():
    s = np.random.default_rng(1).choice(np.array([-1, 1], np.int8), size=(130, 6, 6))
    black, white = multispin.pack(s)
    assert black.shape == white.shape == (6, 3, 3) and black.dtype == np.uint64
    np.testing.assert_array_equal(multispin.unpack(black, white, 130), s)


def test_wolff_cluster_size_is_the_susceptibility_estimator():
    # Wolff's improved estimator: <|C|> = <M^2> / N.
    L, T = 4, 2.5
    start = sampler.sample_ising(L, T, 2000, method="metropolis", seed=4).spins
    w = wolff.Wolff(L, T, start, seed=5)
    w.step(300)
    expected = exact.exact_observables(L, T)["magnetization_sq"] * L * L
    assert w.mean_cluster_size == pytest.approx(expected, rel=0.02)


def test_reproducible_whatever_the_threads():
    a = sampler.sample_ising(8, 2.0, 2000, method="metropolis", seed=7, n_threads=1)
    b = sampler.sample_ising(8, 2.0, 2000, method="metropolis", seed=7, n_threads=2)
    c = sampler.sample_ising(8, 2.0, 2000, method="metropolis", seed=8)
    np.testing.assert_array_equal(a.spins, b.spins)
    assert not np.array_equal(a.spins, c.spins)
    w1 = sampler.sample_ising(6, 2.3, 100, method="wolff", seed=1)
    w2 = sampler.sample_ising(6, 2.3, 100, method="wolff", seed=1)
    np.testing.assert_array_equal(w1.spins, w2.spins)


def test_odd_lattice_uses_the_sequential_sweep():
    result = sampler.sample_ising(3, 2.5, 8000, method="metropolis", seed=0)
    assert result.backend == "numpy"
    est = result.observables()
    ex = exact.exact_observables(3, 2.5)
    assert abs(est["energy"].deviation(ex["energy"])) < 4


def test_auto_method_and_encodings():
    assert sampler.choose_method(lattice.T_C) == "wolff"
    assert sampler.choose_method(1.5) == "metropolis"
    assert sampler.choose_method(3.0) == "metropolis"
    r = sampler.sample_ising(4, 2.2, 10, seed=0)
    assert r.method == "wolff"
    np.testing.assert_array_equal(r.binary(), (r.spins + 1) // 2)
    assert r.spins.dtype == np.int8 and set(np.unique(r.spins)) <= {-1, 1}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(L=4, temperature=0.0, n_samples=10), "temperature.*Received: temperature=0.0"),
        (dict(L=4, temperature=-2.0, n_samples=10), "temperature.*Received: temperature=-2.0"),
        (dict(L=0, temperature=2.0, n_samples=10), "`L` must be.*Received: L=0"),
        (dict(L=-4, temperature=2.0, n_samples=10), "`L` must be.*Received: L=-4"),
        (dict(L=4, temperature=2.0, n_samples=0), "n_samples.*Received: n_samples=0"),
        (dict(L=5, temperature=2.0, n_samples=10, method="metropolis", backend="multispin"), "even"),
        (dict(L=4, temperature=2.0, n_samples=10, method="gibbs"), "method.*Received: method='gibbs'"),
        (dict(L=4, temperature=2.0, n_samples=10, n_replicas=2, initial=np.zeros((2, 4, 4))), "values -1 and 1"),
        (dict(L=4, temperature=2.0, n_samples=10, n_replicas=2, initial=np.ones((3, 4, 4))), "one configuration per replica"),
        (dict(L=4, temperature=2.0, n_samples=10, burnin=5),
         "Unknown keyword argument of `sample_ising`: 'burnin' \\(did you mean 'burn_in'\\?\\).*Received: burnin=5"),
        (dict(L=4, temperature=2.0, n_samples=10, seed=2**64),
         "`seed` must be None, an int in \\[0, 2\\*\\*63 - 2\\] or a np.random.SeedSequence"),
    ],
)
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sampler.sample_ising(**kwargs)


def test_ising_delta_energy_and_checkerboard_groups_sample_the_boltzmann_law():
    # The general sampler, given the Ising ΔE and the checkerboard colours,
    # against the exact distribution of the 4x4 lattice.
    L, T = 4, 3.0
    mh = MetropolisHastings(
        lattice.energy_binary_flat(L),
        L * L,
        temperature=T,
        delta_energy_fn=lattice.delta_energy_binary_flat(L),
        site_groups=lattice.checkerboard_groups(L),
    )
    x = np.random.default_rng(0).integers(0, 2, (3, L * L), dtype=np.int8)
    sites = lattice.checkerboard_groups(L)[0]
    # Same ΔE from delta_energy_fn as from energy differences.
    plain = MetropolisHastings(lattice.energy_binary_flat(L), L * L, temperature=T)
    np.testing.assert_allclose(mh.delta_energy(x, sites), plain.delta_energy(x.copy(), sites))
    result = mh.sample(20000, n_chains=500, seed=2)
    e = lattice.energy(result.samples.reshape(-1, L, L), encoding="binary") / 16
    ex = exact.exact_observables(L, T)["energy"]
    err = e.std() / math.sqrt(len(e)) * math.sqrt(max(result.info.tau_samples.values()))
    assert abs(e.mean() - ex) < 4 * err
    assert err < 0.01
