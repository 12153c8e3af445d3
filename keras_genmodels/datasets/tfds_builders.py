"""The TFDS builders of MNIST and Fashion-MNIST: from local files, prepared safely, chosen.

- `LocalMNIST` and `LocalFashionMNIST` subclass TFDS's own `MNIST` and
  `FashionMNIST` (same features, version and split names) and prepare from a
  folder of IDX files (`idx_files`) instead of downloading.
- Preparing into a local `data_dir` is safe when several processes share it
  (the package docstring says how): under a lock, in a private scratch folder,
  the finished version folder renamed into place (`_prepare_once`).
- `prepared_builder` follows the package's resolution order: local files,
  a dataset already prepared in `data_dir`, TFDS's download.
"""

import os
import socket
import urllib.parse

import tensorflow_datasets as tfds
from tensorflow_datasets.image_classification import mnist as _tfds_mnist

from keras_genmodels import _files
from keras_genmodels.datasets.idx_files import (
    PRETTY_NAMES,
    SPLITS,
    available_splits,
    check_split_files,
    how_to_provide,
    read_split,
    resolve_local_dir,
    source_signature,
)

_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
               "ALL_PROXY", "all_proxy")


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
        splits = available_splits(self._local_dir)
        if not splits:
            check_split_files(self.DATASET, self._local_dir, SPLITS)
        # Read (and check) every split before TFDS writes anything.
        arrays = {split: read_split(self._local_dir, split) for split in splits}
        self.info.metadata.update(
            source_dir=os.path.abspath(self._local_dir),
            source_files=source_signature(self._local_dir),
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
    signature = source_signature(folder)

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


def _prepare_once(name, data_dir, make_builder, find_prepared, prepare):
    """Prepare a dataset in `data_dir` so that concurrent processes are safe.

    `make_builder(d)` gives the TFDS builder writing in data folder `d`,
    `find_prepared()` the usable builder already prepared in `data_dir` (or
    None) and `prepare(builder)` runs `builder.download_and_prepare`.

    Under the lock of `name` (`_files.exclusive_scratch`) `find_prepared()`
    is asked again (another process may have just prepared it; its copy is
    then used, nothing is prepared twice); otherwise the dataset is prepared
    in the private scratch folder and its version folder renamed into place
    (`_files.replace_folder`; an out-of-date copy is renamed into the scratch
    folder, which a crash leaves for the next preparer to delete, and deleted
    once the new one is in). A remote `data_dir` (`gs://...`), where neither
    locks nor renames of folders exist, is prepared in place, as TFDS does.
    """
    target = make_builder(data_dir)
    root = os.fspath(target.data_dir_root)
    if "://" in root:
        prepare(target)
        return make_builder(data_dir)
    with _files.exclusive_scratch(name, root) as scratch:
        builder = find_prepared()
        if builder is not None:
            return builder
        private = make_builder(scratch)
        prepare(private)
        _files.replace_folder(
            os.fspath(private.data_path), os.fspath(target.data_path), aside=scratch
        )
    return make_builder(data_dir)  # Reads the info of the copy now in place.


# ---------------------------------------------------------------------------
# Choosing the builder: local files, a prepared dataset or TFDS's download
# ---------------------------------------------------------------------------


def _no_data_error(name, looked, data_dir, reason):
    where = ", ".join(repr(f) for f in looked) or "(no folder configured)"
    return FileNotFoundError(
        f"No {PRETTY_NAMES[name]} data found: no IDX files in {where}, no prepared "
        f"TFDS dataset in data_dir={_data_dir_root(data_dir)!r}, and {reason}. "
        + how_to_provide(name)
    )


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


def prepared_builder(name, split_names, local_dir, data_dir, download):
    """Return a prepared TFDS builder following the resolution order.

    The order is the package docstring's: the IDX files of a local folder
    (`idx_files.resolve_local_dir`; prepared by `LocalMNIST` or
    `LocalFashionMNIST` unless already prepared from the same files), else a
    dataset already prepared in `data_dir` that has the splits `split_names`,
    else TFDS's download (unless `download` is False, or None and the host
    cannot be reached). Arguments are those of `load`, already checked.

    Raises:
        FileNotFoundError: files of `split_names` missing from the local
            folder, or no data and no download; the message says how to
            provide the files.
    """
    folder, looked = resolve_local_dir(name, local_dir)
    if folder is not None:
        check_split_files(name, folder, split_names)
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
