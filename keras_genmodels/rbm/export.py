"""The TF Serving signatures of the RBM family (`keras_genmodels.export` writes them).

`BernoulliRBM`, `GaussianBernoulliRBM` (and its subclasses); D visible, H hidden units:

| signature              | inputs                              | outputs                                   |
|------------------------|-------------------------------------|-------------------------------------------|
| `serving_default`      | `v`: float32 (None, D)              | `hidden_probabilities`: (None, H)         |
| `hidden_probabilities` | `v`: float32 (None, D)              | `hidden_probabilities`: P(h=1|v), (None, H) |
| `free_energy`          | `v`: float32 (None, D)              | `free_energy`: F(v), (None,)              |
| `reconstruct`          | `v`: float32 (None, D)              | `reconstruction`: E[v'|h=P(h|v)], (None, D) |
| `sample`               | `n`, `steps`, `seed`: int32 scalars | `samples`: E[v|h] of the last sweep, `binary`: the sampled v, (n, D) |

`sample` draws with the seed pairs [seed, k] (`export.seed_pair`): draw 0
starts the chains from the base-rate model, sweep i uses draws 2i + 1 (h) and
2i + 2 (v), as `model.sample(n, seed=seed, steps=steps)` does in Python.

`DeepBeliefNetwork`, layer sizes [D, H_1, ..., H_L]:

| signature              | inputs                              | outputs                                   |
|------------------------|-------------------------------------|-------------------------------------------|
| `serving_default`      | `v`: float32 (None, D)              | `features`: (None, H_L)                   |
| `transform`            | `v`: float32 (None, D)              | `features`: the top layer's mean-field Q(h_L = 1 | ...), (None, H_L) |
| `sample`               | `n`, `steps`, `seed`: int32 scalars | `samples`: P(v = 1 | h_1), (n, D)         |

`transform` is `model.transform(v)`: P_l = sigmoid(r_l + P_{l-1} R_l) up the
recognition weights (`recognition_weights`). `sample` is `model.sample(n,
seed=seed, steps=steps)`: the top RBM's chains as an RBM's `sample` (its
binary v, which is h_{L-1}), then for l = L-2, ..., 1 a draw h_l ~ p(h_l |
h_{l+1}) with the seed pairs [seed + l, i] (row block i of 4096, as the RBM's
`sample_visible`), then P(v = 1 | h_1).

`DeepBoltzmannMachine`, sizes (D, H1, H2):

| signature              | inputs                              | outputs                                   |
|------------------------|-------------------------------------|-------------------------------------------|
| `serving_default`      | `v`: float32 (None, D)              | `mu1`: (None, H1), `mu2`: (None, H2)      |
| `mean_field`           | `v`: float32 (None, D)              | `mu1`, `mu2`: the mean-field posterior Q(h1, h2 | v) |
| `sample`               | `n`, `steps`, `seed`: int32 scalars | `samples`: P(v = 1 | h1) of the last sweep, `binary`: the sampled v, (n, D) |

`mean_field` is `model.mean_field(v)` (`mean_field_steps` iterations).
`sample` is `model.sample(n, seed=seed, steps=steps)`: draw 0 starts (v, h2)
from the base-rate model of `as_rbm()`, sweep i draws h1 ~ P(h1 | v, h2) with
the pair [seed, 3i + 1], then v ~ P(v | h1) with [seed, 3i + 2] and
h2 ~ P(h2 | h1) with [seed, 3i + 3].
"""

import numpy as np

from keras_genmodels.export import check_scalars, seed_pair
from keras_genmodels.rbm.eager import ROWS_PER_BATCH

# Rows per draw of an RBM's eager `sample_visible` (`RBMEagerMethods.map_batches`'
# batch): block i of the rows is drawn with the seed pair [seed, i].
_ROWS_PER_DRAW = ROWS_PER_BATCH  # the eager methods' row batches (`rbm.eager`)
# Keras folds int64 seeds into int32 modulo this before a stateless draw.
_INT32_SEED_MODULUS = 2**31 - 2


