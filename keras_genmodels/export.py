"""Export a keras_genmodels model as a TF Serving SavedModel.

`export_model(model, out_dir)` writes `out_dir/<model_name>/<version>/`, the
layout that TF Serving's `--model_base_path=out_dir/<model_name>` expects,
with one named signature per method of the model. Every signature has a
dynamic batch dimension and explicit dtypes and shapes:

VAE (`keras_genmodels.vae.VAE`, data shape S, latent dimension d):

| signature         | inputs                              | outputs                                          |
|-------------------|-------------------------------------|--------------------------------------------------|
| `serving_default` | `x`: float32 (None,) + S            | `reconstruction`: float32 (None,) + S, E[x|h=μ(x)] |
| `encode`          | `x`: float32 (None,) + S            | `z_mean`, `z_log_var`: float32 (None, d)          |
| `decode`          | `h`: float32 (None, d)              | `x_mean`: float32 (None,) + S, E[x|h]             |
| `sample`          | `n`, `seed`: int32 scalars          | `samples`: float32 (n,) + S, E[x|h], h ~ N(0, I)  |

RBM (`BernoulliRBM`, `GaussianBernoulliRBM`; D visible, H hidden units):

| signature              | inputs                              | outputs                                   |
|------------------------|-------------------------------------|-------------------------------------------|
| `serving_default`      | `v`: float32 (None, D)              | `hidden_probabilities`: (None, H)         |
| `hidden_probabilities` | `v`: float32 (None, D)              | `hidden_probabilities`: P(h=1|v), (None, H) |
| `free_energy`          | `v`: float32 (None, D)              | `free_energy`: F(v), (None,)              |
| `reconstruct`          | `v`: float32 (None, D)              | `reconstruction`: E[v'|h=P(h|v)], (None, D) |
| `sample`               | `n`, `steps`, `seed`: int32 scalars | `samples`: E[v|h] of the last sweep, `binary`: the sampled v, (n, D) |

Sampling is stateless: the draws are a function of `seed` alone (seed pairs
`[seed, k]` for the k-th draw, through `tf.random.stateless_*`), so a served
model gives the same samples for the same request, concurrent requests do not
interfere, and the samples equal those of `model.sample(n, seed=seed)` (VAE)
and `model.sample(n, steps=steps, seed=seed)` (RBM) in Python, which use the
same seed pairs. `seed` must lie in [0, 2^31 - 2).

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

import numpy as np

from keras_genmodels import _validation as v
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
        model: a keras_genmodels model (`VAE`, `BernoulliRBM`,
            `GaussianBernoulliRBM`), or the path of a `.keras` file holding
            one (loaded with `safe_mode=True`).
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
        _move_into_place(tmp, target)
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


def _move_into_place(tmp, target):
    """Rename the complete export `tmp` to `target`, keeping `target` until it succeeds."""
    if os.path.isdir(target) and not os.listdir(target):
        os.rmdir(target)
    if not os.path.exists(target):
        os.rename(tmp, target)
        return
    # Replace a previous version: move it aside, move the new one in, then
    # delete the old one; if the second rename fails, put the old one back.
    parent = os.path.dirname(target)
    old = tempfile.mkdtemp(prefix=f".old-{os.path.basename(target)}-", dir=parent)
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


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
    """name -> {"fn", "inputs" (ordered name -> TensorSpec), "outputs", "doc"}."""
    from keras_genmodels.rbm import RestrictedBoltzmannMachine
    from keras_genmodels.vae import VAE

    if isinstance(model, VAE):
        return _vae_endpoints(model)
    if isinstance(model, RestrictedBoltzmannMachine):
        return _rbm_endpoints(model)
    raise ValueError(
        "Expected a keras_genmodels model (VAE, BernoulliRBM or GaussianBernoulliRBM). "
        f"Received: {type(model).__module__}.{type(model).__name__}"
    )


def _write_saved_model(model, endpoints, folder, verbose):
    import keras

    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, spec in endpoints.items():
        archive.add_endpoint(name, spec["fn"], input_signature=list(spec["inputs"].values()))
    archive.write_out(folder, verbose=verbose)


def _seed_pair(seed, k):
    """The stateless seed `[seed, k]`: Keras's k-th draw from `SeedGenerator(seed)`."""
    import tensorflow as tf

    return tf.stack([seed, tf.cast(k, tf.int32)])


