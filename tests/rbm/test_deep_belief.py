"""Deep belief networks: the bound against brute-force enumeration, greedy training, up-down, saving."""

import json

import keras
import numpy as np
import pytest
from rbm_testing import all_states, logsumexp

from keras_genmodels.rbm.deep_belief import DeepBeliefNetwork, LikelihoodBound
from keras_genmodels.sampling.ais import default_ais_schedule
from keras_genmodels.saving import load_model, save_model


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0.0, x)


def _toy_data(n=200, d=8, flip=0.05, seed=0):
    """Three binary prototypes with a fraction `flip` of bits flipped; (x, labels)."""
    rng = np.random.default_rng(seed)
    prototypes = np.array([[1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1], [1, 0, 1, 0, 1, 0, 1, 0]])[:, :d]
    labels = rng.integers(0, 3, n)
    x = prototypes[labels]
    x = np.where(rng.random(x.shape) < flip, 1 - x, x).astype("float32")
    return x, labels


def _random_dbn(layer_sizes, scale=1.0, seed=0, **kwargs):
    """A DBN whose RBMs have random N(0, scale^2) weights and biases."""
    rng = np.random.default_rng(seed)
    dbn = DeepBeliefNetwork(layer_sizes, seed=seed, **kwargs)
    for rbm in dbn.rbms:
        rbm.kernel.assign(scale * rng.standard_normal(tuple(rbm.kernel.shape)))
        rbm.visible_bias.assign(scale * rng.standard_normal(rbm.n_visible))
        rbm.hidden_bias.assign(scale * rng.standard_normal(rbm.n_hidden))
    return dbn


def _f64(variable):
    return np.asarray(keras.ops.convert_to_numpy(variable), "float64")


def _log_bernoulli(x, logits):
    """log prod Bernoulli(x; sigmoid(logits)), summed over the last axis, broadcasting."""
    return np.sum(x * logits - _softplus(logits), axis=-1)


def _numpy_log_p_and_bound(dbn, v):
    """(log p(v), the bound) per example by enumerating every joint state h_1..h_{L-1} (NumPy, float64)."""
    v = np.asarray(v, "float64")
    sizes = dbn.layer_sizes[1:-1]
    states = all_states(sum(sizes))
    hs = np.split(states, np.cumsum(sizes)[:-1], axis=1)
    gen = [(_f64(r.kernel), _f64(r.visible_bias)) for r in dbn.rbms[:-1]]
    rec = [tuple(_f64(w) for w in dbn.recognition_weights(i)) for i in range(dbn.n_layers - 1)]
    w_top, b_top, c_top = (_f64(t) for t in (dbn.rbms[-1].kernel, dbn.rbms[-1].visible_bias, dbn.rbms[-1].hidden_bias))
    # Z_top by enumerating the top RBM's visible layer (h_{L-1}).
    top_states = all_states(dbn.layer_sizes[-2])
    log_z = logsumexp(top_states @ b_top + _softplus(c_top + top_states @ w_top).sum(1))
    log_joint = (hs[-1] @ b_top + _softplus(c_top + hs[-1] @ w_top).sum(1))[None, :]  # log p*(h_{L-1})
    log_q = np.zeros((v.shape[0], len(states)))
    below = [v[:, None, :]] + [h[None] for h in hs]  # h_0 = v, h_1, ..., broadcast (N, S, .)
    for layer in range(len(sizes)):
        (w, b), (r_kernel, r_bias) = gen[layer], rec[layer]
        log_joint = log_joint + _log_bernoulli(below[layer], b + below[layer + 1] @ w.T)
        q = _sigmoid(r_bias + below[layer] @ r_kernel)
        log_q = log_q + np.sum(np.log(np.where(below[layer + 1] == 1, q, 1 - q)), -1)
    log_p = logsumexp(log_joint, axis=1) - log_z
    bound = np.sum(np.exp(log_q) * (log_joint - log_q), axis=1) - log_z
    return log_p, bound, log_z


