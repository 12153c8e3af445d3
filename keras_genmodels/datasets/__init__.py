"""MNIST and Fashion-MNIST as `tf.data` pipelines, online or from local files.

`load` always goes through tensorflow-datasets (TFDS): a TFDS builder prepares
the dataset once into `data_dir` (TFDS records of PNG-encoded images), and
`builder.as_dataset` reads it back. Offline, the builders `LocalMNIST` and
`LocalFashionMNIST` (subclasses of TFDS's own `MNIST` / `FashionMNIST`, with
the same features, version and split names) prepare the dataset from a folder
of the standard IDX files instead of downloading them.

The folder is looked for, in order:

1. the `local_dir` argument;
2. `$KERAS_GENMODELS_DATA_DIR/<name>/`, then `$KERAS_GENMODELS_DATA_DIR/`
   itself (a folder is used when it holds at least one of the IDX files);
3. `/usr/share/datasets/fashion-mnist` for Fashion-MNIST (Debian/Ubuntu
   package `dataset-fashion-mnist`).

Without such a folder `load` uses the dataset already prepared in `data_dir`
(by `LocalMNIST`/`LocalFashionMNIST` earlier, or by TFDS's own builder) and
otherwise TFDS's normal download, unless `download=False`.

Several processes may prepare the same dataset in the same `data_dir` at once
(the workers of a multi-worker strategy, two first runs of the command line):

- a process prepares while holding an exclusive lock, `fcntl.flock` on
  `<data_dir>/.keras_genmodels-<name>.lock` (an empty file that stays), and
  looks again for a prepared dataset once it holds it: a process that waited
  uses what the first one prepared;
- it prepares in a private scratch folder,
  `<data_dir>/.keras_genmodels-<name>-preparing-<random>/` (named by
  `tempfile`, not by Python's `random`, which the command line seeds), then
  renames the finished version folder into place: a reader finds a complete
  dataset or none, never a partly written one;
- a dataset prepared again (its recorded source files differ from the
  folder's) is replaced by renames once the new one is complete, so a failed
  preparation keeps the old one;
- a process killed while preparing leaves only its scratch folder, which TFDS
  never takes for a dataset and which the next process to prepare deletes.

TFDS's own download goes the same way. A remote `data_dir` (`gs://...`) is
prepared in place, as TFDS does, without these guarantees. Without `fcntl`
(Windows) there is no lock: processes may each prepare a copy and leftovers
stay, but readers still never see a partly written dataset.

`load_arrays` reads the IDX files of the same folder straight into NumPy
arrays, without TFDS.

Modules: `idx_files` (finding and reading the IDX files), `tfds_builders`
(the TFDS builders, preparing them safely, choosing which one to use).
"""

import re

import numpy as np

from keras_genmodels import _validation
from keras_genmodels._lazy import lazy_attributes
from keras_genmodels.datasets.idx_files import (
    DATASETS,
    DEBIAN_FASHION_MNIST_DIR,
    ENV_VAR,
    PRETTY_NAMES,
    SPLITS,
    check_split_files,
    how_to_provide,
    read_split,
    resolve_local_dir,
)

# TensorFlow and TFDS are imported when first used (`keras_genmodels._lazy`):
# the command line reads `DATASETS` without them.
__getattr__, __dir__ = lazy_attributes(
    __name__, {"LocalMNIST": "tfds_builders", "LocalFashionMNIST": "tfds_builders"}
)

__all__ = [
    "DATASETS",
    "DEBIAN_FASHION_MNIST_DIR",
    "ENV_VAR",
    "LocalFashionMNIST",
    "LocalMNIST",
    "binarize_images",
    "load",
    "load_arrays",
    "load_unit_images",
]

_BINARIZE = ("fixed", "dynamic")


def _split_names(split):
    """Base split names of a TFDS split spec, e.g. "train[:90%]+test"."""
    if not isinstance(split, str):
        raise ValueError(
            "Expected `split` to be a str such as 'train', 'test' or "
            f"'train[:90%]'. Received: split={split!r}"
        )
    try:
        import tensorflow_datasets as tfds

        tfds.core.ReadInstruction.from_spec(split)
    except (ValueError, AssertionError) as e:
        raise ValueError(
            "Expected `split` in TFDS split syntax, such as 'train', 'test', "
            f"'train[:90%]' or 'train[:1000]+test'. Received: split={split!r}"
        ) from e
    names = re.findall(r"(?:^|\+)\s*([A-Za-z_]\w*)", split)
    unknown = sorted(set(names) - set(SPLITS))
    if not names or unknown:
        raise ValueError(
            f"Expected `split` made of the splits {list(SPLITS)}. "
            f"Received: split={split!r}"
        )
    return tuple(dict.fromkeys(names))


def _check_optional_bool(name, value):
    if value is not None and not isinstance(value, bool):
        raise ValueError(
            f"`{name}` must be None, True or False. Received: {name}={value!r}"
        )
    return value


