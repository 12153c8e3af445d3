"""RBM and VAE on Ising configurations: exact KL, exact and sampled observables, the callback."""

import math

import keras
import numpy as np
import pytest

from keras_genmodels.physics import IsingObservables, data, exact, lattice, models, sampler
from keras_genmodels.rbm import BernoulliRBM
from keras_genmodels.vae import VAE


def _random_rbm(h=6, seed=0):
    rbm = BernoulliRBM(16, h, seed=seed)
    rng = np.random.default_rng(seed)
    rbm.kernel.assign(rng.normal(0, 0.5, (16, h)).astype("float32"))
    rbm.visible_bias.assign(rng.normal(0, 0.3, 16).astype("float32"))
    rbm.hidden_bias.assign(rng.normal(0, 0.3, h).astype("float32"))
    return rbm


def test_log_marginal_is_normalised_and_matches_the_rbms_own_log_z():
    rbm = _random_rbm()
    log_q = models.rbm_log_marginal(rbm)
    assert log_q.shape == (2**16,)
    assert np.logaddexp.reduce(log_q) == pytest.approx(0.0, abs=1e-9)
    # The RBM family sums over the 2^6 hidden states instead: same log Z.
    states = exact.all_configurations(4, "binary").reshape(-1, 16)[:5].astype("float32")
    expected = -rbm.free_energy(states) - rbm.log_partition_exact()
    np.testing.assert_allclose(log_q[:5], expected, rtol=1e-5, atol=1e-4)


def test_kl_and_observables_of_the_uniform_rbm():
    # W = 0, biases 0: q is uniform over the 2^16 states.
    rbm = BernoulliRBM(16, 4, seed=0)
    rbm.kernel.assign(np.zeros((16, 4), "float32"))
    T = lattice.T_C
    log_p = exact.log_probabilities(4, T)
    assert models.rbm_exact_kl(rbm, T) == pytest.approx(
        float(np.exp(log_p) @ log_p) + 16 * math.log(2), rel=1e-6
    )
    obs = models.rbm_exact_observables(rbm, T)
    assert obs["energy"] == pytest.approx(0.0, abs=1e-6)
    # The 2N bond variables are pairwise uncorrelated: Var(E) = 2N, c = 2 β^2.
    assert obs["heat_capacity"] == pytest.approx(2 / T**2, rel=1e-5)
    k = np.arange(17)
    weights = np.array([math.comb(16, int(i)) for i in k]) / 2**16
    assert obs["abs_magnetization"] == pytest.approx(weights @ np.abs(2 * k - 16) / 16, rel=1e-6)


def test_empirical_distribution_and_its_symmetrisation():
    s = sampler.sample_ising(4, 2.0, 3000, seed=0).spins
    raw = models.empirical_distribution(s, symmetrize=False)
    counts = np.bincount(exact.state_index(s), minlength=2**16)
    np.testing.assert_allclose(raw, counts / 3000)
    sym = models.empirical_distribution(s)
    assert sym.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(sym, sym[::-1])  # global flip
    shifted = exact.state_index(np.roll(exact.all_configurations(4), 1, axis=2))
    np.testing.assert_allclose(sym[shifted], sym, atol=1e-15)  # translation
    assert not np.allclose(raw[shifted], raw)
    # Averaging over the symmetries moves p^ closer to the exact p.
    p = exact.probabilities(4, 2.0)
    assert np.abs(sym - p).sum() < 0.7 * np.abs(raw - p).sum()


