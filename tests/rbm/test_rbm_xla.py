"""XLA for the RBM family: its random numbers, the chunked `fit`, the compile setting."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_genmodels import _arrays, load_model, save_model
from keras_genmodels.rbm import BernoulliRBM, partition
from keras_genmodels.sampling import backend
from rbm_testing import all_states, random_bernoulli


def test_xla_context_is_detected_only_inside_compiled_functions():
    seen = {}

    def probe(name):
        def fn(x):
            seen[name] = backend.in_xla_context()
            return x + 1.0

        return fn

    probe("eager")(tf.constant(0.0))
    tf.function(probe("graph"))(tf.constant(0.0))
    backend.compile_function(probe("xla"))(tf.constant(0.0))
    assert seen == {"eager": False, "graph": False, "xla": True}


def test_uniform_and_normal_are_keras_random_outside_xla_and_threefry_inside():
    # Outside XLA: exactly keras.random's stream for the same generator.
    ours = backend.uniform((1000,), "float32", keras.random.SeedGenerator(7))
    theirs = keras.random.uniform((1000,), dtype="float32", seed=keras.random.SeedGenerator(7))
    np.testing.assert_array_equal(ops.convert_to_numpy(ours), ops.convert_to_numpy(theirs))

    def draws(seed):
        gen = keras.random.SeedGenerator(seed)
        fn = backend.compile_function(
            lambda: (backend.uniform((200_000,), "float32", gen), backend.normal((200_000,), "float32", gen))
        )
        u, z = fn()
        return ops.convert_to_numpy(u), ops.convert_to_numpy(z), ops.convert_to_numpy(gen.state)

    u, z, state = draws(7)
    assert 0.0 <= u.min() and u.max() < 1.0
    # Moments within ~5 standard errors of U[0, 1) and N(0, 1).
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)
    assert abs(u.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / u.size)
    assert abs(z.mean()) < 5 / np.sqrt(z.size) and abs(z.std() - 1) < 5 / np.sqrt(2 * z.size)
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 5 / np.sqrt(u.size)
    assert not np.allclose(u[:1000], ops.convert_to_numpy(theirs))  # another generator
    u2, z2, state2 = draws(7)  # seeded: reproducible, and the generator advanced
    np.testing.assert_array_equal(u, u2)
    np.testing.assert_array_equal(z, z2)
    np.testing.assert_array_equal(state, state2)
    assert not np.array_equal(state, ops.convert_to_numpy(keras.random.SeedGenerator(7).state))
    assert not np.array_equal(u, draws(8)[0])


def test_chunked_fit_is_compiled_by_xla_by_default_and_the_setting_is_saved(tmp_path):
    x = (np.random.default_rng(0).random((240, 20)) < 0.4).astype("float32")
    model = BernoulliRBM(20, 6, persistent=True, n_chains=30, seed=0)
    model.compile(steps_per_execution=4)
    model.fit(x, batch_size=30, epochs=1, verbose=0)
    assert model._chunk_train_function[0] == (30, 4, True)  # the chunk loop went through XLA
    assert model.jit_compile is False  # Keras's own "auto" on a CPU, restored after fit
    assert model.get_compile_config()["jit_compile"] == "auto"
    path = save_model(model, tmp_path / "rbm.keras")
    loaded = load_model(path)
    assert loaded.jit_request == "auto"
    loaded.fit(x, batch_size=30, epochs=1, verbose=0)
    assert loaded._chunk_train_function[0] == (30, 4, True)

    model.compile(steps_per_execution=4, jit_compile=False)
    model.fit(x, batch_size=30, epochs=1, verbose=0)
    assert model._chunk_train_function[0] == (30, 4, False)


@pytest.mark.parametrize("jit_compile", ["yes", 1, None])
def test_compile_refuses_a_bad_jit_compile(jit_compile):
    model = BernoulliRBM(4, 2)
    with pytest.raises(ValueError, match=r'`jit_compile` must be True, False or "auto"\. Received'):
        model.compile(jit_compile=jit_compile)


def test_chunked_fit_splits_validation_data_as_keras_does():
    x = (np.random.default_rng(1).random((100, 12)) < 0.5).astype("float32")
    model = BernoulliRBM(12, 4, seed=0)
    model.compile(steps_per_execution=3)
    history = model.fit(x, batch_size=10, epochs=1, validation_split=0.2, verbose=0).history
    assert float(model.data_count.numpy()) == 80.0  # trained on the first 80 rows only
    np.testing.assert_allclose(model.data_mean.numpy(), x[:80].mean(0), atol=1e-6)
    assert "val_free_energy" in history and "free_energy_gap" in history
    in_range = r"must be a float in \[0, 1\)\. Received: validation_split="
    for bad, expected in [(1.0, in_range + "1.0"), (0.999, "leaves no examples for training"),
                          (-0.5, in_range + "-0.5"), ("0.2", in_range + "'0.2'"),
                          (float("nan"), in_range + "nan")]:
        with pytest.raises(ValueError, match=expected):
            model.fit(x, batch_size=10, epochs=1, validation_split=bad, verbose=0)


def test_preactivation_bound_is_the_largest_preactivation_over_all_binary_states():
    model = random_bernoulli(7, 4, scale=1.5, seed=4)
    v = all_states(7)
    pre = v @ model.kernel.numpy().astype("float64") + model.hidden_bias.numpy()
    assert model.max_abs_hidden_logit() == pytest.approx(np.abs(pre).max(), rel=1e-6)


@pytest.mark.parametrize("in_range, largest", [(False, 30.0), (False, 9.9), (True, 9.9)])
def test_softplus_difference_forms_agree_with_float64(in_range, largest):
    rng = np.random.default_rng(5)
    a = rng.normal(scale=20.0, size=20000)
    x = rng.uniform(-largest, largest, size=20000)  # in_range: every |x| < 10
    exact = np.logaddexp(0.0, a) - np.logaddexp(0.0, a - x)
    a32 = ops.convert_to_tensor(a, "float32")
    got = ops.convert_to_numpy(partition.softplus_difference(
        a32, ops.sigmoid(a32), ops.convert_to_tensor(x, "float32"), in_range=in_range))
    # float32 inputs carry relative errors of ~6e-8 (moving the result by up to
    # ~6e-8 (|a| + |x|)); the one-log1p form is good to ~1.2e-7 e^x (|x| < 10), the
    # plain difference (some |x| >= 10) to ~1.2e-7 softplus(a).
    if largest > 10:
        largest_softplus = np.maximum(np.logaddexp(0.0, a), np.logaddexp(0.0, a - x))
        tolerance = 2.4e-7 * (largest_softplus + np.abs(a) + np.abs(x)) + 1e-7
    else:
        tolerance = 2.4e-7 * np.exp(np.maximum(x, 0.0)) + 1e-6 * np.abs(exact)
    np.testing.assert_array_less(np.abs(got - exact), tolerance)


def test_ais_skips_the_range_test_only_when_the_bound_allows_it(monkeypatch):
    calls = []
    original = partition.softplus_difference

    def recording(a, s, x, in_range=False):
        calls.append(in_range)
        return original(a, s, x, in_range)

    monkeypatch.setattr(partition, "softplus_difference", recording)
    model = random_bernoulli(8, 3, scale=0.5, seed=1)
    assert model.max_abs_hidden_logit() * 0.1 < 10
    model.log_partition_ais(betas=np.linspace(0, 1, 11), n_chains=4, seed=0)  # steps of 0.1
    model.kernel.assign(model.kernel.numpy() * 1000.0)  # now steps of 0.1 could overflow expm1
    model.log_partition_ais(betas=np.linspace(0, 1, 11), n_chains=4, seed=0)
    assert calls == [True, False]


@pytest.mark.parametrize("largest", [partition._SERIES_RANGE, 1e-3, 1e-5])
def test_softplus_difference_series_agrees_with_float64(largest):
    rng = np.random.default_rng(6)
    a = np.concatenate([rng.normal(scale=20.0, size=20000), [-80.0, -30.0, 0.0, 30.0, 80.0]])
    x = rng.uniform(-largest, largest, size=a.size)
    # float64 reference, without the cancellation of a difference of softplus values.
    s64 = 1.0 / (1.0 + np.exp(-a))
    exact = -np.log1p(s64 * np.expm1(-x))
    # In float64 the truncation error alone: below |x|^5 / 900 (with rounding).
    series64 = partition.softplus_difference_series(s64, x)
    error = np.abs(series64 - exact)
    np.testing.assert_array_less(error, np.abs(x) ** 5 / 900 + 1e-15 * np.abs(exact) + 1e-300)
    np.testing.assert_array_less(error, (x**4 / 115 + 1e-15) * np.abs(exact) + 1e-300)  # relative
    # In float32, from sigmoid(a) and x rounded to float32 (relative errors ~6e-8).
    got = ops.convert_to_numpy(partition.softplus_difference_series(
        ops.convert_to_tensor(s64, "float32"), ops.convert_to_tensor(x, "float32")))
    np.testing.assert_array_less(np.abs(got - exact), 3e-7 * np.abs(exact) + 1e-37)  # + subnormals


def test_series_and_softplus_forms_give_the_same_ais_weights(monkeypatch):
    model = random_bernoulli(30, 8, scale=0.3, seed=2)
    bound = model.max_abs_hidden_logit()
    betas = np.concatenate([np.linspace(0, 0.5, 6), np.linspace(0.5, 1.0, 501)[1:]])
    series = bound * np.diff(betas) <= partition._SERIES_RANGE
    assert not series[:5].any() and series[5:].all()  # 5 coarse steps, then 500 fine ones
    assert partition._runs(series) == [(1, 6, False), (6, 506, True)]
    traced = []
    original = partition.softplus_difference_series

    def recording(s, x):
        traced.append(x.shape)
        return original(s, x)

    monkeypatch.setattr(partition, "softplus_difference_series", recording)
    mixed = model.log_partition_ais(betas=betas, n_chains=16, seed=3)
    assert len(traced) == 1  # one compiled loop with the series, one without
    monkeypatch.setattr(partition, "_SERIES_RANGE", 0.0)
    plain = model.log_partition_ais(betas=betas, n_chains=16, seed=3)
    assert len(traced) == 1
    # Same chains (same random numbers), weights equal to float32 rounding.
    np.testing.assert_allclose(mixed.log_weights, plain.log_weights, rtol=0, atol=2e-5)
    assert mixed.log_z == pytest.approx(plain.log_z, abs=2e-5)


def test_runs_of_steps():
    flags = np.array([True, True, False, True, False, False])
    assert partition._runs(flags) == [(1, 3, True), (3, 4, False), (4, 5, True), (5, 7, False)]
    assert partition._runs(np.array([False])) == [(1, 2, False)]


def test_successive_fits_shuffle_differently_and_reproducibly():
    x = np.repeat(np.eye(8, dtype="float32"), 4, axis=0)  # 32 rows, 8 kinds

    def first_rows(seed):
        model = BernoulliRBM(8, 2, seed=seed)
        model.compile(steps_per_execution=2)
        seen = []
        original = model.train_chunk

        def spy(data):
            seen.append(data[0])
            return original(data)

        model.train_chunk = spy
        orders = []
        for _ in range(3):  # one fit per epoch, as fit_rbm_ising or the benchmark do
            seeds = _arrays.seed_from_state(model.seed_generator)
            orders.append(seeds)
            model.fit(x, batch_size=4, epochs=1, verbose=0)
        return orders

    a, b = first_rows(0), first_rows(0)
    assert a == b  # a seeded model: the same orders in every run
    assert len(set(a)) == 3  # each fit call its own order
    assert first_rows(1) != a
