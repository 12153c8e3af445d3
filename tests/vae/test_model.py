"""The VAE model: construction, loss, training, serialisation, bad input."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from keras import ops

from keras_genmodels.saving import load_model, save_model
from keras_genmodels.vae import VAE, Sampling, build_networks, kl_standard_normal

CONFIGS = {
    "conv_bernoulli": dict(latent_dim=2),
    "mlp_bernoulli": dict(architecture="mlp", latent_dim=4, hidden_units=(32, 16)),
    "mlp_gaussian": dict(
        architecture="mlp", latent_dim=3, hidden_units=(16,), likelihood="gaussian", sigma2=0.3, beta=0.5
    ),
}


def _normalised(config):
    """A config as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(config))


def _images(n=64, seed=0):
    return np.random.default_rng(seed).random((n, 28, 28, 1)).astype("float32")


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_config_round_trip_is_identical(name):
    model = VAE(seed=3, **CONFIGS[name])
    config = model.get_config()
    clone = VAE.from_config(config)
    assert _normalised(clone.get_config()) == _normalised(config)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_keras_round_trip_and_fit_step(name, tmp_path):
    model = VAE(seed=3, **CONFIGS[name])
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = _images()
    history = model.fit(x, epochs=1, batch_size=32, verbose=0)
    assert set(history.history) == {"loss", "reconstruction_loss", "kl_loss"}
    path = save_model(model, tmp_path / "m.keras")
    loaded = load_model(path, safe_mode=True)
    assert type(loaded) is VAE
    assert _normalised(loaded.get_config()) == _normalised(model.get_config())
    for a, b in zip(model.encode(x[:5]), loaded.encode(x[:5])):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), atol=1e-6)
    h = np.random.default_rng(1).standard_normal((5, model.latent_dim)).astype("float32")
    np.testing.assert_allclose(
        ops.convert_to_numpy(model.decode(h)), ops.convert_to_numpy(loaded.decode(h)), atol=1e-6
    )
    loaded.fit(x, epochs=1, batch_size=32, verbose=0)


def test_hand_computed_loss_on_a_tiny_batch():
    # x has 2 pixels, h is 1-D. Encoder: μ = x·a, log σ² = x·c; decoder: logits = h·w + b.
    enc_in = keras.Input((2,))
    enc = keras.Model(enc_in, [keras.layers.Dense(1, use_bias=False, name="m")(enc_in),
                               keras.layers.Dense(1, use_bias=False, name="lv")(enc_in)])
    enc.get_layer("m").set_weights([np.array([[0.5], [-1.0]])])
    enc.get_layer("lv").set_weights([np.array([[0.2], [0.0]])])
    dec_in = keras.Input((1,))
    dec = keras.Model(dec_in, keras.layers.Dense(2, name="out")(dec_in))
    dec.get_layer("out").set_weights([np.array([[2.0, -1.0]]), np.array([0.1, 0.3])])
    model = VAE(enc, dec, seed=11, beta=0.7, architecture="custom")
    x = np.array([[1.0, 0.0], [1.0, 1.0]], "float32")
    eps = ops.convert_to_numpy(Sampling(seed=11)([np.zeros((2, 1)), np.zeros((2, 1))]))
    terms = {k: ops.convert_to_numpy(t) for k, t in model.compute_elbo_terms(x).items()}

    mu = x @ np.array([[0.5], [-1.0]])
    lv = x @ np.array([[0.2], [0.0]])
    h = mu + np.exp(0.5 * lv) * eps
    logits = h @ np.array([[2.0, -1.0]]) + np.array([0.1, 0.3])
    p = 1 / (1 + np.exp(-logits))
    rec = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1)
    kl = -0.5 * np.sum(1 + lv - mu**2 - np.exp(lv), axis=1)
    np.testing.assert_allclose(terms["reconstruction_loss"], rec, rtol=1e-5)
    np.testing.assert_allclose(terms["kl_loss"], kl, rtol=1e-5)
    np.testing.assert_allclose(terms["loss"], rec + 0.7 * kl, rtol=1e-5)


