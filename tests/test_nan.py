"""NaN or Inf in training stops it with a message naming the epoch and step,
before any backup or model file is overwritten; VAE log-variances are clipped."""

import json
import os

import keras
import numpy as np
import pytest

from keras_genmodels import training
from keras_genmodels.cli import main
from keras_genmodels.saving import file_sha256, load_model
from keras_genmodels.vae import VAE
from keras_genmodels.vae.model import LOG_VAR_RANGE


def _small_vae(seed=0, learning_rate=1e-2):
    model = VAE(architecture="mlp", data_shape=(6,), latent_dim=2, hidden_units=(8,),
                likelihood="gaussian", seed=seed)
    model.compile(keras.optimizers.Adam(learning_rate))
    return model


class _BlowUpAtEpoch(keras.callbacks.Callback):
    """Sets a huge learning rate at the start of `epoch` (0-based)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.optimizer.learning_rate.assign(1e38)


def test_nan_stops_training_naming_the_step_and_keeps_the_last_good_backup(tmp_path):
    x = np.random.default_rng(0).normal(size=(64, 6)).astype("float32")
    backup = tmp_path / "backup"
    model = _small_vae()
    callbacks, _ = training.training_callbacks(str(backup), extra=[_BlowUpAtEpoch(1)])
    with pytest.raises(training.NonFiniteLossError, match=r"at step \d+ of epoch 2 \(global step \d+\)"):
        model.fit(x, epochs=4, batch_size=8, verbose=0, callbacks=callbacks)
    assert not np.all(np.isfinite(model.get_weights()[0]))  # the weights did blow up

    metadata = json.loads((backup / "training_metadata.json").read_text())
    assert metadata["epoch"] == 1  # the NaN epoch was never backed up
    assert np.all(np.isfinite(metadata["history"]["loss"]))
    fresh = _small_vae(learning_rate=1e-3)  # resumed with a lower learning rate
    callbacks, restore = training.training_callbacks(str(backup), resume=True)
    fresh.fit(x, epochs=2, batch_size=8, verbose=0, callbacks=callbacks)
    assert restore.initial_epoch == 1
    assert float(fresh.optimizer.learning_rate) == pytest.approx(1e-3)  # not the backup's
    assert int(fresh.optimizer.iterations) == 16  # 8 steps restored, 8 run
    assert all(np.all(np.isfinite(w)) for w in fresh.get_weights())


def test_message_names_the_steps_of_a_multi_step_call():
    callback = training.TerminateOnNonFinite()
    callback.on_epoch_begin(2)
    callback.on_train_batch_begin(32)
    with pytest.raises(training.NonFiniteLossError, match=r"in steps 33-64 of epoch 3"):
        callback.on_train_batch_end(63, {"loss": float("inf"), "kl_loss": 1.0})


def test_message_counts_the_mini_batches_of_an_rbm_chunk():
    # fit on NumPy runs chunks of steps_per_execution = 5 mini-batches per Keras step: the
    # blow-up at the start of epoch 2 is named by its mini-batches 1-5, global updates 11-15,
    # not by Keras's chunk count.
    from keras_genmodels.rbm import BernoulliRBM

    x = (np.random.default_rng(0).random((100, 12)) < 0.5).astype("float32")
    model = BernoulliRBM(12, 4, persistent=True, n_chains=10, seed=0)
    model.compile(keras.optimizers.SGD(0.01), steps_per_execution=5, jit_compile=False)
    with pytest.raises(training.NonFiniteLossError,
                       match=r"in steps 1-5 of epoch 2 \(one compiled call of 5 steps; global steps 11-15\)"):
        model.fit(x, batch_size=10, epochs=4, verbose=0,
                  callbacks=[training.TerminateOnNonFinite(), _BlowUpAtEpoch(1)])


def test_non_finite_validation_metrics_stop_training_too():
    callback = training.TerminateOnNonFinite()
    callback.on_epoch_end(0, {"loss": 1.0})  # finite: nothing happens
    with pytest.raises(training.NonFiniteLossError, match=r"val_free_energy=nan.*end of epoch 1"):
        callback.on_epoch_end(0, {"loss": 1.0, "val_free_energy": float("nan")})


def test_monitor_restricts_the_checked_logs():
    callback = training.TerminateOnNonFinite(monitor="loss")
    callback.on_train_batch_begin(0)
    callback.on_train_batch_end(0, {"loss": 2.0, "other": float("nan")})


@pytest.mark.slow
def test_cli_stops_on_nan_and_leaves_the_previous_model_intact(tmp_path, fashion_mnist_dir, capsys):
    common = ["train", "vae", "--architecture", "mlp", "--latent-dim", "4", "--hidden-units", "32",
              "--limit", "500", "--batch-size", "50", "--steps-per-execution", "1",
              "--local-dir", str(fashion_mnist_dir), "--out", str(tmp_path), "--verbose", "0"]
    assert main(common + ["--epochs", "1"]) == 0
    model_path = tmp_path / "model.keras"
    before = file_sha256(model_path)
    capsys.readouterr()

    assert main(common + ["--epochs", "2", "--learning-rate", "1e30"]) == 3
    err = capsys.readouterr().err
    assert "Non-finite" in err and "of epoch 1" in err and "step" in err
    assert file_sha256(model_path) == before
    model = load_model(model_path)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert os.path.exists(tmp_path / "history.json")


@pytest.mark.parametrize("bias", [1000.0, -1000.0])
def test_vae_log_variances_are_clipped_to_a_safe_range(bias):
    inputs = keras.Input((4,))
    mean = keras.layers.Dense(2)(inputs)
    log_var = keras.layers.Dense(
        2, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(bias)
    )(inputs)
    encoder = keras.Model(inputs, [mean, log_var])
    latent = keras.Input((2,))
    decoder = keras.Model(latent, keras.layers.Dense(4)(latent))
    model = VAE(encoder, decoder, likelihood="gaussian", seed=0)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")

    _, z_log_var = model.encode(x)
    z_log_var = keras.ops.convert_to_numpy(z_log_var)
    assert np.all(z_log_var >= LOG_VAR_RANGE[0]) and np.all(z_log_var <= LOG_VAR_RANGE[1])
    terms = model.compute_elbo_terms(keras.ops.convert_to_tensor(x))
    for value in terms.values():
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(value)))
    model.compile(keras.optimizers.Adam(1e-3))
    history = model.fit(x, epochs=1, batch_size=5, verbose=0, callbacks=[training.TerminateOnNonFinite()])
    assert np.isfinite(history.history["loss"][0])
