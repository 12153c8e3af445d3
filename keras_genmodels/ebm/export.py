"""The TF Serving signatures of an `EnergyBasedModel` (`keras_genmodels.export` writes them).

Data shape S:

| signature         | inputs                                | outputs                                             |
|-------------------|---------------------------------------|-----------------------------------------------------|
| `serving_default` | `x`: float32 (None,) + S              | `energy`: float32 (None,), E_θ(x), as model(x)      |
| `energy`          | `x`: float32 (None,) + S              | `energy`: float32 (None,), the same                 |
| `sample`          | `n`, `steps`, `seed`: int32 scalars   | `samples`: float32 (n,) + S, Langevin chains from uniform noise |

`sample` is stateless, as every family's: the start is drawn with the seed
pair [seed, 0] and step i of the chains with [seed, 1 + i] (ULA; MALA draws
two per step), the pairs of `model.sample(n, seed=seed, steps=steps)`'s
generator in Python (the training's Langevin settings, no XLA), so both give
the same samples for n up to `sample`'s batch size (1,000), and concurrent
requests share no random state.
"""

from keras_genmodels.export import check_scalars, seed_pair


def signatures(model):
    """The TF Serving signatures of an `EnergyBasedModel` (table in the module docstring)."""
    import tensorflow as tf

    from keras_genmodels.sampling.langevin import langevin_steps

    shape = [None, *model.data_shape]
    x_spec = tf.TensorSpec(shape, tf.float32, name="x")
    scalar = lambda name: tf.TensorSpec([], tf.int32, name=name)  # noqa: E731
    lo, hi = model.data_range

    def energy(x):
        return {"energy": model(x, training=False)}

    def sample(n, steps, seed):
        with tf.control_dependencies(check_scalars(n=n, steps=steps, seed=seed)):
            shape = tf.concat([[n], model.data_shape], axis=0)
            x0 = tf.random.stateless_uniform(shape, seed_pair(seed, 0), minval=lo, maxval=hi)
        x, _ = langevin_steps(model, x0, steps, seed_generator=seed_pair(seed, 1), **model.langevin_settings())
        return {"samples": x}

    return {
        "serving_default": {
            "fn": energy,
            "inputs": {"x": x_spec},
            "outputs": {"energy": [None]},
            "doc": "E(x), one energy per example, as model(x)",
        },
        "energy": {
            "fn": energy,
            "inputs": {"x": x_spec},
            "outputs": {"energy": [None]},
            "doc": "E(x), one energy per example, as model(x)",
        },
        "sample": {
            "fn": sample,
            "inputs": {"n": scalar("n"), "steps": scalar("steps"), "seed": scalar("seed")},
            "outputs": {"samples": shape},
            "doc": (f"Langevin chains of `steps` steps from U({lo}, {hi}) with the seed pair [seed, 0]; "
                    "equals model.sample(n, seed=seed, steps=steps)"),
        },
    }