def test_trackers_average_per_example_and_reset_each_epoch():
    model = VAE(seed=0, **CONFIGS["mlp_bernoulli"])
    model.compile(optimizer="adam")
    x = _images(50)
    out = model.evaluate(x, batch_size=20, verbose=0, return_dict=True)
    terms = model.compute_elbo_terms(x)
    # evaluate uses fresh noise, so compare the noise-free KL term exactly
    np.testing.assert_allclose(out["kl_loss"], ops.convert_to_numpy(terms["kl_loss"]).mean(), rtol=1e-4)
    assert [m.name for m in model.metrics] == ["loss", "reconstruction_loss", "kl_loss"]


def test_methods_shapes_and_determinism():
    model = VAE(seed=0, **CONFIGS["conv_bernoulli"])
    x = _images(6)
    mean, log_var = model.encode(x)
    assert tuple(mean.shape) == (6, 2) and tuple(log_var.shape) == (6, 2)
    rec = ops.convert_to_numpy(model(x))
    assert rec.shape == x.shape and rec.min() >= 0 and rec.max() <= 1
    np.testing.assert_allclose(rec, ops.convert_to_numpy(model.reconstruct(x)), atol=1e-6)
    a = ops.convert_to_numpy(model.sample(4, seed=1))
    b = ops.convert_to_numpy(model.sample(4, seed=1))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (4, 28, 28, 1)


def test_custom_networks_are_checked():
    enc, dec = build_networks("mlp", (6,), 2, (8,))
    _, dec3 = build_networks("mlp", (6,), 3, (8,))
    with pytest.raises(ValueError, match="decoder"):
        VAE(enc, dec3)
    with pytest.raises(ValueError, match="both"):
        VAE(enc, None)
    model = VAE(enc, dec, architecture="custom")
    assert model.data_shape == (6,) and model.latent_dim == 2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(latent_dim=0), "latent_dim"),
        (dict(latent_dim=2.5), "latent_dim"),
        (dict(beta=-1.0), "beta"),
        (dict(likelihood="gaussian", sigma2=0.0), "sigma2"),
        (dict(sigma2=float("nan")), "sigma2"),
        (dict(likelihood="poisson"), "likelihood"),
        (dict(architecture="resnet"), "architecture"),
        (dict(data_shape=(30, 30, 1)), "divisible by 4"),
        (dict(architecture="mlp", hidden_units=(0,)), "hidden_units"),
    ],
)
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VAE(**kwargs)


def test_bad_batches_in_fit():
    import tensorflow as tf

    model = VAE(seed=0, **CONFIGS["mlp_bernoulli"])
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match=r"expects batches of shape \(batch, 28, 28, 1\)"):
        model.fit(np.zeros((8, 784), "float32"), epochs=1, verbose=0)
    # NumPy data and a dataset's first batch: the one-line ValueError of `encode`, before tracing.
    with pytest.raises(ValueError, match=r"\[0.0, 1.0\].*divided by 255"):
        model.fit(_images(8) * 255.0, epochs=1, verbose=0)
    bad = _images(8)
    bad[3, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="only finite values"):
        model.fit(bad, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"`x \(first batch\)` must have values in \[0.0, 1.0\]"):
        model.fit(tf.data.Dataset.from_tensor_slices(_images(8) * 255.0).batch(4), epochs=1, verbose=0)
    # Later batches of a dataset: the step's graph checks.
    later = np.concatenate([_images(8), _images(8) * 255.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[0, 1\]"):
        model.fit(tf.data.Dataset.from_tensor_slices(later).batch(8), epochs=1, verbose=0)
    later = np.concatenate([_images(8), bad])
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or Inf"):
        model.fit(tf.data.Dataset.from_tensor_slices(later).batch(8), epochs=1, verbose=0)


def test_bad_inputs_to_methods():
    model = VAE(seed=0, **CONFIGS["mlp_bernoulli"])
    with pytest.raises(ValueError, match=r"shape \(batch, 28, 28, 1\).*Received: shape=\(3, 28, 28\)"):
        model.encode(np.zeros((3, 28, 28)))
    with pytest.raises(ValueError, match="divided by 255"):
        model.encode(np.full((2, 28, 28, 1), 255.0))
    with pytest.raises(ValueError, match="finite"):
        model.encode(np.full((2, 28, 28, 1), np.nan))
    with pytest.raises(ValueError, match=r"shape \(batch, 4\)"):
        model.decode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="`n`"):
        model.sample(0)


def test_missing_truncated_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "nope.keras")
    model = VAE(seed=0, **CONFIGS["mlp_bernoulli"])
    good = save_model(model, tmp_path / "good.keras")
    data = open(good, "rb").read()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_model(tmp_path / "cut.keras")
    (tmp_path / "noise.keras").write_bytes(os.urandom(1000))
    with pytest.raises(ValueError, match="not a valid zip"):
        load_model(tmp_path / "noise.keras")
    with pytest.raises(ValueError, match="must end in `.keras`"):
        save_model(model, tmp_path / "model.h5")