def _check_scalars(n=None, steps=None, seed=None):
    """Graph assertions on the scalar inputs of a `sample` signature."""
    import tensorflow as tf

    checks = []
    if n is not None:
        checks.append(tf.debugging.assert_greater(n, 0, message="`n` must be a positive int"))
    if steps is not None:
        checks.append(
            tf.debugging.assert_greater(steps, 0, message="`steps` must be a positive int")
        )
    if seed is not None:
        checks.append(
            tf.debugging.assert_non_negative(seed, message="`seed` must be in [0, 2^31 - 2)")
        )
        checks.append(
            tf.debugging.assert_less_equal(
                seed, tf.constant(MAX_SEED, tf.int32), message="`seed` must be in [0, 2^31 - 2)"
            )
        )
    return checks


def _vae_endpoints(model):
    import tensorflow as tf

    shape = [None, *model.data_shape]
    d = model.latent_dim
    x_spec = tf.TensorSpec(shape, tf.float32, name="x")
    h_spec = tf.TensorSpec([None, d], tf.float32, name="h")
    scalar = lambda name: tf.TensorSpec([], tf.int32, name=name)  # noqa: E731

    def reconstruction(x):
        return {"reconstruction": tf.cast(model(x, training=False), tf.float32)}

    def encode(x):
        z_mean, z_log_var = model.encode(x)
        return {"z_mean": z_mean, "z_log_var": z_log_var}

    def decode(h):
        return {"x_mean": model.decode(h)}

    def sample(n, seed):
        # h ~ N(0, I) with the seed pair [seed, 0], as keras.random.normal(seed=int).
        with tf.control_dependencies(_check_scalars(n=n, seed=seed)):
            h = tf.random.stateless_normal(tf.stack([n, d]), seed=_seed_pair(seed, 0))
        return {"samples": model.decode(h)}

    return {
        "serving_default": {
            "fn": reconstruction,
            "inputs": {"x": x_spec},
            "outputs": {"reconstruction": shape},
            "doc": "E[x | h = z_mean(x)], as model(x)",
        },
        "encode": {
            "fn": encode,
            "inputs": {"x": x_spec},
            "outputs": {"z_mean": [None, d], "z_log_var": [None, d]},
            "doc": "parameters of Q(h|x) = N(z_mean, diag exp(z_log_var)), as model.encode(x)",
        },
        "decode": {
            "fn": decode,
            "inputs": {"h": h_spec},
            "outputs": {"x_mean": shape},
            "doc": "E[x | h], as model.decode(h)",
        },
        "sample": {
            "fn": sample,
            "inputs": {"n": scalar("n"), "seed": scalar("seed")},
            "outputs": {"samples": shape},
            "doc": "E[x | h], h ~ N(0, I) from the seed pair [seed, 0]; equals model.sample(n, seed)",
        },
    }


