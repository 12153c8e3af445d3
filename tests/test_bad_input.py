"""Bad input, tried systematically: every public entry point refuses it clearly.

`CASES` is one table. Each row names a public call with a bad argument, the
exception it must raise and a regular expression that the message must match;
the expression always spans what was expected *and* what was received (e.g.
``"`n` must be a positive int. Received: n=0"``), so a bare
``"invalid literal for int()"`` does not pass. Every call runs under a
deadline, so a hang fails the test instead of stalling the suite.

Kinds of bad input: wrong shapes and ranks, wrong dtypes (strings, complex,
objects), empty arrays, NaN/Inf, out-of-range values, zero/negative/huge
hyperparameters, bools where ints are expected, wrong file types, missing,
truncated and random-byte `.keras` and IDX files. The CLI is run in-process
(exit status != 0 and a one-line message, no traceback) and, for two cases,
in a real subprocess with a timeout.

A row may carry `xfail=reason` (run as `xfail(strict=True)`) while its check is
missing; none does now.
"""

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_genmodels
from keras_genmodels import datasets, export, idx, presets, sampling, saving
from keras_genmodels.physics import data as ising_data
from keras_genmodels.physics import exact, lattice, multispin, observables, sampler, symmetry, wolff
from keras_genmodels.rbm import (
    BernoulliRBM,
    GaussianBernoulliRBM,
    check_schedule,
    default_ais_schedule,
    parallel_tempering_sample,
)
from keras_genmodels.vae import VAE, Sampling, build_networks, elbo, importance_weighted_bound

InvalidArgument = tf.errors.InvalidArgumentError
NAN, INF = float("nan"), float("inf")
DEADLINE_S = 120  # generous: the first call of a model traces a graph


# ---------------------------------------------------------------------------
# Small models and files shared by the cases (built once, on first use).
# ---------------------------------------------------------------------------


def _tiny_vae(**kwargs):
    return VAE(architecture="mlp", data_shape=(4,), latent_dim=2, hidden_units=(4,), seed=0, **kwargs)


@functools.cache
def vae():
    model = _tiny_vae()
    model.compile()
    return model


@functools.cache
def rbm():
    model = BernoulliRBM(6, 3, seed=0)
    model.compile()
    return model


@functools.cache
def grbm():
    model = GaussianBernoulliRBM(6, 3, seed=0)
    model.compile()
    return model


@functools.cache
def mh():
    return sampling.MetropolisHastings(lambda x: x.sum(axis=1).astype(float), 3)


def _v(n=4, d=6, value=1.0):
    return np.full((n, d), value, "float32")


X4 = np.full((8, 4), 0.5, "float32")  # good VAE data, shape (batch, 4)
SPINS = np.ones((3, 4, 4), np.int8)


def _idx_bytes(array, type_code=0x08):
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


