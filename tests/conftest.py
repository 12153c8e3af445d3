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


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _check_figure(result, path=None):
    """What every plotting function promises, with and without a `path`.

    With a path: the PNG is written, its path returned, and pyplot knows of no
    new figure (the command line never needs a backend). Without: an open pyplot
    Figure whose every drawn axis says what it shows (x and y labels; a colour
    bar's label). Returns the Figure, or the path.
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if path is not None:
        assert result == str(path)
        assert pathlib.Path(path).read_bytes()[:8] == PNG_SIGNATURE
        return result
    assert isinstance(result, Figure)
    assert plt.fignum_exists(result.number), "without a path the figure stays open in pyplot"
    for ax in result.axes:
        if not ax.axison:  # an image grid
            assert ax.get_title() or result.get_suptitle(), "an image grid says what it shows"
            continue
        if ax.get_label() == "<colorbar>":
            assert ax.get_ylabel() or ax.get_xlabel(), "a colour bar says what its colours mean"
            continue
        assert ax.get_xlabel(), f"x axis without a label in {ax.get_title()!r}"
        assert ax.get_ylabel(), f"y axis without a label in {ax.get_title()!r}"
    plt.close(result)
    return result


@pytest.fixture
def check_figure():
    """`check_figure(result, path=None)`: see `_check_figure`."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    yield _check_figure
    leaked = set(plt.get_fignums()) - before
    plt.close("all")
    assert not leaked, "a plotting function left a pyplot figure open"
