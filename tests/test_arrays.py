"""NumPy input batched by the models themselves, without tf.data's autotuning (`_arrays`)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_genmodels import _arrays
from keras_genmodels.rbm import BernoulliRBM
from keras_genmodels.vae import VAE


def _epochs(dataset, n):
    return [[(r.numpy(), d.numpy()) for r, d in dataset] for _ in range(n)]


def test_row_chunks_yield_every_row_once_per_epoch_in_a_new_order():
    x = np.arange(23, dtype="float32").reshape(23, 1)
    dataset = _arrays.row_chunks(x, 5, shuffle=True, seed=3)
    assert int(dataset.cardinality()) == 5
    assert dataset.options().autotune.enabled is False
    epochs = _epochs(dataset, 3)
    orders = []
    for chunks in epochs:
        assert [len(rows) for rows, _ in chunks] == [5, 5, 5, 5, 3]
        for _, data in chunks:
            np.testing.assert_array_equal(data, x)  # the whole data set, for the step to gather from
        order = np.concatenate([rows for rows, _ in chunks])
        np.testing.assert_array_equal(np.sort(order), np.arange(23))
        orders.append(order)
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    tf.random.set_seed(1234)  # the orders depend on `seed` only, not on TensorFlow's global seed
    again = _epochs(_arrays.row_chunks(x, 5, shuffle=True, seed=3), 2)  # same seed, same orders
    for a, b in zip(again, epochs):
        np.testing.assert_array_equal(np.concatenate([r for r, _ in a]), np.concatenate([r for r, _ in b]))
    in_order = _epochs(_arrays.row_chunks(x, 5, shuffle=False), 2)
    for chunks in in_order:
        np.testing.assert_array_equal(np.concatenate([r for r, _ in chunks]), np.arange(23))


def test_batches_are_the_rows_of_the_chunk_orders_as_keras_batches_them():
    x = np.arange(46, dtype="float64").reshape(23, 2)
    dataset = _arrays.batches(x, 5, shuffle=True, seed=3)
    assert int(dataset.cardinality()) == 5
    assert dataset.options().autotune.enabled is False
    for batches, chunks in zip([list(dataset) for _ in range(2)],
                               _epochs(_arrays.row_chunks(x, 5, shuffle=True, seed=3), 2)):
        assert [b.shape[0] for b in batches] == [5, 5, 5, 5, 3]  # the last batch smaller
        for batch, (rows, _) in zip(batches, chunks):
            assert batch.dtype == tf.float32  # floats become floatx, as in Keras's adapter
            np.testing.assert_array_equal(batch.numpy(), x[rows].astype("float32"))
    in_order = np.concatenate([b.numpy() for b in _arrays.batches(x, 5, shuffle=False)])
    np.testing.assert_array_equal(in_order, x.astype("float32"))
    ints = next(iter(_arrays.batches(np.arange(6).reshape(3, 2), 2, shuffle=False)))
    assert ints.dtype == tf.int64  # integers keep their dtype


def test_split_for_validation_takes_the_last_fraction_and_checks_it():
    x = np.arange(10)
    train, held_out = _arrays.split_for_validation(x, 0.25)
    np.testing.assert_array_equal(train, np.arange(7))  # floor(10 * 0.75) = 7
    np.testing.assert_array_equal(held_out, np.arange(7, 10))
    for bad in (1.0, -0.1, float("nan"), "0.2", True):
        with pytest.raises(ValueError, match=r"`validation_split` must be a float in \[0, 1\)\. Received"):
            _arrays.split_for_validation(x, bad)
    with pytest.raises(ValueError, match="leaves no examples for training out of 10"):
        _arrays.split_for_validation(x, 0.95)


class _SeenByKeras(keras.callbacks.Callback):
    """Counts the training batches of each epoch."""

    def on_train_begin(self, logs=None):
        self.batches = []

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.batches[-1] += 1


def _spy_keras_fit(monkeypatch):
    seen = []
    original = keras.Model.fit

    def spy(self, x=None, *args, **kwargs):
        seen.append(x)
        return original(self, x, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    return seen


def _vae(seed=0):
    model = VAE(architecture="mlp", latent_dim=2, hidden_units=(16,), seed=seed)
    model.compile(keras.optimizers.Adam(1e-3))
    return model


def _images(n, seed=0):
    return np.random.default_rng(seed).random((n, 28, 28, 1)).astype("float32")


def test_vae_fit_on_numpy_batches_the_images_itself_without_autotuning(monkeypatch):
    seen = _spy_keras_fit(monkeypatch)
    x = _images(50)
    counter = _SeenByKeras()
    history = _vae().fit(x, batch_size=8, epochs=2, validation_split=0.2, verbose=0,
                         callbacks=[counter]).history
    assert isinstance(seen[-1], tf.data.Dataset)
    assert seen[-1].options().autotune.enabled is False
    assert counter.batches == [5, 5]  # 40 training images (Keras's split) in batches of 8
    assert len(history["val_loss"]) == 2 and np.all(np.isfinite(history["val_loss"]))
    # validation_data wins over validation_split, as in Keras: all 50 images train.
    counter = _SeenByKeras()
    _vae().fit(x, batch_size=8, epochs=1, validation_split=0.2, validation_data=_images(9, 1),
               verbose=0, callbacks=[counter])
    assert counter.batches == [7]


def test_vae_fit_on_numpy_is_reproducible_from_the_model_seed():
    x = _images(40)

    def weights_after(seed, global_seed):
        keras.utils.set_random_seed(123)  # the initial weights come from the global seed
        model = _vae(seed)
        tf.random.set_seed(global_seed)  # Keras's own pipeline would shuffle by this one
        model.fit(x, batch_size=8, epochs=2, verbose=0)
        return [w.numpy() for w in model.weights]

    a, b = weights_after(0, 1), weights_after(0, 2)
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    c = weights_after(5, 1)
    assert any(not np.array_equal(wa, wc) for wa, wc in zip(a, c))


@pytest.mark.parametrize("extra", [dict(shuffle="batch"), dict(sample_weight=np.ones(24))])
def test_vae_fit_leaves_other_numpy_fits_to_keras(monkeypatch, extra):
    seen = _spy_keras_fit(monkeypatch)
    _vae().fit(_images(24), batch_size=8, epochs=1, verbose=0, **extra)
    assert isinstance(seen[-1], np.ndarray)


def test_rbm_fit_on_numpy_without_chunks_uses_the_same_pipeline(monkeypatch):
    seen = _spy_keras_fit(monkeypatch)
    x = (np.random.default_rng(0).random((30, 12)) < 0.5).astype("float32")
    model = BernoulliRBM(12, 4, seed=0)
    model.compile(steps_per_execution=1)  # no chunks: one mini-batch per step
    counter = _SeenByKeras()
    history = model.fit(x, batch_size=7, epochs=1, validation_data=x[:10], verbose=0,
                        callbacks=[counter]).history
    assert isinstance(seen[-1], tf.data.Dataset) and seen[-1].options().autotune.enabled is False
    assert counter.batches == [5]  # ceil(30 / 7)
    assert float(model.data_count.numpy()) == 30.0
    assert "val_free_energy" in history and "free_energy_gap" in history


def test_validation_batches_keep_the_batch_size_and_check_it():
    x = _images(10)
    dataset = _arrays.validation_batches((x,), 4)
    assert [b.shape[0] for b in dataset] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b.numpy() for b in dataset]), x)  # in order
    labels = np.arange(10)
    pairs = list(_arrays.validation_batches((x, labels), 4))  # a conditional model's (x, y): batched together
    assert [b[1].numpy().tolist() for b in pairs] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in pairs]), x)
    triple = (x, x, x)
    assert _arrays.validation_batches(triple, 4) is triple  # sample weights: left to Keras
    with pytest.raises(ValueError, match="`validation_batch_size` must be a positive int. Received: "
                                         "validation_batch_size=-3"):
        _vae().fit(x, batch_size=4, validation_data=x, validation_batch_size=-3, verbose=0)
