"""The backend-specific helpers of the samplers: compiling a loop, drawing noise,
differentiating an energy with respect to the state (`energy_and_gradient`).

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


def _is_seed_pair(seed):
    """Whether `seed` is a stateless seed pair, an int tensor of shape (2,) (not a generator, int or None)."""
    return seed is not None and not isinstance(seed, (int, keras.random.SeedGenerator)) and keras.ops.is_tensor(seed)


def _stateless(kind, shape, dtype, pair):
    """A draw from the stateless seed pair `pair`: what `keras.random` draws from a generator whose state is `pair`."""
    tf = _tensorflow()
    if tf is None:
        return getattr(keras.random, kind)(shape, dtype=dtype, seed=pair)
    pair = tf.cast(tf.math.floormod(tf.cast(pair, tf.int64), _INT32_SEED_MODULUS), tf.int32)
    draw = tf.random.stateless_uniform if kind == "uniform" else tf.random.stateless_normal
    return draw(shape, seed=pair, dtype=dtype)


def uniform(shape, dtype, seed):
    """U[0, 1) draws of `shape`: `keras.random.uniform`, ThreeFry under XLA.

    Args:
        shape: the shape of the draw.
        dtype: a float dtype.
        seed: a `keras.random.SeedGenerator` (or anything `keras.random`
            takes as a seed), or a stateless seed pair (an int tensor of
            shape (2,)): then the draw is the one a generator whose state is
            that pair would give outside XLA.
    """
    if _is_seed_pair(seed):
        return _stateless("uniform", shape, dtype, seed)
    pair = _threefry_seed(seed)
    if pair is None:
        return keras.random.uniform(shape, dtype=dtype, seed=seed)
    return _tensorflow().random.stateless_uniform(shape, pair, dtype=dtype, alg="threefry")


def normal(shape, dtype, seed):
    """N(0, 1) draws of `shape`: `keras.random.normal`, ThreeFry under XLA (seeds as for `uniform`)."""
    if _is_seed_pair(seed):
        return _stateless("normal", shape, dtype, seed)
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


def energy_and_gradient(energy, x):
    """E(x) and its gradient with respect to the batch, g = ∂ Σ_i E(x)_i / ∂x.

    The gradient of a sum of per-row energies is, row by row, the gradient of
    each row's own energy (the rows do not interact), so one backward pass
    gives ∇E for every chain of a batch. The energy is cast to float32 before
    the sum, so that an energy computed in bfloat16 (a network under the
    `mixed_bfloat16` policy) still gives a float32 gradient for a float32 `x`
    (the gradient of the cast casts back).

    Only `x` is differentiated: the TensorFlow tape watches `x` alone
    (`watch_accessed_variables=False`), JAX differentiates a function of `x`,
    torch asks `autograd.grad` for `x` only, so no gradient with respect to a
    network's weights is computed or accumulated here. An enclosing tape (a
    model's `train_step`) still records these ops, though: a caller that
    treats its samples as data, as Langevin sampling does, wraps what it
    builds from them in `keras.ops.stop_gradient` (`langevin_steps` does).

    Works eagerly, inside a traced `tf.function` or `keras.ops.fori_loop`
    body, in a Keras `train_step`, and under XLA.

    Args:
        energy: a callable from a batch `x` to energies, e.g. shape (batch,).
        x: a float tensor, shape (batch, ...).

    Returns:
        `(e, grad)`: `e = energy(x)` cast to float32 (its shape as returned),
        and `grad`, the gradient of Σ e with respect to `x`, shape and dtype of
        `x` (zeros where the energy does not depend on `x`).
    """
    name = keras.backend.backend()
    if name == "tensorflow":
        tf = _tensorflow()
        x = tf.convert_to_tensor(x)
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(x)
            e = tf.cast(energy(x), tf.float32)
            total = tf.reduce_sum(e)
        grad = tape.gradient(total, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return e, tf.cast(grad, x.dtype)
    if name == "jax":
        import jax

        def total_energy(x):
            e = keras.ops.cast(energy(x), "float32")
            return keras.ops.sum(e), e

        (_, e), grad = jax.value_and_grad(total_energy, has_aux=True)(x)
        return e, keras.ops.cast(grad, x.dtype)
    if name == "torch":
        import torch

        x = keras.ops.convert_to_tensor(x).detach().requires_grad_(True)
        with torch.enable_grad():
            e = energy(x).to(torch.float32)
            (grad,) = torch.autograd.grad(e.sum(), x, allow_unused=True)
        grad = torch.zeros_like(x) if grad is None else grad.to(x.dtype)
        return e.detach(), grad.detach()
    raise NotImplementedError(  # pragma: no cover - numpy/openvino have no autodiff
        f"`energy_and_gradient` needs a backend with automatic differentiation "
        f"(tensorflow, jax or torch). Received: backend={name!r}"
    )
