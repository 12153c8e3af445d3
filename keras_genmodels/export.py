"""Export a keras_genmodels model as a TF Serving SavedModel.

`export_model(model, out_dir)` writes `out_dir/<model_name>/<version>/`, the
layout that TF Serving's `--model_base_path=out_dir/<model_name>` expects,
with one named signature per method of the model. The signatures are the
family's (`Family.signatures`, registered in `keras_genmodels.families`; the
VAE's in `keras_genmodels.vae.export`, the RBMs' in
`keras_genmodels.rbm.export`). Every signature has a dynamic batch dimension
and explicit dtypes and shapes; a family's `signatures(model)` returns
`{name: {"fn", "inputs" (ordered name -> tf.TensorSpec), "outputs", "doc"}}`.

Sampling is stateless: the draws are a function of `seed` alone (seed pairs
`[seed, k]` for the k-th draw, through `tf.random.stateless_*`; see
`seed_pair`), so a served model gives the same samples for the same request,
concurrent requests do not interfere, and the samples equal those of
`model.sample(n, seed=seed)` in Python, which uses the same seed pairs. `seed`
must lie in [0, 2^31 - 2).

The version folder is written beside its target under a hidden temporary
name and renamed into place only once complete, so TF Serving never sees half
a version and a failed export never removes an existing one. An existing
non-empty version is replaced only with `overwrite=True`.

Example:

```python
from keras_genmodels.export import export_model
path = export_model("vae.keras", "serving", model_name="vae", version=1)
# serving/vae/1/saved_model.pb, variables/, assets.extra/keras_genmodels.json
```
"""

import json
import os
import re
import shutil
import tempfile


from keras_genmodels import _validation as v
from keras_genmodels._files import replace_folder
from keras_genmodels.saving import file_sha256

# TF Serving's model names end up in URLs and folder names.
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Largest seed that the stateless draws reproduce exactly like Keras's int
# seeds (Keras reduces int64 seeds modulo 2^31 - 1 - 1 before use).
MAX_SEED = 2**31 - 3
METADATA_FILE = os.path.join("assets.extra", "keras_genmodels.json")


def signature_names(model):
    """The names of the signatures `export_model` writes for `model`."""
    return sorted(_endpoints(model))


def export_model(model, out_dir, version=None, model_name=None, overwrite=False, verbose=False):
    """Write `model` as a SavedModel in TF Serving's `out_dir/<model_name>/<version>/` layout.

    Args:
        model: a model of a registered family that declares signatures
            (`VAE`, `BernoulliRBM`, ...), or the path of a `.keras` file
            holding one (loaded with `safe_mode=True`).
        out_dir: the model base folder of TF Serving (created if needed).
        version: positive int, the version folder. Defaults to `None`: one
            more than the largest existing version (1 for the first export).
        model_name: name of the model folder (and of the model in TF
            Serving's URLs): letters, digits, `_`, `.`, `-`. Defaults to the
            `.keras` file's stem, or `model.name` for a model object.
        overwrite: whether a non-empty existing version folder may be
            replaced. Defaults to `False`.
        verbose: whether Keras prints the endpoints it wrote. Defaults to `False`.

    Returns:
        The path of the version folder written, as a string.

    Raises:
        ValueError: `model` is not a keras_genmodels model, the `.keras` file
            is corrupt or cannot be deserialised, or an argument is invalid.
        FileNotFoundError: the `.keras` file does not exist.
        FileExistsError: the version folder exists, is not empty, and
            `overwrite` is `False`.
    """
    if not isinstance(out_dir, (str, os.PathLike)):
        raise ValueError(f"`out_dir` must be a folder path. Received: out_dir={out_dir!r}")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ValueError(
            f"`out_dir` must be a folder (TF Serving's model base path). Received: "
            f"out_dir={os.fspath(out_dir)!r}, which is a file."
        )
    source = None
    if isinstance(model, (str, os.PathLike)):
        source = os.fspath(model)
        if model_name is None:
            model_name = os.path.splitext(os.path.basename(source))[0]
        model = _load(source)
    endpoints = _endpoints(model)  # raises for a model that is not ours
    if model_name is None:
        model_name = getattr(model, "name", None)
    if not isinstance(model_name, str) or not _MODEL_NAME.match(model_name):
        raise ValueError(
            "`model_name` must be a non-empty name of letters, digits, '_', '.' and '-' "
            f"starting with a letter or digit. Received: model_name={model_name!r}"
        )
    if version is not None:
        version = v.check_positive_int("version", version)
    overwrite = v.check_bool("overwrite", overwrite)

    model_dir = os.path.join(os.fspath(out_dir), model_name)
    if version is None:
        version = _next_version(model_dir)
    target = os.path.join(model_dir, str(version))
    if _non_empty(target) and not overwrite:
        raise FileExistsError(
            f"Refusing to overwrite the existing export {target!r} (not empty): pass "
            "overwrite=True (--overwrite) to replace it, or choose another version."
        )
    if os.path.exists(target) and not os.path.isdir(target):
        raise FileExistsError(f"Expected {target!r} to be a folder. Received a file.")

    created_model_dir = not os.path.isdir(model_dir)
    os.makedirs(model_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".tmp-export-{version}-", dir=model_dir)
    try:
        _write_saved_model(model, endpoints, tmp, verbose)
        _write_metadata(model, endpoints, tmp, source, model_name, version)
        os.chmod(tmp, 0o755)  # mkdtemp's 0700 would hide the export from a server's user
        replace_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created_model_dir and not os.listdir(model_dir):
            os.rmdir(model_dir)
        raise
    return target


