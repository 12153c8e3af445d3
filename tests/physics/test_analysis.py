"""Analysis of models of Ising configurations: exact KL and thermodynamics of RBMs at L <= 4,
the empirical distribution, the KL estimate for any L, model samples, the VAE's latent vs m."""

import math

import keras
import numpy as np
import pytest

from keras_genmodels.physics import IsingObservables, analysis, data, exact, lattice, sampler
from keras_genmodels.rbm import BernoulliRBM, default_ais_schedule
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
    log_q = analysis.rbm_log_marginal(rbm)
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
    assert analysis.rbm_exact_kl(rbm, T) == pytest.approx(
        float(np.exp(log_p) @ log_p) + 16 * math.log(2), rel=1e-6
    )
    obs = analysis.rbm_exact_observables(rbm, T)
    assert obs["energy"] == pytest.approx(0.0, abs=1e-6)
    # The 2N bond variables are pairwise uncorrelated: Var(E) = 2N, c = 2 β^2.
    assert obs["heat_capacity"] == pytest.approx(2 / T**2, rel=1e-5)
    k = np.arange(17)
    weights = np.array([math.comb(16, int(i)) for i in k]) / 2**16
    assert obs["abs_magnetization"] == pytest.approx(weights @ np.abs(2 * k - 16) / 16, rel=1e-6)


def test_empirical_distribution_and_its_symmetrisation():
    s = sampler.sample_ising(4, 2.0, 3000, seed=0).spins
    raw = analysis.empirical_distribution(s, symmetrize=False)
    counts = np.bincount(exact.state_index(s), minlength=2**16)
    np.testing.assert_allclose(raw, counts / 3000)
    sym = analysis.empirical_distribution(s)
    assert sym.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(sym, sym[::-1])  # global flip
    shifted = exact.state_index(np.roll(exact.all_configurations(4), 1, axis=2))
    np.testing.assert_allclose(sym[shifted], sym, atol=1e-15)  # translation
    assert not np.allclose(raw[shifted], raw)
    # Averaging over the symmetries moves p^ closer to the exact p.
    p = exact.probabilities(4, 2.0)
    assert np.abs(sym - p).sum() < 0.7 * np.abs(raw - p).sum()


