"""The data of the energy-based models: images as Foster feeds them, and 2-D toy sets.

Images: 28 x 28 grey levels x in [0, 1] are scaled to 2x − 1 in [−1, 1] and
padded with −1 (black) to 32 x 32 (*Generative Deep Learning*, ch. 7);
`to_unit_images` undoes both for plotting and for the image scores.
"""

import numpy as np

from keras_genmodels import _validation as v

PAD = 2  # 28 + 2 + 2 = 32
IMAGE_DATASETS = ("fashion_mnist", "mnist")


def to_model_images(images):
    """(N, 28, 28, 1) grey levels in [0, 1] -> (N, 32, 32, 1) in [−1, 1], padded with −1."""
    x = v.check_array("images", images, feature_shape=(28, 28, 1), min_value=0.0, max_value=1.0)
    x = 2.0 * x.astype("float32") - 1.0
    return np.pad(x, ((0, 0), (PAD, PAD), (PAD, PAD), (0, 0)), constant_values=-1.0)


def to_unit_images(x):
    """(N, 32, 32, 1) in [−1, 1] -> the central (N, 28, 28, 1) as grey levels in [0, 1]."""
    x = np.asarray(x, "float32")
    if x.ndim != 4 or x.shape[1:] != (32, 32, 1):
        raise ValueError(f"Expected images of shape (batch, 32, 32, 1). Received: shape={x.shape}")
    return np.clip((x[:, PAD:-PAD, PAD:-PAD, :] + 1.0) / 2.0, 0.0, 1.0)


def load_images(dataset, split="train", limit=None, local_dir=None):
    """A split of Fashion-MNIST or MNIST as the model sees it: (N, 32, 32, 1) in [−1, 1]."""
    from keras_genmodels import datasets

    v.check_choice("dataset", dataset, IMAGE_DATASETS)
    return to_model_images(datasets.load_unit_images(dataset, split, limit=limit, local_dir=local_dir))


def is_image_model(model):
    """Whether `model` models 32 x 32 grey-level images of this module's layout."""
    return tuple(model.data_shape) == (32, 32, 1)