def test_failed_save_keeps_the_good_file(tmp_path, monkeypatch):
    model = VAE(seed=0, **CONFIGS["mlp_bernoulli"])
    path = save_model(model, tmp_path / "m.keras")
    before = open(path, "rb").read()

    def broken(*args, **kwargs):
        with open(args[1], "wb") as f:
            f.write(b"half a file")
        raise RuntimeError("disk full")

    monkeypatch.setattr(keras.saving, "save_model", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        save_model(model, path)
    assert open(path, "rb").read() == before
    assert sorted(os.listdir(tmp_path)) == ["m.keras"], "no temporary file left behind"


def test_fresh_process_load_gives_identical_outputs_and_fit_resumes(tmp_path):
    model = VAE(seed=4, **CONFIGS["conv_bernoulli"])
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = _images(64)
    model.fit(x, epochs=1, batch_size=32, verbose=0)
    path = save_model(model, tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", x[:8])
    h = np.random.default_rng(2).standard_normal((8, 2)).astype("float32")
    np.save(tmp_path / "h.npy", h)
    mean, log_var = (ops.convert_to_numpy(t) for t in model.encode(x[:8]))
    decoded = ops.convert_to_numpy(model.decode(h))
    script = textwrap.dedent(
        f"""
        import numpy as np, keras
        from keras import ops
        from keras_genmodels.saving import load_model
        m = load_model({str(path)!r}, safe_mode=True)
        x = np.load({str(tmp_path / 'x.npy')!r}); h = np.load({str(tmp_path / 'h.npy')!r})
        mean, log_var = m.encode(x)
        np.save({str(tmp_path / 'mean.npy')!r}, ops.convert_to_numpy(mean))
        np.save({str(tmp_path / 'log_var.npy')!r}, ops.convert_to_numpy(log_var))
        np.save({str(tmp_path / 'dec.npy')!r}, ops.convert_to_numpy(m.decode(h)))
        it0 = int(m.optimizer.iterations.numpy())
        m.fit(np.load({str(tmp_path / 'x.npy')!r}), epochs=1, batch_size=4, verbose=0)
        print("ITERATIONS", it0, int(m.optimizer.iterations.numpy()))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    np.testing.assert_array_equal(np.load(tmp_path / "mean.npy"), mean)
    np.testing.assert_array_equal(np.load(tmp_path / "log_var.npy"), log_var)
    np.testing.assert_array_equal(np.load(tmp_path / "dec.npy"), decoded)
    it0, it1 = (int(t) for t in out.stdout.split("ITERATIONS")[1].split())
    assert it0 == 2 and it1 == 4, "the optimizer state must be restored and continue"


def test_training_on_fashion_mnist_lowers_the_loss(fashion_mnist_arrays):
    x_train = fashion_mnist_arrays["train"][0][:6000]
    x_test = fashion_mnist_arrays["test"][0][:1000]
    keras.utils.set_random_seed(0)
    model = VAE(architecture="mlp", latent_dim=8, hidden_units=(256, 128), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    before = model.evaluate(x_test, batch_size=500, verbose=0, return_dict=True)["loss"]
    history = model.fit(x_train, validation_data=(x_test,), epochs=3, batch_size=100, verbose=0)
    val = history.history["val_loss"]
    assert val[-1] < val[0] < before
    assert before - val[-1] > 150, (before, val)  # 543 nats at init -> below ~300
    assert float(np.mean(history.history["kl_loss"][-1])) > 1.0  # the latents are used
    kl = ops.convert_to_numpy(kl_standard_normal(*model.encode(x_test[:100])))
    assert np.all(kl >= 0)


def test_saved_file_gets_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = save_model(VAE(seed=0, **CONFIGS["mlp_bernoulli"]), tmp_path / "m.keras")
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o644
