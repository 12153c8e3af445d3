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
"""

import contextlib
import glob
import os
import re
import shutil
import socket
import tempfile
import urllib.parse

try:
    import fcntl
except ImportError:  # Windows: no lock (see `_exclusive_scratch`).
    fcntl = None

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow_datasets.image_classification import mnist as _tfds_mnist

from keras_genmodels import _validation
from keras_genmodels.idx import read_idx

DATASETS = ("mnist", "fashion_mnist")

ENV_VAR = "KERAS_GENMODELS_DATA_DIR"
DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"

# Split -> (images file, labels file), as named by LeCun et al. and Zalando.
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_SPLITS = tuple(_FILES)
_ALL_FILES = tuple(f for pair in _FILES.values() for f in pair)
_IMAGE_SHAPE = (28, 28)
_NUM_CLASSES = 10
_PRETTY = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
_BINARIZE = ("fixed", "dynamic")
_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
               "ALL_PROXY", "all_proxy")


# ---------------------------------------------------------------------------
# Local IDX files
# ---------------------------------------------------------------------------


def _file_path(folder, filename):
    """Path of `filename` in `folder`, gzipped or not, or None if absent."""
    for candidate in (filename, filename[: -len(".gz")]):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def _available_splits(folder):
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


def _source_signature(folder):
    """`{filename: size in bytes}` of the IDX files present in `folder`."""
    signature = {}
    for f in _ALL_FILES:
        path = _file_path(folder, f)
        if path is not None:
            signature[os.path.basename(path)] = os.path.getsize(path)
    return signature


def _how_to_provide(name):
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


def _check_split_files(name, folder, splits):
    """Raise `FileNotFoundError` naming the files of `splits` not in `folder`."""
    missing = [
        f for split in splits for f in _FILES[split] if _file_path(folder, f) is None
    ]
    if missing:
        raise FileNotFoundError(
            f"Expected the {_PRETTY[name]} split(s) {sorted(splits)} as IDX "
            f"files in {folder!r}. Missing: {', '.join(missing)} (looked for "
            f"{os.path.join(folder, missing[0])!r} and the same name without "
            f"'.gz'). Splits found there: {_available_splits(folder)}. "
            + _how_to_provide(name)
        )


def _read_split(folder, split):
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


def _resolve_local_dir(name, local_dir):
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


def _no_data_error(name, looked, data_dir, reason):
    where = ", ".join(repr(f) for f in looked) or "(no folder configured)"
    return FileNotFoundError(
        f"No {_PRETTY[name]} data found: no IDX files in {where}, no prepared "
        f"TFDS dataset in data_dir={_data_dir_root(data_dir)!r}, and {reason}. "
        + _how_to_provide(name)
    )


# ---------------------------------------------------------------------------
# TFDS builders that prepare from a local folder
# ---------------------------------------------------------------------------


class _LocalIDXBuilder:
    """Mixin: prepare a TFDS MNIST-like builder from local IDX files."""

    def __init__(self, *, local_dir=None, **kwargs):
        self._local_dir = None if local_dir is None else os.fspath(local_dir)
        super().__init__(**kwargs)

    def _info(self):
        info = super()._info()
        # Same features as TFDS's builder, plus a metadata dict recording the
        # source files, to notice a prepared copy that is out of date.
        return tfds.core.DatasetInfo(
            builder=self,
            description=info.description
            + "\n\nPrepared by keras_genmodels from local IDX files.",
            features=info.features,
            supervised_keys=info.supervised_keys,
            homepage=info.homepage,
            citation=info.citation,
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Nothing to download: the files are on disk.
        if self._local_dir is None:
            raise ValueError(
                f"Expected `local_dir`, a folder of IDX files, to prepare "
                f"{self.name}. Received: local_dir=None"
            )
        splits = _available_splits(self._local_dir)
        if not splits:
            _check_split_files(self.DATASET, self._local_dir, _SPLITS)
        # Read (and check) every split before TFDS writes anything.
        arrays = {split: _read_split(self._local_dir, split) for split in splits}
        self.info.metadata.update(
            source_dir=os.path.abspath(self._local_dir),
            source_files=_source_signature(self._local_dir),
        )
        return {
            split: self._generate_examples(images, labels)
            for split, (images, labels) in arrays.items()
        }

    def _generate_examples(self, images, labels):
        # Key = index in the IDX file, as in TFDS's own MNIST builder.
        for index in range(len(images)):
            yield index, {
                "image": images[index][..., None],
                "label": int(labels[index]),
            }


class LocalMNIST(_LocalIDXBuilder, _tfds_mnist.MNIST, skip_registration=True):
    """TFDS's `mnist`, prepared from a local folder of IDX files.

    Same features, version and splits as `tfds.builder("mnist")`; a folder
    with only some splits gives a dataset with only those splits.
    Prepared data goes to `<data_dir>/local_mnist/<version>/`.

    Args:
        local_dir: folder with `train-images-idx3-ubyte.gz` etc. (gzipped or
            not). Only needed to prepare. Defaults to `None`.
        data_dir: TFDS data folder. Defaults to TFDS's default
            (`$TFDS_DATA_DIR` or `~/tensorflow_datasets`).

    Example:
    ```python
    builder = LocalMNIST(local_dir="/data/mnist", data_dir="/tmp/tfds")
    builder.download_and_prepare()
    ds = builder.as_dataset(split="test")
    ```
    """

    name = "local_mnist"
    DATASET = "mnist"


class LocalFashionMNIST(
    _LocalIDXBuilder, _tfds_mnist.FashionMNIST, skip_registration=True
):
    """TFDS's `fashion_mnist`, prepared from a local folder of IDX files.

    See `LocalMNIST`. Prepared data goes to
    `<data_dir>/local_fashion_mnist/<version>/`.
    """

    name = "local_fashion_mnist"
    DATASET = "fashion_mnist"


_LOCAL_BUILDERS = {"mnist": LocalMNIST, "fashion_mnist": LocalFashionMNIST}


def _data_dir_root(data_dir):
    if data_dir:
        return os.fspath(data_dir)
    return tfds.core.constants.get_default_data_dir()


def _prepare_local(name, folder, data_dir):
    """Prepare (or reuse) the local builder's dataset for `folder`.

    A dataset prepared in `data_dir` is reused if it records the same source
    files (names and sizes) as `folder` has now; otherwise it is prepared
    again from `folder` and replaces the recorded one (see `_prepare_once`).
    """
    cls = _LOCAL_BUILDERS[name]
    signature = _source_signature(folder)

    def make_builder(builder_data_dir):
        return cls(local_dir=folder, data_dir=builder_data_dir)

    def find_prepared():
        builder = make_builder(data_dir)
        if builder.is_prepared():
            recorded = dict(builder.info.metadata or {}).get("source_files")
            if recorded == signature:
                return builder
        return None  # Not prepared, or from other files (e.g. fewer splits).

    def prepare(builder):
        # REUSE_CACHE_IF_EXISTS overwrites a prepared copy (only met where
        # `_prepare_once` prepares in place, for a remote data_dir).
        mode = (
            tfds.download.GenerateMode.REUSE_CACHE_IF_EXISTS
            if builder.is_prepared()
            else tfds.download.GenerateMode.REUSE_DATASET_IF_EXISTS
        )
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(download_mode=mode)
        )

    builder = find_prepared()
    if builder is not None:
        return builder
    return _prepare_once(name, data_dir, make_builder, find_prepared, prepare)


# ---------------------------------------------------------------------------
# Preparing safely when several processes share a data_dir
# ---------------------------------------------------------------------------


def _lock_path(name, root):
    return os.path.join(root, f".keras_genmodels-{name}.lock")


def _scratch_prefix(name):
    return f".keras_genmodels-{name}-preparing-"


@contextlib.contextmanager
def _exclusive_scratch(name, root):
    """Hold the lock of `name` in `root` and yield a new private scratch folder.

    The lock is `fcntl.flock` on `<root>/.keras_genmodels-<name>.lock`; the
    kernel releases it when its holder exits, however it exits. Only the
    holder creates scratch folders, so any scratch folder of `name` found on
    entry is a leftover of a process that died while preparing: it is
    deleted. The scratch folder (`tempfile.mkdtemp`, whose names do not
    depend on Python's `random`) is deleted on exit. Without `fcntl`
    (Windows) there is no lock and leftovers are kept.
    """
    os.makedirs(root, exist_ok=True)
    prefix = _scratch_prefix(name)
    with open(_lock_path(name, root), "a") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)  # Released when `lock` closes.
            for leftover in glob.glob(os.path.join(glob.escape(root), prefix + "*")):
                shutil.rmtree(leftover, ignore_errors=True)
        scratch = tempfile.mkdtemp(prefix=prefix, dir=root)
        try:
            yield scratch
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _move_into_place(prepared, target, scratch):
    """Rename the version folder `prepared` to `target` (renames only).

    A `target` already there (out of date, or not a complete dataset) is
    first renamed into `scratch`, which the caller deletes; if the second
    rename fails, it is put back. A reader thus sees the old folder, then
    none, then the new one: never a partly written or partly deleted one.
    """
    os.makedirs(os.path.dirname(target), exist_ok=True)
    old = os.path.join(scratch, "replaced")
    if os.path.lexists(target):
        os.rename(target, old)
    try:
        os.rename(prepared, target)
    except OSError:
        if os.path.lexists(old):
            os.rename(old, target)
        raise


def _prepare_once(name, data_dir, make_builder, find_prepared, prepare):
    """Prepare a dataset in `data_dir` so that concurrent processes are safe.

    `make_builder(d)` gives the TFDS builder writing in data folder `d`,
    `find_prepared()` the usable builder already prepared in `data_dir` (or
    None) and `prepare(builder)` runs `builder.download_and_prepare`.

    Under the lock of `name` (`_exclusive_scratch`) `find_prepared()` is
    asked again (another process may have just prepared it; its copy is then
    used, nothing is prepared twice); otherwise the dataset is prepared in
    the private scratch folder and its version folder renamed into place
    (`_move_into_place`). A remote `data_dir` (`gs://...`), where neither
    locks nor renames of folders exist, is prepared in place, as TFDS does.
    """
    target = make_builder(data_dir)
    root = os.fspath(target.data_dir_root)
    if "://" in root:
        prepare(target)
        return make_builder(data_dir)
    with _exclusive_scratch(name, root) as scratch:
        builder = find_prepared()
        if builder is not None:
            return builder
        private = make_builder(scratch)
        prepare(private)
        _move_into_place(
            os.fspath(private.data_path), os.fspath(target.data_path), scratch
        )
    return make_builder(data_dir)  # Reads the info of the copy now in place.


def _reachable(url, timeout=5.0):
    """Whether a TCP connection to `url`'s host opens (always True via a proxy).

    TFDS retries a failed download for minutes before giving up; this check
    turns "no network" into an immediate, clear error.
    """
    if any(os.environ.get(v) for v in _PROXY_VARS):
        return True
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def _builder(name, split_names, local_dir, data_dir, download):
    """Return a prepared TFDS builder following the resolution order."""
    folder, looked = _resolve_local_dir(name, local_dir)
    if folder is not None:
        _check_split_files(name, folder, split_names)
        return _prepare_local(name, folder, data_dir)

    def find_prepared():
        local = _LOCAL_BUILDERS[name](data_dir=data_dir)
        if local.is_prepared() and set(split_names) <= set(local.info.splits.keys()):
            return local
        builder = tfds.builder(name, data_dir=data_dir)
        return builder if builder.is_prepared() else None

    builder = find_prepared()
    if builder is not None:
        return builder
    builder = tfds.builder(name, data_dir=data_dir)
    if download is False:
        raise _no_data_error(name, looked, data_dir, "download=False")
    if download is None and not _reachable(builder.URL):
        raise _no_data_error(
            name, looked, data_dir,
            f"{urllib.parse.urlsplit(builder.URL).hostname} cannot be reached "
            "to download it",
        )
    # Downloads are kept in data_dir's own cache, not in the scratch folder.
    downloads = os.path.join(os.fspath(builder.data_dir_root), "downloads")

    def download_and_prepare(private):
        try:
            private.download_and_prepare(download_dir=downloads)
        except (OSError, tfds.download.DownloadError) as e:
            reason = f"the download failed ({type(e).__name__}: {str(e)[:300]})"
            raise _no_data_error(name, looked, data_dir, reason) from None

    return _prepare_once(
        name, data_dir, lambda d: tfds.builder(name, data_dir=d), find_prepared,
        download_and_prepare,
    )


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def _split_names(split):
    """Base split names of a TFDS split spec, e.g. "train[:90%]+test"."""
    if not isinstance(split, str):
        raise ValueError(
            "Expected `split` to be a str such as 'train', 'test' or "
            f"'train[:90%]'. Received: split={split!r}"
        )
    try:
        tfds.core.ReadInstruction.from_spec(split)
    except (ValueError, AssertionError) as e:
        raise ValueError(
            "Expected `split` in TFDS split syntax, such as 'train', 'test', "
            f"'train[:90%]' or 'train[:1000]+test'. Received: split={split!r}"
        ) from e
    names = re.findall(r"(?:^|\+)\s*([A-Za-z_]\w*)", split)
    unknown = sorted(set(names) - set(_SPLITS))
    if not names or unknown:
        raise ValueError(
            f"Expected `split` made of the splits {list(_SPLITS)}. "
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


def _check_seed(seed):
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
    ):
        raise ValueError(f"`seed` must be None or an int. Received: seed={seed!r}")
    return None if seed is None else int(seed)


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
    (`bench/numpy_fit_stall.py --datasets`).

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
    seed = _check_seed(seed)
    if limit is not None:
        limit = _validation.check_positive_int("limit", limit)
    _check_optional_bool("download", download)
    if shuffle is None:
        shuffle = split_names == ("train",)

    builder = _builder(name, split_names, local_dir, data_dir, download)
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
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(tf.data.AUTOTUNE).with_options(options)


def _on_images(fn):
    """Lift `fn(images)` to elements that are images or (images, labels)."""

    def mapped(*element):
        if len(element) == 2:
            return fn(element[0]), element[1]
        return fn(element[0])

    return mapped


def _dynamic_binarize(element, seed):
    """b = 1[u < x], u ~ U[0, 1): a Bernoulli(x) sample per pixel."""
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
    _validation.check_choice("split", split, _SPLITS)
    folder, looked = _resolve_local_dir(name, local_dir)
    if folder is None:
        where = ", ".join(repr(f) for f in looked) or "(no folder configured)"
        raise FileNotFoundError(
            f"No {_PRETTY[name]} IDX files found (looked in {where}). "
            + _how_to_provide(name)
        )
    _check_split_files(name, folder, (split,))
    images, labels = _read_split(folder, split)
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
