"""The deep Boltzmann machine: log Z, the mean-field bound and the Gibbs sampler against
enumeration of tiny models, the PCD step against NumPy, saving, and bad input."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from rbm_testing import all_states, logsumexp

from keras_genmodels.rbm import BernoulliRBM, default_ais_schedule
from keras_genmodels.rbm.deep_boltzmann import DeepBoltzmannMachine, LikelihoodBound
from keras_genmodels.saving import load_model, save_model


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def random_dbm(n_visible=6, n_hidden_1=4, n_hidden_2=3, scale=1.0, seed=0, **kwargs):
    """A DeepBoltzmannMachine with random N(0, scale^2) weights and biases."""
    rng = np.random.default_rng(seed)
    model = DeepBoltzmannMachine(n_visible, n_hidden_1, n_hidden_2, seed=seed, **kwargs)
    for weight in model.parameter_variables():
        weight.assign(scale * rng.standard_normal(tuple(weight.shape)))
    return model


def _params(model):
    """(W1, W2, b, c1, c2) as float64 NumPy arrays."""
    return [np.asarray(p.numpy(), "float64") for p in model.parameter_variables()]


def _neg_energy_table(model):
    """-E(v, h1, h2) of every state, shape (2^D, 2^H1, 2^H2), with the state lists."""
    w1, w2, b, c1, c2 = _params(model)
    v, h1, h2 = (all_states(n) for n in (model.n_visible, model.n_hidden_1, model.n_hidden_2))
    table = (
        (v @ w1 @ h1.T)[:, :, None]
        + (h1 @ w2 @ h2.T)[None, :, :]
        + (v @ b)[:, None, None]
        + (h1 @ c1)[None, :, None]
        + (h2 @ c2)[None, None, :]
    )
    return table, v


def brute_force_log_z(model):
    return logsumexp(_neg_energy_table(model)[0])


def brute_force_log_p(model, x):
    """log p(v) of the rows of x by summing exp(-E) over every (h1, h2)."""
    table, states = _neg_energy_table(model)
    log_p_all = logsumexp(table.reshape(len(states), -1), axis=1) - logsumexp(table)
    index = (x.astype(int) << np.arange(model.n_visible)).sum(1)  # row of x in all_states
    return log_p_all[index]


def numpy_mean_field(params, x, steps):
    """The mean field (mu1, mu2) of x under the weights `params` = (W1, W2, b, c1, c2), in NumPy."""
    w1, w2, _, c1, c2 = params
    mu1 = _sigmoid(2 * x @ w1 + c1)
    mu2 = _sigmoid(mu1 @ w2 + c2)
    for _ in range(steps):
        mu1 = _sigmoid(x @ w1 + mu2 @ w2.T + c1)
        mu2 = _sigmoid(mu1 @ w2 + c2)
    return mu1, mu2


def _entropy(p):
    return -(p * np.log(p) + (1 - p) * np.log1p(-p)).sum(-1)


def _binary(n, d, seed=0, p=0.5):
    return (np.random.default_rng(seed).random((n, d)) < p).astype("float32")


# ------------------------------------------------------------ partition function
def test_log_partition_exact_is_the_sum_over_every_state_and_the_rbm_view_is_the_same_model():
    model = random_dbm(6, 4, 3, scale=1.0, seed=0)
    exact = brute_force_log_z(model)
    assert abs(model.log_partition_exact() - exact) < 1e-4
    # as_rbm: E(v, h1, h2) is the energy of an RBM with visible units (v, h2).
    rbm = model.as_rbm()
    assert isinstance(rbm, BernoulliRBM) and (rbm.n_visible, rbm.n_hidden) == (6 + 3, 4)
    table, _ = _neg_energy_table(model)
    v, h1, h2 = all_states(6)[13], all_states(4)[5], all_states(3)[6]
    energy = rbm.energy(np.concatenate([v, h2])[None], h1[None])[0]
    assert abs(-energy - table[13, 5, 6]) < 1e-4
    # A model with more hidden units than visible ones sums over the other layer: the same Z.
    wide = random_dbm(3, 6, 2, scale=1.0, seed=1)
    assert abs(wide.log_partition_exact() - brute_force_log_z(wide)) < 1e-4


def test_log_partition_ais_agrees_with_exact():
    model = random_dbm(6, 4, 3, scale=1.0, seed=2)
    exact = brute_force_log_z(model)
    est = model.log_partition_ais(n_chains=100, betas=default_ais_schedule(0.1), seed=0)
    assert abs(est.log_z - exact) < max(3 * est.std, 0.05)
    # The base rate from data: still an estimate of the same log Z.
    est = model.log_partition_ais(n_chains=100, betas=default_ais_schedule(0.1), seed=1, data=_binary(50, 6))
    assert abs(est.log_z - exact) < max(3 * est.std, 0.05)


def test_log_likelihood_exact_matches_enumeration():
    model = random_dbm(6, 4, 3, scale=1.0, seed=3)
    x = all_states(6)
    np.testing.assert_allclose(model.log_likelihood_exact(x), brute_force_log_p(model, x), atol=1e-4)
    assert abs(logsumexp(model.log_likelihood_exact(x))) < 1e-4  # p(v) sums to one


# --------------------------------------------------------------- the bound
@pytest.mark.parametrize("seed", [4, 5])
def test_mean_field_bound_is_below_the_exact_log_likelihood(seed):
    model = random_dbm(7, 5, 3, scale=1.5, seed=seed)
    x = all_states(7)
    bound = model.log_likelihood_bound(x)
    assert isinstance(bound, LikelihoodBound)
    assert abs(bound.log_z - brute_force_log_z(model)) < 1e-4  # small model: exact log Z
    exact = brute_force_log_p(model, x)
    assert np.all(bound.per_example <= exact + 1e-4)
    assert bound.mean == pytest.approx(bound.per_example.mean())
    assert bound.stderr == pytest.approx(bound.per_example.std(ddof=1) / np.sqrt(len(x)), rel=1e-6)


def test_bound_at_the_mean_field_fixed_point_matches_numpy():
    model = random_dbm(8, 5, 3, scale=1.0, seed=6)
    x = _binary(30, 8, seed=1)
    steps = 300
    mu1, mu2 = model.mean_field(x, steps=steps)
    w1, w2, b, c1, c2 = _params(model)
    # The fixed point satisfies its equations.
    np.testing.assert_allclose(mu1, _sigmoid(x @ w1 + mu2 @ w2.T + c1), atol=2e-6)
    np.testing.assert_allclose(mu2, _sigmoid(mu1 @ w2 + c2), atol=2e-6)
    ref1, ref2 = numpy_mean_field(_params(model), x, steps)
    np.testing.assert_allclose(mu1, ref1, atol=1e-5)
    np.testing.assert_allclose(mu2, ref2, atol=1e-5)
    # -E_Q[E] + H(Q) - log Z, in NumPy.
    log_z = brute_force_log_z(model)
    expected = (
        np.einsum("nd,dh,nh->n", x, w1, ref1) + np.einsum("nh,hk,nk->n", ref1, w2, ref2)
        + x @ b + ref1 @ c1 + ref2 @ c2 + _entropy(ref1) + _entropy(ref2) - log_z
    )
    bound = model.log_likelihood_bound(x, log_z=log_z, mean_field_steps=steps)
    np.testing.assert_allclose(bound.per_example, expected, atol=1e-4)
    # The default number of iterations gives a bound no larger than the converged one (for this model).
    assert np.all(model.log_likelihood_bound(x, log_z=log_z, mean_field_steps=1).per_example <= expected + 1e-4)


def test_each_mean_field_iteration_raises_the_bound():
    model = random_dbm(8, 5, 3, scale=2.0, seed=7)
    x = _binary(40, 8, seed=2)
    bounds = [model.log_likelihood_bound(x, log_z=0.0, mean_field_steps=k).per_example for k in range(1, 8)]
    assert np.all(np.diff(np.stack(bounds), axis=0) >= -1e-4)


def test_given_log_z_and_ais_estimate_are_used():
    model = random_dbm(6, 4, 3, seed=8)
    x = _binary(10, 6)
    est = model.log_partition_ais(n_chains=20, betas=default_ais_schedule(0.02), seed=0)
    bound = model.log_likelihood_bound(x, log_z=est)
    assert bound.log_z == est.log_z
    spread = bound.per_example.std(ddof=1) / np.sqrt(10)
    assert bound.stderr == pytest.approx(np.sqrt(spread**2 + est.std**2))
    assert model.log_likelihood_bound(x, log_z=3.0).log_z == 3.0


# ------------------------------------------------------------------ training
@pytest.fixture
def recorded_noise(monkeypatch):
    """Replace the Bernoulli sampler of the module by one whose uniforms are recorded."""
    rng = np.random.default_rng(123)
    draws = []

    def bernoulli(p, seed):
        u = rng.random(tuple(p.shape)).astype("float32")
        draws.append(u)
        return keras.ops.cast(keras.ops.less(u, p), p.dtype)

    monkeypatch.setattr("keras_genmodels.rbm.deep_boltzmann.bernoulli", bernoulli)
    return draws


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_pcd_update_matches_numpy_reference(recorded_noise, weight_decay):
    model = random_dbm(8, 5, 3, scale=0.5, seed=9, n_chains=6, gibbs_steps=2, mean_field_steps=3,
                       weight_decay=weight_decay)
    chains = _binary(6, 5, seed=3)
    model.persistent_hidden_1.assign(chains)
    w1, w2, b, c1, c2 = _params(model)
    x = _binary(10, 8, seed=4)
    lr = 0.3
    model.compile(optimizer=keras.optimizers.SGD(lr), run_eagerly=True)
    model.fit(x, batch_size=10, epochs=1, shuffle=False, verbose=0)

    # Positive phase: the mean field of the batch.
    mu1, mu2 = numpy_mean_field((w1, w2, b, c1, c2), x, 3)
    # Negative phase: two sweeps (v, h2) ~ P(. | h1), then h1 ~ P(h1 | v, h2).
    assert [u.shape for u in recorded_noise] == [(6, 8), (6, 3), (6, 5)] * 2
    h1 = chains.astype("float64")
    for u_v, u_h2, u_h1 in zip(*[iter(recorded_noise)] * 3):
        v_m = (u_v < _sigmoid(h1 @ w1.T + b)).astype("float64")
        h2_m = (u_h2 < _sigmoid(h1 @ w2 + c2)).astype("float64")
        p1_m = _sigmoid(v_m @ w1 + h2_m @ w2.T + c1)
        h1 = (u_h1 < p1_m).astype("float64")
    np.testing.assert_array_equal(model.persistent_hidden_1.numpy(), h1)
    # The log-likelihood gradient, positive minus negative phase (minus the weight decay).
    grads = [
        x.T @ mu1 / 10 - v_m.T @ p1_m / 6 - weight_decay * w1,
        mu1.T @ mu2 / 10 - p1_m.T @ h2_m / 6 - weight_decay * w2,
        x.mean(0) - v_m.mean(0),
        mu1.mean(0) - p1_m.mean(0),
        mu2.mean(0) - h2_m.mean(0),
    ]
    for weight, before, grad in zip(model.parameter_variables(), (w1, w2, b, c1, c2), grads):
        np.testing.assert_allclose(weight.numpy(), before + lr * grad, atol=2e-6)
    # The running statistics of v and of mu2.
    np.testing.assert_allclose(model.data_mean.numpy(), x.mean(0), atol=1e-6)
    np.testing.assert_allclose(model.hidden_2_mean.numpy(), mu2.mean(0), atol=1e-6)
    assert model.data_count.numpy() == 10


TOY_PATTERNS = np.array(
    [[1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1], [1, 0, 1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1, 0, 1]],
    "float32",
)


def test_training_raises_the_exact_log_likelihood_of_toy_patterns():
    x = np.tile(TOY_PATTERNS, (25, 1))
    model = DeepBoltzmannMachine(8, 5, 3, n_chains=50, seed=0)
    before = model.log_likelihood_exact(TOY_PATTERNS).mean()
    bound_before = model.log_likelihood_bound(TOY_PATTERNS).mean
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.5), steps_per_execution=10)
    history = model.fit(x, batch_size=20, epochs=60, verbose=0)
    for name in ("reconstruction_error", "mean_field_bound"):
        assert np.all(np.isfinite(history.history[name])), name
    assert history.history["reconstruction_error"][-1] < history.history["reconstruction_error"][0]
    after = model.log_likelihood_exact(TOY_PATTERNS).mean()
    # From -8 log 2 = -5.55 towards the optimum -log 4 = -1.39 (+2.1 to +3.4 nats over seeds 0-3).
    assert after > before + 1.0, (before, after)
    assert model.log_likelihood_bound(TOY_PATTERNS).mean > bound_before + 0.5
    np.testing.assert_allclose(model.data_mean.numpy(), x.mean(0), atol=1e-6)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_fit_on_images_with_validation_data(jit_compile):
    x = _binary(40, 784, seed=5).reshape(40, 28, 28, 1)
    model = DeepBoltzmannMachine(784, 6, 3, n_chains=10, seed=1)
    model.compile(jit_compile=jit_compile)  # XLA: what "auto" picks on a GPU
    history = model.fit(x, batch_size=20, epochs=1, verbose=0, validation_data=x[:10])
    for name in ("reconstruction_error", "mean_field_bound", "val_reconstruction_error", "val_mean_field_bound"):
        assert np.isfinite(history.history[name][0]), name
    mu1, mu2 = model.mean_field(x)
    assert mu1.shape == (40, 6) and mu2.shape == (40, 3)
    np.testing.assert_allclose(model.predict(x, verbose=0), np.concatenate([mu1, mu2], 1), atol=1e-6)
    np.testing.assert_array_equal(model.hidden_probabilities(x)[1], mu2)
    chains = model.persistent_chains  # P(v = 1 | h1) of the chains
    assert chains.shape == (10, 784) and np.all((chains > 0) & (chains < 1))


# ------------------------------------------------------------------ sampling
def test_gibbs_samples_follow_the_exact_marginal():
    model = random_dbm(6, 4, 3, scale=1.0, seed=10)
    p_exact = np.exp(model.log_likelihood_exact(all_states(6)))
    samples = model.sample(20000, seed=0, steps=50, return_means=False)
    assert samples.dtype == np.float32 and set(np.unique(samples)) <= {0.0, 1.0}
    counts = np.bincount((samples.astype(int) << np.arange(6)).sum(1), minlength=64)
    total_variation = 0.5 * np.abs(counts / counts.sum() - p_exact).sum()
    assert total_variation < 0.04, total_variation
    # The means P(v = 1 | h1) average to the marginal means.
    means = model.sample(20000, seed=1, steps=50)
    np.testing.assert_allclose(means.mean(0), p_exact @ all_states(6), atol=0.01)


def test_sample_is_reproducible_with_a_seed():
    model = random_dbm(6, 4, 3, seed=11)
    a = model.sample(7, seed=3, steps=5)
    assert a.shape == (7, 6) and a.dtype == np.float32
    np.testing.assert_array_equal(a, model.sample(7, seed=3, steps=5))
    assert not np.array_equal(model.sample(7, steps=5), model.sample(7, steps=5))


# ------------------------------------------------------------------ from RBMs
def test_from_rbm_starts_at_the_rbm_log_likelihood():
    rng = np.random.default_rng(13)
    rbm = BernoulliRBM(8, 5, seed=0)
    for weight in rbm.trainable_variables:
        weight.assign(rng.standard_normal(tuple(weight.shape)))
    model = DeepBoltzmannMachine.from_rbm(rbm, 3, coupling_stddev=1e-6, seed=4)
    assert (model.n_visible, model.n_hidden_1, model.n_hidden_2) == (8, 5, 3)
    np.testing.assert_array_equal(model.kernel_1.numpy(), rbm.kernel.numpy())
    assert np.abs(model.kernel_2.numpy()).max() < 1e-5 and np.abs(model.kernel_2.numpy()).max() > 0
    # W2 ~ 0, c2 = 0: Z = Z_RBM 2^H2, and the mean-field bound is the RBM's exact log-likelihood
    # (an RBM's posterior is factorial, so the bound is tight).
    assert model.log_partition_exact() == pytest.approx(rbm.log_partition_exact() + 3 * np.log(2.0), abs=1e-4)
    x = _binary(40, 8)
    bound = model.log_likelihood_bound(x, mean_field_steps=20)
    rbm_ll = -rbm.free_energy(x).astype("float64") - rbm.log_partition_exact()
    np.testing.assert_allclose(bound.per_example, rbm_ll, atol=1e-3)
    np.testing.assert_allclose(model.log_likelihood_exact(x), rbm_ll, atol=1e-3)
    with pytest.raises(ValueError, match=r"`rbm` must be a BernoulliRBM. Received: rbm=str"):
        DeepBoltzmannMachine.from_rbm("rbm", 3)
    with pytest.raises(ValueError, match=r"Received: coupling_stddev=0"):
        DeepBoltzmannMachine.from_rbm(rbm, 3, coupling_stddev=0)


def test_from_rbms_copies_the_stack():
    rng = np.random.default_rng(12)
    rbm_1, rbm_2 = BernoulliRBM(8, 5, seed=0), BernoulliRBM(5, 3, seed=1)
    for rbm in (rbm_1, rbm_2):
        for weight in rbm.trainable_variables:
            weight.assign(rng.standard_normal(tuple(weight.shape)))
    model = DeepBoltzmannMachine.from_rbms(rbm_1, rbm_2, n_chains=4, seed=2)
    assert (model.n_visible, model.n_hidden_1, model.n_hidden_2, model.n_chains) == (8, 5, 3, 4)
    np.testing.assert_array_equal(model.kernel_1.numpy(), rbm_1.kernel.numpy())
    np.testing.assert_array_equal(model.kernel_2.numpy(), rbm_2.kernel.numpy())
    np.testing.assert_array_equal(model.visible_bias.numpy(), rbm_1.visible_bias.numpy())
    np.testing.assert_array_equal(model.hidden_bias_2.numpy(), rbm_2.hidden_bias.numpy())
    np.testing.assert_allclose(
        model.hidden_bias_1.numpy(), (rbm_1.hidden_bias.numpy() + rbm_2.visible_bias.numpy()) / 2, atol=1e-7
    )
    halved = DeepBoltzmannMachine.from_rbms(rbm_1, rbm_2, halve_weights=True)
    np.testing.assert_allclose(halved.kernel_1.numpy(), rbm_1.kernel.numpy() / 2)
    np.testing.assert_allclose(halved.kernel_2.numpy(), rbm_2.kernel.numpy() / 2)
    # With halved weights the recognition pass is rbm_1's P(h1 | v).
    x = _binary(5, 8)
    w1, _, _, c1, _ = _params(halved)
    np.testing.assert_allclose(_sigmoid(2 * x @ w1 + c1), _sigmoid(x @ rbm_1.kernel.numpy() + c1), atol=1e-6)


def test_from_rbms_refuses_a_stack_that_does_not_fit():
    with pytest.raises(ValueError, match=r"rbm_2.n_visible == rbm_1.n_hidden. Received: rbm_1.n_hidden=5, "
                                         r"rbm_2.n_visible=4"):
        DeepBoltzmannMachine.from_rbms(BernoulliRBM(8, 5), BernoulliRBM(4, 3))
    with pytest.raises(ValueError, match=r"`rbm_2` must be a BernoulliRBM. Received: rbm_2=str"):
        DeepBoltzmannMachine.from_rbms(BernoulliRBM(8, 5), "rbm")
    with pytest.raises(ValueError, match=r"Received: halve_weights='yes'"):
        DeepBoltzmannMachine.from_rbms(BernoulliRBM(8, 5), BernoulliRBM(5, 3), halve_weights="yes")


# ------------------------------------------------------------------ saving
CONFIG = {"n_visible": 12, "n_hidden_1": 5, "n_hidden_2": 3, "n_chains": 7, "gibbs_steps": 2, "mean_field_steps": 4,
              "weight_decay": 1e-3, "centering": True, "centering_rate": 0.05, "seed": 3}


def test_centred_gradient_matches_numpy_and_is_the_plain_one_at_zero_offsets():
    rng = np.random.default_rng(21)
    model = random_dbm(7, 4, 3, scale=0.5, seed=2, centering=True, centering_rate=0.3)
    plain = random_dbm(7, 4, 3, scale=0.5, seed=2)
    v, v_model = _binary(6, 7, seed=1), _binary(5, 7, seed=2)
    mu1, mu2 = rng.random((6, 4)).astype("float32"), rng.random((6, 3)).astype("float32")
    h2_model, mu1_model = _binary(5, 3, seed=3), rng.random((5, 4)).astype("float32")
    mean = rng.random(7).astype("float32")
    lam1, lam2 = rng.random(4).astype("float32"), rng.random(3).astype("float32")
    model.data_mean.assign(mean)
    model.hidden_offset_1.assign(lam1)
    model.hidden_offset_2.assign(lam2)
    grads = [g.numpy() for g in model.contrastive_gradient(v, mu1, mu2, v_model, h2_model, mu1_model, 6.0, 5.0)]
    # The offsets moved first, by the rate, towards the data's means.
    lam1 = lam1 + 0.3 * (mu1.mean(0) - lam1)
    lam2 = lam2 + 0.3 * (mu2.mean(0) - lam2)
    np.testing.assert_allclose(model.hidden_offset_1.numpy(), lam1, atol=1e-6)
    np.testing.assert_allclose(model.hidden_offset_2.numpy(), lam2, atol=1e-6)
    x = np.concatenate([np.concatenate([v, mu2], 1), np.concatenate([v_model, h2_model], 1)]).astype("float64")
    p = np.concatenate([mu1, mu1_model]).astype("float64")
    w = np.concatenate([np.full(6, -1 / 6), np.full(5, 1 / 5)])
    o = np.concatenate([mean, lam2])
    dk = (x - o).T @ ((p - lam1) * w[:, None])  # <(x - o)(h - lambda1)^T>_model - <.>_data
    da = w @ x - dk @ lam1
    dc = (w[:, None] * p).sum(0) - o @ dk
    for got, want in zip(grads, [dk[:7], dk[7:].T, da[:7], dc, da[7:]]):
        np.testing.assert_allclose(got, want, atol=1e-5)
    # With every offset 0 the centred gradient is the plain one.
    for weight in (model.data_mean, model.hidden_offset_1, model.hidden_offset_2):
        weight.assign(np.zeros(weight.shape, "float32"))
    model.centering_rate = 1e-30  # (offsets stay ~0 for this call)
    centred = model.contrastive_gradient(v, mu1, mu2, v_model, h2_model, mu1_model, 6.0, 5.0)
    uncentred = plain.contrastive_gradient(v, mu1, mu2, v_model, h2_model, mu1_model, 6.0, 5.0)
    for a, b in zip(centred, uncentred):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_config_round_trip():
    model = DeepBoltzmannMachine(**CONFIG)
    config = model.get_config()
    for key, value in CONFIG.items():
        assert config[key] == value
    clone = DeepBoltzmannMachine.from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config


def test_keras_file_round_trip_restores_weights_chains_and_random_state(tmp_path):
    x = _binary(60, 12, seed=6)
    model = DeepBoltzmannMachine(**CONFIG)
    model.compile(steps_per_execution=2)
    model.fit(x, batch_size=20, epochs=1, verbose=0)
    assert np.any(model.persistent_hidden_1.numpy() != 0)
    path = save_model(model, tmp_path / "dbm.keras")
    loaded = load_model(path, safe_mode=True)
    assert type(loaded) is DeepBoltzmannMachine
    assert loaded.get_config() == model.get_config()
    for saved, restored in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(saved, restored)
    np.testing.assert_array_equal(loaded.persistent_hidden_1.numpy(), model.persistent_hidden_1.numpy())
    assert loaded.data_count.numpy() == 60
    for mine, theirs in zip(model.seed_generators(), loaded.seed_generators()):
        np.testing.assert_array_equal(mine.state.numpy(), theirs.state.numpy())
    for a, b in zip(model.mean_field(x), loaded.mean_field(x)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    # The sampling stream continues where it stood.
    np.testing.assert_array_equal(model.sample(4, steps=3), loaded.sample(4, steps=3))
    # Training resumes: the optimizer's step count and the chains move on.
    assert int(loaded.optimizer.iterations.numpy()) == 3 and loaded.steps_per_execution == 2
    before = loaded.persistent_hidden_1.numpy().copy()
    loaded.fit(x, batch_size=20, epochs=1, verbose=0)
    assert int(loaded.optimizer.iterations.numpy()) == 6
    assert np.any(loaded.persistent_hidden_1.numpy() != before)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"n_visible": 0, "n_hidden_1": 4, "n_hidden_2": 3}, r"`n_visible` must be a positive int.* Received: n_visible=0"),
        ({"n_visible": 6, "n_hidden_1": -1, "n_hidden_2": 3}, r"Received: n_hidden_1=-1"),
        ({"n_visible": 6, "n_hidden_1": 4, "n_hidden_2": 0}, r"Received: n_hidden_2=0"),
        ({"n_visible": 6, "n_hidden_1": 4, "n_hidden_2": 2.5}, r"Received: n_hidden_2=2.5"),
        ({"n_visible": 6, "n_hidden_1": 4, "n_hidden_2": 3, "n_chains": 0}, r"Received: n_chains=0"),
        ({"n_visible": 6, "n_hidden_1": 4, "n_hidden_2": 3, "gibbs_steps": 0}, r"Received: gibbs_steps=0"),
        ({"n_visible": 6, "n_hidden_1": 4, "n_hidden_2": 3, "mean_field_steps": 0},
         r"`mean_field_steps` must be a positive int. Received: mean_field_steps=0"),
        ({"n_visible": 6, "n_hidden_1": 4, "n_hidden_2": 3, "weight_decay": -1.0}, r"Received: weight_decay=-1.0"),
        ({"n_visible": 6, "n_hidden_1": 4, "n_hidden_2": 3, "seed": 1.5}, r"Received: seed=1.5"),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DeepBoltzmannMachine(**kwargs)


def test_bad_data_is_refused_with_what_was_expected_and_received():
    model = DeepBoltzmannMachine(8, 4, 3)
    model.compile()
    grey = _binary(20, 8) * 0.7
    with pytest.raises(ValueError, match=r"`x` must be binary \(every value 0 or 1\) for a DeepBoltzmannMachine. Received values such as \[0.7\]"):
        model.fit(grey, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"`data` must be binary"):
        model.log_likelihood_bound(grey, log_z=0.0)
    with pytest.raises(ValueError, match=r"`x` must have 8 visible units per example .* Received: shape=\(20, 20\)"):
        model.fit(_binary(20, 20), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"`v` must have values in \[0, 1\]. Received values in \[0.0, 255.0\]"):
        model.mean_field(_binary(20, 8) * 255)
    with pytest.raises(ValueError, match=r"`steps` must be a positive int. Received: steps=0"):
        model.mean_field(_binary(20, 8), steps=0)
    with pytest.raises(ValueError, match=r"Received: mean_field_steps=0"):
        model.log_likelihood_bound(_binary(20, 8), log_z=0.0, mean_field_steps=0)
    with pytest.raises(ValueError, match=r"`log_z` must be a finite float or an AISEstimate. Received: log_z=nan"):
        model.log_likelihood_bound(_binary(20, 8), log_z=float("nan"))
    with pytest.raises(ValueError, match=r"`steps` must be a positive int. Received: steps=0"):
        model.sample(3, steps=0)
    x = _binary(20, 8)
    x[2, 3] = np.nan
    with pytest.raises(ValueError, match=r"finite values. Received 1 NaN/Inf value"):
        model.fit(x, epochs=1, verbose=0)
    # A dataset whose later batch is not binary: the graph assertion of the step.
    later = tf.data.Dataset.from_tensor_slices(np.concatenate([_binary(20, 8), grey])).batch(10)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"DeepBoltzmannMachine expected binary visible values"):
        model.fit(later, epochs=1, verbose=0, shuffle=False)
    # Inside the step, the static shape is checked when traced.
    step = tf.function(model.train_step)
    with pytest.raises(ValueError, match=r"Expected 8 visible units per example.* Received: shape=\(None, 20\)"):
        step.get_concrete_function(tf.TensorSpec((None, 20), tf.float32))
    # A model too wide to enumerate h1.
    with pytest.raises(ValueError, match=r"n_hidden_1 <= 20. Received: n_hidden_1=21"):
        DeepBoltzmannMachine(4, 21, 2).log_likelihood_exact(_binary(3, 4))
