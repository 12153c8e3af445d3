"""The TF Serving signatures of an RBM (`keras_genmodels.export` writes them).

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
"""

import numpy as np

from keras_genmodels.export import check_scalars, seed_pair


def signatures(model):
    """The TF Serving signatures of a `BernoulliRBM` or `GaussianBernoulliRBM` (module docstring)."""
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
        u = tf.random.stateless_uniform(tf.shape(p), seed=seed_pair(seed, k), dtype=p.dtype)
        return tf.cast(u < p, p.dtype)

    def normal(shape, seed, k):
        return tf.random.stateless_normal(shape, seed=seed_pair(seed, k), dtype=dtype)

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
        with tf.control_dependencies(check_scalars(n=n, steps=steps, seed=seed)):
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
                "last sweep (model.sample(n, seed=seed, steps=steps)), `binary` = the sampled v "
                "(model.sample(..., return_means=False))"
            ),
        },
    }
