"""The CD-k / PCD-k training step: against NumPy, against autodiff, inside `fit`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_genmodels.rbm import BernoulliRBM, GaussianBernoulliRBM
from rbm_testing import random_bernoulli, random_gaussian


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.fixture
def recorded_noise(monkeypatch):
    """Replace the Bernoulli sampler by one whose uniforms are recorded."""
    rng = np.random.default_rng(123)
    draws = []

    def bernoulli(p, seed):
        u = rng.random(tuple(p.shape)).astype(p.dtype.name if hasattr(p.dtype, "name") else "float32")
        draws.append(u)
        return keras.ops.cast(keras.ops.less(u, p), p.dtype)

    for module in ("contrastive", "energy", "bernoulli_rbm"):
        monkeypatch.setattr(f"keras_genmodels.rbm.{module}.bernoulli", bernoulli)
    return draws


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_cd1_update_matches_numpy_reference(recorded_noise, weight_decay):
    model = random_bernoulli(12, 5, scale=0.5, seed=0, k=1, weight_decay=weight_decay)
    w, b, c = (np.asarray(x.numpy(), "float64") for x in model.trainable_variables)
    v = (np.random.default_rng(1).random((8, 12)) < 0.5).astype("float32")
    lr = 0.3
    model.compile(optimizer=keras.optimizers.SGD(lr), run_eagerly=True)
    model.fit(v, batch_size=8, epochs=1, shuffle=False, verbose=0)

    u_h, u_v = recorded_noise[0], recorded_noise[1]
    assert u_h.shape == (8, 5) and u_v.shape == (8, 12)
    # Positive phase, one Gibbs step, negative phase (Hinton 2002).
    ph0 = _sigmoid(c + v @ w)
    h0 = (u_h < ph0).astype("float64")
    v1 = (u_v < _sigmoid(b + h0 @ w.T)).astype("float64")
    ph1 = _sigmoid(c + v1 @ w)
    grad_w = (v.T @ ph0 - v1.T @ ph1) / 8 - weight_decay * w
    grad_b = (v - v1).mean(0)
    grad_c = (ph0 - ph1).mean(0)
    np.testing.assert_allclose(model.kernel.numpy(), w + lr * grad_w, atol=1e-6)
    np.testing.assert_allclose(model.visible_bias.numpy(), b + lr * grad_b, atol=1e-6)
    np.testing.assert_allclose(model.hidden_bias.numpy(), c + lr * grad_c, atol=1e-6)


def test_pcd_update_uses_and_advances_the_persistent_chains(recorded_noise):
    model = random_bernoulli(10, 4, scale=0.5, seed=2, persistent=True, n_chains=6)
    chains = (np.random.default_rng(3).random((6, 4)) < 0.5).astype("float32")
    model.persistent_hidden.assign(chains)
    w, b, c = (np.asarray(x.numpy(), "float64") for x in model.trainable_variables)
    v = (np.random.default_rng(4).random((5, 10)) < 0.5).astype("float32")
    model.compile(optimizer=keras.optimizers.SGD(1.0), run_eagerly=True)
    model.fit(v, batch_size=5, epochs=1, shuffle=False, verbose=0)

    u_v, u_h = recorded_noise[0], recorded_noise[1]
    assert u_v.shape == (6, 10) and u_h.shape == (6, 4)
    v_model = (u_v < _sigmoid(b + chains @ w.T)).astype("float64")
    ph_model = _sigmoid(c + v_model @ w)
    ph_data = _sigmoid(c + v @ w)
    np.testing.assert_allclose(
        model.kernel.numpy(), w + v.T @ ph_data / 5 - v_model.T @ ph_model / 6, atol=1e-6
    )
    # The chains moved on to h ~ P(h | v_model), and P(h|v) data rows are untouched.
    np.testing.assert_array_equal(model.persistent_hidden.numpy(), u_h < ph_model)


@pytest.mark.parametrize(
    "make",
    [
        lambda: random_bernoulli(9, 4, scale=0.5, seed=5),
        lambda: random_gaussian(6, 4, seed=6, learn_variance=True),
    ],
    ids=["bernoulli", "gaussian_learned_variance"],
)
def test_closed_form_gradient_equals_autodiff_of_free_energy_difference(make):
    # dL/dtheta for L = <F(v)>_data - <F(v)>_model (phases held fixed).
    model = make()
    rng = np.random.default_rng(7)
    if isinstance(model, GaussianBernoulliRBM):
        v_data, v_model = rng.normal(size=(7, 6)), rng.normal(size=(5, 6))
    else:
        v_data = (rng.random((7, 9)) < 0.5) * 1.0
        v_model = (rng.random((5, 9)) < 0.5) * 1.0
    v_data, v_model = tf.constant(v_data, "float32"), tf.constant(v_model, "float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model.compute_free_energy(v_data)) - tf.reduce_mean(
            model.compute_free_energy(v_model)
        )
    expected = tape.gradient(loss, model.trainable_variables)
    rows = tf.concat([v_data, v_model], axis=0)
    ph = tf.constant(model.hidden_probabilities(rows.numpy()))
    weight = tf.constant(np.r_[np.full(7, -1 / 7), np.full(5, 1 / 5)], "float32")
    got = model.contrastive_gradient(rows, ph, weight)
    assert len(got) == len(model.trainable_variables)
    assert all(e is not None for e in expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(np.asarray(g), e.numpy(), rtol=1e-4, atol=1e-5)


def test_centred_gradient_is_the_centred_update_mapped_back():
    # With offsets mu, lambda the stored (W, b, c) must move as the centred
    # parameters do: b = b~ - W lambda, c = c~ - W^T mu.
    model = random_bernoulli(8, 5, scale=0.5, seed=8, centering=True, centering_rate=1.0)
    rng = np.random.default_rng(9)
    rows = ((rng.random((10, 8)) < 0.4) * 1.0).astype("float32")
    mu = rows[:6].mean(0)
    model.data_mean.assign(mu)
    ph = model.hidden_probabilities(rows)
    weight = np.r_[np.full(6, -1 / 6), np.full(4, 1 / 4)].astype("float32")
    g_w, g_b, g_c = (np.asarray(g, "float64") for g in model.contrastive_gradient(rows, ph, weight))
    lam = ph[:6].mean(0)  # centering_rate=1: lambda = <P(h|v)>_data
    np.testing.assert_allclose(model.hidden_offset.numpy(), lam, rtol=1e-6)
    centred_w = ((rows - mu) * weight[:, None]).T @ (ph - lam)
    np.testing.assert_allclose(g_w, centred_w, atol=1e-6)
    np.testing.assert_allclose(g_b, weight @ rows - centred_w @ lam, atol=1e-6)
    np.testing.assert_allclose(g_c, weight @ ph - mu @ centred_w, atol=1e-6)


def test_fit_reports_metrics_with_validation_data_and_free_energy_gap():
    rng = np.random.default_rng(10)
    x = (rng.random((400, 20)) < 0.3).astype("float32")
    model = BernoulliRBM(20, 8, persistent=True, n_chains=20, seed=0)
    model.compile(steps_per_execution=4)
    history = model.fit(x, batch_size=50, epochs=2, validation_data=x[:100], verbose=0).history
    for name in ["reconstruction_error", "free_energy", "pseudo_log_likelihood"]:
        assert len(history[name]) == 2 and len(history["val_" + name]) == 2
        assert np.all(np.isfinite(history[name]))
    assert len(history["free_energy_gap"]) == 2
    assert np.all(np.array(history["pseudo_log_likelihood"]) < 0)
    assert float(model.data_count.numpy()) == 800.0
    np.testing.assert_allclose(model.data_mean.numpy(), x.mean(0), atol=1e-5)


def test_cd_k_with_jit_compile_trains():
    rng = np.random.default_rng(11)
    x = (rng.random((200, 16)) < 0.3).astype("float32")
    model = BernoulliRBM(16, 6, k=3, seed=0)
    model.compile(jit_compile=True)
    before = model.kernel.numpy().copy()
    history = model.fit(x, batch_size=50, epochs=1, verbose=0).history
    assert model.jit_compile is True
    assert not np.allclose(before, model.kernel.numpy())
    assert np.isfinite(history["reconstruction_error"][0])


@pytest.mark.parametrize("steps_per_execution", [1, 10])  # 10: the chunked loop, XLA's normals
def test_gaussian_rbm_learns_the_data_mean_and_variance(steps_per_execution):
    keras.utils.set_random_seed(0)  # Keras's own shuffling (steps_per_execution=1), whatever ran before
    rng = np.random.default_rng(12)
    x = (rng.normal(size=(2000, 4)) * [0.5, 1.0, 2.0, 1.0] + [1.0, -1.0, 0.0, 3.0]).astype("float32")
    model = GaussianBernoulliRBM(4, 2, learn_variance=True, persistent=True, seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.02, momentum=0.9),
                  steps_per_execution=steps_per_execution)
    model.fit(x, batch_size=50, epochs=8, verbose=0)
    samples = model.sample(2000, steps=50, seed=0, return_means=False)
    np.testing.assert_allclose(samples.mean(0), x.mean(0), atol=0.25)
    np.testing.assert_allclose(samples.std(0), x.std(0), rtol=0.25)


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("persistent", [False, True])
def test_numpy_fit_in_chunks_makes_the_same_updates_as_keras_loop(persistent, jit_compile):
    """`fit` on NumPy data with steps_per_execution > 1 loops over the mini-batches
    of each chunk in one compiled function (with or without XLA): same updates,
    same order, as Keras's loop over a dataset of the same mini-batches."""
    import tensorflow as tf

    from keras_genmodels.rbm import BernoulliRBM

    rng = np.random.default_rng(3)
    x = (rng.random((1050, 36)) < 0.4).astype("float32")  # 11 mini-batches, the last of 50

    def trained(feed):
        model = BernoulliRBM(36, 8, k=2, persistent=persistent, n_chains=100, centering=True, seed=5)
        model.compile(steps_per_execution=4, jit_compile=jit_compile)
        data = feed()
        history = model.fit(data, batch_size=100 if isinstance(data, np.ndarray) else None,
                            epochs=2, shuffle=False, verbose=0)
        return model, history.history

    chunked, logs_chunked = trained(lambda: x)  # chunks of 400, 400 and 250 rows
    assert chunked._chunk_train_function is not None  # the chunk path was taken
    assert chunked._chunk_train_function[0] == (100, 4, jit_compile)
    looped, logs_looped = trained(lambda: tf.data.Dataset.from_tensor_slices(x).batch(100))
    assert looped._chunk_train_function is None
    assert int(chunked.optimizer.iterations.numpy()) == int(looped.optimizer.iterations.numpy()) == 22
    for a, b in zip(chunked.weights, looped.weights):
        np.testing.assert_allclose(np.asarray(a.numpy(), "float64"), np.asarray(b.numpy(), "float64"),
                                   rtol=1e-5, atol=1e-6, err_msg=a.path)
    for name in logs_looped:
        np.testing.assert_allclose(logs_chunked[name], logs_looped[name], rtol=1e-4, atol=1e-5)
    # The user's settings are back after the chunked fit.
    assert chunked.steps_per_execution == 4 and chunked.minibatch_size is None
