"""Observables with jackknife error bars, on exact i.i.d. samples of the 4x4 lattice."""

import math

import numpy as np
import pytest

from keras_genmodels.physics import exact, observables


def _iid_samples(T, n, seed=0):
    p = exact.probabilities(4, T)
    idx = np.random.default_rng(seed).choice(p.size, size=n, p=p)
    return exact.all_configurations(4)[idx]


@pytest.mark.parametrize("T", [1.8, 2.269, 3.0])
def test_estimates_cover_the_exact_values(T):
    s = _iid_samples(T, 40000)
    est = observables.estimate_observables(s, T, n_blocks=40)
    ex = exact.exact_observables(4, T)
    assert set(est) == set(observables.OBSERVABLES)
    for name in observables.OBSERVABLES:
        assert abs(est[name].deviation(ex[name])) < 4, (name, est[name], ex[name])
        assert est[name].error < 0.1 * abs(ex[name])


def test_jackknife_error_of_a_mean_is_the_standard_error():
    s = _iid_samples(2.5, 20000, seed=1)
    est = observables.estimate_observables(s, 2.5, n_blocks=50)
    e = (
        -np.sum(s * (np.roll(s, -1, 1) + np.roll(s, -1, 2)), axis=(1, 2)) / 16.0
    )
    assert est["energy"].value == pytest.approx(e.mean(), rel=1e-12)
    # Independent samples: the jackknife error is std / sqrt(n), up to the
    # noise of a 50-block estimate (~10%).
    assert est["energy"].error == pytest.approx(e.std() / math.sqrt(len(e)), rel=0.3)


def test_jackknife_error_of_heat_capacity_matches_repeated_experiments():
    # The spread of c over 30 independent data sets vs the jackknife error of one.
    T = 2.269
    values = [
        observables.estimate_observables(_iid_samples(T, 2000, seed=k), T)["heat_capacity"]
        for k in range(30)
    ]
    spread = np.std([v.value for v in values], ddof=1)
    typical = np.median([v.error for v in values])
    assert typical == pytest.approx(spread, rel=0.35)


def test_binary_encoding_and_flat_input_agree():
    s = _iid_samples(2.0, 500)
    a = observables.estimate_observables(s, 2.0)
    b = observables.estimate_observables(((s + 1) // 2).reshape(500, 16), 2.0, encoding="binary")
    for name in a:
        assert a[name].value == pytest.approx(b[name].value, rel=1e-12)


def test_estimate_formats_and_deviation():
    e = observables.Estimate(1.5, 0.25)
    assert e.deviation(1.0) == pytest.approx(2.0)
    assert "±" in repr(e)


def test_bad_input():
    s = _iid_samples(2.0, 10)
    with pytest.raises(ValueError, match="at least 2.*Received: shape=\\(1, 4, 4\\)"):
        observables.estimate_observables(s[:1], 2.0)
    with pytest.raises(ValueError, match="values -1 and 1"):
        observables.estimate_observables((s + 1) // 2, 2.0)
    with pytest.raises(ValueError, match="values 0 and 1"):
        observables.estimate_observables(s, 2.0, encoding="binary")
    with pytest.raises(ValueError, match="temperature.*Received"):
        observables.estimate_observables(s, -1.0)
    with pytest.raises(ValueError, match="n_blocks.*Received: n_blocks=0"):
        observables.estimate_observables(s, 2.0, n_blocks=0)
