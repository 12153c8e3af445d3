"""Property-based tests (hypothesis) of the two parsers of untrusted input.

1. The IDX reader (`keras_genmodels.idx`): on arbitrary bytes, and on valid
   files that are truncated, extended or have a byte or a dimension changed,
   `parse_idx` / `read_idx` either return an array consistent with the header
   or raise `ValueError` - never another exception, never a hang (hypothesis'
   deadline), and never an allocation of what a lying header claims (the
   peak traced memory stays within a small multiple of the input).
2. Config deserialisation: `Class.from_config(config)` for every class
   registered under "keras_genmodels", with values replaced by junk (wrong
   types, negatives, NaN, huge ints) or keys removed, either builds a usable
   model whose own config round-trips, or raises `ValueError`/`TypeError`; for
   one junk value in one of the class's own arguments, the message names it.

Sizes (`n_visible`, `n_hidden`, `latent_dim`, ...) are fuzzed with small
positive values only: a huge size is refused by an upper bound, checked in
tests/test_bad_input.py (the "-huge" rows), not allocated here.
"""

import copy
import gzip
import json
import math
import os
import tracemalloc

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import keras_genmodels  # noqa: F401  (registers every class)
from keras_genmodels import idx

NAN, INF = float("nan"), float("inf")

FAST = settings(max_examples=60, deadline=1000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
# Model construction: the first call of a class is slow (tracing, imports).
MODELS = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---------------------------------------------------------------------------
# 1. The IDX reader
# ---------------------------------------------------------------------------

TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _header_of(data):
    """(dtype, shape) that a well-formed header at the start of `data` declares."""
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.dtype(TYPES[data[2]]), shape


def _check_consistent(data, arr):
    """A returned array must be exactly what the header and payload say."""
    dtype, shape = _header_of(data)
    assert arr.shape == shape
    assert arr.dtype == dtype.newbyteorder("=")
    header = 4 + 4 * len(shape)
    assert len(data) - header == math.prod(shape) * dtype.itemsize
    np.testing.assert_array_equal(arr, np.frombuffer(data, dtype=dtype, offset=header).reshape(shape))


def _parse(data):
    try:
        arr = idx.parse_idx(data)
    except ValueError as e:
        assert str(e).startswith("Expected"), str(e)
        return None
    _check_consistent(data, arr)
    return arr


@st.composite
def idx_files(draw):
    """The bytes of a valid IDX file and the array it holds."""
    code = draw(st.sampled_from(sorted(TYPES)))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=3)))
    n = math.prod(shape)
    dtype = np.dtype(TYPES[code])
    payload = draw(st.binary(min_size=n * dtype.itemsize, max_size=n * dtype.itemsize))
    arr = np.frombuffer(payload, dtype=dtype).reshape(shape)
    header = bytes([0, 0, code, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)
    return header + payload, arr


@st.composite
def mutated(draw, files):
    """A valid file, then one mutation: none, truncate, append, change a byte, change a dimension."""
    data, arr = draw(files)
    kind = draw(st.sampled_from(["none", "truncate", "append", "byte", "dimension"]))
    if kind == "truncate":
        data = data[: draw(st.integers(0, max(0, len(data) - 1)))]
    elif kind == "append":
        data = data + draw(st.binary(min_size=1, max_size=16))
    elif kind == "byte" and data:
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1 :]
    elif kind == "dimension":
        i = draw(st.integers(0, data[3] - 1))
        dim = draw(st.integers(0, 2**32 - 1)).to_bytes(4, "big")
        data = data[: 4 + 4 * i] + dim + data[8 + 4 * i :]
    return kind, data, arr


@st.composite
def lying_headers(draw):
    """A header with arbitrary (mostly huge) dimensions and a short payload."""
    code = draw(st.sampled_from(sorted(TYPES)))
    dims = draw(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=6))
    header = bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    return header + draw(st.binary(max_size=64))


@FAST
@given(st.binary(max_size=256))
@example(b"")
@example(b"\0\0\x08")
@example(b"\0\0\x08\0")
@example(b"\0\0\x08\xff")
@example(bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (2**31, 2**31, 4)))
def test_parse_idx_on_arbitrary_bytes(data):
    _parse(data)


@settings(FAST, max_examples=30)
@given(st.one_of(st.text(max_size=8), st.none(), st.integers(), st.lists(st.integers(0, 255), max_size=8)))
def test_parse_idx_on_what_is_not_bytes(value):
    with pytest.raises(ValueError, match="Expected the bytes of an IDX file"):
        idx.parse_idx(value)


@FAST
@given(mutated(idx_files()))
def test_parse_idx_on_mutated_files(case):
    kind, data, arr = case
    out = _parse(data)
    if kind == "none":
        np.testing.assert_array_equal(out, arr)
    if kind in ("truncate", "append"):
        assert out is None  # a valid file changed in length is never accepted


def _peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
    except ValueError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


