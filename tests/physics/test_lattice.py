"""The Ising lattice: energy, magnetisation, ΔE, encodings, validation."""

import math

import numpy as np
import pytest

from keras_genmodels.physics import lattice


def _energy_by_bonds(s):
    """E = -sum over the 2N bonds (right and down of every site), with loops."""
    L = s.shape[0]
    e = 0
    for i in range(L):
        for j in range(L):
            e -= s[i, j] * s[i, (j + 1) % L]
            e -= s[i, j] * s[(i + 1) % L, j]
    return e


def _random_spins(n, L, seed=0):
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=(n, L, L))


def test_critical_temperature_is_onsagers():
    assert lattice.T_C == pytest.approx(2.269185314213022, abs=1e-12)
    # Kramers-Wannier self-duality: sinh(2/T_c) = 1.
    assert math.sinh(2.0 / lattice.T_C) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("L", [2, 3, 4, 7])
def test_energy_matches_a_loop_over_bonds(L):
    s = _random_spins(20, L)
    expected = np.array([_energy_by_bonds(c) for c in s])
    np.testing.assert_array_equal(lattice.energy(s), expected)
    np.testing.assert_array_equal(lattice.magnetization(s), s.sum(axis=(1, 2)))


def test_ground_states_and_antiferromagnet():
    L = 6
    up = np.ones((1, L, L), np.int8)
    checker = np.where(np.indices((L, L)).sum(0) % 2 == 0, 1, -1).astype(np.int8)[None]
    assert lattice.energy(up)[0] == -2 * L * L
    assert lattice.energy(-up)[0] == -2 * L * L
    assert lattice.energy(checker)[0] == 2 * L * L
    assert lattice.magnetization(checker)[0] == 0


def test_flat_and_binary_inputs_give_the_same_energy():
    s = _random_spins(5, 4)
    b = lattice.spins_to_binary(s)
    np.testing.assert_array_equal(lattice.energy(s.reshape(5, 16)), lattice.energy(s))
    np.testing.assert_array_equal(lattice.energy(b, encoding="binary"), lattice.energy(s))
    np.testing.assert_array_equal(
        lattice.magnetization(b, encoding="binary"), lattice.magnetization(s)
    )


@pytest.mark.parametrize("L", [2, 5])
def test_delta_energy_is_two_s_h(L):
    s = _random_spins(8, L, seed=1)
    h = lattice.local_field(s)
    for i in range(L):
        for j in range(L):
            flipped = s.copy()
            flipped[:, i, j] *= -1
            np.testing.assert_array_equal(
                lattice.energy(flipped) - lattice.energy(s), 2 * s[:, i, j] * h[:, i, j]
            )
    d = lattice.delta_energy_binary_flat(L)(
        lattice.spins_to_binary(s).reshape(8, -1), np.arange(L * L)
    )
    np.testing.assert_array_equal(d, (2 * s * h).reshape(8, -1))


def test_encoding_map_round_trip():
    s = _random_spins(3, 4)
    b = lattice.spins_to_binary(s)
    assert set(np.unique(b)) == {0, 1}
    np.testing.assert_array_equal(b, (s + 1) // 2)
    np.testing.assert_array_equal(lattice.binary_to_spins(b), s)


def test_checkerboard_colours_have_no_internal_bonds():
    L = 6
    nbr = lattice.neighbour_table(L)
    groups = lattice.checkerboard_groups(L)
    assert sorted(np.concatenate(groups).tolist()) == list(range(L * L))
    for g in groups:
        assert not np.isin(nbr[g], g).any()


@pytest.mark.parametrize(
    "fn, bad, message",
    [
        (lattice.spins_to_binary, np.array([[1, 0, -1]]), "values -1 and 1"),
        (lattice.binary_to_spins, np.array([[1, 0, -1]]), "values 0 and 1"),
        (lattice.binary_to_spins, np.array([[1, 2]]), "values 0 and 1"),
        (lambda x: lattice.energy(x), np.zeros((2, 4, 4)), "values -1 and 1"),
        (lambda x: lattice.energy(x, encoding="binary"), -np.ones((2, 4, 4)), "values 0 and 1"),
        (lambda x: lattice.energy(x), np.ones((2, 4, 5)), "shape"),
        (lambda x: lattice.energy(x), np.ones((2, 15)), "shape"),
    ],
)
def test_bad_configurations_are_refused(fn, bad, message):
    with pytest.raises(ValueError, match=message) as e:
        fn(bad)
    assert "Received" in str(e.value)


@pytest.mark.parametrize("T", [0, -1.0, float("nan"), float("inf"), "2"])
def test_bad_temperature(T):
    with pytest.raises(ValueError, match="temperature.*Received"):
        lattice.check_temperature(T)


@pytest.mark.parametrize("L", [0, -4, 1, 2.5, True])
def test_bad_lattice_size(L):
    with pytest.raises(ValueError, match=r"`L` must be .*Received: L="):
        lattice.check_lattice_size(L)


def test_checkerboard_needs_even_L():
    with pytest.raises(ValueError, match="even.*Received: L=5"):
        lattice.checkerboard_groups(5)
