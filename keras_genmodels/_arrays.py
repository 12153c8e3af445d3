"""In-memory arrays as `tf.data` pipelines for `fit`, without tf.data's autotuning.

Keras's `fit` turns NumPy input into a `tf.data` pipeline whose autotuning is
on, and creates a new iterator of it every epoch. On a CPU, tf.data's autotuning
model thread makes the destruction of an iterator wait for up to its (growing)
optimisation period: measured here (2 cores, TensorFlow 2.21), 8-9 s of idle
time at the start of most epochs of the conv VAE on 20,000 Fashion-MNIST
images, whose epochs take ~12 s otherwise (`bench/experiments/numpy_fit_stall.py`). The models of this library
therefore build the pipeline of NumPy input themselves (`batches`,
`row_chunks`), with the same batches as Keras (every row once per epoch, the
last batch smaller), shuffled by a seed drawn from the model's own random state,
and autotuning off; slicing in-memory arrays needs no tuning.
"""

import math

import keras
import numpy as np

from keras_genmodels import distribute
from keras_genmodels._validation import check_positive_float, check_positive_int


def _tensorflow():
    import tensorflow as tf

    return tf


def data_options():
    """The `tf.data.Options` of this package's pipelines: autotuning off, deterministic.

    tf.data's autotuning model thread can make the destruction of an
    iterator wait for up to its (growing) optimisation period: seconds of
    idle time at the start of each epoch on a CPU (module docstring). The
    pipelines of in-memory data here need no tuning; apply these options with
    `dataset.with_options(data_options())`.

    Returns:
        A `tf.data.Options` with `autotune.enabled = False` and
        `deterministic = True`.
    """
    tf = _tensorflow()
    options = tf.data.Options()
    options.autotune.enabled = False
    options.deterministic = True
    return options


def _index_chunks(x, chunk_rows, shuffle, seed):
    """`(rows, x)` pairs: int32 indices of `chunk_rows` rows (the last chunk smaller), all of x."""
    tf = _tensorflow()
    arrays = x if isinstance(x, tuple) else (x,)
    n = int(arrays[0].shape[0])
    n_full, left = divmod(n, chunk_rows)
    arrays = tuple(
        a.astype(keras.config.floatx()) if np.issubdtype(a.dtype, np.floating) and a.dtype != keras.config.floatx()
        else a  # as Keras's array adapter does
        for a in arrays
    )
    data = tuple(tf.convert_to_tensor(a) for a in arrays) if isinstance(x, tuple) else tf.convert_to_tensor(arrays[0])
    iterations = tf.Variable(0, dtype=tf.int64, trainable=False)  # of this dataset, so far

    def chunks_of(_):
        order = tf.range(n, dtype=tf.int32)
        if shuffle:
            key = tf.stack([tf.constant(seed, tf.int64), iterations.assign_add(1)])
            order = tf.random.experimental.stateless_shuffle(order, key)
        chunks = tf.data.Dataset.from_tensor_slices(
            tf.reshape(order[: n_full * chunk_rows], (n_full, chunk_rows))
        )
        if left:
            chunks = chunks.concatenate(tf.data.Dataset.from_tensors(order[n_full * chunk_rows :]))
        return chunks

    rows = tf.data.Dataset.range(1).flat_map(chunks_of)
    dataset = tf.data.Dataset.zip(rows, tf.data.Dataset.from_tensors(data).repeat())
    return dataset.apply(tf.data.experimental.assert_cardinality(n_full + (1 if left else 0)))


def row_chunks(x, chunk_rows, shuffle=True, seed=0):
    """The rows of a NumPy array, as a `tf.data.Dataset` of index chunks.

    Each element is `(rows, data)`: the indices of the next `chunk_rows` rows
    (the last chunk smaller when `chunk_rows` does not divide the number of
    rows) and the whole of `x` as one tensor, converted once and passed by
    reference, so that a training step can gather its own mini-batches (the
    RBM's chunked `fit`). With `shuffle`, the j-th iteration of the dataset
    (an epoch of `fit`) takes the rows in the order
    `stateless_shuffle(range(N), (seed, j))`: a new order each epoch, the same
    orders in every run with the same seed, whatever global seeds are set.

    Args:
        x: NumPy array (N, ...).
        chunk_rows: int, rows per chunk.
        shuffle: bool, whether to reshuffle the rows each epoch. Defaults to
            `True`.
        seed: int in [0, 2^63), seed of the orders. Defaults to `0`.

    Returns:
        A `tf.data.Dataset` of `(int32 (n,), x)` pairs, its cardinality set,
        autotuning off.
    """
    return _index_chunks(x, chunk_rows, shuffle, seed).prefetch(1).with_options(data_options())


