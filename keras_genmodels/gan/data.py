"""The data of the GANs: images in [−1, 1] as keras-io feeds them, and Ising configurations.

Images: pixels p in 0..255 become x = (p − 127.5) / 127.5 in [−1, 1]
(keras-io's `wgan_gp.py`), 28 x 28 x 1; `to_unit_images` maps samples back
to grey levels in [0, 1] for plots and the image scores.

Ising: configurations s = ±1 of shape (L, L) from the library's Monte Carlo
(`physics.data.generate`) become (L, L, 1) float32, with their
temperatures as the conditions of a temperature-conditional model.
"""

from keras_genmodels.signed_data import (  # noqa: F401  (the GAN family's names for the shared data)
    IMAGE_DATASETS,
    ising_data,
    load_images,
    spins_of,
    to_model_images,
    to_unit_images,
)


def is_image_model(model):
    """Whether `model` generates 28 x 28 x 1 grey-level images (not spins)."""
    return tuple(model.data_shape) == (28, 28, 1) and not model.spins