def signatures(model):
    """The TF Serving signatures of an RBM, a `DeepBeliefNetwork` or a
    `DeepBoltzmannMachine` (module docstring)."""
    import tensorflow as tf
    from keras import ops

    from keras_genmodels.rbm import (
        BernoulliRBM,
        DeepBeliefNetwork,
        DeepBoltzmannMachine,
        GaussianBernoulliRBM,
    )

    if isinstance(model, DeepBeliefNetwork):
        return dbn_signatures(model)
    if isinstance(model, DeepBoltzmannMachine):
        return dbm_signatures(model)
    if not isinstance(model, (BernoulliRBM, GaussianBernoulliRBM)):
        raise ValueError(  # noqa: TRY004  (the package raises ValueError for every bad argument)
            "Expected a BernoulliRBM, GaussianBernoulliRBM, DeepBeliefNetwork or "
            "DeepBoltzmannMachine: their visible units are sampled by the export. "
            f"Received: {type(model).__name__}"
        )
    big_d, big_h = model.n_visible, model.n_hidden
    dtype = tf.as_dtype(model.compute_dtype)
    v_spec = tf.TensorSpec([None, big_d], tf.float32, name="v")
    scalar = lambda name: tf.TensorSpec([], tf.int32, name=name)
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

    def normal(shape, seed, k):
        return tf.random.stateless_normal(shape, seed=seed_pair(seed, k), dtype=dtype)

    def sample_visible(h, seed, k):
        """v ~ P(v | h) and E[v | h], with the k-th seed pair."""
        mean = model.compute_visible_mean(h)
        if bernoulli_units:
            return draw_bernoulli(mean, seed, k), mean
        sigma = ops.exp(0.5 * model.log_variance)
        return mean + sigma * normal(tf.shape(mean), seed, k), mean

    def sample(n, steps, seed):
        # Draw 0 starts the chains from the base-rate model; sweep i then uses
        # draws 2i + 1 (h ~ P(h|v)) and 2i + 2 (v ~ P(v|h)), as model.sample.
        with tf.control_dependencies(check_scalars(n=n, steps=steps, seed=seed)):
            shape = tf.stack([n, big_d])
        if bernoulli_units:
            v0 = draw_base_rate(base["logits"], shape, seed, dtype)
        else:
            mean = tf.constant(base["mean"], dtype)
            inv_var = tf.constant(base["inv_var"], dtype)
            v0 = mean + normal(shape, seed, 0) / tf.sqrt(inv_var)

        v_last, mean_last = gibbs_chain(model, v0, steps, seed, sample_visible)
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
                "last sweep (model.sample(n, seed=seed, steps=steps)), `binary` = the sampled v "
                "(model.sample(..., return_means=False))"
            ),
        },
    }


# ---------------------------------------------------------------------------
# Pieces shared by the signatures (TensorFlow graph code)


def draw_bernoulli(p, seed, k):
    """b ~ Bernoulli(p) as u < p, u ~ U[0, 1) from the stateless pair [seed, k]: Keras's
    k-th draw of a `SeedGenerator(seed)`, as `sampling.backend.bernoulli` outside XLA."""
    import tensorflow as tf

    u = tf.random.stateless_uniform(tf.shape(p), seed=seed_pair(seed, k), dtype=p.dtype)
    return tf.cast(u < p, p.dtype)


def draw_base_rate(logits, shape, seed, dtype):
    """Independent binary units of log-odds `logits` (a NumPy vector), of `shape` (n, len(logits)):
    the chains' start of an RBM's `sample`, draw 0 of the pair [seed, 0]."""
    import tensorflow as tf

    logits = tf.constant(np.asarray(logits), dtype)
    return draw_bernoulli(tf.sigmoid(tf.broadcast_to(logits, shape)), seed, 0)


