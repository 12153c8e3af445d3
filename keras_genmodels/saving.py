"""Saving and loading `.keras` files safely.

`save_model` writes to a temporary file in the destination folder and renames
it over the target only once the write is complete, so a crash (or a bad
model) never leaves a half-written file in place of a good one.
`load_model` checks that the file exists and is a complete `.keras` (zip)
archive before handing it to `keras.saving.load_model`, so a missing or
truncated file gives an error that says so.
"""

import hashlib
import os
import tempfile
import zipfile

import keras


def save_model(model, filepath, overwrite=True):
    """Atomically save `model` to `filepath` (a `.keras` file).

    Args:
        model: a `keras.Model`.
        filepath: destination path, ending in `.keras`.
        overwrite: whether an existing file may be replaced. Defaults to `True`.

    Returns:
        The path written, as a string.
    """
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(
            "`filepath` must end in `.keras`. " f"Received: filepath={filepath!r}"
        )
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(
            f"Refusing to overwrite {filepath!r}: pass overwrite=True to replace it."
        )
    folder = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".keras", prefix=".tmp-", dir=folder)
    os.close(fd)
    try:
        keras.saving.save_model(model, tmp)
        _check_archive(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; use the usual mode
        os.replace(tmp, filepath)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return filepath


def file_sha256(path):
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_archive(filepath):
    """Raise `ValueError` unless `filepath` is a complete `.keras` archive."""
    if not os.path.exists(filepath):
        raise FileNotFoundError(
            f"Expected a `.keras` model file. Received a path that does not exist: "
            f"{filepath!r}"
        )
    if not zipfile.is_zipfile(filepath):
        size = os.path.getsize(filepath)
        raise ValueError(
            "Expected a complete `.keras` file (a zip archive). "
            f"Received {filepath!r} ({size} bytes), which is not a valid zip archive: "
            "the file is truncated or corrupt."
        )
    try:
        with zipfile.ZipFile(filepath) as zf:
            names = set(zf.namelist())
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ValueError(
            f"Expected a complete `.keras` file. Received {filepath!r}, which cannot "
            f"be read as a zip archive ({e})."
        ) from e
    if bad is not None:
        raise ValueError(
            f"Expected a complete `.keras` file. Received {filepath!r}, whose member "
            f"{bad!r} is corrupt."
        )
    if "config.json" not in names:
        raise ValueError(
            f"Expected a `.keras` file with a config.json. Received {filepath!r} "
            f"with members {sorted(names)}."
        )


def load_model(filepath, safe_mode=True, compile=True):
    """Load a keras_genmodels model from a `.keras` file, with clear errors.

    Args:
        filepath: path of a `.keras` file.
        safe_mode: passed to `keras.saving.load_model`. Defaults to `True`.
        compile: whether to restore the optimizer. Defaults to `True`.
    """
    filepath = os.fspath(filepath)
    _check_archive(filepath)
    # Importing the package registers every serialisable class.
    import keras_genmodels  # noqa: F401

    return keras.saving.load_model(filepath, safe_mode=safe_mode, compile=compile)
