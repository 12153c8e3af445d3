"""Writing files and folders so that a crash never leaves half of one in place.

Every file the library writes for keeps (models, backups, histories, preset
registries, cached data, exports) is written to a temporary name beside its
target and renamed over it only once complete: `os.replace` is atomic on one
file system, so a reader sees the old file or the new one, never a mix, and a
failed write leaves the old one intact.

- `atomic_path(path)`: a context manager yielding the temporary path to write.
- `atomic_write_text(path, text)`: a text file, flushed to disk.
- `replace_folder(source, target)`: a finished folder moved over another.
"""

import contextlib
import os
import shutil
import tempfile


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


def replace_folder(source, target):
    """Move the finished folder `source` to `target`, replacing it, keeping it until that succeeds.

    `source` and `target` must be on one file system (make `source` beside
    `target`). An empty `target` folder is removed first; a non-empty one is
    renamed aside, `source` renamed in, and the old one deleted; if the second
    rename fails the old one is put back.
    """
    if os.path.isdir(target) and not os.listdir(target):
        os.rmdir(target)
    if not os.path.exists(target):
        os.rename(source, target)
        return
    parent = os.path.dirname(os.path.abspath(target))
    old = tempfile.mkdtemp(prefix=f".old-{os.path.basename(target)}-", dir=parent)
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(source, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
