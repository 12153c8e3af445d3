"""The TF Serving signatures of a VAE (`keras_genmodels.export` writes them).

Data shape S, latent dimension d:

| signature         | inputs                              | outputs                                          |
|-------------------|-------------------------------------|--------------------------------------------------|
| `serving_default` | `x`: float32 (None,) + S            | `reconstruction`: float32 (None,) + S, E[x|h=μ(x)] |
| `encode`          | `x`: float32 (None,) + S            | `z_mean`, `z_log_var`: float32 (None, d)          |
| `decode`          | `h`: float32 (None, d)              | `x_mean`: float32 (None,) + S, E[x|h]             |
| `sample`          | `n`, `seed`: int32 scalars          | `samples`: float32 (n,) + S, E[x|h], h ~ N(0, I)  |

`sample` draws h from the seed pair [seed, 0] (`export.seed_pair`), as
`model.sample(n, seed=seed)` does in Python, so both give the same images.
"""

from keras_genmodels.export import check_scalars, seed_pair


def signatures(model):
    """The TF Serving signatures of a `VAE` (table in the module docstring)."""
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
        with tf.control_dependencies(check_scalars(n=n, seed=seed)):
            h = tf.random.stateless_normal(tf.stack([n, d]), seed=seed_pair(seed, 0))
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
