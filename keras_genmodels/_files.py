"""Writing files and folders so that a crash never leaves half of one in place.

Every file the library writes for keeps (models, backups, histories, preset
registries, cached data, exports) is written to a temporary name beside its
target and renamed over it only once complete: `os.replace` is atomic on one
file system, so a reader sees the old file or the new one, never a mix, and a
failed write leaves the old one intact.

- `atomic_path(path)`: a context manager yielding the temporary path to write.
- `atomic_write_text(path, text)`: a text file, flushed to disk.
- `atomic_write_json(path, obj)`: a JSON file (NumPy scalars and arrays too).
- `replace_folder(source, target)`: a finished folder moved over another.
- `exclusive_scratch(name, root)`: a lock on `name` in `root` and a private
  scratch folder beside, for work that several processes may start at once.
"""

import contextlib
import glob
import json
import os
import shutil
import tempfile

try:
    import fcntl
except ImportError:  # Windows: no lock (see `exclusive_scratch`).
    fcntl = None


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yield a temporary path beside `path`; rename it over `path` when the block succeeds.

    The file gets the usual permissions (0666 less the umask; `mkstemp` makes
    0600). If the block raises, the temporary file is removed and `path` is
    left as it was.

    Args:
        path: the target file.
        suffix: the temporary name's ending (some writers check it, e.g.
            Keras wants `.keras` or `.weights.h5`). Defaults to `""`.

    Example:

    >>> with atomic_path("history.json", suffix=".json") as tmp:
    ...     write(tmp)
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write_text(path, text):
    """Write `text` to `path` atomically (`atomic_path`), flushed to disk before the rename."""
    suffix = os.path.splitext(path)[1]
    with atomic_path(path, suffix=suffix) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())


def json_default(obj):
    """`json.dump`'s `default` for NumPy scalars (as Python numbers) and arrays (as lists)."""
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serialisable")


def atomic_write_json(path, obj):
    """Write `obj` as indented JSON to `path` atomically; NumPy values are converted."""
    atomic_write_text(path, json.dumps(obj, indent=2, default=json_default) + "\n")


def replace_folder(source, target, aside=None):
    """Move the finished folder `source` to `target`, replacing it, keeping it until that succeeds.

    `source`, `target` and `aside` must be on one file system (make `source`
    beside `target`, or in a scratch folder of `exclusive_scratch` under the
    same root). The parent folder of `target` is created if missing. An empty
    `target` folder is removed first; a non-empty one is renamed aside (to
    `.old-<name>-<random>` in `aside`), `source` renamed in, and the old one
    deleted; if the second rename fails the old one is put back. A reader thus
    sees the old folder, then none, then the new one: never a partly written
    or partly deleted one.

    Args:
        source: the finished folder.
        target: where it goes.
        aside: the folder where the old `target` waits to be deleted. A
            process killed before deleting it leaves it there: pass a scratch
            folder that is cleaned up after a crash (`exclusive_scratch`'s)
            so that nothing stays beside `target`. Defaults to `target`'s
            parent folder.
    """
    parent = os.path.dirname(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    if os.path.isdir(target) and not os.listdir(target):
        os.rmdir(target)
    if not os.path.exists(target):
        os.rename(source, target)
        return
    aside = parent if aside is None else aside
    old = tempfile.mkdtemp(prefix=f".old-{os.path.basename(target)}-", dir=aside)
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(source, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _lock_path(name, root):
    return os.path.join(root, f".keras_genmodels-{name}.lock")


def _scratch_prefix(name):
    return f".keras_genmodels-{name}-preparing-"


@contextlib.contextmanager
def exclusive_scratch(name, root):
    """Hold the lock of `name` in `root` and yield a new private scratch folder.

    For work that several processes may start at once on one folder (preparing
    a dataset in a shared TFDS `data_dir`): the holder of the lock looks again
    whether the work is done, does it in the scratch folder, and moves the
    result into place (`replace_folder`).

    The lock is `fcntl.flock` on `<root>/.keras_genmodels-<name>.lock` (an
    empty file that stays); the kernel releases it when its holder exits,
    however it exits. Only the holder creates scratch folders,
    `<root>/.keras_genmodels-<name>-preparing-<random>/`, so any scratch folder
    of `name` found on entry is a leftover of a process that died while
    holding it: it is deleted. The scratch folder (`tempfile.mkdtemp`, whose
    names do not depend on Python's `random`) is deleted on exit. Without
    `fcntl` (Windows) there is no lock and leftovers are kept. `root` is
    created if missing.

    Args:
        name: what the lock is for, part of the lock's and the scratch
            folder's names (e.g. a dataset name).
        root: the shared local folder holding the lock file and the scratch
            folders.

    Example:

    >>> with exclusive_scratch("mnist", data_dir) as scratch:
    ...     if not done():
    ...         work_in(scratch)
    ...         replace_folder(os.path.join(scratch, "result"), target)
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