def gibbs_chain(rbm, v0, steps, seed, sample_visible):
    """`(v, E[v | h])` after `steps` block Gibbs sweeps of `rbm` from `v0`, as `rbm.sample`.

    Sweep i draws h ~ P(h | v) with the pair [seed, 2i + 1] and then
    `sample_visible(h, seed, 2i + 2) -> (v, E[v | h])`.
    """
    import tensorflow as tf

    def body(i, v, _):
        h = draw_bernoulli(tf.sigmoid(rbm.compute_hidden_logits(v)), seed, 2 * i + 1)
        v_new, mean = sample_visible(h, seed, 2 * i + 2)
        return i + 1, v_new, mean

    _, v_last, mean_last = tf.while_loop(lambda i, *_: i < steps, body, (tf.constant(0, tf.int32), v0, v0))
    return v_last, mean_last


def offset_seed(seed, offset):
    """The int32 seed Keras draws with after `reseed(seed + offset)`: (seed + offset) mod (2^31 - 2)."""
    import tensorflow as tf

    total = tf.cast(seed, tf.int64) + offset
    return tf.cast(tf.math.floormod(total, _INT32_SEED_MODULUS), tf.int32)


def draw_visible_in_blocks(rbm, h, seed):
    """v ~ P(v | h) of a `BernoulliRBM` as its `sample_visible(h, seed=seed)` draws it:
    row block i (of `_ROWS_PER_DRAW`) with the pair [seed, i]."""
    import tensorflow as tf

    rows = tf.shape(h)[0]
    blocks = (rows + _ROWS_PER_DRAW - 1) // _ROWS_PER_DRAW
    parts = tf.TensorArray(h.dtype, size=blocks, infer_shape=False, element_shape=tf.TensorShape([None, rbm.n_visible]))

    def body(i, parts):
        block = h[i * _ROWS_PER_DRAW : (i + 1) * _ROWS_PER_DRAW]
        return i + 1, parts.write(i, draw_bernoulli(rbm.compute_visible_mean(block), seed, i))

    _, parts = tf.while_loop(lambda i, _: i < blocks, body, (tf.constant(0, tf.int32), parts))
    return parts.concat()


def _visible_spec(d):
    import tensorflow as tf

    return {"inputs": {"v": tf.TensorSpec([None, d], tf.float32, name="v")}}


def _sample_inputs():
    import tensorflow as tf

    return {name: tf.TensorSpec([], tf.int32, name=name) for name in ("n", "steps", "seed")}


# ---------------------------------------------------------------------------
# Deep models


def dbn_signatures(model):
    """The signatures of a `DeepBeliefNetwork`: `serving_default`, `transform`, `sample` (module docstring)."""
    import tensorflow as tf

    big_d, top_units = model.layer_sizes[0], model.layer_sizes[-1]
    dtype = tf.as_dtype(model.compute_dtype)
    top = model.rbms[-1]
    # The top RBM's chains start from its base-rate model (its `sample`), a constant.
    top_logits = np.asarray(top.ais_base(None)["logits"])

    def transform(v):
        features = model.compute_propagate_up(tf.cast(v, dtype), model.n_layers)[-1]
        return {"features": tf.cast(features, tf.float32)}

    def sample_visible(h, seed, k):
        mean = top.compute_visible_mean(h)
        return draw_bernoulli(mean, seed, k), mean

    def sample(n, steps, seed):
        with tf.control_dependencies(check_scalars(n=n, steps=steps, seed=seed)):
            shape = tf.stack([n, top.n_visible])
        v0 = draw_base_rate(top_logits, shape, seed, dtype)
        h, mean = gibbs_chain(top, v0, steps, seed, sample_visible)
        if model.n_layers == 1:
            return {"samples": tf.cast(mean, tf.float32)}
        for layer in range(model.n_layers - 2, 0, -1):
            # model.sample reseeds RBM `layer` with seed + layer before its draw.
            h = draw_visible_in_blocks(model.rbms[layer], h, offset_seed(seed, layer))
        return {"samples": tf.cast(model.rbms[0].compute_visible_mean(h), tf.float32)}

    features = {**_visible_spec(big_d), "outputs": {"features": [None, top_units]}}
    return {
        "serving_default": {
            "fn": transform, **features,
            "doc": "the top layer's mean-field features, as model(v) and model.transform(v)",
        },
        "transform": {
            "fn": transform, **features,
            "doc": "the top layer's mean-field features up the recognition weights, as model.transform(v)",
        },
        "sample": {
            "fn": sample,
            "inputs": _sample_inputs(),
            "outputs": {"samples": [None, big_d]},
            "doc": (
                "`steps` block Gibbs sweeps of the top RBM, then one pass down to P(v = 1 | h_1): "
                "model.sample(n, seed=seed, steps=steps)"
            ),
        },
    }