# ------------------------------------------------------------------ the bound
@pytest.mark.parametrize("layer_sizes", [[8, 6, 4], [8, 11, 3]])  # 2^11 states: two chunks
def test_exact_bound_matches_brute_force_enumeration_and_is_below_log_p(layer_sizes):
    dbn = _random_dbn(layer_sizes, scale=1.0, seed=0)
    v, _ = _toy_data(n=30)
    log_p, bound, log_z = _numpy_log_p_and_bound(dbn, v)
    result = dbn.log_likelihood_bound(v, method="exact", log_z_method="exact")
    assert isinstance(result, LikelihoodBound)
    assert result.log_z == pytest.approx(log_z, abs=1e-5)
    np.testing.assert_allclose(result.per_example, bound, rtol=0, atol=1e-5)
    assert np.all(result.per_example <= log_p + 1e-6) and np.mean(log_p - bound) > 1e-3
    assert result.mean == pytest.approx(np.mean(bound), abs=1e-5)
    # The two-hidden-layer form of Salakhutdinov & Murray (2008): sum_h Q [log p*(h) + log p(v|h)] + H(Q) - log Z.
    (w1, b1, c1), (w2, b2, c2) = ([_f64(t) for t in (r.kernel, r.visible_bias, r.hidden_bias)] for r in dbn.rbms)
    h = all_states(layer_sizes[1])
    q = _sigmoid(c1 + v @ w1)  # (N, H_1)
    big_q = np.prod(np.where(h[None] == 1, q[:, None], 1 - q[:, None]), axis=-1)  # (N, 2^H_1)
    log_p_star = h @ b2 + _softplus(c2 + h @ w2).sum(1)
    a = b1 + h @ w1.T
    log_p_v = v @ a.T - _softplus(a).sum(1)
    entropy = -np.sum(q * np.log(q) + (1 - q) * np.log(1 - q), axis=1)
    np.testing.assert_allclose(result.per_example, (big_q * (log_p_star + log_p_v)).sum(1) + entropy - log_z, atol=1e-5)


def test_monte_carlo_bound_is_unbiased_and_reproducible_three_hidden_layers_too():
    for layer_sizes in ([8, 6, 4], [6, 4, 3, 3]):
        dbn = _random_dbn(layer_sizes, scale=1.0, seed=1)
        v, _ = _toy_data(n=60, d=layer_sizes[0], seed=1)
        log_p, bound, _ = _numpy_log_p_and_bound(dbn, v)
        exact = dbn.log_likelihood_bound(v, method="exact", log_z_method="exact")
        np.testing.assert_allclose(exact.per_example, bound, atol=1e-5)
        assert np.all(exact.per_example <= log_p + 1e-6)
        mc = dbn.log_likelihood_bound(v, n_samples=200, log_z_method="exact", seed=3)
        diff = mc.per_example - exact.per_example
        assert abs(diff.mean()) < 4 * diff.std(ddof=1) / np.sqrt(len(diff)) + 1e-9, diff
        assert np.max(np.abs(diff)) < 0.5
        again = dbn.log_likelihood_bound(v, n_samples=200, log_z=mc.log_z, seed=3)
        np.testing.assert_array_equal(again.per_example, mc.per_example)


def test_ais_log_z_of_the_top_rbm_agrees_with_the_exact_one():
    dbn = _random_dbn([8, 6, 4], scale=1.0, seed=2)
    v, _ = _toy_data(n=20)
    exact = dbn.log_likelihood_bound(v, method="exact", log_z_method="exact")
    ais = dbn.log_likelihood_bound(
        v, method="exact", log_z_method="ais", betas=default_ais_schedule(0.1), ais_chains=100, seed=0
    )
    assert abs(ais.log_z - exact.log_z) < 0.1
    # The AIS error bar enters the standard error; the per-example spread is the same.
    assert ais.stderr > exact.stderr
    np.testing.assert_allclose(ais.per_example + ais.log_z, exact.per_example + exact.log_z, atol=1e-9)