@settings(FAST, max_examples=60)
@given(lying_headers())
@example(bytes([0, 0, 0x0E, 3]) + (2**32 - 1).to_bytes(4, "big") * 3)
def test_a_lying_header_allocates_nothing_large(data):
    peak = _peak_bytes(lambda: _parse(data))
    assert peak < 64 * 1024 + 16 * len(data), peak


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz_idx")


@settings(FAST, max_examples=60)
@given(case=mutated(idx_files()), compressed=st.booleans())
def test_read_idx_on_mutated_files(folder, case, compressed):
    kind, data, arr = case
    path = os.path.join(folder, "f.idx.gz" if compressed else "f.idx")
    with open(path, "wb") as f:
        f.write(gzip.compress(data, mtime=0) if compressed else data)
    try:
        out = idx.read_idx(path)
    except ValueError:
        assert kind != "none"
        return
    _check_consistent(data, out)


@settings(FAST, max_examples=40)
@given(data=lying_headers(), cut=st.integers(0, 40))
def test_read_idx_gzip_lying_header_or_truncated_stream(folder, data, cut):
    """A gzip file whose header lies (or whose stream is cut) is refused cheaply."""
    raw = gzip.compress(data, mtime=0)
    raw = raw[: max(2, len(raw) - cut)]
    path = os.path.join(folder, "lying.idx.gz")
    with open(path, "wb") as f:
        f.write(raw)
    peak = _peak_bytes(lambda: idx.read_idx(path))
    assert peak < 2 * 1024 * 1024, peak  # the reader's 1 MiB chunk at most


def test_read_idx_gzip_bomb_is_not_decompressed(folder):
    """Header: 100 bytes. Stream: 200 MB of zeros. Only what the header says is read."""
    path = os.path.join(folder, "bomb.idx.gz")
    header = bytes([0, 0, 8, 1]) + (100).to_bytes(4, "big")
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header)
        block = bytes(1 << 20)
        for _ in range(200):
            f.write(block)
    peak = _peak_bytes(lambda: idx.read_idx(path))
    with pytest.raises(ValueError, match=r"Expected 100 data bytes .* \(trailing data\)"):
        idx.read_idx(path)
    assert peak < 4 * 1024 * 1024, peak


# ---------------------------------------------------------------------------
# 2. Config deserialisation
# ---------------------------------------------------------------------------


# Short class name -> constructor arguments of a small instance. Every class
# registered under "keras_genmodels" needs an entry (see the first test below).
FACTORY_ARGS = {
    "Sampling": dict(seed=1),
    "VAE": dict(architecture="mlp", data_shape=(4,), latent_dim=2, hidden_units=(), seed=0),
    "BernoulliRBM": dict(n_visible=6, n_hidden=3, centering=True, seed=0),
    "GaussianBernoulliRBM": dict(n_visible=6, n_hidden=3, learn_variance=True, seed=0),
    "TemperedBernoulliRBM": dict(n_visible=6, n_hidden=3, n_chains=4, n_temperatures=3, seed=0),
    "DeepBeliefNetwork": dict(layer_sizes=[6, 4, 3], n_chains=4, centering=True, seed=0),
    "DeepBoltzmannMachine": dict(n_visible=6, n_hidden_1=4, n_hidden_2=3, n_chains=4, centering=True, seed=0),
    "ReplicaSeedGenerator": dict(seed=1),
    "FeatureNetwork": dict(filters=(2, 3), feature_dim=4, num_classes=3, dropout=0.1, image_shape=(8, 8, 1)),
    "EnergyBasedModel": dict(data_shape=(2,), hidden_units=(4,), buffer_size=8, steps=2, seed=0),
    "WGANGP": dict(data_shape=(8, 8, 1), latent_dim=4, spins=True, seed=0),
    "DCGAN": dict(data_shape=(8, 8, 1), latent_dim=4, spins=True, seed=0),
    "CircularPad2D": dict(pad=1),
    "NeighbourProducts": dict(),
    "SquaredMagnetization": dict(),
    "DiffusionModel": dict(data_shape=(8, 8, 1), timesteps=10, data="spins", seed=0),
    "SinusoidalEmbedding": dict(dim=8),
}


def _factories():
    out = {}
    for key, cls in keras.saving.get_custom_objects().items():
        name = key.split(">")[-1]
        if key.startswith("keras_genmodels>") and name in FACTORY_ARGS:
            out[key] = lambda cls=cls, kwargs=FACTORY_ARGS[name]: cls(**kwargs)
    return out


FACTORIES = _factories()
KERAS_KEYS = ("name", "trainable", "dtype")  # Keras's own arguments: its messages, its checks
# Sizes: fuzzed with small positive values only (a huge one is a table case).
SIZE_KEYS = ("n_visible", "n_hidden", "n_chains", "n_temperatures", "latent_dim", "hidden_units", "data_shape")
JUNK = {
    "none": None,
    "str": "junk",
    "negative": -1,
    "float": 2.5,
    "nan": NAN,
    "bool": True,
    "list": [],
    "dict": {"a": 1},
    "huge": 10**30,
    "beyond-float": 10**400,
}

