"""The backend-specific helpers of the samplers: compiling a loop, drawing noise.

Everything else in the samplers and the models is written in `keras.ops` /
`keras.random`. Long Gibbs chains and the ~14,500 steps of annealed importance
sampling are `keras.ops.fori_loop`s; run eagerly, a TensorFlow `while_loop`
would be a Python loop of eager ops, so the loop is compiled here, with XLA:
XLA fuses the elementwise work of a sweep (sigmoids, comparisons, log-weight
updates) into a few loops and keeps the whole chain in one executable, which
on a 2-core CPU takes the AIS of a 784 x 500 RBM from ~2.8 to ~1.7 ms per
temperature (`bench/rbm_vs_sklearn.py`).

Random numbers: `keras.random.uniform` asks TensorFlow for its default
("auto_select") counter-based generator. Compiled by XLA for a CPU, that is a
Philox emulated in 64-bit integer arithmetic that takes ~51 ms for the 128,400
uniforms of one PCD step, over ten times the step itself. Inside an XLA
computation `uniform`/`normal` below therefore ask for XLA's ThreeFry-2x32
generator (Salmon et al. 2011, the Random123 family, as Philox) explicitly
(~0.2 ms for the same draw); outside XLA, and on other backends, they are
`keras.random.uniform`/`keras.random.normal`. Either way the seed comes from
a `keras.random.SeedGenerator`, so a seeded model is reproducible; the two
paths draw different (equally valid) streams.
"""

import keras

# Keras's TensorFlow backend folds seeds into int32 this way (XLA needs int32 seeds).
_INT32_SEED_MODULUS = 2**31 - 2


def _tensorflow():
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    return tf


def in_xla_context():
    """Whether the code being traced is compiled by XLA (TensorFlow backend).

    True inside `tf.function(jit_compile=True)`, e.g. a Keras `train_step`
    under `compile(jit_compile=True)` or a function of `compile_function`.
    """
    tf = _tensorflow()
    if tf is None or tf.executing_eagerly():
        return False
    try:
        from tensorflow.python.ops import control_flow_util
    except ImportError:  # pragma: no cover - a TensorFlow without the module
        return False
    return bool(control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph()))


def _threefry_seed(seed):
    """The int32 pair seed of one draw from `seed` (a `SeedGenerator`), or None."""
    if not isinstance(seed, keras.random.SeedGenerator) or not in_xla_context():
        return None
    tf = _tensorflow()
    return tf.cast(tf.math.floormod(seed.next(), _INT32_SEED_MODULUS), tf.int32)


def uniform(shape, dtype, seed):
    """U[0, 1) draws of `shape`: `keras.random.uniform`, ThreeFry under XLA.

    Args:
        shape: the shape of the draw.
        dtype: a float dtype.
        seed: a `keras.random.SeedGenerator` (or anything `keras.random`
            takes as a seed).
    """
    pair = _threefry_seed(seed)
    if pair is None:
        return keras.random.uniform(shape, dtype=dtype, seed=seed)
    return _tensorflow().random.stateless_uniform(shape, pair, dtype=dtype, alg="threefry")


def normal(shape, dtype, seed):
    """N(0, 1) draws of `shape`: `keras.random.normal`, ThreeFry under XLA."""
    pair = _threefry_seed(seed)
    if pair is None:
        return keras.random.normal(shape, dtype=dtype, seed=seed)
    return _tensorflow().random.stateless_normal(shape, pair, dtype=dtype, alg="threefry")


def bernoulli(p, seed):
    """Sample b ~ Bernoulli(p) elementwise as `u < p`, u ~ U[0, 1) from `uniform`.

    Args:
        p: probabilities, a float tensor.
        seed: a `keras.random.SeedGenerator` (or anything `keras.random` takes).

    Returns:
        A tensor of 0s and 1s with the shape and dtype of `p`.
    """
    u = uniform(keras.ops.shape(p), p.dtype, seed)
    return keras.ops.cast(keras.ops.less(u, p), p.dtype)


def compile_function(fn, jit_compile=True):
    """Return `fn` compiled for the active Keras backend.

    On TensorFlow, a `tf.function`, compiled by XLA unless `jit_compile` is
    `False`; traced again (and compiled again) for each new input shape. On
    other backends `fn` is returned unchanged. Without AutoGraph: the
    functions compiled here are `keras.ops` code whose loops are
    `ops.fori_loop`s and whose Python `if`s test Python values, so there is
    nothing to convert, and AutoGraph's first conversion in a process costs
    ~0.7 s (in a one-off comparison the first AIS loop of a 784 x 500 RBM
    traced in 0.8-0.9 s with it, 0.1 s without; `bench/experiments/ais_loop_variants.py`
    prints the trace time as it is now).

    Args:
        fn: the function.
        jit_compile: bool, whether XLA compiles it. `False` keeps TensorFlow's
            own (Philox) random numbers, which a SavedModel served without XLA
            draws too. Defaults to `True`.
    """
    tf = _tensorflow()
    if tf is None:
        return fn
    return tf.function(fn, jit_compile=jit_compile, reduce_retracing=True, autograph=False)