def test_one_layer_dbn_bound_is_the_rbm_log_likelihood():
    dbn = _random_dbn([8, 5], scale=1.0, seed=3)
    v, _ = _toy_data(n=40)
    rbm = dbn.rbms[0]
    result = dbn.log_likelihood_bound(v, log_z_method="exact")
    log_z = rbm.log_partition_exact()
    assert result.log_z == pytest.approx(log_z)
    assert result.mean == pytest.approx(rbm.log_likelihood(v, method="exact"), abs=1e-5)
    np.testing.assert_allclose(result.per_example, -rbm.free_energy(v) - log_z, atol=1e-5)
    # Sampling is the RBM's; up-down is CD-k on it.
    assert dbn.sample(3, seed=0, steps=5).shape == (3, 8)
    kernel = rbm.kernel.numpy().copy()
    assert np.isfinite(dbn.up_down(v, epochs=1, batch_size=20, learning_rate=0.01)[0])
    assert not np.allclose(kernel, rbm.kernel.numpy())


# --------------------------------------------------------- greedy training
@pytest.fixture(scope="module")
def trained():
    """A [8, 6, 4] DBN fitted greedily to the toy data, with what it looked like before."""
    x, labels = _toy_data()
    dbn = DeepBeliefNetwork([8, 6, 4], n_chains=20, seed=0)
    before = {
        "bound": dbn.log_likelihood_bound(x, method="exact").mean,
        "error": np.mean((x - dbn.rbms[0].reconstruct(x)) ** 2),
    }
    histories = dbn.fit(
        x, epochs=[20, 10], batch_size=20, learning_rate=0.2, verbose=0, steps_per_execution=10, jit_compile=False
    )
    return dbn, x, labels, before, histories


def test_greedy_fit_trains_each_layer_on_the_propagated_data(trained):
    dbn, x, _, before, histories = trained
    assert list(histories) == ["rbm_0", "rbm_1"]
    assert histories["rbm_0"].epoch == list(range(20)) and histories["rbm_1"].epoch == list(range(10))
    assert len(histories["rbm_1"].history["reconstruction_error"]) == 10
    # RBM 1 saw a fresh binary draw of the 200 hidden states each epoch, with the means P(h_1 | x).
    assert float(dbn.rbms[0].data_count.numpy()) == 200 * 20
    assert float(dbn.rbms[1].data_count.numpy()) == 200 * 10
    np.testing.assert_allclose(dbn.rbms[1].data_mean.numpy(), dbn.propagate_up(x, layers=1)[0].mean(0), atol=0.06)
    # Training helped: the bound went up, the reconstruction error down.
    assert dbn.log_likelihood_bound(x, method="exact").mean > before["bound"] + 1.0
    assert np.mean((x - dbn.rbms[0].reconstruct(x)) ** 2) < before["error"] - 0.05


def test_from_rbms_copies_trained_layers_and_zero_epochs_leaves_them(trained):
    dbn, x, _, _, _ = trained
    stacked = DeepBeliefNetwork.from_rbms([dbn.rbms[0]], seed=3)
    assert stacked.layer_sizes == [8, 6] and stacked.n_chains == 20
    for name in ("kernel", "visible_bias", "hidden_bias", "data_mean", "data_count", "persistent_hidden"):
        np.testing.assert_array_equal(getattr(stacked.rbms[0], name).numpy(), getattr(dbn.rbms[0], name).numpy())
    # A second layer on the copied first one: epochs=[0, n] trains only the new layer.
    grown = DeepBeliefNetwork.from_rbms([dbn.rbms[0], DeepBeliefNetwork([6, 3], n_chains=20, seed=1).rbms[0]],
                                        seed=3)
    kernel = grown.rbms[0].kernel.numpy().copy()
    histories = grown.fit(x, epochs=[0, 3], batch_size=20, learning_rate=0.1, verbose=0, jit_compile=False)
    assert list(histories) == ["rbm_1"]
    np.testing.assert_array_equal(grown.rbms[0].kernel.numpy(), kernel)
    assert float(grown.rbms[1].data_count.numpy()) == 200 * 3
    with pytest.raises(ValueError, match=r"rbms\[1\].n_visible == rbms\[0\].n_hidden. Received: rbms\[0\].n_hidden=6"):
        DeepBeliefNetwork.from_rbms([dbn.rbms[0], dbn.rbms[0]])
    with pytest.raises(ValueError, match=r"`rbms` must be a non-empty list of BernoulliRBM"):
        DeepBeliefNetwork.from_rbms([])
    with pytest.raises(ValueError, match=r"`epochs\[1\]` must be an int >= 0. Received: epochs\[1\]=-1"):
        grown.fit(x, epochs=[0, -1], verbose=0)