def _rbm_endpoints(model):
    import tensorflow as tf
    from keras import ops

    from keras_genmodels.rbm import BernoulliRBM, GaussianBernoulliRBM

    if not isinstance(model, (BernoulliRBM, GaussianBernoulliRBM)):
        raise ValueError(
            "Expected a BernoulliRBM or GaussianBernoulliRBM: their visible units are "
            f"sampled by the export. Received: {type(model).__name__}"
        )
    big_d, big_h = model.n_visible, model.n_hidden
    dtype = tf.as_dtype(model.compute_dtype)
    v_spec = tf.TensorSpec([None, big_d], tf.float32, name="v")
    scalar = lambda name: tf.TensorSpec([], tf.int32, name=name)  # noqa: E731
    # The chains' starting distribution (model.sample's base-rate model), as constants.
    base = {
        k: np.asarray(val)
        for k, val in model.ais_base(None).items()
        if k not in ("log_z", "kernel_t")  # W^T is read from the variable instead
    }
    bernoulli_units = isinstance(model, BernoulliRBM)

    def cast_in(v):
        return tf.cast(v, dtype)

    def out(t):
        return tf.cast(t, tf.float32)

    def hidden_probabilities(v):
        return {"hidden_probabilities": out(tf.sigmoid(model.compute_hidden_logits(cast_in(v))))}

    def free_energy(v):
        return {"free_energy": out(model.compute_free_energy(cast_in(v)))}

    def reconstruct(v):
        ph = tf.sigmoid(model.compute_hidden_logits(cast_in(v)))
        return {"reconstruction": out(model.compute_visible_mean(ph))}

    def bernoulli(p, seed, k):
        u = tf.random.stateless_uniform(tf.shape(p), seed=_seed_pair(seed, k), dtype=p.dtype)
        return tf.cast(u < p, p.dtype)

    def normal(shape, seed, k):
        return tf.random.stateless_normal(shape, seed=_seed_pair(seed, k), dtype=dtype)

    def sample_visible(h, seed, k):
        """v ~ P(v | h) and E[v | h], with the k-th seed pair."""
        mean = model.compute_visible_mean(h)
        if bernoulli_units:
            return bernoulli(mean, seed, k), mean
        sigma = ops.exp(0.5 * model.log_variance)
        return mean + sigma * normal(tf.shape(mean), seed, k), mean

    def sample(n, steps, seed):
        # Draw 0 starts the chains from the base-rate model; sweep i then uses
        # draws 2i + 1 (h ~ P(h|v)) and 2i + 2 (v ~ P(v|h)), as model.sample.
        with tf.control_dependencies(_check_scalars(n=n, steps=steps, seed=seed)):
            shape = tf.stack([n, big_d])
        if bernoulli_units:
            logits = tf.constant(base["logits"], dtype)
            v0 = bernoulli(tf.sigmoid(tf.broadcast_to(logits, shape)), seed, 0)
        else:
            mean = tf.constant(base["mean"], dtype)
            inv_var = tf.constant(base["inv_var"], dtype)
            v0 = mean + normal(shape, seed, 0) / tf.sqrt(inv_var)

        def body(i, v, _):
            h = bernoulli(tf.sigmoid(model.compute_hidden_logits(v)), seed, 2 * i + 1)
            v_new, mean = sample_visible(h, seed, 2 * i + 2)
            return i + 1, v_new, mean

        _, v_last, mean_last = tf.while_loop(
            lambda i, *_: i < steps, body, (tf.constant(0, tf.int32), v0, v0)
        )
        return {"samples": out(mean_last), "binary": out(v_last)}

    features = {"inputs": {"v": v_spec}}
    return {
        "serving_default": {
            "fn": hidden_probabilities,
            **features,
            "outputs": {"hidden_probabilities": [None, big_h]},
            "doc": "P(h = 1 | v), as model(v)",
        },
        "hidden_probabilities": {
            "fn": hidden_probabilities,
            **features,
            "outputs": {"hidden_probabilities": [None, big_h]},
            "doc": "P(h = 1 | v), as model.hidden_probabilities(v)",
        },
        "free_energy": {
            "fn": free_energy,
            **features,
            "outputs": {"free_energy": [None]},
            "doc": "F(v) = -log sum_h exp(-E(v, h)), as model.free_energy(v)",
        },
        "reconstruct": {
            "fn": reconstruct,
            **features,
            "outputs": {"reconstruction": [None, big_d]},
            "doc": "E[v' | h = P(h|v)], as model.reconstruct(v)",
        },
        "sample": {
            "fn": sample,
            "inputs": {"n": scalar("n"), "steps": scalar("steps"), "seed": scalar("seed")},
            "outputs": {"samples": [None, big_d], "binary": [None, big_d]},
            "doc": (
                "`steps` block Gibbs sweeps from the base-rate model: `samples` = E[v|h] of the "
                "last sweep (model.sample(n, steps, seed)), `binary` = the sampled v "
                "(model.sample(..., return_means=False))"
            ),
        },
    }
