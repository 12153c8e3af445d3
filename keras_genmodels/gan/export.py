"""The TF Serving signatures of a GAN (`keras_genmodels.export` writes them).

Data shape S; c the condition of a conditional model (`labels`: int32 (n,)
class labels; `temperature`: a float32 scalar inside the training range):

| signature         | inputs                                      | outputs                                                |
|-------------------|---------------------------------------------|--------------------------------------------------------|
| `serving_default` | `n`, `seed`: int32 scalars (+ c)            | `samples`: float32 (n,) + S, as `model.sample(n, seed=seed)` |
| `sample`          | the same                                    | the same                                               |
| `generate`        | `z`: float32 (None, latent_dim) (+ c)       | `x`: float32 (None,) + S, G(z) (mean spins for spin models, no draw, no flip) |
| `discriminate`    | `x`: float32 (None,) + S (+ c)              | `score`: float32 (None,), D(x): a logit (DCGAN) or a critic value (WGAN) |

`sample` is stateless, as every family's: z is drawn with the seed pair
[seed, 0]; a spin-flip symmetric model's signs with [seed, 1]; a spin
model's configurations s = ±1, P(s = +1) = (1 + m) / 2, with the next pair:
the draws of `model.sample(n, seed=seed)` in Python (batches of up to
1,000), so both give the same samples for n up to 1,000, and concurrent
requests share no random state. Labels outside [0, num_classes) and
temperatures outside the training range fail a graph assertion.
"""

from keras_genmodels.export import check_scalars, seed_pair


def signatures(model):
    """The TF Serving signatures of a `DCGAN` or `WGANGP` (table in the module docstring)."""
    import tensorflow as tf

    shape = list(model.data_shape)
    scalar = lambda name, dtype=tf.int32: tf.TensorSpec([], dtype, name=name)  # noqa: E731
    cond_specs, cond_doc = {}, ""
    if model.num_classes is not None:
        cond_specs = {"labels": tf.TensorSpec([None], tf.int32, name="labels")}
        cond_doc = f"; labels: int32 (n,) in [0, {model.num_classes})"
    elif model.temperature_range is not None:
        cond_specs = {"temperature": scalar("temperature", tf.float32)}
        cond_doc = f"; temperature in [{model.temperature_range[0]}, {model.temperature_range[1]}]"

    def conditions(n, value=None):
        """(c, checks): the condition vectors of n samples (from labels or a temperature), and graph assertions."""
        labels = temperature = value
        if model.num_classes is not None:
            checks = [tf.debugging.assert_equal(tf.size(labels), n, message="`labels` must hold n labels"),
                      tf.debugging.assert_non_negative(labels, message="`labels` must be >= 0"),
                      tf.debugging.assert_less(labels, model.num_classes, message="`labels` must be < num_classes")]
            return model.condition_vectors(labels), checks
        if model.temperature_range is not None:
            lo, hi = model.temperature_range
            checks = [tf.debugging.assert_greater_equal(temperature, tf.constant(lo, tf.float32),
                                                        message="`temperature` below the training range"),
                      tf.debugging.assert_less_equal(temperature, tf.constant(hi, tf.float32),
                                                     message="`temperature` above the training range")]
            return model.condition_vectors(tf.fill([n], temperature)), checks
        return None, []

    def sample(n, seed, condition=None):
        c, checks = conditions(n, condition)
        with tf.control_dependencies(check_scalars(n=n, seed=seed) + checks):
            z = tf.random.stateless_normal(tf.stack([n, model.latent_dim]), seed_pair(seed, 0))
        x = tf.cast(model.generator(z if c is None else [z, c], training=False), tf.float32)
        k = 1
        if model.symmetric:
            flip = tf.random.stateless_uniform([n], seed_pair(seed, k)) < 0.5
            x = x * tf.reshape(tf.where(flip, -1.0, 1.0), [-1] + [1] * len(shape))
            k += 1
        if model.spins:
            u = tf.random.stateless_uniform(tf.shape(x), seed_pair(seed, k))
            x = tf.where(u < (1.0 + x) / 2.0, 1.0, -1.0)
        return {"samples": x}

    def generate(z, condition=None):
        n = tf.shape(z)[0]
        c, checks = conditions(n, condition)
        with tf.control_dependencies(checks):
            z = tf.identity(z)
        return {"x": tf.cast(model.generator(z if c is None else [z, c], training=False), tf.float32)}

    def discriminate(x, condition=None):
        n = tf.shape(x)[0]
        c, checks = conditions(n, condition)
        with tf.control_dependencies(checks):
            x = tf.identity(x)
        return {"score": model.score(x, c)}

    sample_endpoint = {
        "fn": sample,
        "inputs": {"n": scalar("n"), "seed": scalar("seed"), **cond_specs},
        "outputs": {"samples": [None, *shape]},
        "doc": "G(z) with z ~ N(0, I) drawn from the seed pair [seed, 0]; equals model.sample(n, seed=seed)" + cond_doc,
    }
    return {
        "serving_default": sample_endpoint,
        "sample": sample_endpoint,
        "generate": {
            "fn": generate,
            "inputs": {"z": tf.TensorSpec([None, model.latent_dim], tf.float32, name="z"), **cond_specs},
            "outputs": {"x": [None, *shape]},
            "doc": "G(z) for given z (the generator's output: mean spins for spin models)" + cond_doc,
        },
        "discriminate": {
            "fn": discriminate,
            "inputs": {"x": tf.TensorSpec([None, *shape], tf.float32, name="x"), **cond_specs},
            "outputs": {"score": [None]},
            "doc": "D(x): one score per example (DCGAN: a logit; WGAN-GP: a critic value)" + cond_doc,
        },
    }