def test_a_transposed_second_layer_starts_the_bound_at_the_rbm_log_likelihood():
    x, _ = _toy_data()
    dbn = DeepBeliefNetwork([8, 6, 8], n_chains=20, seed=0)
    dbn.fit(x, epochs=[20, 0], batch_size=20, learning_rate=0.2, verbose=0, jit_compile=False)
    rbm_ll = dbn.rbms[0].log_likelihood(x, method="exact")
    dbn.initialize_as_transpose(1)
    np.testing.assert_array_equal(dbn.rbms[1].kernel.numpy(), dbn.rbms[0].kernel.numpy().T)
    # Same p(v) as the RBM, and Q(h1 | v) is the RBM's exact (factorial) posterior: the bound is tight.
    assert dbn.log_likelihood_bound(x, method="exact", log_z_method="exact").mean == pytest.approx(rbm_ll, abs=1e-4)
    # `fit` starts a fresh layer of reversed sizes that way, then trains it.
    fresh = DeepBeliefNetwork.from_rbms([dbn.rbms[0], DeepBeliefNetwork([6, 8], seed=2).rbms[0]], seed=0)
    fresh.fit(x, epochs=[0, 1], batch_size=200, learning_rate=1e-6, momentum=0.0, verbose=0, jit_compile=False)
    np.testing.assert_allclose(fresh.rbms[1].kernel.numpy(), dbn.rbms[0].kernel.numpy().T, atol=1e-4)
    with pytest.raises(ValueError, match=r"Expected RBM 1 to have the sizes of RBM 0 reversed, \(6, 8\). "
                                         r"Received: \(6, 4\)"):
        DeepBeliefNetwork([8, 6, 4]).initialize_as_transpose(1)


def test_fit_with_sampled_propagation_and_validation_data():
    x, _ = _toy_data(n=60)
    dbn = DeepBeliefNetwork([8, 5, 3, 2], persistent=False, seed=4)
    histories = dbn.fit(
        x, epochs=2, batch_size=20, propagate="samples", validation_data=x[:20], verbose=0, jit_compile=False
    )
    assert [float(r.data_count.numpy()) for r in dbn.rbms] == [120.0, 120.0, 120.0]
    assert "val_reconstruction_error" in histories["rbm_2"].history
    assert dbn.transform(x).shape == (60, 2)


def test_propagate_up_and_call_use_the_recognition_weights(trained):
    dbn, x, *_ = trained
    p1, p2 = dbn.propagate_up(x)
    w1, c1 = dbn.rbms[0].kernel.numpy(), dbn.rbms[0].hidden_bias.numpy()
    w2, c2 = dbn.rbms[1].kernel.numpy(), dbn.rbms[1].hidden_bias.numpy()
    np.testing.assert_allclose(p1, _sigmoid(x @ w1 + c1), atol=1e-6)
    np.testing.assert_allclose(p2, _sigmoid(p1 @ w2 + c2), atol=1e-6)
    np.testing.assert_allclose(dbn.transform(x.reshape(-1, 2, 4)), p2, atol=0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(dbn(x)), p2, atol=1e-6)


def test_sample_shape_range_and_seeds(trained):
    dbn, *_ = trained
    a = dbn.sample(10, seed=5, steps=50)
    assert a.shape == (10, 8) and a.dtype == np.float32
    assert np.all((a >= 0) & (a <= 1))
    np.testing.assert_array_equal(dbn.sample(10, seed=5, steps=50), a)
    assert not np.array_equal(dbn.sample(10, seed=6, steps=50), a)