def _check_threshold(threshold):
    """Return `threshold` as a float if it lies in (0, 1)."""
    message = f"`threshold` must be a float in (0, 1). Received: threshold={threshold!r}"
    try:
        threshold = _validation.check_positive_float("threshold", threshold)
    except ValueError:
        raise ValueError(message) from None
    if threshold >= 1:
        raise ValueError(message)
    return threshold


def load(
    name,
    split="train",
    *,
    batch_size=128,
    binarize=None,
    threshold=0.5,
    shuffle=None,
    seed=None,
    with_labels=False,
    limit=None,
    local_dir=None,
    data_dir=None,
    download=None,
    drop_remainder=False,
    repeat=False,
):
    """MNIST or Fashion-MNIST as a batched `tf.data.Dataset` of float images.

    Pipeline: TFDS `as_dataset` (uint8, decoded once) -> first `limit`
    examples -> x = pixel / 255 as float32 -> `cache()` in memory -> shuffle
    (full buffer, new order each epoch) -> repeat -> batch -> binarise ->
    `prefetch(AUTOTUNE)`, with tf.data's autotuning off (parallel maps then use
    every core): its model thread made the destruction of each epoch's
    iterator, which Keras's `fit` creates anew, wait up to its optimisation
    period, 5-9 s at the start of most epochs of the VAE here
    (`bench/experiments/numpy_fit_stall.py --datasets`).

    Binarisation, for grey level x in [0, 1]:
    - "fixed": b = 1[x > threshold];
    - "dynamic": b ~ Bernoulli(x), i.e. b = 1[u < x] with u ~ U[0, 1),
      drawn anew every epoch (Salakhutdinov & Murray 2008), so E[b] = x.

    Args:
        name: one of `DATASETS`.
        split: "train", "test" or TFDS slicing such as "train[:90%]" or
            "train[:1000]". Defaults to "train".
        batch_size: positive int. Defaults to 128.
        binarize: None (grey levels), "fixed" or "dynamic". Defaults to None.
        threshold: threshold of "fixed" binarisation, in (0, 1).
            Defaults to 0.5.
        shuffle: whether to shuffle (anew each epoch). Defaults to `None`:
            True when `split` only uses the train split, False otherwise.
        seed: int making the shuffling order and the dynamic binarisation
            reproducible, or None. Defaults to None.
        with_labels: yield `(images, labels)` with int64 labels instead of
            images only. Defaults to False.
        limit: keep only the first `limit` examples of `split` (in TFDS's
            stored order, before shuffling), or None for all.
            Defaults to None.
        local_dir: folder of IDX files to prepare the dataset from (see the
            module docstring for where it is looked for otherwise).
            Defaults to None.
        data_dir: TFDS data folder, where the prepared dataset is written and
            read; several processes may share it (see the module docstring).
            Defaults to TFDS's default (`$TFDS_DATA_DIR` or
            `~/tensorflow_datasets`).
        download: False never downloads; True downloads with TFDS if no local
            files or prepared dataset exist; None (default) does the same
            after checking quickly that the download host can be reached.
        drop_remainder: drop the last, smaller batch. Defaults to False.
        repeat: repeat forever (each pass reshuffled and re-binarised).
            Defaults to False.

    Returns:
        A `tf.data.Dataset` of float32 images of shape (batch, 28, 28, 1) in
        [0, 1], or of `(images, labels)` pairs if `with_labels`.

    Raises:
        ValueError: bad argument, or a corrupt or truncated IDX file.
        FileNotFoundError: the files of the requested split are not in the
            local folder, or there is no data at all and none can be
            downloaded; the message says how to provide the files.

    Example:
    ```python
    ds = load("fashion_mnist", "train", batch_size=256, binarize="dynamic",
              seed=0)
    for x in ds.take(1):
        print(x.shape)  # (256, 28, 28, 1)
    ```
    """
    _validation.check_choice("name", name, DATASETS)
    split_names = _split_names(split)
    batch_size = _validation.check_positive_int("batch_size", batch_size)
    if binarize is not None:
        _validation.check_choice("binarize", binarize, _BINARIZE)
    threshold = _check_threshold(threshold)
    _check_optional_bool("shuffle", shuffle)
    seed = _validation.check_seed("seed", seed)
    if limit is not None:
        limit = _validation.check_positive_int("limit", limit)
    _check_optional_bool("download", download)
    if shuffle is None:
        shuffle = split_names == ("train",)

    import tensorflow as tf
    import tensorflow_datasets as tfds

    from keras_genmodels._arrays import data_options
    from keras_genmodels.datasets.tfds_builders import prepared_builder

    builder = prepared_builder(name, split_names, local_dir, data_dir, download)
    num_examples = builder.info.splits[split].num_examples
    if limit is not None:
        num_examples = min(num_examples, limit)
    ds = builder.as_dataset(
        split=split,
        shuffle_files=False,
        read_config=tfds.ReadConfig(try_autocache=False),
    )
    if limit is not None:
        ds = ds.take(limit)

    def to_float(example):
        x = tf.cast(example["image"], tf.float32) / 255.0
        return (x, example["label"]) if with_labels else x

    ds = ds.map(to_float, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if shuffle:
        ds = ds.shuffle(
            max(num_examples, 1), seed=seed, reshuffle_each_iteration=True
        )
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if binarize == "fixed":
        ds = ds.map(
            _on_images(lambda x: binarize_images(x, threshold)),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    elif binarize == "dynamic":
        # One stateless seed pair per batch, fresh each epoch, reproducible.
        noise_seeds = tf.data.Dataset.random(
            seed=None if seed is None else seed + 1,
            rerandomize_each_iteration=True,
        ).batch(2)
        ds = tf.data.Dataset.zip(ds, noise_seeds).map(
            _dynamic_binarize, num_parallel_calls=tf.data.AUTOTUNE
        )
    return ds.prefetch(tf.data.AUTOTUNE).with_options(data_options())


def _on_images(fn):
    """Lift `fn(images)` to elements that are images or (images, labels)."""

    def mapped(*element):
        if len(element) == 2:
            return fn(element[0]), element[1]
        return fn(element[0])

    return mapped


def _dynamic_binarize(element, seed):
    """b = 1[u < x], u ~ U[0, 1): a Bernoulli(x) sample per pixel."""
    import tensorflow as tf

    x = element[0] if isinstance(element, tuple) else element
    u = tf.random.stateless_uniform(tf.shape(x), seed=seed)
    b = tf.cast(u < x, tf.float32)
    return (b, element[1]) if isinstance(element, tuple) else b


def load_arrays(name, split="train", *, local_dir=None, with_labels=True):
    """Read MNIST or Fashion-MNIST straight from the IDX files, without TFDS.

    The folder is found as in `load` (`local_dir`, `$KERAS_GENMODELS_DATA_DIR`,
    the Debian Fashion-MNIST folder); examples keep the files' order.

    Args:
        name: one of `DATASETS`.
        split: "train" or "test". Defaults to "train".
        local_dir: folder of IDX files. Defaults to None.
        with_labels: also return the labels. Defaults to True.

    Returns:
        `(images, labels)`: uint8 images of shape (N, 28, 28, 1) and int64
        labels of shape (N,); only the images if `with_labels` is False.

    Raises:
        ValueError: bad argument, or a corrupt or truncated IDX file.
        FileNotFoundError: no folder with the files of `split`.
    """
    _validation.check_choice("name", name, DATASETS)
    _validation.check_choice("split", split, SPLITS)
    folder, looked = resolve_local_dir(name, local_dir)
    if folder is None:
        where = ", ".join(repr(f) for f in looked) or "(no folder configured)"
        raise FileNotFoundError(
            f"No {PRETTY_NAMES[name]} IDX files found (looked in {where}). "
            + how_to_provide(name)
        )
    check_split_files(name, folder, (split,))
    images, labels = read_split(folder, split)
    images = images[..., None]
    return (images, labels.astype(np.int64)) if with_labels else images


def binarize_images(x, threshold=0.5):
    """Fixed binarisation of grey levels x in [0, 1]: b = 1[x > threshold], as float32.

    The one rule of the package ("fixed" in `load`, the RBMs' data, the
    presets): with the default threshold, pixel p in 0..255 gives
    b = 1[p / 255 > 0.5] = 1[p > 127]. NumPy arrays give NumPy arrays,
    tensors give tensors (it runs inside `tf.data` maps).
    """
    if isinstance(x, np.ndarray):
        return (x > threshold).astype("float32")
    import tensorflow as tf

    return tf.cast(x > threshold, tf.float32)


def load_unit_images(name, split="train", *, binarize=None, limit=None, local_dir=None, flatten=False):
    """The images of a split as float32 NumPy arrays: grey levels x = pixel / 255, or binarised.

    Read with `load_arrays` (no TFDS), in the files' order.

    Args:
        name: one of `DATASETS`.
        split: "train" or "test". Defaults to "train".
        binarize: None (grey levels in [0, 1]) or "fixed" (`binarize_images`).
            Defaults to None.
        limit: keep the first `limit` images. Defaults to None (all).
        local_dir: folder of IDX files (see `load_arrays`). Defaults to None.
        flatten: return (N, 784) rather than (N, 28, 28, 1). Defaults to False.
    """
    if binarize is not None:
        _validation.check_choice("binarize", binarize, ("fixed",))
    images = load_arrays(name, split, local_dir=local_dir, with_labels=False)
    if limit is not None:
        images = images[: _validation.check_positive_int("limit", limit)]
    x = images.astype("float32") / 255.0
    if binarize == "fixed":
        x = binarize_images(x)
    return x.reshape(len(x), -1) if flatten else x
