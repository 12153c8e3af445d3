"""The TF Serving signatures of a diffusion model (`keras_genmodels.export` writes them).

Data shape S, T the model's diffusion steps, K the DDIM steps of `sample`,
fixed when the graph is written: min(50, T), the default of
`signatures(model, steps=None)` that `export_model` and `keras-genmodels
export` take (and of `keras-genmodels sample`):

| signature         | inputs                                 | outputs                                                        |
|-------------------|----------------------------------------|----------------------------------------------------------------|
| `serving_default` | `n`, `seed`: int32 scalars             | `samples`: float32 (n,) + S, as `model.sample(n, seed=seed, method="ddim", steps=K, eta=0)` |
| `sample`          | the same                               | the same                                                       |
| `denoise`         | `x_t`: float32 (None,) + S; `t`: int32 (None,) | `epsilon`: float32 (None,) + S, ε̂ = ε_θ(x_t, t) of the EMA network |

`sample` runs DDIM with η = 0 over K trailing steps (`process.sampling_timesteps`):
deterministic given x_T, and K network calls rather than the T of the
ancestral DDPM chain (T = 1000 by default: too slow for a request). Its one
draw, x_T ~ N(0, I), uses the seed pair [seed, 0], the first draw of
`model.sample(n, seed=seed, ...)` in Python, whose batches hold up to 256
samples: both give the same samples for n up to 256, and concurrent requests
share no random state. The samples are the data's values: grey levels
clipped to [−1, 1], binary pixels {0, 1}, spins ±1 (`model.from_model_space`).

`denoise` takes x_t in the model's space (binary pixels b as 2b − 1) and the
step indices t in 0..T − 1 (index t − 1 is step t, as `DiffusionModel.call`);
indices outside that range, or a `t` whose length is not the batch's, fail a
graph assertion.
"""

import numbers

from keras_genmodels.diffusion.cli import (
    SAMPLE_STEPS,  # `keras-genmodels sample`'s default: the same samples
)
from keras_genmodels.export import check_scalars, seed_pair


def signatures(model, steps=None):
    """The TF Serving signatures of a `DiffusionModel` (table in the module docstring).

    Args:
        model: a `DiffusionModel`.
        steps: the DDIM steps of `sample`, an int in [1, T]. Defaults to
            `None`: min(50, T).
    """
    import tensorflow as tf
    from keras import ops

    from keras_genmodels.diffusion import process

    T = model.timesteps
    if steps is None:
        steps = min(SAMPLE_STEPS, T)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or not 1 <= steps <= T:
        raise ValueError(f"`steps` must be an int in [1, T] = [1, {T}]. Received: steps={steps!r}")
    _, steps, eta, t_all, t_prev_all = model.sampling_schedule("ddim", int(steps), 0.0)
    shape = list(model.data_shape)

    def scalar(name):
        return tf.TensorSpec([], tf.int32, name=name)

    def sample(n, seed):
        with tf.control_dependencies(check_scalars(n=n, seed=seed)):
            x = tf.random.stateless_normal(tf.concat([[n], shape], 0), seed_pair(seed, 0))  # x_T ~ N(0, I)
        ones = ops.ones((n,), "int32")

        def body(i, x):  # as DiffusionModel.sample's loop, DDIM with η = 0: no further draws
            t, t_prev = ones * ops.take(t_all, i), ones * ops.take(t_prev_all, i)
            eps_hat = model.predict_noise(x, t, use_ema=True)
            return process.ddim_step(x, t, t_prev, eps_hat, model.alphas_cumprod, eta, None)

        return {"samples": tf.cast(model.from_model_space(ops.fori_loop(0, len(t_all), body, x)), tf.float32)}

    def denoise(x_t, t):
        checks = [
            tf.debugging.assert_equal(tf.size(t), tf.shape(x_t)[0], message="`t` must hold one step per example"),
            tf.debugging.assert_non_negative(t, message="`t` must be step indices >= 0"),
            tf.debugging.assert_less(t, T, message=f"`t` must be step indices < T = {T}"),
        ]
        with tf.control_dependencies(checks):
            t = tf.identity(t)
        return {"epsilon": model.predict_noise(x_t, t, use_ema=True)}

    sample_endpoint = {
        "fn": sample,
        "inputs": {"n": scalar("n"), "seed": scalar("seed")},
        "outputs": {"samples": [None, *shape]},
        "doc": f"DDIM, {steps} steps, eta = 0, from x_T ~ N(0, I) drawn with the seed pair [seed, 0]; equals "
               f"model.sample(n, seed=seed, method='ddim', steps={steps}, eta=0) for n <= 256",
    }
    return {
        "serving_default": sample_endpoint,
        "sample": sample_endpoint,
        "denoise": {
            "fn": denoise,
            "inputs": {"x_t": tf.TensorSpec([None, *shape], tf.float32, name="x_t"),
                       "t": tf.TensorSpec([None], tf.int32, name="t")},
            "outputs": {"epsilon": [None, *shape]},
            "doc": f"eps_hat = eps_theta(x_t, t) of the EMA network; x_t in the model's space, t step indices in "
                   f"[0, {T})",
        },
    }