# ------------------------------------------------------------------ up-down
def test_up_down_unties_the_weights_and_they_survive_saving(trained, tmp_path):
    source, x, *_ = trained
    dbn = DeepBeliefNetwork.from_config(source.get_config())
    dbn.set_weights(source.get_weights())
    tied = [w.numpy().copy() for w in (dbn.rbms[0].kernel, dbn.rbms[0].visible_bias, dbn.rbms[1].kernel)]
    errors = dbn.up_down(x, epochs=3, batch_size=20, learning_rate=0.05, gibbs_steps=2)
    assert errors.shape == (3,) and np.all(np.isfinite(errors)) and np.all(errors < 0.25)
    assert float(dbn.untied.numpy()) == 1.0
    # Generative weights, the top RBM and the recognition weights have all moved apart.
    for before, after in zip(tied, (dbn.rbms[0].kernel, dbn.rbms[0].visible_bias, dbn.rbms[1].kernel)):
        assert not np.allclose(before, after.numpy())
    recognition = dbn.recognition_kernels[0].numpy()
    assert not np.allclose(recognition, dbn.rbms[0].kernel.numpy())
    # Recognition reads R and r; the bound's Q too (the NumPy reference reads `recognition_weights`).
    p1 = dbn.propagate_up(x, layers=1)[0]
    np.testing.assert_allclose(p1, _sigmoid(x @ recognition + dbn.recognition_biases[0].numpy()), atol=1e-6)
    _, bound, _ = _numpy_log_p_and_bound(dbn, x[:20])
    np.testing.assert_allclose(dbn.log_likelihood_bound(x[:20], method="exact").per_example, bound, atol=1e-5)
    assert np.all(np.isfinite(dbn.sample(5, seed=1, steps=20)))

    loaded = load_model(save_model(dbn, tmp_path / "dbn.keras"), safe_mode=True)
    assert float(loaded.untied.numpy()) == 1.0
    for saved, restored in zip(dbn.recognition_kernels + dbn.recognition_biases,
                               loaded.recognition_kernels + loaded.recognition_biases):
        np.testing.assert_array_equal(saved.numpy(), restored.numpy())
    np.testing.assert_allclose(loaded.propagate_up(x)[1], dbn.propagate_up(x)[1], atol=0)

    # Greedy training ties them again.
    loaded.fit(x, epochs=1, batch_size=50, verbose=0, jit_compile=False)
    assert float(loaded.untied.numpy()) == 0.0
    np.testing.assert_allclose(
        loaded.propagate_up(x, layers=1)[0], loaded.rbms[0].hidden_probabilities(x), atol=1e-6
    )


# ------------------------------------------------------------ classifier
def test_classifier_starts_as_propagate_up_and_learns_a_separable_problem(trained):
    dbn, x, labels, *_ = trained
    classifier = dbn.to_classifier(3, dropout=0.1)
    h = keras.ops.convert_to_tensor(x)
    features = []
    for layer in classifier.layers[:-1]:
        h = layer(h)
        if isinstance(layer, keras.layers.Dense):
            features.append(keras.ops.convert_to_numpy(h))
    for got, expected in zip(features, dbn.propagate_up(x), strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-6)
    assert classifier.output_shape == (None, 3) and not classifier.compiled
    classifier.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                       metrics=["accuracy"])
    classifier.fit(x, labels, epochs=30, batch_size=50, verbose=0)
    accuracy = np.mean(np.argmax(classifier.predict(x, verbose=0), 1) == labels)
    assert accuracy > 0.9
    image_classifier = dbn.to_classifier(3, input_shape=(2, 4))
    assert image_classifier.predict(x.reshape(-1, 2, 4), verbose=0).shape == (200, 3)


# -------------------------------------------------------------- saving
def test_config_round_trip():
    dbn = DeepBeliefNetwork([8, 6, 4], k=2, persistent=False, n_chains=7, weight_decay=1e-3, centering=True, seed=3)
    config = dbn.get_config()
    assert config["layer_sizes"] == [8, 6, 4] and config["k"] == 2 and config["centering"] is True
    clone = DeepBeliefNetwork.from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    assert [r.seed for r in clone.rbms] == [1003, 2003]
    assert [r.get_config()["k"] for r in clone.rbms] == [2, 2]


