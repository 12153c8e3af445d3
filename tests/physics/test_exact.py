"""Exact enumeration: hand-checked L = 2, Kaufman's closed form, thermodynamic identities."""

import math

import numpy as np
import pytest

from keras_genmodels.physics import exact, lattice


@pytest.mark.parametrize("T", [0.7, 1.5, lattice.T_C, 3.0, 10.0])
def test_two_by_two_by_hand(T):
    # 2x2 torus: E = -8 for the 2 ordered states, +8 for the 2 diagonal
    # (checkerboard) states, 0 for the other 12.
    b = 1.0 / T
    z = 2 * math.exp(8 * b) + 12 + 2 * math.exp(-8 * b)
    assert exact.log_partition(2, T) == pytest.approx(math.log(z), rel=1e-12)
    obs = exact.exact_observables(2, T)
    mean_e = (-16 * math.exp(8 * b) + 16 * math.exp(-8 * b)) / z
    assert obs["energy"] == pytest.approx(mean_e / 4, rel=1e-12)
    # |M| = 4 in the 2 ordered states, 2 in the 8 one-flip states, 0 otherwise.
    assert obs["abs_magnetization"] == pytest.approx(
        (2 * 4 * math.exp(8 * b) + 8 * 2) / z / 4, rel=1e-12
    )
    e, m, g = exact.density_of_states(2)
    assert dict(zip(zip(e.tolist(), m.tolist()), g.tolist()))[(8, 0)] == 2
    assert g.sum() == 16


@pytest.mark.parametrize("L", [2, 3, 4])
@pytest.mark.parametrize("T", [1.0, 1.5, lattice.T_C, 3.0, 5.0])
def test_enumeration_agrees_with_kaufman(L, T):
    assert exact.log_partition(L, T) == pytest.approx(
        exact.log_partition_kaufman(L, T), rel=1e-12, abs=1e-12
    )


def test_kaufman_free_energy_approaches_onsager():
    # Onsager's free energy per spin at T_c: -T_c (log(2)/2 + 2G/pi), G = Catalan.
    catalan = 0.915965594177219
    f_onsager = -lattice.T_C * (math.log(2) / 2 + 2 * catalan / math.pi)
    f = [-lattice.T_C * exact.log_partition_kaufman(L, lattice.T_C) / L**2 for L in (8, 32, 128)]
    gaps = [abs(x - f_onsager) for x in f]
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-4


def test_distribution_is_normalised_and_consistent():
    T = 2.5
    p = exact.probabilities(4, T)
    assert p.shape == (2**16,)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    configs = exact.all_configurations(4)
    np.testing.assert_array_equal(exact.state_index(configs), np.arange(2**16))
    idx = np.array([0, 1, 12345, 2**16 - 1])
    np.testing.assert_allclose(
        exact.log_prob(configs[idx], T), np.log(p[idx]), rtol=1e-12
    )
    # All-down (state 0) and all-up (last state) are the most likely states.
    assert p[0] == pytest.approx(p[-1]) and p[0] == pytest.approx(p.max())
    # Binary encoding: state k has bit i of k at site i = row * L + col.
    bits = exact.all_configurations(4, encoding="binary")
    assert bits[1, 0, 0] == 1 and bits[1].sum() == 1
    assert bits[2**5, 1, 1] == 1 and bits[2**5].sum() == 1


def test_heat_capacity_is_the_derivative_of_the_energy():
    # c = d<e>/dT (fluctuation-dissipation), checked by central differences.
    T, h = np.array([1.2, 2.0, 2.4, 3.3]), 1e-5
    obs = exact.exact_observables(4, T)
    de_dt = (
        exact.exact_observables(4, T + h)["energy"] - exact.exact_observables(4, T - h)["energy"]
    ) / (2 * h)
    np.testing.assert_allclose(obs["heat_capacity"], de_dt, rtol=1e-6)
    # Also u = -d log Z / d beta / N.
    b, hb = 1.0 / T, 1e-6
    dlogz = (exact.log_partition(4, 1 / (b + hb)) - exact.log_partition(4, 1 / (b - hb))) / (2 * hb)
    np.testing.assert_allclose(obs["energy"], -dlogz / 16, rtol=1e-7)


def test_limits_and_finite_size_trends():
    low, high = (exact.exact_observables(4, T) for T in (0.5, 50.0))
    assert low["energy"] == pytest.approx(-2.0, abs=1e-5)
    assert low["abs_magnetization"] == pytest.approx(1.0, abs=1e-5)
    assert low["binder_cumulant"] == pytest.approx(2.0 / 3.0, abs=1e-5)
    # High-temperature expansion: u = -2 tanh(1/T) + O(tanh^3).
    assert high["energy"] == pytest.approx(-2 * math.tanh(1 / 50), abs=2e-4)
    assert high["binder_cumulant"] < 0.1
    # The heat-capacity peak grows with L and moves down towards T_c = 2.269.
    T = np.linspace(1.5, 4.0, 2501)
    peaks = []
    for L in (2, 3, 4):
        c = exact.exact_observables(L, T)["heat_capacity"]
        peaks.append((T[np.argmax(c)], c.max()))
    assert peaks[0][0] > peaks[1][0] > peaks[2][0] > lattice.T_C
    assert peaks[0][1] < peaks[1][1] < peaks[2][1]
    # <|m|> falls and <e> rises with T.
    obs = exact.exact_observables(4, T)
    assert np.all(np.diff(obs["abs_magnetization"]) < 0)
    assert np.all(np.diff(obs["energy"]) > 0)


def test_too_large_lattice_and_bad_temperature():
    with pytest.raises(ValueError, match=r"L <= 4.*Received: L=5"):
        exact.exact_observables(5, 2.0)
    with pytest.raises(ValueError, match="temperature.*Received"):
        exact.exact_observables(4, 0.0)
    with pytest.raises(ValueError, match="Received values such as"):
        exact.exact_observables(4, [2.0, -1.0])
    with pytest.raises(ValueError, match="values -1 and 1"):
        exact.log_prob(np.zeros((1, 4, 4)), 2.0)