def dbm_signatures(model):
    """The signatures of a `DeepBoltzmannMachine`: `serving_default`, `mean_field`, `sample` (module docstring)."""
    import tensorflow as tf

    big_d, big_h1, big_h2 = model.n_visible, model.n_hidden_1, model.n_hidden_2
    dtype = tf.as_dtype(model.compute_dtype)
    steps_mf = model.mean_field_steps
    # The chains' starting distribution (model.sample's base-rate model of (v, h2)), a constant.
    logits = np.asarray(model.as_rbm().ais_base(None)["logits"])  # (D + H2,)

    def mean_field(v):
        mf = model.compute_mean_field(tf.cast(v, dtype), steps_mf)
        return {"mu1": tf.cast(mf.mu1, tf.float32), "mu2": tf.cast(mf.mu2, tf.float32)}

    def sample(n, steps, seed):
        with tf.control_dependencies(check_scalars(n=n, steps=steps, seed=seed)):
            shape = tf.stack([n, big_d + big_h2])
        start = draw_base_rate(logits, shape, seed, dtype)
        v0, h2_0 = start[:, :big_d], start[:, big_d:]

        def body(i, v, h2, _):
            # Two blocks: h1 ~ P(h1 | v, h2), then v ~ P(v | h1) and h2 ~ P(h2 | h1).
            h1 = draw_bernoulli(tf.sigmoid(model.compute_hidden_1_logits(v, h2)), seed, 3 * i + 1)
            mean = model.compute_visible_mean(h1)
            v_new = draw_bernoulli(mean, seed, 3 * i + 2)
            h2_new = draw_bernoulli(model.compute_hidden_2_mean(h1), seed, 3 * i + 3)
            return i + 1, v_new, h2_new, mean

        _, v_last, _, mean_last = tf.while_loop(
            lambda i, *_: i < steps, body, (tf.constant(0, tf.int32), v0, h2_0, v0)
        )
        return {"samples": tf.cast(mean_last, tf.float32), "binary": tf.cast(v_last, tf.float32)}

    posterior = {**_visible_spec(big_d), "outputs": {"mu1": [None, big_h1], "mu2": [None, big_h2]}}
    return {
        "serving_default": {
            "fn": mean_field, **posterior,
            "doc": "the mean-field posterior (mu1, mu2) of v, as model.mean_field(v)",
        },
        "mean_field": {
            "fn": mean_field, **posterior,
            "doc": f"the mean-field posterior (mu1, mu2) of v after {steps_mf} iterations, as model.mean_field(v)",
        },
        "sample": {
            "fn": sample,
            "inputs": _sample_inputs(),
            "outputs": {"samples": [None, big_d], "binary": [None, big_d]},
            "doc": (
                "`steps` two-block Gibbs sweeps from the base-rate model: `samples` = P(v = 1 | h1) of "
                "the last sweep (model.sample(n, seed=seed, steps=steps)), `binary` = the sampled v "
                "(model.sample(..., return_means=False))"
            ),
        },
    }