def test_keras_file_round_trip_restores_every_weight_chain_and_seed(trained, tmp_path):
    dbn, x, *_ = trained
    path = save_model(dbn, tmp_path / "dbn.keras")
    loaded = keras.saving.load_model(path)
    assert type(loaded) is DeepBeliefNetwork
    assert loaded.get_config() == dbn.get_config()
    for saved, restored in zip(dbn.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, restored)
    for rbm, restored in zip(dbn.rbms, loaded.rbms):
        assert np.any(rbm.persistent_hidden.numpy() != 0)
        np.testing.assert_array_equal(rbm.persistent_hidden.numpy(), restored.persistent_hidden.numpy())
        np.testing.assert_array_equal(rbm.data_mean.numpy(), restored.data_mean.numpy())
    states = [g.state.numpy().tolist() for g in dbn.seed_generators()]
    assert states == [g.state.numpy().tolist() for g in loaded.seed_generators()]
    for saved, restored in zip(dbn.propagate_up(x), loaded.propagate_up(x)):
        np.testing.assert_allclose(saved, restored, atol=1e-6)
    np.testing.assert_array_equal(loaded.sample(4, seed=2, steps=10), dbn.sample(4, seed=2, steps=10))


def test_train_step_is_not_the_way_to_train():
    with pytest.raises(NotImplementedError, match=r"no train_step of its own.*fit\(x\)"):
        DeepBeliefNetwork([4, 2]).train_step(np.zeros((2, 4), "float32"))


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "layer_sizes,message",
    [
        ([8], r"`layer_sizes` must be a list of at least 2 positive ints.* Received: layer_sizes=\[8\]"),
        (8, r"Received: layer_sizes=8"),
        ("8,4", r"Received: layer_sizes='8,4'"),
        ([8, 0], r"`layer_sizes\[1\]` must be a positive int.* Received: layer_sizes\[1\]=0"),
        ([8, -3, 2], r"Received: layer_sizes\[1\]=-3"),
        ([8, 2.5], r"Received: layer_sizes\[1\]=2.5"),
        ([8, True], r"Received: layer_sizes\[1\]=True"),
    ],
)
def test_bad_layer_sizes(layer_sizes, message):
    with pytest.raises(ValueError, match=message):
        DeepBeliefNetwork(layer_sizes)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match=r"Received: k=0"):
        DeepBeliefNetwork([4, 2], k=0)
    with pytest.raises(ValueError, match=r"Received: seed=1.5"):
        DeepBeliefNetwork([4, 2], seed=1.5)
    with pytest.raises(ValueError, match=r"room for the RBMs' seeds.* Received: seed="):
        DeepBeliefNetwork([4, 2], seed=2**63 - 2)


@pytest.fixture(scope="module")
def small():
    return _random_dbn([8, 6, 4], seed=5), _toy_data(n=10)[0]


