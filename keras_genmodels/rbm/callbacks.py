"""Callbacks for monitoring RBM training."""

import keras
import numpy as np


def _first_examples(data, n):
    """Up to `n` visible vectors from an array, an (x, y) tuple or a dataset."""
    if data is None:
        return None
    if isinstance(data, (tuple, list)) and not isinstance(data, np.ndarray):
        data = data[0]
    if isinstance(data, np.ndarray):
        return data[:n]
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - TF is the backend here
        return None
    if isinstance(data, tf.data.Dataset):
        chunks, count = [], 0
        for batch in data:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            x = np.asarray(x)
            chunks.append(x)
            count += x.shape[0]
            if count >= n:
                break
        return np.concatenate(chunks)[:n] if chunks else None
    return None


class FreeEnergyGap(keras.callbacks.Callback):
    """Logs `free_energy_gap` = <F(v)>_held-out - <F(v)>_train each epoch.

    Hinton (2010, section 6) monitors overfitting this way: log Z cancels in
    the difference of mean free energies, so a gap that grows means the model
    assigns the training data more probability than held-out data. Both sets
    are fixed subsets, evaluated at the end of each epoch with the same
    parameters. `fit` adds one automatically when given `validation_data`.
    (A callback holds data, not configuration, so it is not serialisable.)

    Args:
        train_data: visible vectors from the training set (e.g. 1,000).
        held_out_data: visible vectors from held-out data.
    """

    def __init__(self, train_data, held_out_data):
        super().__init__()
        self.train_data = np.asarray(train_data)
        self.held_out_data = np.asarray(held_out_data)

    @classmethod
    def from_data(cls, train, held_out, n=1000):
        """Build from arrays, (x, y) tuples or datasets, keeping `n` examples each.

        Returns `None` when either cannot be read (e.g. a Python generator).
        """
        train, held_out = _first_examples(train, n), _first_examples(held_out, n)
        if train is None or held_out is None:
            return None
        return cls(train, held_out)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        gap = float(
            np.mean(self.model.free_energy(self.held_out_data), dtype="float64")
            - np.mean(self.model.free_energy(self.train_data), dtype="float64")
        )
        logs["free_energy_gap"] = gap
