"""Finding and reading the IDX files of MNIST and Fashion-MNIST in a local folder.

The folder of a dataset is looked for as the package docstring says
(`resolve_local_dir`): the `local_dir` argument, then `$KERAS_GENMODELS_DATA_DIR`
(its `<name>/` subfolder, then itself), then Debian's Fashion-MNIST folder. A
split is there when both its images and labels files are, gzipped or not;
`read_split` reads one split and checks that it is MNIST-shaped. Errors say
which files are missing and how to provide them (`how_to_provide`).
"""

import os

import numpy as np

from keras_genmodels.idx import read_idx

DATASETS = ("mnist", "fashion_mnist")

ENV_VAR = "KERAS_GENMODELS_DATA_DIR"
DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"

# Split -> (images file, labels file), as named by LeCun et al. and Zalando.
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
SPLITS = tuple(_FILES)
_ALL_FILES = tuple(f for pair in _FILES.values() for f in pair)
_IMAGE_SHAPE = (28, 28)
_NUM_CLASSES = 10
PRETTY_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


def _file_path(folder, filename):
    """Path of `filename` in `folder`, gzipped or not, or None if absent."""
    for candidate in (filename, filename[: -len(".gz")]):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def available_splits(folder):
    """Splits whose images and labels files are both in `folder`."""
    return [
        split
        for split, files in _FILES.items()
        if all(_file_path(folder, f) is not None for f in files)
    ]


def _has_any_file(folder):
    return os.path.isdir(folder) and any(
        _file_path(folder, f) is not None for f in _ALL_FILES
    )


def source_signature(folder):
    """`{filename: size in bytes}` of the IDX files present in `folder`."""
    signature = {}
    for f in _ALL_FILES:
        path = _file_path(folder, f)
        if path is not None:
            signature[os.path.basename(path)] = os.path.getsize(path)
    return signature


def how_to_provide(name):
    """The sentences of an error message saying how to provide the files of `name`."""
    files = ", ".join(_ALL_FILES)
    text = (
        f"Put the IDX files ({files}; only those of the splits you use are "
        f"needed) in a folder and pass `local_dir=<folder>`, or set "
        f"{ENV_VAR}=<folder> (the folder itself or one with a `{name}/` "
        "subfolder)."
    )
    if name == "fashion_mnist":
        text = (
            "On Debian/Ubuntu, `sudo apt-get install dataset-fashion-mnist` "
            f"installs them in {DEBIAN_FASHION_MNIST_DIR}, which is found "
            "without any setting. Or: " + text
        )
    return text


def check_split_files(name, folder, splits):
    """Raise `FileNotFoundError` naming the files of `splits` not in `folder`."""
    missing = [
        f for split in splits for f in _FILES[split] if _file_path(folder, f) is None
    ]
    if missing:
        raise FileNotFoundError(
            f"Expected the {PRETTY_NAMES[name]} split(s) {sorted(splits)} as IDX "
            f"files in {folder!r}. Missing: {', '.join(missing)} (looked for "
            f"{os.path.join(folder, missing[0])!r} and the same name without "
            f"'.gz'). Splits found there: {available_splits(folder)}. "
            + how_to_provide(name)
        )


def read_split(folder, split):
    """Read and check one split: `(images uint8 (N, 28, 28), labels uint8 (N,))`.

    Errors of the IDX format itself (truncated, corrupt) come from
    `keras_genmodels.idx` as `ValueError`.
    """
    images_path, labels_path = (_file_path(folder, f) for f in _FILES[split])
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.shape[1:] != _IMAGE_SHAPE:
        raise ValueError(
            "Expected an IDX images file of dtype uint8 and shape "
            f"(N, {_IMAGE_SHAPE[0]}, {_IMAGE_SHAPE[1]}). Received dtype="
            f"{images.dtype.name}, shape={images.shape} from {images_path!r}."
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(
            "Expected an IDX labels file of dtype uint8 and shape (N,). "
            f"Received dtype={labels.dtype.name}, shape={labels.shape} from "
            f"{labels_path!r}."
        )
    if len(labels) != len(images):
        raise ValueError(
            f"Expected as many labels as images for split {split!r}. Received "
            f"{len(images)} images from {images_path!r} and {len(labels)} "
            f"labels from {labels_path!r}."
        )
    if len(labels) and labels.max() >= _NUM_CLASSES:
        raise ValueError(
            f"Expected labels in 0..{_NUM_CLASSES - 1}. Received a label "
            f"{int(labels.max())} in {labels_path!r}."
        )
    return images, labels


def resolve_local_dir(name, local_dir):
    """Return `(folder or None, folders looked in)` in the documented order."""
    if local_dir is not None:
        folder = os.fspath(local_dir)
        if not os.path.isdir(folder):
            raise FileNotFoundError(
                f"Expected `local_dir` to be a folder of IDX files. Received: "
                f"local_dir={folder!r}, which is not a folder."
            )
        return folder, [folder]
    looked = []
    candidates = []
    env = os.environ.get(ENV_VAR)
    if env:
        candidates += [os.path.join(env, name), env]
    if name == "fashion_mnist":
        candidates.append(DEBIAN_FASHION_MNIST_DIR)
    for folder in candidates:
        looked.append(folder)
        if _has_any_file(folder):
            return folder, looked
    return None, looked
