"""Data in [−1, 1] for the models that take it (the GANs, the diffusion models): images and Ising spins.

Images: pixels p in 0..255 become x = (p − 127.5) / 127.5 in [−1, 1]
(keras-io's `wgan_gp.py`), 28 x 28 x 1; `to_unit_images` maps samples back
to grey levels in [0, 1] for plots and the image scores.

Ising: configurations s = ±1 of shape (L, L) from the library's Monte Carlo
(`physics.data.generate`) become (L, L, 1) float32, with their
temperatures (the conditions of a temperature-conditional model);
`spins_of` maps samples back to int8 configurations.
"""

import numpy as np

from keras_genmodels import _validation as v

IMAGE_DATASETS = ("fashion_mnist", "mnist")


def to_model_images(pixels):
    """uint8 (or 0..255) pixels (N, 28, 28, 1) -> float32 (p − 127.5) / 127.5 in [−1, 1]."""
    x = v.check_array("pixels", pixels, feature_shape=(28, 28, 1), min_value=0, max_value=255)
    return ((x.astype("float32") - 127.5) / 127.5).astype("float32")


def to_unit_images(x):
    """Samples (N, H, W, 1) in [−1, 1] -> grey levels (x + 1) / 2 in [0, 1], clipped."""
    x = np.asarray(x, "float32")
    if x.ndim != 4:
        raise ValueError(f"Expected images of shape (batch, height, width, channels). Received: shape={x.shape}")
    return np.clip((x + 1.0) / 2.0, 0.0, 1.0)


def load_images(dataset="fashion_mnist", split="train", limit=None, local_dir=None, with_labels=False):
    """A split of Fashion-MNIST or MNIST in [−1, 1], (N, 28, 28, 1); with its labels (N,) if asked.

    Read from the IDX files (`datasets.load_arrays`: `local_dir`, the
    Debian package's folder, ...), in the files' order.
    """
    from keras_genmodels import datasets

    v.check_choice("dataset", dataset, IMAGE_DATASETS)
    images, labels = datasets.load_arrays(dataset, split, local_dir=local_dir)
    if limit is not None:
        limit = v.check_positive_int("limit", limit)
        images, labels = images[:limit], labels[:limit]
    x = to_model_images(images)
    return (x, labels.astype("int32")) if with_labels else x


def ising_data(L, temperatures, n_per_temperature, seed=0, cache_dir=None):
    """Monte Carlo configurations of the L x L Ising model as model inputs: `(x, T)`.

    Returns:
        x: float32 (n_T · n, L, L, 1), spins ±1; T: float32 (n_T · n,), the
        temperature of each configuration (`physics.data.generate`, cached).
    """
    from keras_genmodels.physics import data as ising

    d = ising.generate(L, temperatures, n_per_temperature, seed=seed, cache_dir=cache_dir)
    return d.spins.astype("float32")[..., None], d.temperatures.astype("float32")


def spins_of(samples):
    """(N, L, L, 1) samples ±1 -> int8 (N, L, L) configurations for `physics` and `metrics.ising_distances`."""
    s = np.asarray(samples)
    if s.ndim != 4 or s.shape[-1] != 1:
        raise ValueError(f"Expected spin samples of shape (batch, L, L, 1). Received: shape={s.shape}")
    return np.where(s[..., 0] > 0, 1, -1).astype(np.int8)