# ---------------------------------------------------------------------------
# Files and folders


def _load(path):
    from keras_genmodels.saving import load_model

    try:
        return load_model(path, safe_mode=True, compile=False)
    except (ValueError, FileNotFoundError):
        raise
    except Exception as e:  # Keras raises TypeError & co. for unknown classes
        raise ValueError(
            f"Expected a `.keras` file holding a keras_genmodels model. Received {path!r}, "
            f"which could not be loaded ({type(e).__name__}: {e})."
        ) from e


def _non_empty(folder):
    return os.path.isdir(folder) and bool(os.listdir(folder))


def _next_version(model_dir):
    """1 + the largest integer-named folder in `model_dir` (1 if none)."""
    if not os.path.isdir(model_dir):
        return 1
    versions = [int(n) for n in os.listdir(model_dir) if n.isdigit()]
    return max(versions, default=0) + 1


def _write_metadata(model, endpoints, folder, source, model_name, version):
    """`assets.extra/keras_genmodels.json`: what was exported (TF Serving ignores it)."""
    import keras
    import tensorflow as tf

    import keras_genmodels

    meta = {
        "model_name": model_name,
        "version": version,
        "class": type(model).__name__,
        "keras_genmodels_version": keras_genmodels.__version__,
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
        "source": None if source is None else os.path.abspath(source),
        "source_sha256": None if source is None else file_sha256(source),
        "signatures": {
            name: {
                "inputs": {k: [_spec_shape(s), s.dtype.name] for k, s in spec["inputs"].items()},
                "outputs": spec["outputs"],
                "doc": spec["doc"],
            }
            for name, spec in endpoints.items()
        },
    }
    os.makedirs(os.path.join(folder, "assets.extra"), exist_ok=True)
    with open(os.path.join(folder, METADATA_FILE), "w") as f:
        json.dump(meta, f, indent=2)


def _spec_shape(spec):
    return [None if d is None else int(d) for d in spec.shape]


# ---------------------------------------------------------------------------
# Signatures


def _endpoints(model):
    """name -> {"fn", "inputs" (ordered name -> TensorSpec), "outputs", "doc"}, from the family."""
    from keras_genmodels import families

    family = families.require_family_of(model)
    signatures = family.hooks("signatures")
    if signatures is None:
        raise ValueError(
            f"Expected a model whose family declares TF Serving signatures. Received a "
            f"{type(model).__name__} of the family {family.name!r}, which declares none."
        )
    return signatures(model)


def _write_saved_model(model, endpoints, folder, verbose):
    import keras

    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, spec in endpoints.items():
        archive.add_endpoint(name, spec["fn"], input_signature=list(spec["inputs"].values()))
    archive.write_out(folder, verbose=verbose)


def seed_pair(seed, k):
    """The stateless seed `[seed, k]`: Keras's k-th draw from `SeedGenerator(seed)`.

    A family's `sample` signature draws its k-th random tensor with it
    (`tf.random.stateless_normal(shape, seed=seed_pair(seed, k))`), which
    equals `model.sample(n, seed=seed)`'s k-th draw in Python.
    """
    import tensorflow as tf

    return tf.stack([seed, tf.cast(k, tf.int32)])


def check_scalars(n=None, steps=None, seed=None):
    """Graph assertions on the scalar inputs of a `sample` signature (a list of ops).

    `n` and `steps` must be positive, `seed` in [0, `MAX_SEED`]; use them as
    `with tf.control_dependencies(check_scalars(n=n, seed=seed)): ...`.
    """
    import tensorflow as tf

    checks = []
    if n is not None:
        checks.append(tf.debugging.assert_greater(n, 0, message="`n` must be a positive int"))
    if steps is not None:
        checks.append(tf.debugging.assert_greater(steps, 0, message="`steps` must be a positive int"))
    if seed is not None:
        checks.append(tf.debugging.assert_non_negative(seed, message="`seed` must be in [0, 2^31 - 2)"))
        checks.append(
            tf.debugging.assert_less_equal(
                seed, tf.constant(MAX_SEED, tf.int32), message="`seed` must be in [0, 2^31 - 2)"
            )
        )
    return checks