def batches(x, batch_size, shuffle=True, seed=0):
    """The rows of a NumPy array in batches of `batch_size`, as Keras's `fit` batches them.

    Every row once per epoch (the last batch smaller), in the orders of
    `row_chunks` when `shuffle`, else in order; autotuning off.

    Args:
        x: NumPy array (N, ...), or a tuple of them with N rows each (features
            and targets: batches of tuples).
        batch_size: int, rows per batch.
        shuffle: bool, whether to reshuffle the rows each epoch. Defaults to
            `True`.
        seed: int in [0, 2^63), seed of the orders. Defaults to `0`.

    Returns:
        A `tf.data.Dataset` of batches of `x`, its cardinality set.
    """
    tf = _tensorflow()
    dataset = _index_chunks(x, batch_size, shuffle, seed).map(
        lambda rows, data: tf.nest.map_structure(lambda d: tf.gather(d, rows), data),
        num_parallel_calls=2, deterministic=True,
    )
    return dataset.prefetch(2).with_options(data_options())


def split_for_validation(x, validation_split):
    """(x[:k], x[k:]) with k = floor(N (1 - validation_split)), as Keras splits arrays."""
    try:
        fraction = check_positive_float("validation_split", validation_split)
    except ValueError:
        fraction = None
    if fraction is None or fraction >= 1:
        raise ValueError(
            "`validation_split` must be a float in [0, 1). "
            f"Received: validation_split={validation_split!r}"
        )
    k = int(math.floor(x.shape[0] * (1.0 - fraction)))  # < N for any fraction > 0
    if k == 0:
        raise ValueError(
            f"`validation_split={validation_split!r}` leaves no examples for training "
            f"out of {x.shape[0]}."
        )
    return x[:k], x[k:]


def seed_from_state(seed_generator):
    """An int seed in [0, 2^63) from a `keras.random.SeedGenerator`'s current state.

    A training generator's state advances with every step and is saved with
    the model, so successive `fit` calls shuffle differently, a seeded model
    reproducibly, and a reloaded one goes on where it stopped.
    """
    state = keras.ops.convert_to_numpy(seed_generator.state).astype("int64")
    words = [int(w) % 2**32 for w in state.ravel()]
    return int(np.random.SeedSequence(words).generate_state(1)[0] >> 1)


def own_pipeline_applies(model, x, y, fit_kwargs):
    """Whether `model.fit` should batch the NumPy `x` itself (`batches`).

    Yes for NumPy features alone (no targets, unless the model sets
    `batches_targets = True` and they are a NumPy array too; no `sample_weight`,
    `class_weight` or `steps_per_epoch`), `shuffle` a bool, on the
    TensorFlow backend outside any `tf.distribute` strategy (where Keras's own
    sharding of array input is kept); otherwise Keras's pipeline is used
    unchanged.
    """
    if keras.backend.backend() != "tensorflow":
        return False
    if not isinstance(x, np.ndarray):
        return False
    if y is not None and not (getattr(model, "batches_targets", False) and isinstance(y, np.ndarray)):
        return False
    if any(fit_kwargs.get(k) is not None for k in ("sample_weight", "class_weight", "steps_per_epoch")):
        return False
    if not isinstance(fit_kwargs.get("shuffle", True), bool):
        return False
    return distribute.num_replicas() == 1 and getattr(model, "_distribute_strategy", None) is None


def validation_batches(validation_data, batch_size):
    """`validation_data` as `batches` (in order) when it is a NumPy array, a 1-tuple of one or a pair of them."""
    if isinstance(validation_data, tuple) and len(validation_data) == 1:
        validation_data = validation_data[0]
    pair = (isinstance(validation_data, tuple) and len(validation_data) == 2
            and all(isinstance(a, np.ndarray) for a in validation_data))
    if isinstance(validation_data, np.ndarray) or pair:
        batch_size = check_positive_int("validation_batch_size", batch_size)
        return batches(validation_data, batch_size, shuffle=False)
    return validation_data