class Files:
    """Bad (and a few good) files, written once into a temporary folder."""

    def __init__(self, root):
        self.root = root
        rng = np.random.default_rng(0)
        self.folder = self._dir("folder")
        self.empty_dir = self._dir("empty_dir")
        self.a_file = self._write("a_file.txt", b"not a folder")
        # .keras files
        self.vae_keras = saving.save_model(_tiny_vae(), os.path.join(root, "vae.keras"))
        good = open(self.vae_keras, "rb").read()
        self.truncated_keras = self._write("truncated.keras", good[: len(good) // 2])
        self.tail_cut_keras = self._write("tail_cut.keras", good[:-10])
        self.random_keras = self._write("random.keras", rng.bytes(1000))
        self.empty_keras = self._write("empty.keras", b"")
        self.h5 = self._write("model.h5", good)
        self.no_suffix = self._write("model", good)
        self.folder_keras = self._dir("folder.keras")
        plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        self.foreign_keras = saving.save_model(plain, os.path.join(root, "plain.keras"))
        with zipfile.ZipFile(self.vae_keras) as z:
            config = json.loads(z.read("config.json"))
        unknown = dict(config, class_name="NoSuchModel", registered_name="keras_genmodels>NoSuchModel")
        self.unknown_class_keras = self._with_config("unknown.keras", json.dumps(unknown))
        self.junk_config_keras = self._with_config("junk_config.keras", "not json {")
        bad = json.loads(json.dumps(config))
        bad["config"]["sigma2"] = -1.0
        self.bad_argument_keras = self._with_config("bad_argument.keras", json.dumps(bad))
        # IDX files
        images = rng.integers(0, 256, (3, 28, 28)).astype(np.uint8)
        good_idx = _idx_bytes(images)
        self.idx_empty = self._write("empty.idx", b"")
        self.idx_random = self._write("random.idx", rng.bytes(300))
        self.idx_truncated = self._write("truncated.idx", good_idx[:-7])
        self.idx_trailing = self._write("trailing.idx", good_idx + b"\0")
        self.idx_gz_truncated = self._write("truncated.idx.gz", _gzip(good_idx)[:-9])
        lying = bytes([0, 0, 8, 3]) + (2**32 - 1).to_bytes(4, "big") * 3 + b"\0" * 64
        self.idx_lying = self._write("lying.idx", lying)
        self.idx_gz_lying = self._write("lying.idx.gz", _gzip(lying))
        # MNIST-like folders of bad IDX files (the test split only)
        self.mnist_random = self._split_dir("mnist_random", rng.bytes(200), rng.bytes(50))
        self.mnist_wrong_shape = self._split_dir(
            "mnist_wrong_shape", _idx_bytes(np.zeros((2, 27, 27), np.uint8)), _idx_bytes(np.zeros(2, np.uint8))
        )
        self.mnist_bad_label = self._split_dir(
            "mnist_bad_label", _idx_bytes(np.zeros((2, 28, 28), np.uint8)), _idx_bytes(np.array([1, 12], np.uint8))
        )
        self.mnist_count = self._split_dir(
            "mnist_count", _idx_bytes(np.zeros((2, 28, 28), np.uint8)), _idx_bytes(np.zeros(3, np.uint8))
        )
        self.mnist_truncated = self._split_dir(
            "mnist_truncated", _gzip(_idx_bytes(images))[:-20], _gzip(_idx_bytes(np.zeros(3, np.uint8)))
        )
        # Preset folders
        self.presets_bad_json = self._presets("presets_bad_json", "{not json")
        self.presets_list = self._presets("presets_list", json.dumps({"format_version": 1, "presets": []}))
        self.presets_version = self._presets("presets_version", json.dumps({"format_version": 99, "presets": {}}))
        entry = {"file": "a.keras", "class": "VAE", "family": "vae", "description": "d", "card": "a.json"}
        self.presets_random = self._presets(
            "presets_random", json.dumps({"format_version": 1, "presets": {"a": entry}})
        )
        self._write("presets_random/a.keras", rng.bytes(100))
        self.presets_sha = self._presets(
            "presets_sha", json.dumps({"format_version": 1, "presets": {"a": dict(entry, sha256="0" * 64, bytes=1)}})
        )
        shutil.copy(self.vae_keras, os.path.join(root, "presets_sha", "a.keras"))
        self.tfds_dir = self._dir("tfds")

    def _dir(self, name):
        path = os.path.join(self.root, name)
        os.makedirs(path, exist_ok=True)
        return path

    def _write(self, name, data):
        path = os.path.join(self.root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def _with_config(self, name, config_text):
        path = os.path.join(self.root, name)
        with zipfile.ZipFile(self.vae_keras) as src, zipfile.ZipFile(path, "w") as dst:
            for item in src.infolist():
                data = src.read(item)
                dst.writestr(item, config_text if item.filename == "config.json" else data)
        return path

    def _split_dir(self, name, images, labels):
        self._write(f"{name}/t10k-images-idx3-ubyte.gz", images)
        self._write(f"{name}/t10k-labels-idx1-ubyte.gz", labels)
        return os.path.join(self.root, name)

    def _presets(self, name, manifest_text):
        return os.path.dirname(self._write(f"{name}/manifest.json", manifest_text.encode()))


def _gzip(data):
    import gzip

    return gzip.compress(data, mtime=0)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return Files(str(tmp_path_factory.mktemp("bad_input")))


# ---------------------------------------------------------------------------
# The table.
# ---------------------------------------------------------------------------


class Case:
    """One row: `call(files)` must raise `exc` with a message matching `match`."""

    def __init__(self, id, call, exc, match, xfail=None):
        self.id, self.call, self.exc, self.match, self.xfail = id, call, exc, match, xfail


def _rx(*parts):
    """A regex of literal `parts` in order, anything between them."""
    return ".*".join(re.escape(p) for p in parts)


def positive_int(name, value):
    return _rx(f"`{name}` must be a positive int", f"Received: {name}={value!r}")


def positive_float(name, value, allow_zero=False):
    what = "a finite float >= 0" if allow_zero else "a finite float > 0"
    return _rx(f"`{name}` must be {what}. Received: {name}={value!r}")


def a_bool(name, value):
    return _rx(f"`{name}` must be a bool. Received: {name}={value!r}")


def a_seed(name="seed", value=None):
    return _rx(f"`{name}` must be None or an int", f"Received: {name}={value!r}")


def one_of(name, value):
    return _rx(f"`{name}` must be one of", f"Received: {name}={value!r}")


def finite(name):
    return _rx(f"`{name}` must contain only finite values. Received", "NaN/Inf")


def not_empty(name, shape):
    return _rx(f"`{name}` must not be empty. Received: shape={shape}")


def numeric(name, dtype):
    return _rx(f"`{name}` must be a numeric array. Received dtype={dtype}")


def real(name, dtype="complex128"):
    return _rx(f"`{name}` must be a real (not complex) numeric array. Received dtype={dtype}")




def _ebm(**kwargs):
    from keras_genmodels.ebm import EnergyBasedModel

    return EnergyBasedModel((2,), **{"hidden_units": (4,), "buffer_size": 16, "steps": 2, "seed": 0, **kwargs})


def _dense_network(units):
    x_in = keras.Input((2,))
    return keras.Model(x_in, keras.layers.Dense(units)(x_in))


def _ebm_fit(x):
    model = _ebm()
    model.compile("adam")
    return model.fit(x, batch_size=2, epochs=1, verbose=0)


def _langevin(x0=None, energy=None, steps=3, step_size=0.1, **kwargs):
    x0 = np.zeros((3, 2), "float32") if x0 is None else x0
    energy = energy or (lambda x: keras.ops.sum(x**2, axis=1))
    return sampling.langevin(energy, x0, steps, step_size, seed=0, **kwargs)


HUGE = 2**62  # a size no machine holds (TF refuses it at once): must be refused before allocating

CASES = [
    # ------------------------------------------------------------- VAE(...)
    Case("VAE-latent_dim-zero", lambda f: _tiny_vae_with(latent_dim=0), ValueError, positive_int("latent_dim", 0)),
    Case("VAE-latent_dim-negative", lambda f: _tiny_vae_with(latent_dim=-3), ValueError, positive_int("latent_dim", -3)),
    Case("VAE-latent_dim-bool", lambda f: _tiny_vae_with(latent_dim=True), ValueError, positive_int("latent_dim", True)),
    Case("VAE-latent_dim-float", lambda f: _tiny_vae_with(latent_dim=2.5), ValueError, positive_int("latent_dim", 2.5)),
    Case("VAE-latent_dim-str", lambda f: _tiny_vae_with(latent_dim="2"), ValueError, positive_int("latent_dim", "2")),
    Case("VAE-latent_dim-huge", lambda f: _tiny_vae_with(latent_dim=HUGE), ValueError,
         _rx("`latent_dim` must be a positive int <=", f"Received: latent_dim={HUGE}")),
    Case("VAE-data_shape-zero", lambda f: _tiny_vae_with(data_shape=(0, 4)), ValueError,
         _rx("`data_shape` must be a non-empty tuple of positive ints. Received: data_shape=(0, 4)")),
    Case("VAE-data_shape-empty", lambda f: _tiny_vae_with(data_shape=()), ValueError,
         _rx("`data_shape` must be a non-empty tuple", "Received: data_shape=()")),
    Case("VAE-data_shape-str", lambda f: _tiny_vae_with(data_shape="abc"), ValueError,
         _rx("`data_shape` must be a non-empty tuple", "Received: data_shape='abc'")),
    Case("VAE-data_shape-conv-not-divisible-by-4", lambda f: VAE(data_shape=(30, 30, 1)), ValueError,
         _rx("divisible by 4. Received: data_shape=(30, 30, 1)")),
    Case("VAE-hidden_units-zero", lambda f: _tiny_vae_with(hidden_units=(0,)), ValueError,
         positive_int("hidden_units[i]", 0)),
    Case("VAE-hidden_units-not-a-sequence", lambda f: _tiny_vae_with(hidden_units=5), ValueError,
         _rx("`hidden_units` must be", "Received: hidden_units=5")),
    Case("VAE-sigma2-zero", lambda f: _tiny_vae_with(likelihood="gaussian", sigma2=0.0), ValueError, positive_float("sigma2", 0.0)),
    Case("VAE-sigma2-negative", lambda f: _tiny_vae_with(sigma2=-1.0), ValueError, positive_float("sigma2", -1.0)),
    Case("VAE-sigma2-nan", lambda f: _tiny_vae_with(sigma2=NAN), ValueError, positive_float("sigma2", NAN)),
    Case("VAE-sigma2-inf", lambda f: _tiny_vae_with(sigma2=INF), ValueError, positive_float("sigma2", INF)),
    Case("VAE-sigma2-str", lambda f: _tiny_vae_with(sigma2="1"), ValueError, positive_float("sigma2", "1")),
    Case("VAE-sigma2-int-beyond-float", lambda f: _tiny_vae_with(sigma2=10**400), ValueError,
         _rx("`sigma2` must be a finite float > 0. Received: sigma2=1000")),
    Case("VAE-beta-negative", lambda f: _tiny_vae_with(beta=-1.0), ValueError, positive_float("beta", -1.0, allow_zero=True)),
    Case("VAE-beta-nan", lambda f: _tiny_vae_with(beta=NAN), ValueError, positive_float("beta", NAN, allow_zero=True)),
    Case("VAE-likelihood-unknown", lambda f: _tiny_vae_with(likelihood="poisson"), ValueError, one_of("likelihood", "poisson")),
    Case("VAE-likelihood-list", lambda f: _tiny_vae_with(likelihood=["bernoulli"]), ValueError, one_of("likelihood", ["bernoulli"])),
    Case("VAE-architecture-unknown", lambda f: _tiny_vae_with(architecture="resnet"), ValueError, one_of("architecture", "resnet")),
    Case("VAE-seed-float", lambda f: _tiny_vae_with(seed=1.5), ValueError, _rx("`seed` must be", "Received: seed=1.5")),
    Case("VAE-seed-bool", lambda f: _tiny_vae_with(seed=True), ValueError, _rx("`seed` must be", "Received: seed=True")),
    Case("VAE-seed-beyond-int64", lambda f: _tiny_vae_with(seed=2**64), ValueError, _rx("`seed` must be", f"Received: seed={2**64}")),
    Case("VAE-encoder-without-decoder", lambda f: VAE(encoder=vae().encoder), ValueError,
         _rx("Pass both `encoder` and `decoder`, or neither. Received: encoder=Functional, decoder=NoneType")),
    Case("VAE-encoder-not-a-model", lambda f: VAE(encoder="enc", decoder="dec"), ValueError,
         _rx("`encoder` must be a built keras.Model", "Received: str")),
    Case("VAE-decoder-wrong-latent", lambda f: VAE(encoder=vae().encoder, decoder=_tiny_vae_with_latent(3).decoder),
         ValueError, _rx("`decoder` must take inputs of shape (batch, 2)", "Received: (3,)")),
    # ------------------------------------------------------------- VAE.fit
    Case("VAE.fit-wrong-shape", lambda f: vae().fit(np.zeros((8, 5), "float32"), epochs=1, verbose=0), ValueError,
         r"expects batches of shape \(batch, 4\)\. Received: shape=\(\w+, 5\)"),
    Case("VAE.fit-nan", lambda f: vae().fit(np.full((8, 4), NAN, "float32"), epochs=1, verbose=0), ValueError,
         finite("x")),
    Case("VAE.fit-pixels-0-255", lambda f: vae().fit(X4 * 255, epochs=1, verbose=0), ValueError,
         _rx("`x` must have values in [0.0, 1.0]", "Pixels in 0..255 must be divided by 255 first.")),
    Case("VAE.fit-dataset-pixels-0-255",
         lambda f: vae().fit(tf.data.Dataset.from_tensor_slices(X4 * 255).batch(4), epochs=1, verbose=0), ValueError,
         _rx("`x (first batch)` must have values in [0.0, 1.0]", "Pixels in 0..255 must be divided by 255 first.")),
    Case("VAE.fit-dataset-nan-later-batch",
         lambda f: vae().fit(tf.data.Dataset.from_tensor_slices(np.concatenate([X4, np.full((4, 4), NAN, "float32")])
                                                                ).batch(4), epochs=1, verbose=0), InvalidArgument,
         _rx("expects finite inputs. Received a batch with NaN or Inf")),
    Case("VAE.fit-dataset-pixels-0-255-later-batch",
         lambda f: vae().fit(tf.data.Dataset.from_tensor_slices(np.concatenate([X4, X4 * 255])).batch(4),
                             epochs=1, verbose=0), InvalidArgument,
         _rx("expects inputs in [0, 1]", "Received a batch with min and max")),
    Case("VAE.fit-empty", lambda f: vae().fit(np.zeros((0, 4), "float32"), epochs=1, verbose=0), ValueError,
         not_empty("x", "(0, 4)")),
    Case("VAE.fit-str", lambda f: vae().fit(np.full((8, 4), "a"), epochs=1, verbose=0), ValueError,
         numeric("x", "<U1")),
    Case("VAE.fit-complex", lambda f: vae().fit(X4.astype(complex), epochs=1, verbose=0), ValueError,
         real("x")),
    Case("VAE.fit-rank-1", lambda f: vae().fit(np.zeros(8, "float32"), epochs=1, verbose=0), ValueError,
         _rx("shape (batch, 4)", "Received: shape=(8,)")),
    Case("VAE.fit-batch_size-zero", lambda f: vae().fit(X4, batch_size=0, epochs=1, verbose=0), ValueError,
         positive_int("batch_size", 0)),
    # ------------------------------------------------- VAE encode/decode/sample
    Case("VAE.encode-wrong-shape", lambda f: vae().encode(np.zeros((3, 5))), ValueError,
         _rx("`x` must have shape (batch, 4). Received: shape=(3, 5)")),
    Case("VAE.encode-rank-3", lambda f: vae().encode(np.zeros((3, 4, 1))), ValueError,
         _rx("`x` must have shape (batch, 4). Received: shape=(3, 4, 1)")),
    Case("VAE.encode-str", lambda f: vae().encode(np.full((2, 4), "a")), ValueError, numeric("x", "<U1")),
    Case("VAE.encode-object", lambda f: vae().encode(np.array([[None] * 4])), ValueError, numeric("x", "object")),
    Case("VAE.encode-complex", lambda f: vae().encode(np.zeros((2, 4), complex)), ValueError, real("x")),
    Case("VAE.encode-empty", lambda f: vae().encode(np.zeros((0, 4))), ValueError, not_empty("x", "(0, 4)")),
    Case("VAE.encode-nan", lambda f: vae().encode(np.full((2, 4), NAN)), ValueError, finite("x")),
    Case("VAE.encode-pixels-0-255", lambda f: vae().encode(np.full((2, 4), 255.0)), ValueError,
         _rx("`x` must have values in [0.0, 1.0]. Received values in [255.0, 255.0]", "divided by 255")),
    Case("VAE.encode-negative", lambda f: vae().encode(np.full((2, 4), -0.5)), ValueError,
         _rx("`x` must have values in [0.0, 1.0]. Received values in [-0.5, -0.5]")),
    Case("VAE.encode-scalar", lambda f: vae().encode(np.float32(0.5)), ValueError,
         _rx("Expected shape (None, 4), but input has incompatible shape ()")),
    Case("VAE.decode-wrong-latent", lambda f: vae().decode(np.zeros((2, 3))), ValueError,
         _rx("`h` must have shape (batch, 2). Received: shape=(2, 3)")),
    Case("VAE.decode-inf", lambda f: vae().decode(np.full((2, 2), INF)), ValueError, finite("h")),
    Case("VAE.decode-empty", lambda f: vae().decode(np.zeros((0, 2))), ValueError, not_empty("h", "(0, 2)")),
    Case("VAE.decode-str", lambda f: vae().decode([["a", "b"]]), ValueError, numeric("h", "<U1")),
    Case("VAE.reconstruct-out-of-range", lambda f: vae().reconstruct(np.full((2, 4), 2.0)), ValueError,
         _rx("`x` must have values in [0.0, 1.0]. Received values in [2.0, 2.0]")),
    Case("VAE.sample-n-zero", lambda f: vae().sample(0), ValueError, positive_int("n", 0)),
    Case("VAE.sample-n-negative", lambda f: vae().sample(-2), ValueError, positive_int("n", -2)),
    Case("VAE.sample-n-bool", lambda f: vae().sample(True), ValueError, positive_int("n", True)),
    Case("VAE.sample-n-float", lambda f: vae().sample(2.5), ValueError, positive_int("n", 2.5)),
    Case("VAE.sample-n-huge", lambda f: vae().sample(10**20), ValueError,
         _rx("`n` must be a positive int <=", f"Received: n={10**20}")),
    Case("VAE.sample-seed-str", lambda f: vae().sample(2, seed="x"), ValueError, _rx("`seed` must be", "Received: seed=x")),
    # ------------------------------------------------------- Sampling
    Case("Sampling-seed-str", lambda f: Sampling(seed="1"), ValueError, a_seed("seed", "1")),
    Case("Sampling-seed-float", lambda f: Sampling(seed=1.0), ValueError, a_seed("seed", 1.0)),
    Case("Sampling-seed-bool", lambda f: Sampling(seed=False), ValueError, a_seed("seed", False)),
    Case("Sampling-seed-beyond-int64", lambda f: Sampling(seed=2**70), ValueError, a_seed("seed", 2**70)),
    Case("Sampling-call-one-input", lambda f: Sampling(seed=0)([np.zeros((2, 2), "float32")]), ValueError,
         _rx("`Sampling` expects a pair [z_mean, z_log_var]. Received: list of length 1")),
    Case("Sampling-call-mismatched-shapes",
         lambda f: Sampling(seed=0)([np.zeros((2, 2), "float32"), np.zeros((2, 3), "float32")]), ValueError,
         _rx("`z_mean` and `z_log_var` must have the same shape. Received: (2, 2) and (2, 3)")),
    Case("build_networks-latent_dim-zero", lambda f: build_networks("mlp", (4,), 0), ValueError, positive_int("latent_dim", 0)),
    Case("build_networks-data_shape-negative", lambda f: build_networks("mlp", (-4,), 2), ValueError,
         _rx("`data_shape` must be a non-empty tuple of positive ints. Received: data_shape=(-4,)")),
    Case("build_networks-hidden_units-int", lambda f: build_networks("mlp", (4,), 2, 8), ValueError,
         _rx("`hidden_units` must be a sequence of positive ints. Received: hidden_units=8")),
    Case("build_networks-architecture", lambda f: build_networks("gan", (4,), 2), ValueError, one_of("architecture", "gan")),
    # ------------------------------------------------------- VAE evaluation
    Case("elbo-not-a-vae", lambda f: elbo(rbm(), X4), ValueError, _rx("`model` must be a VAE. Received: BernoulliRBM")),
    Case("elbo-empty", lambda f: elbo(vae(), np.zeros((0, 4))), ValueError,
         _rx("`data` must hold at least one example. Received: shape=(0, 4)")),
    Case("elbo-scalar", lambda f: elbo(vae(), 0.5), ValueError, _rx("`data` must have shape (batch, 4). Received: shape=()")),
    Case("elbo-str", lambda f: elbo(vae(), np.full((2, 4), "a")), ValueError, numeric("data", "<U1")),
    Case("elbo-num_samples-zero", lambda f: elbo(vae(), X4, num_samples=0), ValueError, positive_int("num_samples", 0)),
    Case("iw_bound-max_decodes-zero", lambda f: importance_weighted_bound(vae(), X4, max_decodes=0), ValueError,
         positive_int("max_decodes", 0)),
    Case("iw_bound-wrong-shape", lambda f: importance_weighted_bound(vae(), np.zeros((2, 5)), num_samples=2), ValueError,
         _rx("`data` must have shape (batch, 4). Received: shape=(2, 5)")),
    # ---------------------------------------------------- RBM constructors
    Case("BernoulliRBM-n_visible-zero", lambda f: BernoulliRBM(0, 3), ValueError, positive_int("n_visible", 0)),
    Case("BernoulliRBM-n_hidden-negative", lambda f: BernoulliRBM(6, -1), ValueError, positive_int("n_hidden", -1)),
    Case("BernoulliRBM-n_hidden-bool", lambda f: BernoulliRBM(6, True), ValueError, positive_int("n_hidden", True)),
    Case("BernoulliRBM-n_hidden-str", lambda f: BernoulliRBM(6, "3"), ValueError, positive_int("n_hidden", "3")),
    Case("BernoulliRBM-n_hidden-huge", lambda f: BernoulliRBM(4, HUGE), ValueError,
         _rx("n_hidden", "Received", str(HUGE))),
    Case("BernoulliRBM-k-zero", lambda f: BernoulliRBM(6, 3, k=0), ValueError, positive_int("k", 0)),
    Case("BernoulliRBM-k-float", lambda f: BernoulliRBM(6, 3, k=1.5), ValueError, positive_int("k", 1.5)),
    Case("BernoulliRBM-n_chains-zero", lambda f: BernoulliRBM(6, 3, n_chains=0), ValueError, positive_int("n_chains", 0)),
    Case("BernoulliRBM-weight_decay-negative", lambda f: BernoulliRBM(6, 3, weight_decay=-0.1), ValueError,
         positive_float("weight_decay", -0.1, allow_zero=True)),
    Case("BernoulliRBM-weight_decay-nan", lambda f: BernoulliRBM(6, 3, weight_decay=NAN), ValueError,
         positive_float("weight_decay", NAN, allow_zero=True)),
    Case("BernoulliRBM-persistent-str", lambda f: BernoulliRBM(6, 3, persistent="yes"), ValueError, a_bool("persistent", "yes")),
    Case("BernoulliRBM-centering-int", lambda f: BernoulliRBM(6, 3, centering=1), ValueError, a_bool("centering", 1)),
    Case("BernoulliRBM-centering_rate-zero", lambda f: BernoulliRBM(6, 3, centering_rate=0.0), ValueError,
         positive_float("centering_rate", 0.0)),
    Case("BernoulliRBM-centering_rate-above-1", lambda f: BernoulliRBM(6, 3, centering_rate=2.0), ValueError,
         _rx("`centering_rate` must be in (0, 1]. Received: centering_rate=2.0")),
    Case("BernoulliRBM-seed-float", lambda f: BernoulliRBM(6, 3, seed=1.5), ValueError, _rx("`seed` must be", "Received: seed=1.5")),
    Case("BernoulliRBM-seed-beyond-int64", lambda f: BernoulliRBM(6, 3, seed=2**64), ValueError,
         _rx("`seed` must be", f"Received: seed={2**64}")),
    Case("GaussianBernoulliRBM-variance-zero", lambda f: GaussianBernoulliRBM(6, 3, variance=0.0), ValueError,
         positive_float("variance", 0.0)),
    Case("GaussianBernoulliRBM-variance-inf", lambda f: GaussianBernoulliRBM(6, 3, variance=INF), ValueError,
         positive_float("variance", INF)),
    Case("GaussianBernoulliRBM-variance-int-beyond-float", lambda f: GaussianBernoulliRBM(6, 3, variance=10**400),
         ValueError, _rx("`variance` must be a finite float > 0. Received: variance=1000")),
    Case("GaussianBernoulliRBM-learn_variance-int", lambda f: GaussianBernoulliRBM(6, 3, learn_variance=0), ValueError,
         a_bool("learn_variance", 0)),
    Case("GaussianBernoulliRBM-n_visible-float", lambda f: GaussianBernoulliRBM(6.0, 3), ValueError,
         positive_int("n_visible", 6.0)),
    # ------------------------------------------------------------ RBM fit
    Case("BernoulliRBM.fit-wrong-units", lambda f: rbm().fit(_v(d=5), epochs=1, verbose=0), ValueError,
         _rx("`x` must have 6 visible units per example", "Received: shape=(4, 5)")),
    Case("BernoulliRBM.fit-grey-levels", lambda f: rbm().fit(_v(value=0.5), epochs=1, verbose=0), ValueError,
         _rx("`x` must be binary (every value 0 or 1) for a BernoulliRBM. Received values such as [0.5]")),
    Case("BernoulliRBM.fit-nan", lambda f: rbm().fit(_v(value=NAN), epochs=1, verbose=0), ValueError, finite("x")),
    Case("BernoulliRBM.fit-empty", lambda f: rbm().fit(np.zeros((0, 6)), epochs=1, verbose=0), ValueError,
         not_empty("x", "(0, 6)")),
    Case("BernoulliRBM.fit-str", lambda f: rbm().fit(np.full((2, 6), "1"), epochs=1, verbose=0), ValueError,
         numeric("x", "<U1")),
    Case("BernoulliRBM.fit-complex", lambda f: rbm().fit(_v().astype(complex), epochs=1, verbose=0), ValueError, real("x")),
    Case("BernoulliRBM.fit-validation-grey", lambda f: rbm().fit(_v(), validation_data=_v(value=0.3), epochs=1, verbose=0),
         ValueError, _rx("`validation_data` must be binary", "Received values such as [0.3")),
    Case("BernoulliRBM.fit-dataset-grey", lambda f: rbm().fit(tf.data.Dataset.from_tensor_slices(_v(value=0.5)).batch(2),
                                                           epochs=1, verbose=0), ValueError,
         _rx("`x (first batch)` must be binary (every value 0 or 1)", "Received values such as [0.5]")),
    # The first batch is checked eagerly; the step's graph assertion still catches a later one.
    Case("BernoulliRBM.fit-dataset-grey-later-batch",
         lambda f: rbm().fit(tf.data.Dataset.from_tensor_slices(np.concatenate([_v(), _v(value=0.5)])).batch(4),
                             epochs=1, verbose=0), InvalidArgument,
         _rx("expected binary visible values (every value 0 or 1). Received a batch with other values")),
    Case("BernoulliRBM.fit-batch_size-zero", lambda f: rbm().fit(_v(), batch_size=0, epochs=1, verbose=0), ValueError,
         positive_int("batch_size", 0)),
    Case("GaussianBernoulliRBM.fit-inf", lambda f: grbm().fit(_v(value=INF), epochs=1, verbose=0), ValueError, finite("x")),
    # ------------------------------------------------------- RBM methods
    Case("BernoulliRBM.free_energy-wrong-units", lambda f: rbm().free_energy(_v(d=7)), ValueError,
         _rx("`v` must have 6 visible units per example", "Received: shape=(4, 7)")),
    Case("BernoulliRBM.free_energy-rank-1", lambda f: rbm().free_energy(np.ones(6)), ValueError,
         _rx("`v` must have 6 visible units per example", "Received: shape=(6,)")),
    Case("BernoulliRBM.free_energy-empty", lambda f: rbm().free_energy(np.zeros((0, 6))), ValueError, not_empty("v", "(0, 6)")),
    Case("BernoulliRBM.free_energy-nan", lambda f: rbm().free_energy(_v(value=NAN)), ValueError, finite("v")),
    Case("BernoulliRBM.free_energy-str", lambda f: rbm().free_energy(np.full((2, 6), "0")), ValueError, numeric("v", "<U1")),
    Case("BernoulliRBM.free_energy-complex", lambda f: rbm().free_energy(np.ones((2, 6), complex)), ValueError, real("v")),
    Case("BernoulliRBM.free_energy-none", lambda f: rbm().free_energy(None), ValueError, numeric("v", "object")),
    Case("BernoulliRBM.free_energy-ragged", lambda f: rbm().free_energy([[0, 1], [0]]), ValueError,
         _rx("`v` must be array-like. Received: list")),
    Case("BernoulliRBM.free_energy-spins", lambda f: rbm().free_energy(-_v()), ValueError,
         _rx("`v` must be binary", "Received values such as [-1.0]")),
    Case("GaussianBernoulliRBM.free_energy-inf", lambda f: grbm().free_energy(_v(value=INF)), ValueError, finite("v")),
    Case("BernoulliRBM.hidden_probabilities-pixels", lambda f: rbm().hidden_probabilities(_v(value=255.0)), ValueError,
         _rx("`v` must have values in [0, 1] for a BernoulliRBM. Received values in [255.0, 255.0]")),
    Case("BernoulliRBM.reconstruct-nan", lambda f: rbm().reconstruct(_v(value=NAN)), ValueError, finite("v")),
    Case("BernoulliRBM.reconstruct-seed-str", lambda f: rbm().reconstruct(_v(), seed="0"), ValueError,
         _rx("`seed` must be None or an int", "Received: seed='0'")),
    Case("BernoulliRBM.gibbs-steps-zero", lambda f: rbm().gibbs(_v(), steps=0), ValueError, positive_int("steps", 0)),
    Case("BernoulliRBM.gibbs-steps-bool", lambda f: rbm().gibbs(_v(), steps=True), ValueError, positive_int("steps", True)),
    Case("BernoulliRBM.gibbs-grey", lambda f: rbm().gibbs(_v(value=0.5)), ValueError, _rx("`v` must be binary", "Received")),
    Case("BernoulliRBM.sample-n-zero", lambda f: rbm().sample(0), ValueError, positive_int("n", 0)),
    Case("BernoulliRBM.sample-steps-negative", lambda f: rbm().sample(2, steps=-1), ValueError, positive_int("steps", -1)),
    Case("BernoulliRBM.sample-seed-float", lambda f: rbm().sample(2, steps=1, seed=0.5), ValueError,
         _rx("`seed` must be None or an int", "Received: seed=0.5")),
    Case("BernoulliRBM.sample-n-huge", lambda f: rbm().sample(10**20, steps=1), ValueError,
         _rx("`n` must be a positive int <=", f"Received: n={10**20}")),
    Case("BernoulliRBM.sample_hidden-grey", lambda f: rbm().sample_hidden(_v(value=0.5)), ValueError,
         _rx("`v` must be binary", "Received")),
    Case("BernoulliRBM.sample_visible-wrong-hidden", lambda f: rbm().sample_visible(np.zeros((2, 4))), ValueError,
         _rx("`h` must have shape (batch, 3). Received: shape=(2, 4)")),
    Case("BernoulliRBM.visible_mean-out-of-range", lambda f: rbm().visible_mean(np.full((2, 3), 2.0)), ValueError,
         _rx("`h` must have values in [0, 1]. Received values in [2.0, 2.0]")),
    Case("BernoulliRBM.energy-grey-hidden", lambda f: rbm().energy(_v(), np.full((4, 3), 0.5)), ValueError,
         _rx("`h` must be binary (every value 0 or 1). Received values such as [0.5")),
    Case("BernoulliRBM.energy-batch-mismatch", lambda f: rbm().energy(_v(), np.ones((3, 3))), ValueError,
         _rx("`v` and `h` must have the same batch size. Received: 4 and 3")),
    Case("BernoulliRBM.pseudo_log_likelihood-grey", lambda f: rbm().pseudo_log_likelihood(_v(value=0.5)), ValueError,
         _rx("`v` must be binary", "Received")),
    Case("BernoulliRBM.initialize_visible_bias-empty", lambda f: rbm().initialize_visible_bias(np.zeros((0, 6))),
         ValueError, not_empty("data", "(0, 6)")),
    # ------------------------------------------------- partition functions
    Case("log_partition_ais-betas-str", lambda f: rbm().log_partition_ais(betas="abc"), ValueError,
         _rx("`betas` must be", "Received")),
    Case("log_partition_ais-betas-2d", lambda f: rbm().log_partition_ais(betas=[[0.0, 1.0]]), ValueError,
         _rx("`betas` must be a 1-D schedule", "Received: shape=(1, 2)")),
    Case("log_partition_ais-betas-one-value", lambda f: rbm().log_partition_ais(betas=[1.0]), ValueError,
         _rx("at least 2 inverse temperatures", "Received: shape=(1,)")),
    Case("log_partition_ais-betas-not-from-0", lambda f: rbm().log_partition_ais(betas=[0.1, 1.0]), ValueError,
         _rx("`betas` must start at beta = 0", "Received: betas[0]=0.1")),
    Case("log_partition_ais-betas-not-to-1", lambda f: rbm().log_partition_ais(betas=[0.0, 0.9]), ValueError,
         _rx("`betas` must end at beta = 1", "Received: betas[-1]=0.9")),
    Case("log_partition_ais-betas-decreasing", lambda f: rbm().log_partition_ais(betas=[0, 0.7, 0.3, 1]), ValueError,
         _rx("`betas` must be non-decreasing. Received: betas[1]=0.7 > betas[2]=0.3")),
    Case("log_partition_ais-betas-nan", lambda f: check_schedule([0.0, NAN, 1.0]), ValueError,
         _rx("`betas` must be finite. Received NaN or Inf")),
    Case("log_partition_ais-n_chains-zero", lambda f: rbm().log_partition_ais(betas=[0, 1], n_chains=0), ValueError,
         positive_int("n_chains", 0)),
    Case("log_partition_ais-seed-str", lambda f: rbm().log_partition_ais(betas=[0, 1], seed="x"), ValueError,
         _rx("`seed` must be None or an int in [-2**63, 2**63 - 2]. Received: seed='x'")),
    Case("log_partition_ais-seed-float", lambda f: rbm().log_partition_ais(betas=[0, 1], seed=1.5), ValueError,
         _rx("`seed` must be None or an int in [-2**63, 2**63 - 2]. Received: seed=1.5")),
    Case("parallel_tempering_sample-seed-str", lambda f: parallel_tempering_sample(rbm(), 2, sweeps=1, seed="x"),
         ValueError, _rx("`seed` must be None or an int in [-2**63, 2**63 - 2]. Received: seed='x'")),
    Case("log_partition_ais-data-grey", lambda f: rbm().log_partition_ais(data=_v(value=0.5), betas=[0, 1]), ValueError,
         _rx("`data` must be binary", "Received values such as [0.5]")),
    Case("default_ais_schedule-scale-zero", lambda f: default_ais_schedule(0), ValueError,
         _rx("`scale` must be a finite float > 0. Received: scale=0")),
    Case("default_ais_schedule-scale-nan", lambda f: default_ais_schedule(NAN), ValueError,
         _rx("`scale` must be a finite float > 0. Received: scale=nan")),
    Case("default_ais_schedule-scale-bool", lambda f: default_ais_schedule(True), ValueError,
         _rx("`scale` must be a finite float > 0. Received: scale=True")),
    Case("default_ais_schedule-scale-int-beyond-float", lambda f: default_ais_schedule(10**400), ValueError,
         _rx("`scale` must be a finite float > 0. Received: scale=1000")),
    Case("log_partition_exact-chunk_size-zero", lambda f: rbm().log_partition_exact(chunk_size=0), ValueError,
         positive_int("chunk_size", 0)),
    Case("log_partition_exact-max_states_log2-str", lambda f: rbm().log_partition_exact(max_states_log2="24"), ValueError,
         positive_int("max_states_log2", "24")),
    Case("log_partition_exact-too-many-states", lambda f: BernoulliRBM(30, 30).log_partition_exact(), ValueError,
         _rx("expected m <= max_states_log2=24. Received m=30")),
    Case("log_likelihood-method-unknown", lambda f: rbm().log_likelihood(_v(), method="mcmc"), ValueError,
         one_of("method", "mcmc")),
    Case("log_likelihood-method-list", lambda f: rbm().log_likelihood(_v(), method=["exact"]), ValueError,
         one_of("method", ["exact"])),
    Case("log_likelihood-log_z-str", lambda f: rbm().log_likelihood(_v(), log_z="abc"), ValueError,
         _rx("`log_z` must be", "Received: log_z='abc'")),
    Case("log_likelihood-log_z-nan", lambda f: rbm().log_likelihood(_v(), log_z=NAN), ValueError,
         _rx("`log_z` must be", "Received: log_z=nan")),
    Case("log_likelihood-data-wrong-units", lambda f: rbm().log_likelihood(_v(d=2), log_z=0.0), ValueError,
         _rx("`data` must have 6 visible units per example", "Received: shape=(4, 2)")),
    # -------------------------------------------------------- physics
    Case("lattice.energy-zeros-as-spins", lambda f: lattice.energy(np.zeros((2, 4, 4))), ValueError,
         _rx("`spins` must contain only the values -1 and 1 (spin encoding)", "Received values such as [0.0")),
    Case("lattice.energy-complex", lambda f: lattice.energy(np.ones((2, 4, 4), complex)), ValueError, real("spins")),
    Case("lattice.energy-str", lambda f: lattice.energy(np.full((1, 2, 2), "1")), ValueError, numeric("spins", "<U1")),
    Case("lattice.energy-empty", lambda f: lattice.energy(np.zeros((0, 4, 4))), ValueError, not_empty("spins", "(0, 4, 4)")),
    Case("lattice.energy-rank-1", lambda f: lattice.energy(np.ones(16)), ValueError,
         _rx("`spins` must have shape (batch, L, L) or (batch, L*L). Received: shape=(16,)")),
    Case("lattice.energy-rank-4", lambda f: lattice.energy(np.ones((1, 2, 4, 4))), ValueError,
         _rx("`spins` must have shape (batch, L, L) or (batch, L*L). Received: shape=(1, 2, 4, 4)")),
    Case("lattice.energy-not-square", lambda f: lattice.energy(np.ones((2, 3, 4))), ValueError,
         _rx("`spins` must have shape (batch, L, L)", "Received: shape=(2, 3, 4)")),
    Case("lattice.energy-flat-not-square", lambda f: lattice.energy(np.ones((2, 15))), ValueError,
         _rx("with L*L a square. Received: shape=(2, 15)")),
    Case("lattice.energy-encoding", lambda f: lattice.energy(SPINS, encoding="ising"), ValueError, one_of("encoding", "ising")),
    Case("lattice.magnetization-nan", lambda f: lattice.magnetization(np.full((2, 4, 4), NAN)), ValueError, finite("spins")),
    Case("lattice.spins_to_binary-bits", lambda f: lattice.spins_to_binary(np.zeros(3)), ValueError,
         _rx("`spins` must contain only the values -1 and 1", "Received values such as [0.0")),
    Case("lattice.binary_to_spins-spins", lambda f: lattice.binary_to_spins(-np.ones(3)), ValueError,
         _rx("`bits` must contain only the values 0 and 1", "Received values such as [-1.0")),
    Case("lattice.check_lattice_size-one", lambda f: lattice.check_lattice_size(1), ValueError,
         _rx("`L` must be an int >= 2. Received: L=1")),
    Case("lattice.neighbour_table-float", lambda f: lattice.neighbour_table(4.0), ValueError,
         _rx("`L` must be an int >= 2. Received: L=4.0")),
    Case("lattice.checkerboard_groups-odd", lambda f: lattice.checkerboard_groups(3), ValueError,
         _rx("`L` must be an even int >= 2", "Received: L=3")),
    Case("lattice.check_temperatures-str", lambda f: lattice.check_temperatures("hot"), ValueError,
         _rx("`temperatures` must be a sequence of real temperatures. Received: temperatures='hot'")),
    Case("lattice.check_temperatures-none", lambda f: lattice.check_temperatures(None), ValueError,
         _rx("`temperatures` must be a sequence of real temperatures. Received: temperatures=None")),
    Case("lattice.check_temperatures-2d", lambda f: lattice.check_temperatures([[1.0]]), ValueError,
         _rx("`temperatures` must be a non-empty 1-D sequence", "Received: shape=(1, 1)")),
    Case("lattice.check_temperatures-negative", lambda f: lattice.check_temperatures([1.0, -2.0]), ValueError,
         _rx("`temperatures` must all be finite and > 0. Received values such as [-2.0]")),
    Case("exact.exact_observables-L-5", lambda f: exact.exact_observables(5, 2.0), ValueError,
         _rx("Exact enumeration needs L <= 4", "Received: L=5")),
    Case("exact.exact_observables-T-zero", lambda f: exact.exact_observables(2, 0.0), ValueError,
         positive_float("temperature", 0.0)),
    Case("exact.exact_observables-T-str", lambda f: exact.exact_observables(2, "hot"), ValueError,
         positive_float("temperature", "hot")),
    Case("exact.exact_observables-T-none", lambda f: exact.exact_observables(2, None), ValueError,
         positive_float("temperature", None)),
    Case("exact.exact_observables-T-empty", lambda f: exact.exact_observables(2, []), ValueError,
         _rx("`temperature` must be a non-empty 1-D sequence", "Received: shape=(0,)")),
    Case("exact.exact_observables-T-nan-in-array", lambda f: exact.exact_observables(2, [1.0, NAN]), ValueError,
         _rx("`temperature` must all be finite and > 0. Received values such as [nan]")),
    Case("exact.log_probabilities-T-array", lambda f: exact.log_probabilities(2, [1.0, 2.0]), ValueError,
         _rx("`temperature` must be a single temperature T > 0", "Received: temperature with shape (2,)")),
    Case("exact.log_prob-T-array", lambda f: exact.log_prob(np.ones((1, 2, 2)), [1.0, 2.0]), ValueError,
         _rx("`temperature` must be a single temperature", "shape (2,)")),
    Case("exact.all_configurations-encoding", lambda f: exact.all_configurations(2, encoding="ising"), ValueError,
         one_of("encoding", "ising")),
    Case("exact.log_partition_kaufman-T-list", lambda f: exact.log_partition_kaufman(4, [2.0]), ValueError,
         positive_float("temperature", [2.0])),
    Case("exact.state_index-bits-as-spins", lambda f: exact.state_index(np.zeros((1, 2, 2))), ValueError,
         _rx("`configurations` must contain only the values -1 and 1", "Received values such as [0.0")),
    Case("sampling.integrated_autocorrelation_time-one-step", lambda f: sampling.integrated_autocorrelation_time([1.0]),
         ValueError, _rx("n_steps >= 2. Received: shape=(1,)")),
    Case("sampling.integrated_autocorrelation_time-empty", lambda f: sampling.integrated_autocorrelation_time(np.zeros(0)),
         ValueError, _rx("n_steps >= 2. Received: shape=(0,)")),
    Case("sampling.integrated_autocorrelation_time-nan", lambda f: sampling.integrated_autocorrelation_time([1.0, NAN, 2.0]),
         ValueError, finite("x")),
    Case("sampling.integrated_autocorrelation_time-str", lambda f: sampling.integrated_autocorrelation_time(["a", "b"]),
         ValueError, numeric("x", "<U1")),
    Case("sampling.integrated_autocorrelation_time-rank-3", lambda f: sampling.integrated_autocorrelation_time(np.ones((3, 3, 3))),
         ValueError, _rx("shape (n_steps,) or (n_steps, n_chains)", "Received: shape=(3, 3, 3)")),
    Case("sampling.integrated_autocorrelation_time-c-zero", lambda f: sampling.integrated_autocorrelation_time(np.arange(9.0), c=0),
         ValueError, positive_float("c", 0)),
    Case("sampling.MetropolisHastings-energy-not-callable", lambda f: sampling.MetropolisHastings(None, 3), ValueError,
         _rx("`energy_fn` must be callable. Received: NoneType")),
    Case("sampling.MetropolisHastings-n_variables-zero", lambda f: sampling.MetropolisHastings(np.sum, 0), ValueError,
         positive_int("n_variables", 0)),
    Case("sampling.MetropolisHastings-temperature-negative", lambda f: sampling.MetropolisHastings(np.sum, 3, temperature=-1.0),
         ValueError, positive_float("temperature", -1.0)),
    Case("sampling.MetropolisHastings-site_groups-incomplete", lambda f: sampling.MetropolisHastings(np.sum, 3, site_groups=[[0, 1]]),
         ValueError, _rx("`site_groups` must cover each of the 3 sites exactly once. Received groups covering 2")),
    Case("sampling.MetropolisHastings-site_groups-str", lambda f: sampling.MetropolisHastings(np.sum, 3, site_groups=[["a"]]),
         ValueError, _rx("`site_groups` must be a list of arrays of int site indices. Received: site_groups=[['a']]")),
    Case("sampling.MetropolisHastings.sample-n_samples-zero", lambda f: mh().sample(0), ValueError, positive_int("n_samples", 0)),
    Case("sampling.MetropolisHastings.sample-initial-values", lambda f: mh().sample(4, n_chains=2, initial=np.full((2, 3), 2)),
         ValueError, _rx("`initial` must be a 0/1 array of shape (2, 3). Received values such as [2")),
    Case("sampling.MetropolisHastings.sample-initial-wraps-int8", lambda f: mh().sample(4, n_chains=2, initial=np.full((2, 3), 256)),
         ValueError, _rx("`initial` must be a 0/1 array", "Received values such as [256")),
    Case("sampling.MetropolisHastings.sample-initial-shape", lambda f: mh().sample(4, n_chains=2, initial=np.ones((3, 3))),
         ValueError, _rx("`initial` must be a 0/1 array of shape (2, 3). Received: shape=(3, 3)")),
    Case("sampling.MetropolisHastings.sample-initial-str", lambda f: mh().sample(4, n_chains=2, initial=[["a"] * 3] * 2),
         ValueError, numeric("initial", "<U1")),
    Case("sampling.MetropolisHastings.sample-thin-zero", lambda f: mh().sample(4, thin=0), ValueError, positive_int("thin", 0)),
    Case("sampling.MetropolisHastings.sample-burn_in-negative", lambda f: mh().sample(4, burn_in=-1), ValueError,
         _rx("`burn_in` must be 'auto' or an int >= 0. Received: burn_in=-1")),
    Case("sampling.MetropolisHastings.sample-min_pilot-str", lambda f: mh().sample(4, min_pilot="x"), ValueError,
         positive_int("min_pilot", "x")),
    Case("sampling.MetropolisHastings.sample-min_pilot-one", lambda f: mh().sample(4, min_pilot=1), ValueError,
         _rx("`min_pilot` must be an int >= 2. Received: min_pilot=1")),
    Case("sampling.MetropolisHastings.sample-max_pilot-zero", lambda f: mh().sample(4, max_pilot=0), ValueError,
         positive_int("max_pilot", 0)),
    Case("sampling.MetropolisHastings.sample-burn_in_factor-zero", lambda f: mh().sample(4, burn_in_factor=0), ValueError,
         positive_float("burn_in_factor", 0)),
    Case("sampling.MetropolisHastings.sample-unknown-keyword", lambda f: mh().sample(4, burnin=10), ValueError,
         _rx("Unknown keyword argument of `MetropolisHastings.sample`: 'burnin' (did you mean 'burn_in'?). "
             "Expected keywords among ['n_samples', 'n_chains', 'burn_in', 'thin', 'initial', 'seed', 'measure', "
             "'burn_in_factor', 'thin_factor', 'min_pilot', 'max_pilot']. Received: burnin=10")),
    Case("sampling.MetropolisHastings.sample-seed-negative", lambda f: mh().sample(4, seed=-1), ValueError,
         _rx("`seed` must be None, an int in [0, 2**63 - 2] or a np.random.SeedSequence. Received: seed=-1")),
    Case("sampling.effective_sample_size-one-step", lambda f: sampling.effective_sample_size([1.0]),
         ValueError, _rx("n_steps >= 2. Received: shape=(1,)")),
    Case("sampler.sample_ising-L-one", lambda f: sampler.sample_ising(1, 2.0, 4), ValueError, _rx("`L` must be an int >= 2. Received: L=1")),
    Case("sampler.sample_ising-T-str", lambda f: sampler.sample_ising(4, "hot", 4), ValueError, positive_float("temperature", "hot")),
    Case("sampler.sample_ising-T-zero", lambda f: sampler.sample_ising(4, 0.0, 4), ValueError, positive_float("temperature", 0.0)),
    Case("sampler.sample_ising-n_samples-zero", lambda f: sampler.sample_ising(4, 2.0, 0), ValueError, positive_int("n_samples", 0)),
    Case("sampler.sample_ising-n_samples-float", lambda f: sampler.sample_ising(4, 2.0, 2.5), ValueError, positive_int("n_samples", 2.5)),
    Case("sampler.sample_ising-method", lambda f: sampler.sample_ising(4, 2.0, 4, method="heatbath"), ValueError,
         one_of("method", "heatbath")),
    Case("sampler.sample_ising-backend", lambda f: sampler.sample_ising(4, 2.0, 4, method="metropolis", backend="gpu"),
         ValueError, one_of("backend", "gpu")),
    Case("sampler.sample_ising-multispin-odd-L", lambda f: sampler.sample_ising(3, 2.0, 4, method="metropolis", backend="multispin"),
         ValueError, _rx("`L` must be an even int >= 2", "Received: L=3")),
    Case("sampler.sample_ising-n_replicas-zero", lambda f: sampler.sample_ising(4, 2.0, 4, n_replicas=0), ValueError,
         positive_int("n_replicas", 0)),
    Case("sampler.sample_ising-initial-bits", lambda f: sampler.sample_ising(4, 2.0, 4, n_replicas=2, initial=np.zeros((2, 4, 4))),
         ValueError, _rx("`initial` must contain only the values -1 and 1", "Received values such as [0.0")),
    Case("sampler.sample_ising-initial-count", lambda f: sampler.sample_ising(4, 2.0, 4, n_replicas=2, initial=np.ones((3, 4, 4))),
         ValueError, _rx("`initial` must hold one configuration per replica (2). Received: shape=(3, 4, 4)")),
    Case("sampler.sample_ising-initial-name", lambda f: sampler.sample_ising(4, 2.0, 4, initial="warm"), ValueError,
         one_of("initial", "warm")),
    Case("sampler.sample_ising-seed-str", lambda f: sampler.sample_ising(4, 2.0, 4, seed="x"), ValueError,
         _rx("`seed` must be None, an int in [0, 2**63 - 2] or a np.random.SeedSequence. Received: seed='x'")),
    Case("sampler.sample_ising-seed-negative", lambda f: sampler.sample_ising(4, 2.0, 4, seed=-1), ValueError,
         _rx("`seed` must be None, an int in [0, 2**63 - 2]", "Received: seed=-1")),
    Case("sampler.sample_ising-unknown-keyword", lambda f: sampler.sample_ising(4, 2.0, 4, thinning=2), ValueError,
         _rx("Unknown keyword argument of `sample_ising`: 'thinning' (did you mean 'thin'?)", "Received: thinning=2")),
    Case("sampler.sample_ising-n_threads-zero",
         lambda f: sampler.sample_ising(4, 1.0, 4, method="metropolis", n_threads=0, burn_in=1, thin=1), ValueError,
         positive_int("n_threads", 0)),
    Case("sampler.initial_spins-n_replicas-negative", lambda f: sampler.initial_spins(4, 2.0, -1), ValueError,
         positive_int("n_replicas", -1)),
    Case("sampler.choose_method-T-str", lambda f: sampler.choose_method("hot"), ValueError, positive_float("temperature", "hot")),
    Case("multispin.MultispinMetropolis-bits", lambda f: multispin.MultispinMetropolis(4, 2.0, np.zeros((2, 4, 4))),
         ValueError, _rx("`spins` must contain only the values -1 and 1", "Received values such as [0.0")),
    Case("multispin.MultispinMetropolis-wrong-L", lambda f: multispin.MultispinMetropolis(4, 2.0, np.ones((2, 6, 6))),
         ValueError, _rx("`spins` must have shape (batch, 4, 4)", "Received: shape=(2, 6, 6)")),
    Case("multispin.MultispinMetropolis-words_per_shard-zero",
         lambda f: multispin.MultispinMetropolis(4, 2.0, np.ones((2, 4, 4)), words_per_shard=0), ValueError,
         positive_int("words_per_shard", 0)),
    Case("wolff.Wolff-bits", lambda f: wolff.Wolff(4, 2.0, np.zeros((2, 4, 4))), ValueError,
         _rx("`spins` must contain only the values -1 and 1", "Received values such as [0.0")),
    Case("wolff.Wolff-wrong-L", lambda f: wolff.Wolff(4, 2.0, np.ones((2, 3, 3))), ValueError,
         _rx("`spins` must have shape (batch, 4, 4)", "Received: shape=(2, 3, 3)")),
    Case("observables.estimate_observables-one-sample", lambda f: observables.estimate_observables(np.ones((1, 4, 4)), 2.0),
         ValueError, _rx("`spins` must hold at least 2 configurations", "Received: shape=(1, 4, 4)")),
    Case("observables.estimate_observables-T-zero", lambda f: observables.estimate_observables(SPINS, 0), ValueError,
         positive_float("temperature", 0)),
    Case("observables.estimate_observables-n_blocks-bool", lambda f: observables.estimate_observables(SPINS, 2.0, n_blocks=True),
         ValueError, positive_int("n_blocks", True)),
    Case("observables.jackknife-empty", lambda f: observables.jackknife(np.zeros((0, 5)), lambda m: {"a": m[..., 0]}),
         ValueError, not_empty("per_sample", "(0, 5)")),
    Case("observables.jackknife-rank-1", lambda f: observables.jackknife(np.ones(5), lambda m: {"a": m}),
         ValueError, _rx("`per_sample` must have shape (n, k). Received: shape=(5,)")),
    Case("data.temperature_grid-n-zero", lambda f: ising_data.temperature_grid(0), ValueError, positive_int("n", 0)),
    Case("data.temperature_grid-reversed", lambda f: ising_data.temperature_grid(4, 3.0, 1.0), ValueError,
         _rx("`t_max` must be >= `t_min`. Received: t_min=3.0, t_max=1.0")),
    Case("data.generate-no-temperatures", lambda f: ising_data.generate(4, [], 10, use_cache=False), ValueError,
         _rx("`temperatures` must be a non-empty 1-D sequence", "Received: shape=(0,)")),
    Case("data.generate-seed-negative", lambda f: ising_data.generate(4, [2.0], 10, seed=-1, use_cache=False), ValueError,
         _rx("`seed` must be an int in [0, 2**63 - 2]. Received: seed=-1")),
    Case("data.generate-cache_dir-is-a-file", lambda f: ising_data.generate(2, [2.0], 4, cache_dir=f.a_file), ValueError,
         _rx("`cache_dir` must be a folder. Received: cache_dir=", "which is a file")),
    Case("data.load-batch_size-zero", lambda f: ising_data.load(4, [2.0], 10, batch_size=0), ValueError,
         positive_int("batch_size", 0)),
    Case("data.load-encoding", lambda f: ising_data.load(4, [2.0], 10, encoding="onehot"), ValueError,
         one_of("encoding", "onehot")),
    Case("symmetry.apply_symmetries-element-out-of-range", lambda f: symmetry.apply_symmetries(SPINS, [0, 1, 256]),
         ValueError, _rx("`elements` must be 3 ints in [0, 256). Received: shape=(3,)", "values in [0, 256]")),
    Case("symmetry.symmetry_augment-seed-float", lambda f: symmetry.symmetry_augment(SPINS, seed=1.5), ValueError,
         _rx("`seed` must be None, an int in [0, 2**63 - 2]", "Received: seed=1.5")),
    # ------------------------------------------------------------- IDX reader
    Case("idx.parse_idx-str", lambda f: idx.parse_idx("\0\0\x08\x01"), ValueError,
         _rx("Expected the bytes of an IDX file", "Received: str")),
    Case("idx.parse_idx-none", lambda f: idx.parse_idx(None), ValueError, _rx("Expected the bytes of an IDX file", "Received: NoneType")),
    Case("idx.parse_idx-list", lambda f: idx.parse_idx([0, 0, 8, 1]), ValueError, _rx("Expected the bytes", "Received: list")),
    Case("idx.parse_idx-short", lambda f: idx.parse_idx(b"\0\0"), ValueError,
         _rx("Expected an IDX file with a 4-byte header. Received 2 byte(s)")),
    Case("idx.parse_idx-bad-magic", lambda f: idx.parse_idx(b"PK\x03\x04" + b"\0" * 8), ValueError,
         _rx("Expected an IDX magic number 0x0000TTNN", "Received 0x504b0304")),
    Case("idx.parse_idx-bad-type", lambda f: idx.parse_idx(b"\0\0\x07\x01" + b"\0" * 4), ValueError,
         _rx("Expected an IDX magic number", "Received 0x00000701")),
    Case("idx.parse_idx-no-dimensions", lambda f: idx.parse_idx(b"\0\0\x08\0"), ValueError,
         _rx("Expected an IDX file with at least 1 dimension. Received ndim=0")),
    Case("idx.parse_idx-truncated-header", lambda f: idx.parse_idx(b"\0\0\x08\x03" + b"\0" * 5), ValueError,
         _rx("Expected an IDX header of 16 bytes for 3 dimension(s). Received a file of 9 bytes", "(truncated)")),
    # 2^31 * 2^31 * 4 = 2^64 bytes wraps to 0 in int64: exact Python ints see the lie.
    Case("idx.parse_idx-lying-header-int64-overflow",
         lambda f: idx.parse_idx(bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (2**31, 2**31, 4))),
         ValueError, _rx(f"Expected {2**64} data bytes for an IDX array of shape (2147483648, 2147483648, 4)",
                         "Received 0 bytes", "(truncated)")),
    Case("idx.parse_idx-lying-header-huge", lambda f: idx.parse_idx(bytes([0, 0, 8, 2]) + (2**32 - 1).to_bytes(4, "big") * 2 + b"x"),
         ValueError, _rx(f"Expected {(2**32 - 1) ** 2} data bytes", "Received 1 bytes", "(truncated)")),
    Case("idx.read_idx-missing", lambda f: idx.read_idx(os.path.join(f.folder, "nope.gz")), FileNotFoundError,
         _rx("Expected an IDX file. No file at")),
    Case("idx.read_idx-folder", lambda f: idx.read_idx(f.folder), ValueError, _rx("Expected an IDX file. Received a folder")),
    Case("idx.read_idx-path-int", lambda f: idx.read_idx(3), ValueError,
         _rx("`path` must be the path of an IDX file (a str or os.PathLike). Received: path=3")),
    Case("idx.read_idx-empty", lambda f: idx.read_idx(f.idx_empty), ValueError, _rx("4-byte header. Received 0 byte(s)")),
    Case("idx.read_idx-random-bytes", lambda f: idx.read_idx(f.idx_random), ValueError,
         _rx("Expected an IDX magic number", "Received 0x")),
    Case("idx.read_idx-truncated", lambda f: idx.read_idx(f.idx_truncated), ValueError,
         _rx("Expected 2352 data bytes for an IDX array of shape (3, 28, 28)", "Received 2345 bytes", "(truncated)")),
    Case("idx.read_idx-trailing-data", lambda f: idx.read_idx(f.idx_trailing), ValueError,
         _rx("Expected 2352 data bytes", "Received 2353 bytes", "(trailing data)")),
    Case("idx.read_idx-truncated-gzip", lambda f: idx.read_idx(f.idx_gz_truncated), ValueError,
         _rx("Expected a complete gzip-compressed IDX file. Received", "cannot be decompressed")),
    Case("idx.read_idx-lying-header", lambda f: idx.read_idx(f.idx_lying), ValueError,
         _rx(f"Expected {(2**32 - 1) ** 3} data bytes", "Received 64 bytes", "(truncated)")),
    Case("idx.read_idx-gzip-lying-header", lambda f: idx.read_idx(f.idx_gz_lying), ValueError,
         _rx("Expected an IDX file whose header matches its size. Received", f"claims {(2**32 - 1) ** 3} data bytes")),
    # ------------------------------------------------------------- datasets
    Case("datasets.load-name", lambda f: datasets.load("cifar10"), ValueError, one_of("name", "cifar10")),
    Case("datasets.load-split-unknown", lambda f: datasets.load("mnist", "validation"), ValueError,
         _rx("Expected `split` made of the splits ['train', 'test']. Received: split='validation'")),
    Case("datasets.load-split-int", lambda f: datasets.load("mnist", 3), ValueError,
         _rx("Expected `split` to be a str", "Received: split=3")),
    Case("datasets.load-split-syntax", lambda f: datasets.load("mnist", "train[:abc]"), ValueError,
         _rx("Expected `split` in TFDS split syntax", "Received: split='train[:abc]'")),
    Case("datasets.load-batch_size-zero", lambda f: datasets.load("mnist", batch_size=0), ValueError, positive_int("batch_size", 0)),
    Case("datasets.load-batch_size-bool", lambda f: datasets.load("mnist", batch_size=True), ValueError,
         positive_int("batch_size", True)),
    Case("datasets.load-threshold-one", lambda f: datasets.load("mnist", threshold=1.0), ValueError,
         _rx("`threshold` must be a float in (0, 1). Received: threshold=1.0")),
    Case("datasets.load-threshold-nan", lambda f: datasets.load("mnist", threshold=NAN), ValueError,
         _rx("`threshold` must be a float in (0, 1). Received: threshold=nan")),
    Case("datasets.load-binarize", lambda f: datasets.load("mnist", binarize="soft"), ValueError, one_of("binarize", "soft")),
    Case("datasets.load-limit-zero", lambda f: datasets.load("mnist", limit=0), ValueError, positive_int("limit", 0)),
    Case("datasets.load-seed-str", lambda f: datasets.load("mnist", seed="0"), ValueError,
         _rx("`seed` must be None or an int in [-2**63, 2**63 - 2]. Received: seed='0'")),
    Case("datasets.load-download-str", lambda f: datasets.load("mnist", download="yes"), ValueError,
         _rx("`download` must be None, True or False. Received: download='yes'")),
    Case("datasets.load-shuffle-int", lambda f: datasets.load("mnist", shuffle=1), ValueError,
         _rx("`shuffle` must be None, True or False. Received: shuffle=1")),
    Case("datasets.load-local_dir-is-a-file", lambda f: datasets.load("mnist", local_dir=f.a_file), FileNotFoundError,
         _rx("Expected `local_dir` to be a folder of IDX files. Received: local_dir=", "which is not a folder")),
    Case("datasets.load-local_dir-random-idx",
         lambda f: datasets.load("mnist", "test", local_dir=f.mnist_random, data_dir=f.tfds_dir, download=False), ValueError,
         _rx("Expected an IDX magic number", "Received 0x")),
    Case("datasets.load_arrays-split-slice", lambda f: datasets.load_arrays("mnist", "train[:10]"), ValueError,
         one_of("split", "train[:10]")),
    Case("datasets.load_arrays-name-list", lambda f: datasets.load_arrays(["mnist"]), ValueError, one_of("name", ["mnist"])),
    Case("datasets.load_arrays-empty-folder", lambda f: datasets.load_arrays("mnist", "test", local_dir=f.empty_dir),
         FileNotFoundError, _rx("Expected the MNIST split(s) ['test'] as IDX files in", "Missing: t10k-images-idx3-ubyte.gz")),
    Case("datasets.load_arrays-random-bytes", lambda f: datasets.load_arrays("mnist", "test", local_dir=f.mnist_random),
         ValueError, _rx("Expected an IDX magic number", "Received 0x")),
    Case("datasets.load_arrays-truncated-gzip", lambda f: datasets.load_arrays("mnist", "test", local_dir=f.mnist_truncated),
         ValueError, _rx("Expected a complete gzip-compressed IDX file. Received", "cannot be decompressed")),
    Case("datasets.load_arrays-wrong-image-shape", lambda f: datasets.load_arrays("mnist", "test", local_dir=f.mnist_wrong_shape),
         ValueError, _rx("Expected an IDX images file of dtype uint8 and shape (N, 28, 28). Received dtype=uint8, shape=(2, 27, 27)")),
    Case("datasets.load_arrays-label-out-of-range", lambda f: datasets.load_arrays("mnist", "test", local_dir=f.mnist_bad_label),
         ValueError, _rx("Expected labels in 0..9. Received a label 12")),
    Case("datasets.load_arrays-count-mismatch", lambda f: datasets.load_arrays("mnist", "test", local_dir=f.mnist_count),
         ValueError, _rx("Expected as many labels as images", "Received 2 images", "and 3 labels")),
    # --------------------------------------------------------- saving
    Case("load_model-missing", lambda f: saving.load_model(os.path.join(f.folder, "nope.keras")), FileNotFoundError,
         _rx("Expected a `.keras` model file. Received a path that does not exist")),
    Case("load_model-h5-suffix", lambda f: saving.load_model(f.h5), ValueError,
         _rx("`filepath` must end in `.keras`. Received: filepath=", "model.h5")),
    Case("load_model-no-suffix", lambda f: saving.load_model(f.no_suffix), ValueError, _rx("`filepath` must end in `.keras`. Received")),
    Case("load_model-folder", lambda f: saving.load_model(f.folder_keras), ValueError,
         _rx("Expected a `.keras` model file. Received a folder")),
    Case("load_model-path-int", lambda f: saving.load_model(7), ValueError,
         _rx("`filepath` must be a path ending in `.keras`. Received: filepath=7")),
    Case("load_model-random-bytes", lambda f: saving.load_model(f.random_keras), ValueError,
         _rx("Expected a complete `.keras` file (a zip archive). Received", "(1000 bytes), which is not a valid zip archive")),
    Case("load_model-empty", lambda f: saving.load_model(f.empty_keras), ValueError,
         _rx("Expected a complete `.keras` file", "(0 bytes), which is not a valid zip archive")),
    Case("load_model-truncated", lambda f: saving.load_model(f.truncated_keras), ValueError,
         _rx("Expected a complete `.keras` file", "truncated or corrupt")),
    Case("load_model-tail-cut", lambda f: saving.load_model(f.tail_cut_keras), ValueError,
         _rx("Expected a complete `.keras` file", "truncated or corrupt")),
    Case("load_model-foreign-model", lambda f: saving.load_model(f.foreign_keras), ValueError,
         _rx("Expected a keras_genmodels model", "Received a keras.src.models.sequential.Sequential")),
    Case("load_model-unknown-class", lambda f: saving.load_model(f.unknown_class_keras), ValueError,
         _rx("Expected a `.keras` file holding a keras_genmodels model. Received", "could not be loaded", "NoSuchModel")),
    Case("load_model-junk-config", lambda f: saving.load_model(f.junk_config_keras), ValueError,
         _rx("Expected a `.keras` file holding a keras_genmodels model", "could not be loaded")),
    Case("load_model-bad-argument", lambda f: saving.load_model(f.bad_argument_keras), ValueError,
         _rx("could not be loaded", "`sigma2` must be a finite float > 0. Received: sigma2=-1.0")),
    Case("save_model-h5-suffix", lambda f: saving.save_model(vae(), os.path.join(f.folder, "m.h5")), ValueError,
         _rx("`filepath` must end in `.keras`. Received: filepath=", "m.h5")),
    Case("save_model-not-a-model", lambda f: saving.save_model("vae", os.path.join(f.folder, "m.keras")), ValueError,
         _rx("`model` must be a keras.Model. Received: str")),
    # --------------------------------------------------------- export
    Case("export_model-not-a-model", lambda f: export.export_model(object(), f.folder, model_name="m"), ValueError,
         _rx("Expected a keras_genmodels model", "Received: builtins.object")),
    Case("export_model-foreign-file", lambda f: export.export_model(f.foreign_keras, f.folder), ValueError,
         _rx("Expected a keras_genmodels model", "Sequential")),
    Case("export_model-random-bytes", lambda f: export.export_model(f.random_keras, f.folder), ValueError,
         _rx("Expected a complete `.keras` file", "not a valid zip archive")),
    Case("export_model-missing", lambda f: export.export_model(os.path.join(f.folder, "no.keras"), f.folder),
         FileNotFoundError, _rx("Expected a `.keras` model file. Received a path that does not exist")),
    Case("export_model-version-zero", lambda f: export.export_model(vae(), f.folder, version=0), ValueError,
         positive_int("version", 0)),
    Case("export_model-version-str", lambda f: export.export_model(vae(), f.folder, version="1"), ValueError,
         positive_int("version", "1")),
    Case("export_model-version-bool", lambda f: export.export_model(vae(), f.folder, version=True), ValueError,
         positive_int("version", True)),
    Case("export_model-model_name-path", lambda f: export.export_model(vae(), f.folder, model_name="../up"), ValueError,
         _rx("`model_name` must be a non-empty name of letters", "Received: model_name='../up'")),
    Case("export_model-overwrite-str", lambda f: export.export_model(vae(), f.folder, overwrite="yes"), ValueError,
         a_bool("overwrite", "yes")),
    Case("export_model-out_dir-is-a-file", lambda f: export.export_model(vae(), f.a_file), ValueError,
         _rx("`out_dir` must be a folder", "which is a file")),
    Case("export_model-out_dir-none", lambda f: export.export_model(vae(), None), ValueError,
         _rx("`out_dir` must be a folder path. Received: out_dir=None")),
    # --------------------------------------------------------- presets
    Case("load_pretrained-unknown", lambda f: presets.load_pretrained("nope"), ValueError,
         _rx("Unknown preset 'nope'. Available presets:")),
    Case("load_pretrained-name-list", lambda f: presets.load_pretrained(["nope"]), ValueError,
         _rx("preset", "Received", "['nope']")),
    Case("preset_card-unknown", lambda f: presets.preset_card("nope"), ValueError, _rx("Unknown preset 'nope'. Available presets:")),
    Case("list_presets-manifest-not-json", lambda f: presets.list_presets(root=f.presets_bad_json), ValueError,
         _rx("Expected a JSON preset manifest. Received", "manifest.json")),
    Case("list_presets-manifest-version", lambda f: presets.list_presets(root=f.presets_version), ValueError,
         _rx("Expected a preset manifest with format_version=1. Received", "format_version=99")),
    Case("list_presets-manifest-presets-list", lambda f: presets.list_presets(root=f.presets_list), ValueError,
         _rx("Expected", "Received")),
    Case("load_pretrained-random-bytes", lambda f: presets.load_pretrained("a", root=f.presets_random), ValueError,
         _rx("Expected a complete `.keras` file (a zip archive)", "not a valid zip archive")),
    Case("load_pretrained-sha-mismatch", lambda f: presets.load_pretrained("a", root=f.presets_sha), ValueError,
         _rx("Preset 'a': 'a.keras' has SHA-256", "expected 000000000000... from the registry")),
    # ------------------------------------------- EnergyBasedModel(...), langevin(...)
    Case("EBM-step_size-zero", lambda f: _ebm(step_size=0.0), ValueError, positive_float("step_size", 0.0)),
    Case("EBM-step_size-negative", lambda f: _ebm(step_size=-1.0), ValueError, positive_float("step_size", -1.0)),
    Case("EBM-steps-zero", lambda f: _ebm(steps=0), ValueError, positive_int("steps", 0)),
    Case("EBM-restart_fraction-above-one", lambda f: _ebm(restart_fraction=1.5), ValueError,
         _rx("`restart_fraction` must be a float in [0, 1]. Received: restart_fraction=1.5")),
    Case("EBM-restart_fraction-nan", lambda f: _ebm(restart_fraction=NAN), ValueError,
         _rx("`restart_fraction` must be a float in [0, 1]. Received: restart_fraction=nan")),
    Case("EBM-data_range-reversed", lambda f: _ebm(data_range=(1.0, -1.0)), ValueError,
         _rx("`data_range` must be (low, high) with finite low < high. Received: data_range=(1.0, -1.0)")),
    Case("EBM-energy-wrong-shape", lambda f: _ebm(energy_network=_dense_network(3)), ValueError,
         _rx("`energy_network` must return one energy per example", "Received: shape (2, 3)")),
    Case("EBM-fit-nan", lambda f: _ebm_fit(np.full((4, 2), NAN, "float32")), ValueError, finite("x")),
    Case("EBM-fit-out-of-range", lambda f: _ebm_fit(np.full((4, 2), 3.0, "float32")), ValueError,
         _rx("`x` must have values in [-1.0, 1.0]. Received values in [3.0, 3.0]")),
    Case("EBM-fit-wrong-shape", lambda f: _ebm_fit(np.zeros((4, 5), "float32")), ValueError,
         _rx("`x` must have shape (batch, 2). Received: shape=(4, 5)")),
    Case("langevin-step_size-zero", lambda f: _langevin(step_size=0.0), ValueError, positive_float("step_size", 0.0)),
    Case("langevin-steps-zero", lambda f: _langevin(steps=0), ValueError, positive_int("steps", 0)),
    Case("langevin-x0-nan", lambda f: _langevin(x0=np.full((3, 2), NAN, "float32")), ValueError, finite("x0")),
    Case("langevin-energy-wrong-shape", lambda f: _langevin(energy=lambda x: x), ValueError,
         _rx("`energy` must return one energy per row of `x0`, shape (3,) or (3, 1). Received: shape=(3, 2)")),
    Case("langevin-bounds-reversed", lambda f: _langevin(bounds=(1.0, 0.0)), ValueError,
         _rx("`bounds` must be None or a pair (lo, hi) of finite floats with lo < hi. Received: bounds=(1.0, 0.0)")),
]


def _tiny_vae_with(**kwargs):
    config = dict(architecture="mlp", data_shape=(4,), latent_dim=2, hidden_units=(4,), seed=0)
    config.update(kwargs)
    return VAE(**config)


@functools.cache
def _tiny_vae_with_latent(latent_dim):
    return _tiny_vae_with(latent_dim=latent_dim)


def _params(cases):
    out = []
    for case in cases:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@contextlib.contextmanager
def deadline(seconds):
    """Fail (instead of hanging) if the block runs longer than `seconds`."""

    def alarm(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_load_model_takes_a_keras_model_built_on_our_layers(tmp_path):
    """Only a model with no keras_genmodels class in it is "foreign"."""
    mean, log_var = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([mean, log_var], Sampling(seed=0)([mean, log_var]))
    path = saving.save_model(model, tmp_path / "functional.keras")
    assert isinstance(saving.load_model(path), keras.Model)


def test_case_ids_are_unique():
    ids = [c.id for c in CASES + CLI_CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("case", _params(CASES))
def test_bad_input_gets_a_clear_error(case, files):
    with deadline(DEADLINE_S), pytest.raises(case.exc) as info:
        case.call(files)
    message = str(info.value)
    assert re.search(case.match, message, re.DOTALL), (
        f"{type(info.value).__name__} message does not match {case.match!r}:\n{message}"
    )


# ---------------------------------------------------------------------------
# The command line: a non-zero exit status and one line on stderr, no traceback.
# ---------------------------------------------------------------------------


class CliCase:
    def __init__(self, id, argv, match, xfail=None):
        self.id, self.argv, self.match, self.xfail = id, argv, match, xfail


CLI_CASES = [
    CliCase("cli-sample-missing-file", lambda f: ["sample", os.path.join(f.folder, "nope.keras")],
            _rx("Expected a `.keras` model file. Received a path that does not exist")),
    CliCase("cli-sample-n-zero", lambda f: ["sample", f.vae_keras, "--n", "0"], _rx("argument --n: must be a positive int. Received: '0'")),
    CliCase("cli-sample-n-not-an-int", lambda f: ["sample", f.vae_keras, "--n", "abc"],
            _rx("argument --n: must be a positive int. Received: 'abc'")),
    CliCase("cli-sample-random-bytes", lambda f: ["sample", f.random_keras], _rx("Expected a complete `.keras` file", "not a valid zip")),
    CliCase("cli-sample-truncated", lambda f: ["sample", f.truncated_keras], _rx("truncated or corrupt")),
    CliCase("cli-sample-folder", lambda f: ["sample", f.folder_keras], _rx("Expected a `.keras` model file. Received a folder")),
    CliCase("cli-sample-h5", lambda f: ["sample", f.h5], _rx("`filepath` must end in `.keras`. Received")),
    CliCase("cli-sample-foreign-model", lambda f: ["sample", f.foreign_keras], _rx("Expected a keras_genmodels model", "Sequential")),
    CliCase("cli-sample-unknown-class", lambda f: ["sample", f.unknown_class_keras], _rx("could not be loaded", "NoSuchModel")),
    CliCase("cli-sample-bad-argument", lambda f: ["sample", f.bad_argument_keras], _rx("Received: sigma2=-1.0")),
    CliCase("cli-evaluate-batch-size-zero", lambda f: ["evaluate", f.vae_keras, "--batch-size", "0", "--local-dir", f.empty_dir],
            _rx("argument --batch-size: must be a positive int. Received: '0'")),
    CliCase("cli-evaluate-no-data", lambda f: ["evaluate", f.vae_keras, "--dataset", "mnist", "--local-dir", f.empty_dir],
            _rx("Expected the MNIST split(s) ['test'] as IDX files", "Missing:")),
    CliCase("cli-export-version-zero", lambda f: ["export", f.vae_keras, f.folder, "--version", "0"], _rx("argument --version: must be a positive int. Received: '0'")),
    CliCase("cli-export-random-bytes", lambda f: ["export", f.random_keras, f.folder], _rx("not a valid zip archive")),
    CliCase("cli-export-out-dir-is-a-file", lambda f: ["export", f.vae_keras, f.a_file], _rx("`out_dir` must be a folder", "which is a file")),
    CliCase("cli-train-vae-epochs-zero", lambda f: ["train", "vae", "--epochs", "0"], _rx("argument --epochs: must be a positive int. Received: '0'")),
    CliCase("cli-train-vae-latent-dim-zero", lambda f: ["train", "vae", "--latent-dim", "0", "--local-dir", f.empty_dir],
            _rx("argument --latent-dim: must be a positive int. Received: '0'")),
    CliCase("cli-train-vae-hidden-units", lambda f: ["train", "vae", "--hidden-units", "a,b", "--architecture", "mlp"],
            _rx("argument --hidden-units: must be comma-separated positive ints", "Received: 'a,b'")),
    CliCase("cli-train-vae-learning-rate-nan", lambda f: ["train", "vae", "--learning-rate", "nan"],
            _rx("argument --learning-rate: must be a finite float > 0. Received: 'nan'")),
    CliCase("cli-train-rbm-epochs-zero", lambda f: ["train", "rbm", "--epochs", "0"], _rx("argument --epochs: must be a positive int. Received: '0'")),
    CliCase("cli-train-rbm-visible", lambda f: ["train", "rbm", "--visible", "poisson"], _rx("argument --visible: invalid choice: 'poisson' (choose from 'bernoulli', 'gaussian')")),
    CliCase("cli-train-rbm-dataset", lambda f: ["train", "rbm", "--dataset", "cifar10", "--local-dir", f.empty_dir],
            _rx("argument --dataset: invalid choice: 'cifar10' (choose from 'mnist', 'fashion_mnist')")),
    CliCase("cli-train-ebm-step-size-zero", lambda f: ["train", "ebm", "--step-size", "0"],
            _rx("argument --step-size: must be a finite float > 0. Received: '0'")),
    CliCase("cli-train-ebm-restart-fraction", lambda f: ["train", "ebm", "--dataset", "rings", "--restart-fraction", "2"],
            _rx("Expected --restart-fraction in [0, 1]. Received --restart-fraction 2.0")),
    CliCase("cli-train-unknown-family", lambda f: ["train", "no_such_family"], _rx("invalid choice: 'no_such_family'")),
    CliCase("cli-no-command", lambda f: [], _rx("the following arguments are required: command")),
]


def _run_cli(argv, capsys):
    from keras_genmodels import cli

    capsys.readouterr()
    try:
        status = cli.main(argv)
    except SystemExit as e:  # argparse's own errors
        status = e.code
    return status, capsys.readouterr().err


@pytest.mark.parametrize("case", _params(CLI_CASES))
def test_cli_bad_input_exits_with_one_line(case, files, capsys):
    with deadline(DEADLINE_S):
        status, err = _run_cli(case.argv(files), capsys)
    assert status not in (0, None), err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    # Our errors are one line; argparse's are its usage, then one error line.
    assert lines and re.match(r"keras-genmodels( \w+)*: error: ", lines[-1]), err
    if not lines[0].startswith("usage:"):
        assert len(lines) == 1, err
    assert re.search(case.match, lines[-1]), f"{case.match!r} not in {lines[-1]!r}"


REAL_PROCESS_TEST = "test_cli_in_a_real_process_neither_crashes_nor_hangs"


@pytest.fixture(scope="module", autouse=True)
def real_cli_runs(request, files, tmp_path_factory):
    """Start the real `python -m keras_genmodels` runs with the module's first test,
    so that their start-up (importing TensorFlow) overlaps the in-process cases."""
    if not any(item.name == REAL_PROCESS_TEST for item in request.session.items):
        yield None
        return
    out_dir = str(tmp_path_factory.mktemp("cli_out"))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=_repo_root())
    commands = {
        "random-bytes": [sys.executable, "-m", "keras_genmodels", "sample", files.random_keras],
        "unknown-class": [sys.executable, "-m", "keras_genmodels", "export", files.unknown_class_keras, out_dir],
    }
    procs = {
        name: subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=out_dir)
        for name, argv in commands.items()
    }
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_cli_in_a_real_process_neither_crashes_nor_hangs(real_cli_runs):
    """Two bad files through `python -m keras_genmodels`: exit status 2 within the timeout."""
    results = {}
    for name, proc in real_cli_runs.items():
        try:
            _, err = proc.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name}: `keras-genmodels` still running after 240 s (a hang)")
        results[name] = (proc.returncode, err)
    for name, (status, err) in results.items():
        assert status == 2, (name, status, err)  # not killed by a signal (< 0), not a crash (1)
        assert "Traceback" not in err, (name, err)
        last = err.strip().splitlines()[-1]
        assert last.startswith("keras-genmodels: error: Expected"), (name, err)
    assert "not a valid zip archive" in results["random-bytes"][1]
    assert "NoSuchModel" in results["unknown-class"][1]


def _repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(keras_genmodels.__file__)))
