"""`EnergyBasedModel`: the step's loss and gradient, the replay buffer, saving and resuming, sampling, bad input."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_genmodels.ebm import EnergyBasedModel
from keras_genmodels.saving import load_model, save_model


def _points(n=40, seed=0):
    return np.random.default_rng(seed).uniform(-0.9, 0.9, size=(n, 2)).astype("float32")


def _toy_model(**kwargs):
    settings = dict(hidden_units=(16,), buffer_size=64, steps=5, step_size=0.05, noise_scale=0.01, grad_clip=None,
                    data_noise=0.0, seed=0)
    settings.update(kwargs)
    return EnergyBasedModel((2,), **settings)


def _linear_model(**kwargs):
    """E(x) = w·x + b: the gradient of the loss with α = 0 is mean(x_data) − mean(x_model) for w."""
    x_in = keras.Input((2,))
    network = keras.Model(x_in, keras.layers.Dense(1, kernel_initializer="ones")(x_in))
    return _toy_model(energy_network=network, alpha=0.0, **kwargs)


def test_the_step_descends_the_contrastive_gradient_and_writes_its_chains_to_the_buffer():
    model = _linear_model(restart_fraction=0.0)
    model.compile(keras.optimizers.SGD(1.0))
    x = _points(10)
    before_w = ops.convert_to_numpy(model.energy_network.weights[0]).ravel().copy()
    before_buffer = ops.convert_to_numpy(model.buffer).copy()
    model.fit(x, batch_size=10, epochs=1, shuffle=False, verbose=0)
    after_buffer = ops.convert_to_numpy(model.buffer)
    changed = np.flatnonzero(np.any(after_buffer != before_buffer, axis=1))
    assert len(changed) == 10  # one slot per chain, no two chains in one slot, the others untouched
    x_model = after_buffer[changed]
    expected = before_w - (x.mean(axis=0) - x_model.mean(axis=0))  # SGD(1): w − ∇_w L
    np.testing.assert_allclose(ops.convert_to_numpy(model.energy_network.weights[0]).ravel(), expected, atol=1e-5)


def test_the_chains_follow_the_energy_down_from_their_slots():
    # E = x0 + x1 and almost no noise: every chain moves by −ε per coordinate per step (clipped at −1).
    model = _linear_model(restart_fraction=0.0, noise_scale=1e-12, steps=4, step_size=0.05)
    model.compile(keras.optimizers.SGD(0.0))
    before = ops.convert_to_numpy(model.buffer).copy()
    model.fit(_points(8), batch_size=8, epochs=1, verbose=0)
    after = ops.convert_to_numpy(model.buffer)
    changed = np.flatnonzero(np.any(after != before, axis=1))
    np.testing.assert_allclose(after[changed], np.maximum(before[changed] - 0.2, -1.0), atol=1e-5)


def test_restart_fraction_one_starts_every_chain_from_noise():
    model = _linear_model(restart_fraction=1.0, noise_scale=1e-12, steps=1, step_size=1e-6, buffer_size=16)
    model.compile(keras.optimizers.SGD(0.0))
    model.buffer.assign(np.full((16, 2), 0.5, "float32"))
    model.fit(_points(16), batch_size=16, epochs=1, verbose=0)
    after = ops.convert_to_numpy(model.buffer)
    assert not np.any(np.isclose(after, 0.5 - 1e-6, atol=1e-7))  # no chain kept its slot's start
    assert after.min() >= -1.0 and after.max() <= 1.0


def test_metrics_and_the_last_smaller_batch():
    model = _toy_model(metropolis=True)
    model.compile("adam")
    history = model.fit(_points(23), batch_size=10, epochs=2, verbose=0, validation_data=_points(7, 1))
    logs = history.history
    for key in ("loss", "energy_data", "energy_model", "energy_gap", "regularizer", "acceptance_rate",
                "val_energy_data", "val_energy_gap"):
        assert key in logs and np.all(np.isfinite(logs[key])), key
    assert 0.0 < logs["acceptance_rate"][-1] <= 1.0
    np.testing.assert_allclose(logs["energy_gap"], np.subtract(logs["energy_model"], logs["energy_data"]),
                               atol=1e-5)


def test_keras_file_keeps_the_buffer_and_training_resumes_as_if_uninterrupted(tmp_path):
    x = _points(30)

    def make():
        model = _toy_model()
        model.compile(keras.optimizers.Adam(1e-2))
        return model

    # In data order (a new `fit` draws a new order from the saved state, not the one epoch 2 of one `fit` takes).
    straight = make()
    straight.fit(x, batch_size=10, epochs=2, shuffle=False, verbose=0)
    first = make()
    first.fit(x, batch_size=10, epochs=1, shuffle=False, verbose=0)
    path = save_model(first, tmp_path / "ebm.keras")
    resumed = load_model(path)
    np.testing.assert_array_equal(ops.convert_to_numpy(resumed.buffer), ops.convert_to_numpy(first.buffer))
    resumed.fit(x, batch_size=10, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(straight.weights, resumed.weights):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), atol=1e-5, err_msg=a.path)


def test_sample_is_seeded_in_range_and_has_the_data_shape():
    model = _toy_model(data_range=(-2.0, 3.0))
    a = model.sample(12, seed=3, steps=7)
    b = model.sample(12, seed=3, steps=7)
    c = model.sample(12, seed=4, steps=7)
    assert a.shape == (12, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.min() >= -2.0 and a.max() <= 3.0
    from_buffer = model.sample(5, seed=1, steps=1, start="buffer")
    assert from_buffer.shape == (5, 2)
    frames = model.sample_chain(4, 10, record_every=3, seed=0)
    assert frames.shape == (5, 4, 2)  # the start and after 3, 6, 9, 10 steps
    samples, rate = model.sample(8, seed=0, steps=5, metropolis=True, return_acceptance=True)
    assert samples.shape == (8, 2)
    assert 0.0 <= rate <= 1.0


def test_image_model_defaults_are_fosters_network_and_mixed_precision_keeps_float32_chains():
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = EnergyBasedModel((32, 32, 1), buffer_size=8, steps=2, seed=0)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    convs = [layer for layer in model.energy_network.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [16, 32, 64, 64] and [c.strides for c in convs] == [(2, 2)] * 4
    assert convs[0].kernel_size == (5, 5) and convs[0].compute_dtype == "bfloat16"
    model.compile("adam")
    x = np.random.default_rng(0).uniform(-1, 1, (8, 32, 32, 1)).astype("float32")
    model.fit(x, batch_size=4, epochs=1, verbose=0)
    assert model.buffer.dtype == "float32"
    assert model.sample(2, steps=2, seed=0).dtype == np.float32


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"step_size": 0.0}, "step_size"),
        ({"step_size": -1.0}, "step_size"),
        ({"steps": 0}, "steps"),
        ({"restart_fraction": 1.5}, "restart_fraction"),
        ({"restart_fraction": -0.1}, "restart_fraction"),
        ({"buffer_size": 0}, "buffer_size"),
        ({"noise_scale": 0.0}, "noise_scale"),
        ({"grad_clip": -1.0}, "grad_clip"),
        ({"alpha": -0.1}, "alpha"),
        ({"data_range": (1.0, -1.0)}, "data_range"),
        ({"data_range": (0.0, float("inf"))}, "data_range"),
        ({"architecture": "transformer"}, "architecture"),
    ],
)
def test_bad_settings_name_what_was_expected_and_received(kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        _toy_model(**kwargs)
    assert "Received" in str(info.value)


def test_an_energy_network_of_the_wrong_output_shape_is_refused():
    x_in = keras.Input((2,))
    wrong = keras.Model(x_in, keras.layers.Dense(3)(x_in))
    with pytest.raises(ValueError, match=r"one energy per example.*\(2, 3\)"):
        _toy_model(energy_network=wrong)
    with pytest.raises(ValueError, match="data_shape"):
        EnergyBasedModel((28, 28, 1), energy_network=wrong)
    with pytest.raises(ValueError, match="keras.Model"):
        _toy_model(energy_network=lambda x: x)


@pytest.mark.parametrize(
    "data, message",
    [
        (np.array([[0.0, np.nan]] * 4, "float32"), "finite"),
        (np.array([[0.0, 2.0]] * 4, "float32"), r"values in \[-1.0, 1.0\]"),
        (np.zeros((4, 3), "float32"), r"shape \(batch, 2\)"),
    ],
)
def test_bad_data_is_refused_before_training(data, message):
    model = _toy_model()
    model.compile("adam")
    with pytest.raises(ValueError, match=message):
        model.fit(data, batch_size=2, epochs=1, verbose=0)


def test_a_batch_larger_than_the_buffer_is_refused():
    model = _toy_model(buffer_size=8)
    model.compile("adam")
    with pytest.raises(ValueError, match=r"batch_size.*buffer_size. \(8\).*Received: batch_size=16"):
        model.fit(_points(32), batch_size=16, epochs=1, verbose=0)


def test_sample_arguments_are_checked():
    model = _toy_model()
    for kwargs, message in (({"n": 0}, "n"), ({"n": 2, "steps": 0}, "steps"), ({"n": 2, "start": "data"}, "start")):
        with pytest.raises(ValueError, match=message):
            model.sample(**kwargs)
