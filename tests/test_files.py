"""Tests of the folder helpers of keras_genmodels._files (replace_folder, exclusive_scratch).

(Their use by several processes preparing one dataset is tested in test_datasets.py.)
"""

import os
import pathlib
import subprocess
import sys
import time

import pytest

from keras_genmodels import _files

REPO = pathlib.Path(__file__).resolve().parents[1]
HOLD_LOCK_FOR_ONE_SECOND = """
import sys, time
from keras_genmodels import _files
with _files.exclusive_scratch("mnist", sys.argv[1]):
    print("held", flush=True)
    time.sleep(1.0)
"""


def make_folder(path, text):
    path.mkdir(parents=True)
    (path / "data.txt").write_text(text)
    return path


def test_replace_folder_creates_the_parent_and_replaces_an_old_copy(tmp_path):
    target = tmp_path / "a" / "b" / "3.0.1"  # parents absent
    _files.replace_folder(make_folder(tmp_path / "new1", "one"), target)
    assert (target / "data.txt").read_text() == "one"
    _files.replace_folder(make_folder(tmp_path / "new2", "two"), target)
    assert (target / "data.txt").read_text() == "two"
    assert sorted(os.listdir(target.parent)) == ["3.0.1"]  # the old copy is deleted
    assert sorted(os.listdir(tmp_path)) == ["a"]


def test_replace_folder_puts_the_old_copy_back_if_the_move_fails(tmp_path, monkeypatch):
    target = make_folder(tmp_path / "target", "old")
    source = make_folder(tmp_path / "source", "new")
    aside = tmp_path / "scratch"
    aside.mkdir()
    rename = os.rename

    def failing_rename(src, dst):
        if os.fspath(src) == os.fspath(source):
            raise OSError("no space left")
        return rename(src, dst)

    monkeypatch.setattr(os, "rename", failing_rename)
    with pytest.raises(OSError, match="no space left"):
        _files.replace_folder(source, target, aside=aside)
    assert (target / "data.txt").read_text() == "old"
    assert os.listdir(aside) == []


def test_replace_folder_moves_the_old_copy_into_aside(tmp_path, monkeypatch):
    target = make_folder(tmp_path / "target", "old")
    aside = tmp_path / "scratch"
    aside.mkdir()
    seen = []
    monkeypatch.setattr(_files.shutil, "rmtree", lambda path, **kw: seen.append(path))
    _files.replace_folder(make_folder(tmp_path / "source", "new"), target, aside=aside)
    [old] = seen
    assert os.path.dirname(old) == os.fspath(aside)
    assert os.path.basename(old).startswith(".old-target-")
    assert (target / "data.txt").read_text() == "new"


def test_exclusive_scratch_deletes_leftovers_and_its_scratch(tmp_path):
    root = tmp_path / "root"  # absent: created
    leftover = root / ".keras_genmodels-mnist-preparing-crashed"
    other = root / ".keras_genmodels-fashion_mnist-preparing-crashed"
    leftover.mkdir(parents=True)
    other.mkdir()
    with _files.exclusive_scratch("mnist", os.fspath(root)) as scratch:
        assert os.path.isdir(scratch)
        assert os.path.basename(scratch).startswith(".keras_genmodels-mnist-preparing-")
        assert not leftover.exists() and other.exists()  # only those of `name`
    assert sorted(os.listdir(root)) == [
        ".keras_genmodels-fashion_mnist-preparing-crashed",
        ".keras_genmodels-mnist.lock",
    ]


@pytest.mark.skipif(_files.fcntl is None, reason="no fcntl: no lock")
def test_exclusive_scratch_waits_for_the_holder_of_the_lock(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK_FOR_ONE_SECOND, os.fspath(tmp_path)],
        stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    try:
        assert holder.stdout.readline() == "held\n"
        start = time.monotonic()
        with _files.exclusive_scratch("mnist", os.fspath(tmp_path)):
            waited = time.monotonic() - start
    finally:
        holder.wait(timeout=60)
    assert waited > 0.5 and holder.returncode == 0


def test_atomic_path_replaces_the_target_only_when_the_write_succeeds(tmp_path):
    target = tmp_path / "history.json"
    _files.atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with _files.atomic_path(target, suffix=".json") as tmp:
            pathlib.Path(tmp).write_text("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.json"]  # no temporary file left
    _files.atomic_write_text(target, "new")
    assert target.read_text() == "new" and oct(target.stat().st_mode & 0o777) != "0o600"


def test_atomic_write_json_writes_numpy_values():
    import json
    import tempfile

    import numpy as np

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.json")
        _files.atomic_write_json(path, {"a": np.float32(1.5), "b": np.arange(3), "c": np.int64(2)})
        with open(path) as f:
            assert json.load(f) == {"a": 1.5, "b": [0, 1, 2], "c": 2}
        with pytest.raises(TypeError, match="not JSON serialisable"):
            _files.atomic_write_json(path, {"x": object()})
        with open(path) as f:
            assert json.load(f)["c"] == 2  # the failed write left the old file
