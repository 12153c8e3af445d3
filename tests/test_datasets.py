"""Tests of keras_genmodels.datasets, all on local files (nothing is downloaded).

Real data: Debian's Fashion-MNIST folder and the MNIST test split (fixtures in
conftest.py). Small synthetic IDX folders check the folder logic quickly.
"""

import glob
import gzip
import os
import pathlib
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow_datasets as tfds
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_genmodels import datasets
from keras_genmodels.datasets import idx_files, tfds_builders
from keras_genmodels.idx import parse_idx

REPO = pathlib.Path(__file__).resolve().parents[1]
WORKER = REPO / "tests" / "datasets_worker.py"
TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


# ---------------------------------------------------------------------------
# Helpers and fixtures
# ---------------------------------------------------------------------------


def idx_bytes(array):
    """Bytes of an IDX file of a uint8 array."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return header + array.tobytes()


def write_idx(path, array):
    with gzip.open(path, "wb") as f:
        f.write(idx_bytes(array))


def write_synthetic_split(folder, split, n, offset=0):
    """Write `n` distinct images (image i is filled with i + offset)."""
    images_file, labels_file = TRAIN_FILES if split == "train" else TEST_FILES
    values = np.arange(offset, offset + n, dtype=np.uint8)
    write_idx(folder / images_file, np.broadcast_to(values[:, None, None], (n, 28, 28)))
    write_idx(folder / labels_file, values % 10)


def link_files(src, dst, names):
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        os.symlink(src / name, dst / name)
    return dst


def collect(ds):
    """One full pass over `ds`: (images, labels) or images, concatenated."""
    batches = list(ds.as_numpy_iterator())
    if isinstance(batches[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*batches))
    return np.concatenate(batches)


def sorted_examples(images, labels):
    """Examples as sorted byte strings: compares datasets up to order."""
    images = np.asarray(images).reshape(len(images), -1)
    return sorted(img.tobytes() + bytes([int(y)]) for img, y in zip(images, labels))


@pytest.fixture(autouse=True)
def no_env_data_dir(monkeypatch):
    """Tests choose the data folder themselves."""
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)


@pytest.fixture(scope="session")
def fashion_test(tmp_path_factory, fashion_mnist_dir):
    """Fashion-MNIST's test split, prepared once: (local_dir, data_dir).

    The folder links only the test files, so TFDS prepares 10k examples, not 70k.
    """
    local_dir = link_files(
        fashion_mnist_dir, tmp_path_factory.mktemp("fashion_idx"), TEST_FILES
    )
    data_dir = tmp_path_factory.mktemp("tfds")
    datasets.load("fashion_mnist", "test", local_dir=local_dir, data_dir=data_dir)
    return local_dir, data_dir


@pytest.fixture
def load_fashion(fashion_test):
    local_dir, data_dir = fashion_test

    def load(split="test", **kwargs):
        return datasets.load(
            "fashion_mnist", split, local_dir=local_dir, data_dir=data_dir,
            download=False, **kwargs,
        )

    return load


# ---------------------------------------------------------------------------
# load: shapes, values, TFDS content
# ---------------------------------------------------------------------------


def test_load_shapes_dtypes_range(load_fashion):
    ds = load_fashion(batch_size=256, limit=1000, with_labels=True)
    batches = list(ds.as_numpy_iterator())
    assert [x.shape for x, _ in batches] == [(256, 28, 28, 1)] * 3 + [(232, 28, 28, 1)]
    x, y = collect(ds)
    assert x.dtype == np.float32 and y.dtype == np.int64 and y.shape == (1000,)
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_allclose(x * 255, np.round(x * 255), atol=1e-4)
    assert set(np.unique(y)) <= set(range(10))
    # No autotuning: its thread stalled Keras's per-epoch iterator destruction by seconds.
    assert ds.options().autotune.enabled is False


def test_tfds_test_split_equals_idx_files(load_fashion, fashion_mnist_dir):
    x, y = collect(load_fashion(batch_size=4096, with_labels=True))
    raw_x, raw_y = datasets.load_arrays("fashion_mnist", "test", local_dir=fashion_mnist_dir)
    assert x.shape == (10000, 28, 28, 1) and raw_x.shape == x.shape
    # TFDS stores examples in an order of its own (hash of the key), so
    # compare the multisets of (image, label), pixel for pixel.
    tfds_pixels = np.rint(x * 255).astype(np.uint8)
    np.testing.assert_array_equal(tfds_pixels, x * 255)
    assert sorted_examples(tfds_pixels, y) == sorted_examples(raw_x, raw_y)


def test_prepared_dataset_is_a_tfds_dataset(fashion_test):
    _, data_dir = fashion_test
    builder = datasets.LocalFashionMNIST(data_dir=data_dir)
    assert builder.is_prepared()
    assert builder.data_dir == os.path.join(data_dir, "local_fashion_mnist", "3.0.1")
    reference = tfds.builder("fashion_mnist", data_dir=data_dir)
    assert repr(builder.info.features) == repr(reference.info.features)
    assert builder.info.features["label"].names[0] == "T-shirt/top"
    assert list(builder.info.splits) == ["test"]
    assert builder.info.splits["test"].num_examples == 10000


def test_fixed_binarization(load_fashion):
    grey, labels = collect(load_fashion(limit=500, with_labels=True))
    for threshold in (0.3, 0.7):
        b, b_labels = collect(
            load_fashion(limit=500, with_labels=True, binarize="fixed", threshold=threshold)
        )
        np.testing.assert_array_equal(b, (grey > threshold).astype(np.float32))
        np.testing.assert_array_equal(b_labels, labels)
    assert set(np.unique(b)) == {0.0, 1.0}


def test_dynamic_binarization(load_fashion):
    grey = collect(load_fashion(limit=2000, batch_size=500))
    ds = load_fashion(limit=2000, batch_size=500, binarize="dynamic", seed=0)
    epoch1, epoch2 = collect(ds), collect(ds)
    assert set(np.unique(epoch1)) == {0.0, 1.0}
    assert np.mean(epoch1 != epoch2) > 0.05  # re-sampled every epoch
    # E[b] = x: over 1.6M pixels the mean's standard error is ~3e-4.
    assert abs(epoch1.mean() - grey.mean()) < 3e-3
    assert abs(epoch2.mean() - grey.mean()) < 3e-3
    assert np.all(epoch1[grey == 0] == 0) and np.all(epoch1[grey == 1] == 1)
    # Per-pixel frequencies follow the grey level (binned by grey level).
    both = (epoch1 + epoch2) / 2
    dark, light = both[(grey > 0) & (grey < 0.2)], both[grey > 0.8]
    assert dark.mean() < 0.15 < 0.85 < light.mean()
    # Labels ride along unchanged.
    _, labels = collect(load_fashion(limit=2000, with_labels=True))
    x, y = collect(load_fashion(limit=2000, with_labels=True, binarize="dynamic"))
    np.testing.assert_array_equal(y, labels)
    assert set(np.unique(x)) == {0.0, 1.0}
    # Reproducible from the seed, epoch by epoch.
    again = load_fashion(limit=2000, batch_size=500, binarize="dynamic", seed=0)
    np.testing.assert_array_equal(collect(again), epoch1)
    np.testing.assert_array_equal(collect(again), epoch2)


def test_shuffle_is_seeded_and_reshuffled_each_epoch(load_fashion):
    plain, plain_y = collect(load_fashion(limit=1000, with_labels=True))
    ds = load_fashion(limit=1000, with_labels=True, shuffle=True, seed=5)
    (x1, y1), (x2, y2) = collect(ds), collect(ds)
    assert not np.array_equal(y1, y2)  # a new order each epoch
    assert not np.array_equal(y1, plain_y)
    assert sorted_examples(x1, y1) == sorted_examples(plain, plain_y)  # a permutation
    same = load_fashion(limit=1000, with_labels=True, shuffle=True, seed=5)
    (z1, w1), (z2, w2) = collect(same), collect(same)
    np.testing.assert_array_equal(z1, x1)
    np.testing.assert_array_equal(w2, y2)
    other = load_fashion(limit=1000, with_labels=True, shuffle=True, seed=6)
    assert not np.array_equal(collect(other)[1], y1)


def test_test_split_is_not_shuffled_by_default(load_fashion):
    ds = load_fashion(limit=300, with_labels=True)
    np.testing.assert_array_equal(collect(ds)[1], collect(ds)[1])


def test_limit_drop_remainder_repeat(load_fashion):
    first = collect(load_fashion(batch_size=4096))[:100]
    np.testing.assert_array_equal(collect(load_fashion(limit=100, batch_size=32)), first)
    assert len(list(load_fashion(limit=100, batch_size=32))) == 4
    dropped = list(load_fashion(limit=100, batch_size=32, drop_remainder=True))
    assert [b.shape[0] for b in dropped] == [32, 32, 32]
    repeated = list(load_fashion(limit=100, batch_size=32, repeat=True).take(7))
    assert [b.shape[0] for b in repeated] == [32] * 7  # batches straddle epochs


def test_split_slicing(load_fashion):
    full = collect(load_fashion(batch_size=4096))
    np.testing.assert_array_equal(collect(load_fashion("test[:10%]", batch_size=4096)), full[:1000])
    np.testing.assert_array_equal(collect(load_fashion("test[-50:]")), full[-50:])


# ---------------------------------------------------------------------------
# Folders: MNIST test split only, env var, partial folders, no data
# ---------------------------------------------------------------------------


def test_mnist_test_split_from_local_dir(mnist_dir, tmp_path):
    x, y = collect(
        datasets.load("mnist", "test", local_dir=mnist_dir, data_dir=tmp_path,
                      batch_size=4096, with_labels=True, download=False)
    )
    raw_x, raw_y = datasets.load_arrays("mnist", "test", local_dir=mnist_dir)
    assert x.shape == (10000, 28, 28, 1)
    assert sorted_examples(np.rint(x * 255).astype(np.uint8), y) == sorted_examples(raw_x, raw_y)
    assert datasets.LocalMNIST(data_dir=tmp_path).info.splits.keys() == {"test"}


def test_mnist_train_missing_files_error(mnist_dir, tmp_path):
    for call in (
        lambda: datasets.load("mnist", "train", local_dir=mnist_dir, data_dir=tmp_path),
        lambda: datasets.load_arrays("mnist", "train", local_dir=mnist_dir),
    ):
        with pytest.raises(FileNotFoundError) as info:
            call()
        message = str(info.value)
        assert "Missing: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz" in message
        assert str(mnist_dir) in message
        assert "Splits found there: ['test']" in message
    assert not (tmp_path / "local_mnist").exists()  # nothing was prepared


def test_env_var_folder_and_subfolder(mnist_dir, tmp_path, monkeypatch):
    sub = link_files(mnist_dir, tmp_path / "env" / "mnist", TEST_FILES)
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "env"))
    images, labels = datasets.load_arrays("mnist", "test")
    assert images.shape == (10000, 28, 28, 1) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.int64
    with pytest.raises(FileNotFoundError, match=str(sub)):
        datasets.load_arrays("mnist", "train")
    monkeypatch.setenv(datasets.ENV_VAR, str(sub))  # the folder itself
    np.testing.assert_array_equal(datasets.load_arrays("mnist", "test", with_labels=False), images)


@pytest.mark.slow
def test_full_fashion_mnist_from_the_debian_folder(fashion_mnist_dir, tmp_path):
    # No local_dir: the Debian folder is found, all 70k examples are prepared.
    ds = datasets.load("fashion_mnist", data_dir=tmp_path, download=False,
                       batch_size=1000, with_labels=True, limit=10000, seed=0)
    x, y = collect(ds)
    assert x.shape == (10000, 28, 28, 1)
    assert abs(np.bincount(y, minlength=10) - 1000).max() < 100
    assert abs(x.mean() - 0.2860) < 5e-3  # Fashion-MNIST's well-known mean
    info = datasets.LocalFashionMNIST(data_dir=tmp_path).info
    assert {k: v.num_examples for k, v in info.splits.items()} == {
        "train": 60000, "test": 10000
    }


def test_debian_folder_is_found_without_settings(fashion_mnist_dir):
    images, labels = datasets.load_arrays("fashion_mnist", "test")
    assert images.shape == (10000, 28, 28, 1)
    np.testing.assert_array_equal(np.bincount(labels), [1000] * 10)  # balanced


def test_partial_folder_then_full_folder_and_prepared_fallback(tmp_path):
    folder, data_dir = tmp_path / "idx", tmp_path / "tfds"
    folder.mkdir()
    write_synthetic_split(folder, "test", 20, offset=100)
    x, y = collect(
        datasets.load("mnist", "test", local_dir=folder, data_dir=data_dir, with_labels=True)
    )
    assert sorted(x[:, 0, 0, 0] * 255) == pytest.approx(range(100, 120))
    np.testing.assert_array_equal(y, np.rint(x[:, 0, 0, 0] * 255).astype(int) % 10)
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte.gz"):
        datasets.load("mnist", "train", local_dir=folder, data_dir=data_dir)
    # The train files arrive: the prepared copy is out of date and is redone.
    write_synthetic_split(folder, "train", 30)
    ds = datasets.load("mnist", "train", local_dir=folder, data_dir=data_dir, seed=1)
    epoch1, epoch2 = collect(ds), collect(ds)
    assert sorted(epoch1[:, 0, 0, 0] * 255) == pytest.approx(range(30))
    assert not np.array_equal(epoch1, epoch2)  # train is shuffled by default
    # Without any folder, the dataset prepared in data_dir is used.
    x = collect(datasets.load("mnist", "train", data_dir=data_dir, download=False))
    assert x.shape == (30, 28, 28, 1)


@pytest.mark.parametrize("name", datasets.DATASETS)
def test_no_files_and_no_download_gives_one_clear_message(name, tmp_path, monkeypatch):
    # Patched where the folder is resolved (the package only re-exports it).
    monkeypatch.setattr(idx_files, "DEBIAN_FASHION_MNIST_DIR", str(tmp_path / "none"))
    with pytest.raises(FileNotFoundError) as info:
        datasets.load(name, data_dir=tmp_path, download=False)
    message = str(info.value)
    assert "download=False" in message and "local_dir" in message
    assert datasets.ENV_VAR in message and "train-images-idx3-ubyte.gz" in message
    assert ("apt-get install dataset-fashion-mnist" in message) == (name == "fashion_mnist")
    with pytest.raises(FileNotFoundError, match=datasets.ENV_VAR):
        datasets.load_arrays(name)


def test_unreachable_host_fails_fast_without_downloading(tmp_path, monkeypatch):
    for var in tfds_builders._PROXY_VARS:
        monkeypatch.delenv(var, raising=False)

    def no_network(*args, **kwargs):
        raise OSError("Name or service not known")

    def no_download(self, **kwargs):
        raise AssertionError("download_and_prepare must not be called")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", no_download)
    with pytest.raises(FileNotFoundError, match="cannot be reached") as info:
        datasets.load("mnist", data_dir=tmp_path)
    assert "local_dir" in str(info.value)


def test_failed_download_is_reported_without_tfds_traceback(tmp_path, monkeypatch):
    def failing_download(self, **kwargs):
        raise OSError("Max retries exceeded")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", failing_download)
    with pytest.raises(FileNotFoundError, match="the download failed") as info:
        datasets.load("mnist", data_dir=tmp_path, download=True)
    assert info.value.__cause__ is None and info.value.__suppress_context__


# ---------------------------------------------------------------------------
# Several processes preparing one data folder; crashes while preparing
# ---------------------------------------------------------------------------


def worker_env():
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONUNBUFFERED="1")
    env.pop(datasets.ENV_VAR, None)
    return env


def read_until_ready(proc):
    """The output of `proc` up to its line "ready" (or to its end)."""
    lines = []
    for line in iter(proc.stdout.readline, ""):
        if line == "ready\n":
            break
        lines.append(line)
    return "".join(lines)


def load_in_processes(name, local_dir, data_dir, out_dir, n=2, timeout=600):
    """`datasets.load(name, "test")` in `n` processes (tests/datasets_worker.py),
    with Python's `random` seeded alike in each, released together once all
    have imported TensorFlow. Returns what each read: a dict of arrays."""
    command = [sys.executable, str(WORKER), "load", name, str(local_dir), str(data_dir)]
    procs = [
        subprocess.Popen(
            command + [str(out_dir / f"worker{i}.npz")], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
            env=worker_env(),
        )
        for i in range(n)
    ]
    try:
        before = [read_until_ready(proc) for proc in procs]
        for proc in procs:
            try:
                proc.stdin.write("go\n")
                proc.stdin.flush()
            except BrokenPipeError:  # It died before "ready": its output says why.
                pass
        outputs = [b + proc.communicate(timeout=timeout)[0] for b, proc in zip(before, procs)]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for i, (proc, output) in enumerate(zip(procs, outputs)):
        assert proc.returncode == 0, f"worker {i} of {n} failed:\n{output[-3000:]}"
    return [dict(np.load(out_dir / f"worker{i}.npz")) for i in range(n)]


def files_under(folder):
    """Relative paths of every file and folder under `folder`, sorted."""
    return sorted(str(p.relative_to(folder)) for p in pathlib.Path(folder).rglob("*"))


def test_two_processes_prepare_fashion_mnist_in_an_empty_data_dir_at_once(
    fashion_mnist_dir, tmp_path
):
    # Python's `random` seeded alike, as the command line does: TFDS alone would
    # give both processes the same temporary folder.
    local_dir = link_files(fashion_mnist_dir, tmp_path / "idx", TEST_FILES)
    data_dir = tmp_path / "tfds"
    data_dir.mkdir()
    first, second = load_in_processes("fashion_mnist", local_dir, data_dir, tmp_path)
    raw_x, raw_y = datasets.load_arrays("fashion_mnist", "test", local_dir=local_dir)
    for read in (first, second):
        assert read["images"].shape == (10000, 28, 28, 1) and read["labels"].shape == (10000,)
        assert sorted_examples(read["images"], read["labels"]) == sorted_examples(raw_x, raw_y)
    np.testing.assert_array_equal(first["images"][:1000], second["images"][:1000])
    np.testing.assert_array_equal(first["labels"], second["labels"])
    # One prepared copy, and no temporary folder left behind.
    builder = datasets.LocalFashionMNIST(data_dir=data_dir)
    assert builder.is_prepared() and builder.info.splits["test"].num_examples == 10000
    version = os.path.join("local_fashion_mnist", "3.0.1")
    assert [f for f in files_under(data_dir) if not f.startswith(version + os.sep)] == [
        ".keras_genmodels-fashion_mnist.lock", "local_fashion_mnist", version
    ]


def test_two_processes_prepare_again_from_new_files_at_once(tmp_path):
    folder, data_dir = tmp_path / "idx", tmp_path / "tfds"
    folder.mkdir()
    write_synthetic_split(folder, "test", 20, offset=100)
    datasets.load("mnist", "test", local_dir=folder, data_dir=data_dir)
    write_synthetic_split(folder, "test", 50)  # other files: both prepare again
    first, second = load_in_processes("mnist", folder, data_dir, tmp_path)
    for read in (first, second):
        assert sorted(read["images"][:, 0, 0, 0]) == list(range(50))
    np.testing.assert_array_equal(first["images"], second["images"])
    info = datasets.LocalMNIST(data_dir=data_dir).info
    assert info.splits["test"].num_examples == 50
    assert info.metadata["source_files"] == {f: (folder / f).stat().st_size for f in TEST_FILES}
    assert not glob.glob(str(data_dir / ".keras_genmodels-mnist-preparing-*"))
    assert not glob.glob(str(data_dir / "local_mnist" / "incomplete*"))


def test_a_process_killed_while_preparing_leaves_nothing_taken_for_a_dataset(tmp_path):
    folder, data_dir = tmp_path / "idx", tmp_path / "tfds"
    folder.mkdir()
    write_synthetic_split(folder, "test", 200)
    proc = subprocess.run(
        [sys.executable, str(WORKER), "crash", "mnist", str(folder), str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        env=worker_env(), timeout=600,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stdout[-3000:]
    scratch = glob.glob(str(data_dir / ".keras_genmodels-mnist-preparing-*"))
    assert len(scratch) == 1 and os.listdir(scratch[0])  # the crash's leftover
    assert not datasets.LocalMNIST(data_dir=data_dir).is_prepared()
    with pytest.raises(FileNotFoundError, match="no prepared TFDS dataset"):
        datasets.load("mnist", "test", data_dir=data_dir, download=False)
    # The next preparation deletes the leftover and gives the whole dataset.
    x = collect(datasets.load("mnist", "test", local_dir=folder, data_dir=data_dir))
    assert sorted(np.rint(x[:, 0, 0, 0] * 255)) == list(range(200))
    version = os.path.join("local_mnist", "3.0.1")
    assert [f for f in files_under(data_dir) if not f.startswith(version + os.sep)] == [
        ".keras_genmodels-mnist.lock", "local_mnist", version
    ]


def test_a_failed_preparation_keeps_the_dataset_prepared_before(tmp_path):
    folder, data_dir = tmp_path / "idx", tmp_path / "tfds"
    folder.mkdir()
    write_synthetic_split(folder, "test", 20, offset=100)
    datasets.load("mnist", "test", local_dir=folder, data_dir=data_dir)
    before = files_under(data_dir)
    # New train files, one of them truncated: preparing again fails.
    write_synthetic_split(folder, "train", 30)
    raw = gzip.decompress((folder / TRAIN_FILES[0]).read_bytes())
    with gzip.open(folder / TRAIN_FILES[0], "wb") as f:
        f.write(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated"):
        datasets.load("mnist", "test", local_dir=folder, data_dir=data_dir)
    assert files_under(data_dir) == before
    x = collect(datasets.load("mnist", "test", data_dir=data_dir, download=False))
    assert sorted(np.rint(x[:, 0, 0, 0] * 255)) == list(range(100, 120))


def test_download_prepares_in_a_scratch_folder_and_keeps_the_download_cache(
    tmp_path, monkeypatch
):
    seen = []

    def failing_download(self, **kwargs):
        seen.append((os.fspath(self.data_dir), kwargs))
        raise OSError("Max retries exceeded")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", failing_download)
    with pytest.raises(FileNotFoundError, match="the download failed"):
        datasets.load("mnist", data_dir=tmp_path, download=True)
    [(builder_dir, kwargs)] = seen
    scratch = os.path.relpath(builder_dir, tmp_path).split(os.sep)[0]
    assert scratch.startswith(".keras_genmodels-mnist-preparing-")
    assert kwargs == {"download_dir": str(tmp_path / "downloads")}
    assert files_under(tmp_path) == [".keras_genmodels-mnist.lock"]  # scratch deleted


# ---------------------------------------------------------------------------
# Bad arguments and bad files
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(name="cifar10"), "name='cifar10'"),
        (dict(split="validation"), "split='validation'"),
        (dict(split="train[:abc]"), r"split='train\[:abc\]'"),
        (dict(split=0), "split=0"),
        (dict(batch_size=0), "batch_size=0"),
        (dict(batch_size=2.5), "batch_size=2.5"),
        (dict(binarize="otsu"), "binarize='otsu'"),
        (dict(binarize=True), "binarize=True"),
        (dict(threshold=0.0), "threshold=0.0"),
        (dict(threshold=1.0), "threshold=1.0"),
        (dict(threshold="0.5"), "threshold='0.5'"),
        (dict(limit=0), "limit=0"),
        (dict(seed=1.5), "seed=1.5"),
        (dict(shuffle="yes"), "shuffle='yes'"),
        (dict(download="no"), "download='no'"),
    ],
)
def test_bad_arguments(kwargs, match, tmp_path):
    kwargs = {"name": "mnist", "data_dir": tmp_path, "download": False, **kwargs}
    with pytest.raises(ValueError, match=f"Received: {match}"):
        datasets.load(**kwargs)


def test_load_arrays_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="name='emnist'"):
        datasets.load_arrays("emnist", local_dir=tmp_path)
    with pytest.raises(ValueError, match=r"split='train\[:10\]'"):
        datasets.load_arrays("mnist", "train[:10]", local_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        datasets.load_arrays("mnist", local_dir=tmp_path / "absent")


def test_truncated_idx_file_gives_clear_error(mnist_dir, tmp_path):
    folder = tmp_path / "idx"
    folder.mkdir()
    raw = gzip.decompress((mnist_dir / TEST_FILES[0]).read_bytes())
    with gzip.open(folder / TEST_FILES[0], "wb") as f:
        f.write(raw[: len(raw) // 2])  # a valid gzip of half an IDX file
    os.symlink(mnist_dir / TEST_FILES[1], folder / TEST_FILES[1])
    with pytest.raises(ValueError, match="truncated"):
        datasets.load_arrays("mnist", "test", local_dir=folder)
    with pytest.raises(ValueError, match="truncated"):
        datasets.load("mnist", "test", local_dir=folder, data_dir=tmp_path / "tfds")
    assert not datasets.LocalMNIST(data_dir=tmp_path / "tfds").is_prepared()
    # A cut gzip stream.
    gz = (mnist_dir / TEST_FILES[0]).read_bytes()
    (folder / TEST_FILES[0]).write_bytes(gz[: len(gz) // 2])
    with pytest.raises(ValueError, match="cannot be decompressed"):
        datasets.load_arrays("mnist", "test", local_dir=folder)


def test_inconsistent_idx_files_give_clear_errors(tmp_path):
    write_idx(tmp_path / TEST_FILES[0], np.zeros((5, 28, 28)))
    write_idx(tmp_path / TEST_FILES[1], np.zeros(4))
    with pytest.raises(ValueError, match="5 images .* 4 labels"):
        datasets.load_arrays("mnist", "test", local_dir=tmp_path)
    write_idx(tmp_path / TEST_FILES[0], np.zeros((4, 32, 32)))
    with pytest.raises(ValueError, match=r"shape=\(4, 32, 32\)"):
        datasets.load_arrays("mnist", "test", local_dir=tmp_path)
    write_idx(tmp_path / TEST_FILES[0], np.zeros((4, 28, 28)))
    write_idx(tmp_path / TEST_FILES[1], [0, 1, 2, 12])
    with pytest.raises(ValueError, match="label 12"):
        datasets.load_arrays("mnist", "test", local_dir=tmp_path)


def test_uncompressed_idx_files_are_read(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.full((3, 28, 28), 7)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes([1, 2, 3]))
    images, labels = datasets.load_arrays("mnist", "test", local_dir=tmp_path)
    assert images.shape == (3, 28, 28, 1) and np.all(images == 7)
    np.testing.assert_array_equal(labels, [1, 2, 3])


_VALID_IDX = [
    idx_bytes(np.arange(12).reshape(3, 4)),
    bytes([0, 0, 0x0C, 2, 0, 0, 0, 2, 0, 0, 0, 1]) + np.arange(2, dtype=">i4").tobytes(),
    bytes([0, 0, 0x0D, 1, 0, 0, 0, 0]),
]


@st.composite
def idx_like_bytes(draw):
    """Random bytes, or a valid IDX file with bytes changed, cut or added."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=64))
    data = bytearray(draw(st.sampled_from(_VALID_IDX)))
    for _ in range(draw(st.integers(0, 3))):
        if data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[:cut]) + draw(st.binary(max_size=8))


@settings(max_examples=300, deadline=None)
@given(idx_like_bytes())
def test_parse_idx_returns_an_array_or_raises_value_error(data):
    try:
        array = parse_idx(data)
    except ValueError:
        return
    assert isinstance(array, np.ndarray)
    assert array.nbytes == len(data) - 4 - 4 * array.ndim
