"""The `IsingObservables` callback during `fit`: logged observables and the exact KL."""

import keras
import numpy as np
import pytest

from keras_genmodels.physics import IsingObservables, analysis, exact, sampler
from keras_genmodels.rbm import BernoulliRBM


def test_cd_training_with_the_callback_logs_observables():
    T = 3.0
    x = sampler.sample_ising(4, T, 4000, seed=0).binary().reshape(-1, 16).astype("float32")
    rbm = BernoulliRBM(16, 8, seed=0)
    rbm.initialize_visible_bias(x)
    rbm.compile(optimizer=keras.optimizers.Adam(0.01), steps_per_execution=20)
    reference = exact.exact_observables(4, T)
    cb = IsingObservables(T, n_samples=500, every=2, gibbs_steps=50, reference=reference)
    history = rbm.fit(x, epochs=4, batch_size=100, verbose=0, callbacks=[cb]).history
    assert [r["epoch"] for r in cb.records] == [2, 4]
    assert len(history["ising_energy"]) == 2  # logged on epochs 2 and 4 only
    for key in ("ising_energy", "ising_heat_capacity_error", "ising_kl", "ising_energy_deviation"):
        assert key in cb.records[-1] and np.isfinite(cb.records[-1][key])
    # The logged KL is the model's exact KL at the end of training.
    assert cb.records[-1]["ising_kl"] == pytest.approx(analysis.rbm_exact_kl(rbm, T), rel=1e-6)
    assert cb.records[-1]["ising_energy_deviation"] == pytest.approx(
        cb.records[-1]["ising_energy"] / reference["energy"] - 1
    )
    # Training helped: KL below that of the untrained (independent-unit) model.
    fresh = BernoulliRBM(16, 8, seed=0)
    fresh.initialize_visible_bias(x)
    assert cb.records[-1]["ising_kl"] < analysis.rbm_exact_kl(fresh, T)
