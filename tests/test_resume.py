"""Interrupted training resumes: a command-line run killed with SIGKILL mid-epoch
and restarted with --resume ends with the requested epochs and the
uninterrupted run's losses (the data stream continues, `training.epoch_stream`); in-process, a resumed PCD run is bit-for-bit the
uninterrupted one (weights, chains, data statistics, RNG and optimizer states);
backups are written atomically."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_genmodels import training
from keras_genmodels.rbm import BernoulliRBM
from keras_genmodels.vae import VAE

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cli(out, fashion_mnist_dir, *extra):
    return [
        sys.executable, "-m", "keras_genmodels", "train", "vae", "--architecture", "mlp",
        "--latent-dim", "4", "--hidden-units", "128", "--epochs", "4", "--limit", "6000",
        "--batch-size", "50", "--steps-per-execution", "1", "--seed", "0", "--verbose", "2",
        "--local-dir", str(fashion_mnist_dir), "--out", str(out), *extra,
    ]


def _env():
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    env.pop("TF_CONFIG", None)
    return env


def _run(argv, timeout=900):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=REPO, env=_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _backup_epoch(out):
    try:
        with open(out / "backup" / "training_metadata.json") as f:
            return json.load(f)["epoch"]
    except (FileNotFoundError, ValueError):
        return 0


@pytest.mark.slow
def test_cli_run_killed_mid_epoch_resumes_and_matches_an_uninterrupted_run(
    tmp_path, fashion_mnist_dir
):
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    _run(_cli(reference, fashion_mnist_dir))

    log = open(tmp_path / "killed.log", "w")
    proc = subprocess.Popen(
        _cli(killed, fashion_mnist_dir), stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=_env()
    )
    try:
        deadline = time.monotonic() + 600
        while _backup_epoch(killed) < 1:  # the first epoch's backup is committed
            assert proc.poll() is None, (tmp_path / "killed.log").read_text()[-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)  # into the next epoch
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "model.keras").exists()  # it really died mid-training
    printed = (tmp_path / "killed.log").read_text().count("val_loss")  # epochs it finished
    saved = _backup_epoch(killed)
    assert 1 <= saved < 4
    # The progress line is printed after the backup of its epoch: nothing
    # finished is lost beyond the epoch in progress.
    assert printed <= saved <= printed + 1

    resumed = _run(_cli(killed, fashion_mnist_dir, "--resume"))
    assert f"resumed after epoch {saved}" in resumed.stdout
    assert not (killed / "backup").exists()  # removed once the model is saved
    ref = json.loads((reference / "history.json").read_text())
    got = json.loads((killed / "history.json").read_text())
    assert got["resumed_from_epoch"] == saved
    # The resumed run is the uninterrupted one: the weights, optimizer and
    # random-number states come from the backup, and the data's shuffling and
    # noise go on from the restored epoch, so every epoch, those after the
    # kill included, has the reference's losses (up to float summation order).
    for key in ("loss", "val_loss"):
        assert len(got["history"][key]) == 4
        np.testing.assert_allclose(got["history"][key], ref["history"][key], rtol=1e-4)


class _Crash(Exception):
    pass


class _CrashAtEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise _Crash(f"simulated crash at epoch {epoch}")


def _pcd_rbm():
    model = BernoulliRBM(n_visible=12, n_hidden=6, k=2, persistent=True, n_chains=8, seed=5)
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9), steps_per_execution=3)
    return model


def _state(model):
    return {
        "variables": [np.asarray(v) for v in model.variables],
        "optimizer": [np.asarray(v) for v in model.optimizer.variables],
        "seeds": [np.asarray(g.state) for g in model.seed_generators()],
    }


def test_resumed_pcd_training_is_the_uninterrupted_training(tmp_path):
    """BackupAndRestore keeps every state the RBM trains with: the weights, the
    persistent chains and data statistics (non-trainable), the random
    generators' states and the optimizer's momenta."""
    x = (np.random.default_rng(0).random((48, 12)) < 0.3).astype("float32")
    fit = dict(batch_size=8, shuffle=False, verbose=0)

    reference = _pcd_rbm()
    reference.fit(x, epochs=4, **fit)

    backup = tmp_path / "backup"
    first = _pcd_rbm()
    callbacks, _ = training.training_callbacks(str(backup), extra=[_CrashAtEpoch(2)])
    with pytest.raises(_Crash):
        first.fit(x, epochs=4, callbacks=callbacks, **fit)
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 2

    second = _pcd_rbm()  # a fresh process would build the same model
    callbacks, restore = training.training_callbacks(str(backup), resume=True)
    history = second.fit(x, epochs=4, callbacks=callbacks, **fit)
    assert restore.initial_epoch == 2
    assert len(history.history["free_energy"]) == 2  # epochs 3 and 4 only
    assert len(restore.history["free_energy"]) == 4  # the whole run

    want, got = _state(reference), _state(second)
    for key in want:
        assert len(want[key]) == len(got[key])
        for a, b in zip(want[key], got[key]):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7, err_msg=key)


def _small_vae():
    model = VAE(architecture="mlp", data_shape=(6,), latent_dim=2, hidden_units=(8,),
                likelihood="gaussian", seed=0)
    model.compile(keras.optimizers.Adam(1e-2))
    return model


def test_a_crash_during_a_backup_leaves_the_previous_backup_usable(tmp_path, monkeypatch):
    x = np.random.default_rng(0).normal(size=(32, 6)).astype("float32")
    backup = tmp_path / "backup"
    model = _small_vae()
    callbacks, _ = training.training_callbacks(str(backup))
    model.fit(x, epochs=1, batch_size=8, verbose=0, callbacks=callbacks)
    good = [np.asarray(w) for w in model.weights]

    def torn_save(filepath, overwrite=True, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"\x89HDF\r\n half a file")
        raise _Crash("killed while saving")

    monkeypatch.setattr(model, "save_weights", torn_save)
    callbacks, _ = training.training_callbacks(str(backup), resume=True)
    with pytest.raises(_Crash):
        model.fit(x, epochs=3, batch_size=8, verbose=0, callbacks=callbacks)
    assert sorted(p.name for p in backup.iterdir()) == [
        "epoch-000001-batch-000000000.weights.h5", "training_metadata.json"
    ]

    fresh = _small_vae()
    callbacks, restore = training.training_callbacks(str(backup), resume=True)
    fresh.fit(x, epochs=1, batch_size=8, verbose=0, callbacks=callbacks)  # nothing left to run
    assert restore.initial_epoch == 1
    for a, b in zip(good, fresh.weights):
        np.testing.assert_array_equal(a, np.asarray(b))


def test_without_resume_a_leftover_backup_is_discarded(tmp_path):
    x = np.random.default_rng(0).normal(size=(16, 6)).astype("float32")
    backup = tmp_path / "backup"
    callbacks, _ = training.training_callbacks(str(backup))
    _small_vae().fit(x, epochs=2, batch_size=8, verbose=0, callbacks=callbacks)
    assert (backup / "training_metadata.json").exists()
    callbacks, restore = training.training_callbacks(str(backup), resume=False)
    assert not backup.exists()
    history = _small_vae().fit(x, epochs=2, batch_size=8, verbose=0, callbacks=callbacks)
    assert restore.initial_epoch == 0 and len(history.history["loss"]) == 2


def test_resume_needs_a_backup_folder():
    with pytest.raises(ValueError, match="backup_dir"):
        training.training_callbacks(None, resume=True)


def test_epoch_stream_resumed_after_k_passes_is_the_uninterrupted_stream():
    """`training.epoch_stream`: pass e of the stream is epoch e, and a stream
    entered after k epochs (after the same first-batch look as `fit` takes)
    goes on with the uninterrupted stream's pass k + 1, shuffling and noise
    alike; NumPy data is returned unchanged."""
    import tensorflow as tf

    def pipeline():
        keras.utils.set_random_seed(3)
        order = tf.data.Dataset.range(10).shuffle(10, seed=1, reshuffle_each_iteration=True)
        noise = tf.data.Dataset.random(seed=2, rerandomize_each_iteration=True)
        return tf.data.Dataset.zip(order, noise).batch(4)  # 3 batches, the last smaller

    def passes(stream, steps, n):
        next(iter(stream.take(1)))  # the first-batch check of GenerativeModel.fit
        batches = [(list(i.numpy()), list(r.numpy())) for i, r in stream.take(n * steps)]
        return [batches[p * steps:(p + 1) * steps] for p in range(n)]

    stream, steps = training.epoch_stream(pipeline())
    assert steps == 3
    full = passes(stream, steps, 4)
    assert full[0] != full[1]  # a new order and new noise each pass
    assert sorted(i for batch in full[2] for i in batch[0]) == list(range(10))
    for k in (1, 2):
        resumed, _ = training.epoch_stream(pipeline(), start_epoch=k)
        assert passes(resumed, steps, 4 - k) == full[k:]
    x = np.zeros((5, 2))
    assert training.epoch_stream(x, 2) == (x, None)
    with pytest.raises(ValueError, match="start_epoch"):
        training.epoch_stream(pipeline(), -1)
