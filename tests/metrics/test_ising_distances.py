"""`ising_distances`: Monte Carlo runs at one temperature agree, at two they do not."""

import numpy as np
import pytest

from keras_genmodels.metrics import ising_distances
from keras_genmodels.metrics.ising import COMPARED_OBSERVABLES
from keras_genmodels.physics import sample_ising, spins_to_binary

L, T, T_OTHER, N = 8, 2.5, 3.0, 2000


@pytest.fixture(scope="module")
def runs():
    return {
        "reference": sample_ising(L, T, N, seed=0).spins,
        "same": sample_ising(L, T, N // 2, seed=1).spins,  # unequal sizes on purpose
        "other": sample_ising(L, T_OTHER, N, seed=2).spins,
    }


def test_runs_at_one_temperature_agree_and_at_two_do_not(runs):
    same = ising_distances(runs["same"], runs["reference"], T)
    other = ising_distances(runs["other"], runs["reference"], T)
    for name in COMPARED_OBSERVABLES:
        rel = same[f"{name}_relative_error"]
        assert abs(rel.value) < 4 * rel.error, (name, rel)
        assert rel.error < 0.1, (name, rel)  # error bars small enough to mean something
        far = other[f"{name}_relative_error"]
        assert abs(far.value) > 6 * far.error, (name, far)
    for key in ("energy_w1", "magnetization_w1", "abs_magnetization_w1"):
        assert same[key] < 0.05, (key, same[key])
        assert other[key] > 5 * same[key], (key, same[key], other[key])
    # In equilibrium, half of the configurations have m > 0.
    assert 0.4 < same["positive_magnetization_fraction"] < 0.6
    assert 0.4 < same["reference_positive_magnetization_fraction"] < 0.6


def test_relative_errors_combine_the_two_estimates(runs):
    d = ising_distances(runs["same"], runs["reference"], T)
    a, b = d["heat_capacity"], d["reference_heat_capacity"]
    assert d["heat_capacity_relative_error"].value == pytest.approx(a.value / b.value - 1)
    expected = np.hypot(a.error / b.value, a.value * b.error / b.value**2)
    assert d["heat_capacity_relative_error"].error == pytest.approx(expected)


def test_all_up_configurations():
    up = np.ones((50, 4, 4), dtype=np.int8)
    down = -np.ones((30, 4, 4), dtype=np.int8)
    checkerboard = np.tile(np.indices((4, 4)).sum(0) % 2 * 2 - 1, (20, 1, 1))
    d = ising_distances(up, down, T)
    assert d["positive_magnetization_fraction"] == 1.0
    assert d["reference_positive_magnetization_fraction"] == 0.0
    assert d["magnetization_w1"] == pytest.approx(2.0)  # m = +1 vs m = -1
    assert d["abs_magnetization_w1"] == 0.0 and d["energy_w1"] == 0.0
    # e = -2 (all up) vs e = +2 (checkerboard), m = 1 vs m = 0.
    d = ising_distances(up, checkerboard, T)
    assert d["energy_w1"] == pytest.approx(4.0)
    assert d["magnetization_w1"] == pytest.approx(1.0)
    assert np.isnan(d["heat_capacity_relative_error"].value)  # the reference's c is 0


def test_binary_encoding_gives_the_same_result(runs):
    spins = ising_distances(runs["same"], runs["reference"], T)
    bits = ising_distances(
        spins_to_binary(runs["same"]).reshape(-1, L * L),
        runs["reference"],
        T,
        encoding="binary",
        reference_encoding="spin",
    )
    assert bits == spins
