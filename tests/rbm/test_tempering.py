"""Parallel tempering: exact stationary law, mode balance, and the tempered RBM as a Keras model."""

import keras
import numpy as np
import pytest

from keras_genmodels.rbm import BernoulliRBM
from keras_genmodels.rbm.tempering import (
    TemperedBernoulliRBM,
    check_betas,
    default_betas,
    parallel_tempering_sample,
    tempered_free_energy,
)
from rbm_testing import all_states, logsumexp, random_bernoulli


def _exact_probabilities(rbm, D):
    v = all_states(D).astype("float32")
    minus_f = -rbm.free_energy(v).astype("float64")
    return np.exp(minus_f - logsumexp(minus_f))


def _state_index(v):
    return (np.rint(v).astype(np.int64) << np.arange(v.shape[1])).sum(1)


def _two_mode_rbm(D=10):
    """F(v) = -softplus(5 n - 25) - softplus(25 - 5 n), n = sum(v): all-off and all-on
    equally likely, separated by a barrier that block Gibbs does not cross."""
    rbm = BernoulliRBM(D, 2, seed=0)
    rbm.kernel.assign(np.stack([np.full(D, 5.0), np.full(D, -5.0)], 1).astype("float32"))
    rbm.hidden_bias.assign(np.array([-25.0, 25.0], "float32"))
    return rbm


def test_tempered_free_energy_matches_the_definition():
    rbm = random_bernoulli(5, 3, seed=1)
    v = all_states(5).astype("float32")
    beta = np.linspace(0.0, 1.0, len(v)).astype("float32")
    pre = v @ rbm.kernel.numpy() + rbm.hidden_bias.numpy()
    expected = -beta * (v @ rbm.visible_bias.numpy()) - np.logaddexp(0, beta[:, None] * pre).sum(1)
    np.testing.assert_allclose(np.asarray(tempered_free_energy(rbm, v, beta)), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        np.asarray(tempered_free_energy(rbm, v, 1.0)), rbm.free_energy(v), rtol=1e-5, atol=1e-5
    )


def test_parallel_tempering_samples_the_exact_law():
    rbm = random_bernoulli(6, 3, scale=1.5, seed=2)
    p = _exact_probabilities(rbm, 6)
    out = parallel_tempering_sample(rbm, 4000, sweeps=60, betas=default_betas(4), seed=0)
    assert out["samples"].shape == (4000, 6)
    counts = np.bincount(_state_index(out["samples"]), minlength=64) / 4000
    assert 0.5 * np.abs(counts - p).sum() < 0.04  # total variation (sampling noise ~0.02)
    assert np.all((out["swap_acceptance"] > 0) & (out["swap_acceptance"] <= 1))


def test_parallel_tempering_balances_modes_that_gibbs_cannot_leave():
    rbm = _two_mode_rbm()
    p = _exact_probabilities(rbm, 10)
    on = all_states(10).sum(1) > 5
    assert p[on].sum() == pytest.approx(0.5, abs=1e-3)
    zeros = np.zeros((1000, 10), "float32")
    gibbs = rbm.gibbs(zeros, steps=300, seed=0)
    assert (gibbs.sum(1) > 5).mean() < 0.01  # stuck in the all-off mode
    pt = parallel_tempering_sample(
        rbm, 1000, sweeps=300, betas=default_betas(16), initial=zeros, seed=0
    )
    assert abs((pt["samples"].sum(1) > 5).mean() - 0.5) < 0.06


def test_tempered_rbm_fit_config_and_saving(tmp_path):
    rng = np.random.default_rng(0)
    modes = rng.random(512) < 0.5
    x = np.where(modes[:, None], 1.0, 0.0) * np.ones((512, 10), "float32")
    x = np.where(rng.random(x.shape) < 0.05, 1 - x, x).astype("float32")  # noisy all-on / all-off
    rbm = TemperedBernoulliRBM(10, 4, k=2, n_chains=32, n_temperatures=5, seed=0)
    assert rbm.tempered_chains.shape == (5, 32, 10)
    rbm.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.5), steps_per_execution=8)
    history = rbm.fit(x, batch_size=64, epochs=3, verbose=0).history
    assert np.all(np.isfinite(history["free_energy"]))
    acc = rbm.swap_acceptance
    assert acc.shape == (4,) and np.all((acc > 0) & (acc <= 1))
    # Learned both modes: the model puts weight on all-on and all-off alike.
    f = rbm.free_energy(np.stack([np.zeros(10), np.ones(10)]).astype("float32"))
    assert abs(f[0] - f[1]) < 2.0
    config = rbm.get_config()
    assert config["n_temperatures"] == 5 and config["beta_min"] == 0.0 and "persistent" not in config
    clone = TemperedBernoulliRBM.from_config(config)
    assert clone.get_config() == config
    path = tmp_path / "pt.keras"
    rbm.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, TemperedBernoulliRBM)
    np.testing.assert_allclose(loaded.free_energy(x[:8]), rbm.free_energy(x[:8]), rtol=1e-6)
    np.testing.assert_array_equal(loaded.tempered_chains.numpy(), rbm.tempered_chains.numpy())


def test_bad_input():
    with pytest.raises(ValueError, match="n_temperatures.*>= 2.*Received: n_temperatures=1"):
        default_betas(1)
    with pytest.raises(ValueError, match="beta_min.*Received: beta_min=1.0"):
        default_betas(4, beta_min=1.0)
    with pytest.raises(ValueError, match="betas.*Received: betas=\\[0.0, 0.5\\]"):
        check_betas([0.0, 0.5])
    with pytest.raises(ValueError, match="increase strictly"):
        check_betas([0.0, 0.6, 0.4, 1.0])
    rbm = random_bernoulli(4, 2)
    with pytest.raises(ValueError, match="Expected 3 initial states"):
        parallel_tempering_sample(rbm, 3, sweeps=2, initial=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="n.*Received"):
        parallel_tempering_sample(rbm, 0)


def test_tempered_rbm_estimates_its_metrics_on_every_tenth_step_as_documented():
    """As BernoulliRBM: the first tenth of the batch of every tenth step (and the first after a reset)."""
    x = (np.random.default_rng(0).random((250, 12)) < 0.5).astype("float32")
    counts = {}
    for cls in (BernoulliRBM, TemperedBernoulliRBM):
        kwargs = {"n_temperatures": 3} if cls is TemperedBernoulliRBM else {"persistent": True}
        rbm = cls(12, 4, n_chains=10, seed=0, **kwargs)
        rbm.compile(steps_per_execution=5)
        rbm.fit(x, batch_size=10, epochs=1, shuffle=False, verbose=0)  # 25 steps
        counts[cls.__name__] = float(rbm.metric_tracker.count)
    # Steps 0, 10 and 20 are monitored, each on 10 // 10 = 1 row: 3 rows, not 25.
    assert counts == {"BernoulliRBM": 3.0, "TemperedBernoulliRBM": 3.0}
