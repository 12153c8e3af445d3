"""Shared fixtures: local data folders (never downloaded) and small helpers."""

import os
import pathlib

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = pathlib.Path(__file__).resolve().parents[1]
FASHION_MNIST_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")
# The MNIST test split lives beside the checkout, never inside it.
MNIST_DIR = REPO.parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def fashion_mnist_dir():
    """Folder of Debian's `dataset-fashion-mnist` IDX files (skip if absent)."""
    if not (FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    return FASHION_MNIST_DIR


@pytest.fixture(scope="session")
def mnist_dir():
    """Folder of the MNIST test split in ../shared/data/mnist (skip if absent)."""
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip("../shared/data/mnist is absent")
    return MNIST_DIR


@pytest.fixture(scope="session")
def fashion_mnist_arrays(fashion_mnist_dir):
    """Fashion-MNIST as float32 arrays in [0, 1], shape (N, 28, 28, 1)."""
    from keras_genmodels.idx import read_idx

    def load(split):
        prefix = "train" if split == "train" else "t10k"
        x = read_idx(fashion_mnist_dir / f"{prefix}-images-idx3-ubyte.gz")
        y = read_idx(fashion_mnist_dir / f"{prefix}-labels-idx1-ubyte.gz")
        return (x[..., None].astype("float32") / 255.0), y.astype("int64")

    return {"train": load("train"), "test": load("test")}


@pytest.fixture
def rng():
    return np.random.default_rng(0)