# (class, key, junk id) or (class, key) -> reason, for cases known to fail: none left.
XFAIL_JUNK = {}
XFAIL_MISSING = {}


def _registered():
    return sorted(k for k in keras.saving.get_custom_objects() if k.startswith("keras_genmodels>"))


def test_every_registered_class_is_fuzzed():
    missing = [k for k in _registered() if k not in FACTORIES]
    assert not missing, f"add small constructor arguments to FACTORY_ARGS for {missing}"


@pytest.fixture(scope="module")
def base_configs():
    return {key: json.loads(json.dumps(make().get_config())) for key, make in FACTORIES.items()}


def _short(key):
    return key.split(">")[1]


def _check_usable(model):
    """A model built from junk must work and give a config that builds it again."""
    from keras_genmodels.rbm import RestrictedBoltzmannMachine
    from keras_genmodels.vae import VAE, Sampling

    type(model).from_config(json.loads(json.dumps(model.get_config())))
    if isinstance(model, RestrictedBoltzmannMachine):
        assert model.free_energy(np.zeros((2, model.n_visible), "float32")).shape == (2,)
    elif isinstance(model, VAE):
        assert model.decode(np.zeros((1, model.latent_dim), "float32")).shape[0] == 1
    elif isinstance(model, Sampling):
        z = np.zeros((2, 3), "float32")
        assert model([z, z]).shape == (2, 3)
    elif isinstance(model, keras.random.SeedGenerator):
        assert keras.random.normal((2,), seed=model).shape == (2,)
    elif hasattr(model, "energy_network"):  # an energy-based model
        assert model(np.zeros((2,) + tuple(model.data_shape), "float32")).shape == (2,)
    elif hasattr(model, "ema_network"):  # a diffusion model: ε̂ of x_t at step indices t
        x = np.zeros((2,) + tuple(model.data_shape), "float32")
        assert tuple(model([x, np.zeros((2,), "int32")]).shape) == x.shape


def _build(class_key, config):
    """from_config: returns the model, or the ValueError/TypeError it raised."""
    cls = keras.saving.get_custom_objects()[class_key]
    try:
        model = cls.from_config(copy.deepcopy(config))
    except (ValueError, TypeError) as e:
        assert str(e).strip(), f"empty {type(e).__name__} message"
        return e
    _check_usable(model)
    return model


def _junk_params():
    out = []
    for class_key, make in FACTORIES.items():
        name = _short(class_key)
        keys = [k for k in make().get_config() if k not in KERAS_KEYS or name == "Sampling"]
        for key in keys:
            for junk_id in JUNK:
                reason = XFAIL_JUNK.get((name, key, junk_id))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                out.append(pytest.param(class_key, key, junk_id, id=f"{name}-{key}-{junk_id}", marks=marks))
    return out


@pytest.mark.parametrize("class_key, key, junk_id", _junk_params())
def test_from_config_with_one_junk_value(base_configs, class_key, key, junk_id):
    config = dict(base_configs[class_key], **{key: JUNK[junk_id]})
    out = _build(class_key, config)
    if isinstance(out, Exception) and key not in KERAS_KEYS:
        assert key in str(out), f"{type(out).__name__} does not name `{key}`: {out}"


def _missing_params():
    out = []
    for class_key, make in FACTORIES.items():
        name = _short(class_key)
        for key in make().get_config():
            reason = XFAIL_MISSING.get((name, key))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(class_key, key, id=f"{name}-{key}", marks=marks))
    return out


@pytest.mark.parametrize("class_key, key", _missing_params())
def test_from_config_with_a_key_missing(base_configs, class_key, key):
    config = {k: v for k, v in base_configs[class_key].items() if k != key}
    out = _build(class_key, config)
    if isinstance(out, Exception):
        assert key in str(out), f"{type(out).__name__} does not name `{key}`: {out}"


def _junk(key):
    """Junk for `key`: anything but a large positive number for a size."""
    big = st.integers(-(10**30), 64) if key in SIZE_KEYS else st.integers(-(10**30), 10**30)
    scalar = st.one_of(
        st.none(),
        st.booleans(),
        big,
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=6),
    )
    return st.one_of(scalar, st.lists(scalar, max_size=3), st.dictionaries(st.text(max_size=3), scalar, max_size=2))


@st.composite
def mutations(draw, keys):
    chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True))
    return {key: draw(_junk(key)) for key in chosen}


@pytest.mark.parametrize("class_key", sorted(FACTORIES), ids=_short)
def test_from_config_with_random_junk(base_configs, class_key):
    """Several values replaced at once: a usable model, or ValueError/TypeError."""
    keys = sorted(base_configs[class_key])

    @MODELS
    @given(changes=mutations(keys))
    def check(changes):
        _build(class_key, dict(base_configs[class_key], **changes))

    check()