@pytest.mark.slow
def test_rbm_learns_the_critical_ising_model():
    """Issue 4's target: L = 4, T = T_c, exact KL < 0.01 nats, observables within 2%."""
    T = lattice.T_C
    mc = sampler.sample_ising(4, T, 200_000, seed=0)
    rbm = BernoulliRBM(16, 16, seed=0)
    history = models.fit_rbm_exact_likelihood(rbm, mc.spins, steps=2000, learning_rate=0.2)
    assert history["nll"][-1] < history["nll"][0]
    kl = models.rbm_exact_kl(rbm, T)
    assert 0 <= kl < 0.01
    ex = exact.exact_observables(4, T)
    q = models.rbm_exact_observables(rbm, T)
    for name in ("energy", "abs_magnetization", "heat_capacity"):
        assert abs(q[name] / ex[name] - 1) < 0.02, (name, q[name], ex[name])
    # Samples of the RBM (block Gibbs) reproduce its exact observables.
    est = models.sample_observables(rbm, 20000, T, seed=1, gibbs_steps=200)
    for name in ("energy", "abs_magnetization", "heat_capacity"):
        assert abs(est[name].deviation(q[name])) < 4, (name, est[name], q[name])
        assert est[name].error < 0.02 * abs(q[name])


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
    assert cb.records[-1]["ising_kl"] == pytest.approx(models.rbm_exact_kl(rbm, T), rel=1e-6)
    assert cb.records[-1]["ising_energy_deviation"] == pytest.approx(
        cb.records[-1]["ising_energy"] / reference["energy"] - 1
    )
    # Training helped: KL below that of the untrained (independent-unit) model.
    fresh = BernoulliRBM(16, 8, seed=0)
    fresh.initialize_visible_bias(x)
    assert cb.records[-1]["ising_kl"] < models.rbm_exact_kl(fresh, T)


def test_vae_latent_tracks_magnetisation_and_reconstruction_tracks_temperature():
    temps = [1.5, 2.0, 2.5, 3.5]
    d = data.generate(8, temps, 300, seed=0, use_cache=False)
    vae = VAE(architecture="mlp", data_shape=(8, 8), latent_dim=2, hidden_units=(128, 32), seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(2e-3))
    vae.fit(d.binary().astype("float32"), epochs=15, batch_size=64, verbose=0)
    latent = models.vae_latent_vs_magnetization(vae, d.spins)
    assert latent["z_mean"].shape == (1200, 2)
    np.testing.assert_allclose(latent["magnetization"], d.spins.mean(axis=(1, 2)))
    assert np.max(np.abs(latent["correlation"])) > 0.9
    rec = models.vae_reconstruction_vs_temperature(vae, d.spins, d.temperatures)
    np.testing.assert_allclose(rec["temperature"], temps)
    assert np.all(np.diff(rec["reconstruction_loss"]) > 0)
    assert np.all(rec["error"] > 0)
    # The callback works on a VAE too (no KL: it is not enumerable).
    cb = IsingObservables(2.0, n_samples=200)
    cb.set_model(vae)
    values = cb.measure()
    assert "ising_kl" not in values and np.isfinite(values["ising_energy"])


def test_model_samples_shapes_and_bad_input():
    rbm = _random_rbm(4)
    b = models.model_samples(rbm, 7, seed=0, gibbs_steps=5)
    assert b.shape == (7, 4, 4) and b.dtype == np.int8 and set(np.unique(b)) <= {0, 1}
    with pytest.raises(ValueError, match="n.*Received: n=0"):
        models.model_samples(rbm, 0)
    with pytest.raises(ValueError, match="BernoulliRBM or a VAE. Received: int"):
        models.model_samples(3, 5)
    big = BernoulliRBM(64, 4, seed=0)
    with pytest.raises(ValueError, match="L <= 4.*n_visible=64"):
        models.rbm_exact_kl(big, 2.0)
    odd = BernoulliRBM(10, 4, seed=0)
    with pytest.raises(ValueError, match="L\\*L visible units.*n_visible=10"):
        models.rbm_exact_kl(odd, 2.0)
    with pytest.raises(ValueError, match="temperature.*Received"):
        models.rbm_exact_kl(rbm, 0.0)
    with pytest.raises(ValueError, match="n_samples.*>= 2"):
        IsingObservables(2.0, n_samples=1)
