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
import zipfile

import keras

from keras_genmodels._files import atomic_path


def save_model(model, filepath, overwrite=True):
    """Atomically save `model` to `filepath` (a `.keras` file).

    Args:
        model: a `keras.Model`.
        filepath: destination path, ending in `.keras`.
        overwrite: whether an existing file may be replaced. Defaults to `True`.

    Returns:
        The path written, as a string.
    """
    if not isinstance(model, keras.layers.Layer):
        raise ValueError(
            f"`model` must be a keras.Model. Received: {type(model).__name__}"
        )
    filepath = _check_extension(filepath)
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(
            f"Refusing to overwrite {filepath!r}: pass overwrite=True to replace it."
        )
    with atomic_path(filepath, suffix=".keras") as tmp:
        keras.saving.save_model(model, tmp)
        _check_archive(tmp)
    return filepath


def file_sha256(path):
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_extension(filepath):
    """`filepath` as a str if it names a `.keras` file, else raise `ValueError`."""
    if not isinstance(filepath, (str, bytes, os.PathLike)):
        raise ValueError(
            "`filepath` must be a path ending in `.keras`. "
            f"Received: filepath={filepath!r}"
        )
    filepath = os.fsdecode(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(
            "`filepath` must end in `.keras`. " f"Received: filepath={filepath!r}"
        )
    return filepath


def _check_archive(filepath):
    """Raise `ValueError` unless `filepath` is a complete `.keras` archive."""
    if not os.path.exists(filepath):
        raise FileNotFoundError(
            f"Expected a `.keras` model file. Received a path that does not exist: "
            f"{filepath!r}"
        )
    if os.path.isdir(filepath):
        raise ValueError(
            f"Expected a `.keras` model file. Received a folder: {filepath!r}"
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


def _holds_ours(layer):
    """Whether `layer` or one of its sub-layers is a model of a registered family
    (or any keras_genmodels class)."""
    from keras_genmodels import families

    if families.family_of(layer) is not None:
        return True
    if any(c.__module__.startswith("keras_genmodels.") for c in type(layer).__mro__):
        return True
    return any(_holds_ours(sub) for sub in getattr(layer, "layers", ()) if sub is not layer)


def load_model(filepath, safe_mode=True, compile=True):
    """Load a keras_genmodels model from a `.keras` file, with clear errors.

    Args:
        filepath: path of a `.keras` file.
        safe_mode: passed to `keras.saving.load_model`. Defaults to `True`.
        compile: whether to restore the optimizer. Defaults to `True`.

    Raises:
        FileNotFoundError: no file at `filepath`.
        ValueError: `filepath` does not end in `.keras`, is a folder, is not a
            complete `.keras` archive, holds a config that cannot be
            deserialised (an unknown class, bad arguments), or holds a model
            of no registered family (a plain Keras model).
    """
    filepath = _check_extension(filepath)
    _check_archive(filepath)
    # Importing the families' model classes registers them with Keras.
    from keras_genmodels import families

    families.import_models()

    try:
        model = keras.saving.load_model(filepath, safe_mode=safe_mode, compile=compile)
    except Exception as e:  # Keras raises TypeError, KeyError, JSON errors, ...
        detail = " ".join(str(e).split())  # one line, for the command line
        if len(detail) > 400:
            detail = detail[:400] + " ..."
        raise ValueError(
            f"Expected a `.keras` file holding a keras_genmodels model. Received "
            f"{filepath!r}, which could not be loaded ({type(e).__name__}: {detail})"
        ) from e
    if not _holds_ours(model):
        raise ValueError(
            f"Expected a keras_genmodels model of a registered family ({families.model_class_names()}) in "
            f"{filepath!r}. Received a {type(model).__module__}.{type(model).__name__}; "
            "load it with keras.saving.load_model instead."
        )
    return model