def test_ising_log_probability_matches_enumeration_at_L4():
    s = sampler.sample_ising(4, 2.5, 500, seed=0).spins
    np.testing.assert_allclose(
        analysis.ising_log_probability(s, 2.5), exact.log_prob(s, 2.5), rtol=1e-10
    )
    np.testing.assert_allclose(
        analysis.ising_log_probability((s + 1) // 2, 2.5, encoding="binary"),
        exact.log_prob(s, 2.5),
        rtol=1e-10,
    )


def test_kl_estimate_on_samples_agrees_with_the_exact_kl():
    T = 3.0
    s = sampler.sample_ising(4, T, 40000, seed=0).spins
    rbm = BernoulliRBM(16, 6, seed=0)
    rng = np.random.default_rng(0)
    rbm.kernel.assign(rng.normal(0, 0.5, (16, 6)).astype("float32"))
    exact_kl = analysis.rbm_exact_kl(rbm, T)
    est = analysis.rbm_kl_estimate(rbm, s, T)  # exact log Z_q (6 hidden units)
    assert est["log_z_error"] == 0.0
    assert abs(est["kl"] - exact_kl) < 4 * est["kl_error"]
    assert est["kl_error"] < 0.05 * exact_kl
    assert est["kl_per_spin"] == pytest.approx(est["kl"] / 16)
    # Given log Z_q: the same numbers.
    given = analysis.rbm_kl_estimate(rbm, s, T, log_z=rbm.log_partition_exact())
    assert given["kl"] == pytest.approx(est["kl"], rel=1e-6)


def test_kl_estimate_uses_ais_for_more_than_20_hidden_units_at_L8():
    T = 2.5
    s = sampler.sample_ising(8, T, 2000, seed=0).spins
    rbm = BernoulliRBM(64, 21, seed=0)
    rbm.kernel.assign(np.random.default_rng(0).normal(0, 0.2, (64, 21)).astype("float32"))
    ais = analysis.rbm_kl_estimate(rbm, s, T, betas=default_ais_schedule(0.1), n_chains=200, seed=0)
    assert ais["log_z_error"] > 0
    exact_z = analysis.rbm_kl_estimate(rbm, s, T, log_z=rbm.log_partition_exact())
    assert abs(ais["log_z"] - exact_z["log_z"]) < max(4 * ais["log_z_error"], 0.02)
    assert ais["kl"] == pytest.approx(exact_z["kl"] - exact_z["log_z"] + ais["log_z"], rel=1e-9)
    # KL >= 0, and this random RBM is far from the Ising model.
    assert exact_z["kl"] > 10 * exact_z["kl_error"]
    assert exact_z["nll_floor"] > 0
    with pytest.raises(ValueError, match="64 visible units"):
        analysis.rbm_kl_estimate(BernoulliRBM(9, 2), s, T)


def test_kl_estimate_chooses_exact_or_ais_by_the_one_threshold(monkeypatch):
    """The choice is `rbm.partition.auto_method`'s, whose threshold is AUTO_EXACT_MAX_UNITS."""
    from keras_genmodels.rbm import partition

    s = sampler.sample_ising(4, 3.0, 200, seed=0).spins
    rbm = BernoulliRBM(16, 6, seed=0)
    assert analysis.rbm_kl_estimate(rbm, s, 3.0)["log_z_error"] == 0.0  # 6 units: exact
    monkeypatch.setattr(partition, "AUTO_EXACT_MAX_UNITS", 4)
    ais = analysis.rbm_kl_estimate(rbm, s, 3.0, betas=default_ais_schedule(0.01), n_chains=20, seed=0)
    assert ais["log_z_error"] > 0  # 6 > 4 units: AIS


def test_vae_latent_tracks_magnetisation_and_reconstruction_tracks_temperature():
    temps = [1.5, 2.0, 2.5, 3.5]
    d = data.generate(8, temps, 300, seed=0, use_cache=False)
    vae = VAE(architecture="mlp", data_shape=(8, 8), latent_dim=2, hidden_units=(128, 32), seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(2e-3))
    vae.fit(d.binary().astype("float32"), epochs=15, batch_size=64, verbose=0)
    latent = analysis.vae_latent_vs_magnetization(vae, d.spins)
    assert latent["z_mean"].shape == (1200, 2)
    np.testing.assert_allclose(latent["magnetization"], d.spins.mean(axis=(1, 2)))
    assert np.max(np.abs(latent["correlation"])) > 0.9
    rec = analysis.vae_reconstruction_vs_temperature(vae, d.spins, d.temperatures)
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
    b = analysis.model_samples(rbm, 7, seed=0, gibbs_steps=5)
    assert b.shape == (7, 4, 4) and b.dtype == np.int8 and set(np.unique(b)) <= {0, 1}
    with pytest.raises(ValueError, match="n.*Received: n=0"):
        analysis.model_samples(rbm, 0)
    with pytest.raises(ValueError, match="BernoulliRBM or a VAE. Received: int"):
        analysis.model_samples(3, 5)
    big = BernoulliRBM(64, 4, seed=0)
    with pytest.raises(ValueError, match="L <= 4.*n_visible=64"):
        analysis.rbm_exact_kl(big, 2.0)
    odd = BernoulliRBM(10, 4, seed=0)
    with pytest.raises(ValueError, match="L\\*L visible units.*n_visible=10"):
        analysis.rbm_exact_kl(odd, 2.0)
    with pytest.raises(ValueError, match="temperature.*Received"):
        analysis.rbm_exact_kl(rbm, 0.0)
    with pytest.raises(ValueError, match="n_samples.*>= 2"):
        IsingObservables(2.0, n_samples=1)