BAD_CALLS = {
    "fit non-binary": (lambda d, x: d.fit(x * 0.5, verbose=0),
                       r"`x` must be binary \(every value 0 or 1\). Received values such as \[0.5"),
    "fit features": (lambda d, x: d.fit(x[:, :7], verbose=0),
                     r"`x` must have 8 visible units per example .* Received: shape=\(10, 7\)"),
    "fit epochs list": (lambda d, x: d.fit(x, epochs=[1], verbose=0),
                        r"`epochs` must be an int or a list of 2 ints .* Received: epochs=\[1\]"),
    "fit epochs": (lambda d, x: d.fit(x, epochs=0, verbose=0), r"`epochs` must be a positive int. Received: epochs=0"),
    "fit propagate": (lambda d, x: d.fit(x, propagate="means", verbose=0),
                      r"`propagate` must be one of .* Received: propagate='means'"),
    "fit momentum": (lambda d, x: d.fit(x, momentum=1.0, verbose=0),
                     r"`momentum` must be in \[0, 1\). Received: momentum=1.0"),
    "fit validation": (lambda d, x: d.fit(x, validation_data=x[:, :4], verbose=0),
                       r"`validation_data` must have 8 visible units"),
    "bound n_samples": (lambda d, x: d.log_likelihood_bound(x, n_samples=0),
                        r"`n_samples` must be a positive int. Received: n_samples=0"),
    "bound non-binary": (lambda d, x: d.log_likelihood_bound(x * 2),
                         r"`data` must be binary .* Received values such as \[2.0"),
    "bound method": (lambda d, x: d.log_likelihood_bound(x, method="ais"),
                     r"`method` must be one of .* Received: method='ais'"),
    "bound log_z": (lambda d, x: d.log_likelihood_bound(x, log_z=float("nan")),
                    r"`log_z` must be a finite float .* Received: log_z=nan"),
    "propagate pixels": (lambda d, x: d.propagate_up(x * 255),
                         r"`v` must have values in \[0, 1\]. Received values in \[0.0, 255.0\]"),
    "propagate layers": (lambda d, x: d.propagate_up(x, layers=3),
                         r"`layers` must be a positive int <= 2. Received: layers=3"),
    "up_down features": (lambda d, x: d.up_down(x[:, :5]),
                         r"`x` must have 8 visible units .* Received: shape=\(10, 5\)"),
    "up_down gibbs_steps": (lambda d, x: d.up_down(x, gibbs_steps=0), r"Received: gibbs_steps=0"),
    "sample n": (lambda d, x: d.sample(0), r"`n` must be a positive int.* Received: n=0"),
    "classifier classes": (lambda d, x: d.to_classifier(1), r"`n_classes` must be an int >= 2. Received: n_classes=1"),
    "classifier shape": (lambda d, x: d.to_classifier(2, input_shape=(3, 3)),
                         r"shape of 8 features. Received: input_shape=\(3, 3\)"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_input_names_what_was_expected_and_received(small, case):
    dbn, x = small
    call, message = BAD_CALLS[case]
    with pytest.raises(ValueError, match=message):
        call(dbn, x)


def test_exact_bound_refuses_too_many_hidden_units():
    dbn = DeepBeliefNetwork([4, 21, 2])
    with pytest.raises(ValueError, match=r"expected m <= 20. Received m=21"):
        dbn.log_likelihood_bound(np.zeros((2, 4), "float32"), method="exact")


class _KillInLayer(keras.callbacks.Callback):
    def __init__(self, layer_visible):
        super().__init__()
        self.layer_visible = layer_visible

    def on_train_batch_end(self, batch, logs=None):
        if self.model.n_visible == self.layer_visible:
            raise KeyboardInterrupt("killed")


def test_fit_with_a_backup_resumes_after_the_last_finished_rbm_as_if_uninterrupted(tmp_path):
    """`fit(backup_dir=...)` backs the stack up after each RBM; a fit killed in
    RBM 2 and started again trains RBM 2 only, and ends with the uninterrupted
    run's weights (the stack's and the RBMs' random states are in the backup)."""
    x, _ = _toy_data(n=120)
    fit = {"epochs": [2, 3], "batch_size": 20, "learning_rate": 0.05, "verbose": 0, "jit_compile": False}
    reference = DeepBeliefNetwork([8, 6, 4], n_chains=20, seed=3)
    reference.fit(x, **fit)

    killed = DeepBeliefNetwork([8, 6, 4], n_chains=20, seed=3)
    with pytest.raises(KeyboardInterrupt):
        killed.fit(x, backup_dir=tmp_path, callbacks=[_KillInLayer(6)], **fit)
    metadata = json.loads((tmp_path / "training_metadata.json").read_text())
    assert metadata["kind"] == "stages" and metadata["stages"] == 1
    assert [p.name for p in tmp_path.glob("*.weights.h5")] == [metadata["weights"]]

    resumed = DeepBeliefNetwork([8, 6, 4], n_chains=20, seed=99)  # its own weights are replaced
    histories = resumed.fit(x, backup_dir=tmp_path, **fit)
    assert [len(h.history["free_energy"]) for h in histories.values()] == [2, 3]
    for a, b in zip(reference.weights, resumed.weights):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)
    assert json.loads((tmp_path / "training_metadata.json").read_text())["stages"] == 2


def test_a_backup_of_another_stack_is_refused_with_a_clear_error(tmp_path):
    x, _ = _toy_data(n=40)
    fit = {"batch_size": 20, "verbose": 0, "jit_compile": False, "backup_dir": tmp_path}
    DeepBeliefNetwork([8, 6, 4], n_chains=10).fit(x, epochs=[1, 0], **fit)
    with pytest.raises(ValueError, match="to hold the weights of this DeepBeliefNetwork"):
        DeepBeliefNetwork([8, 5, 4], n_chains=10).fit(x, epochs=1, **fit)
