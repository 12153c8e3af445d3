"""Pictures of the diffusion models: sample grids during training, the forward and reverse chains, the loss.

- `SampleGrids`: a callback that runs DDIM (20 steps, η = 0) from the same
  x_T at the end of every epoch and writes the grid, so that the epochs'
  pictures show one denoiser learning, not new noise. (The GAN's callback
  draws `model.sample(n, seed)` with a GAN's conditions; a diffusion model's
  default sampler is the T-step DDPM chain, too slow for every epoch.)
- `chain_figure`: two rows at the same times 0 = t_0 < ... < t_K = T: the
  forward process q(x_t | x_0) of one example, and the reverse DDPM chain
  from x_T ~ N(0, I) (`forward_chain`, `reverse_chain`).
- `losses`: the ε-prediction loss per epoch (`plotting.training_curves`).

Every state x_t is shown in the model's space, where the data lie in
[−1, 1] (grey levels, binary pixels as 2b − 1, spins), as the grey level
(x_t + 1) / 2 clipped to [0, 1]: black −1, white +1.
"""


import keras
import numpy as np
from keras import ops

from keras_genmodels import _validation as v
from keras_genmodels import plotting, signed_data, training
from keras_genmodels.diffusion import process
from keras_genmodels.sampling import backend


def display_images(model, x):
    """Samples of `model` (its data's values, `(n,) + data_shape`) as grey levels in [0, 1] for a grid.

    Grey levels in [−1, 1] and spins ±1 become (x + 1) / 2, clipped; binary pixels are already {0, 1}.
    """
    x = np.asarray(x, "float32")
    return np.clip(x, 0.0, 1.0) if model.data == "binary" else signed_data.to_unit_images(x)


class SampleGrids(training.EpochSampleGrids):
    """Write `folder/epoch_{k:03d}.png`, a grid of n DDIM samples from a fixed x_T, after each epoch.

    The samples are `model.sample(n, seed=seed, method="ddim", steps=min(steps, T), eta=0)`:
    deterministic given x_T, which the seed fixes, so the grids differ only by the network's weights.

    Args:
        folder: where the PNG files go (created).
        n: samples per grid. Defaults to `36`.
        seed: the seed of x_T. Defaults to `0`.
        steps: DDIM steps (at most the model's T). Defaults to `20`.
        every: write every `every` epochs (and after the last). Defaults to `1`.
    """

    def __init__(self, folder, n=36, seed=0, steps=20, every=1):
        super().__init__(folder, n=n, seed=seed, every=every)
        self.steps = v.check_positive_int("steps", steps)

    def grid(self, epoch):
        steps = min(self.steps, self.model.timesteps)
        samples = self.model.sample(self.n, seed=self.seed, method="ddim", steps=steps, eta=0.0)
        title = f"{type(self.model).__name__} samples after epoch {epoch + 1} (DDIM, {steps} steps)"
        return display_images(self.model, samples), title


# --------------------------------------------------------------------- chains
def chain_times(T, n_columns=8):
    """`n_columns` (or fewer, when T is small) distinct times evenly spaced from 0 to T, ascending ints."""
    n_columns = v.check_positive_int("n_columns", n_columns)
    return np.unique(np.round(np.linspace(0, T, max(n_columns, 2))).astype(int))


def _check_times(model, times):
    times = np.atleast_1d(np.asarray(times))
    if times.ndim != 1 or times.size == 0 or not np.issubdtype(times.dtype, np.integer) or \
            times.min() < 0 or times.max() > model.timesteps:
        raise ValueError(f"`times` must be a non-empty 1-D sequence of ints in [0, T] = [0, {model.timesteps}]. "
                         f"Received: times={times.tolist()!r}")
    return [int(t) for t in times]


def _one_example(model, x0):
    x0 = np.asarray(x0)
    if x0.shape == tuple(model.data_shape):
        x0 = x0[None]
    x0 = model.check_data(x0, "x0")
    if len(x0) != 1:
        raise ValueError(f"`x0` must be one example, of shape {model.data_shape} or (1,) + that. "
                         f"Received: shape {x0.shape}")
    return model.to_model_space(x0)


def forward_chain(model, x0, times, seed=0):
    """States of the forward process of one example, x_t ~ q(x_t | x_0), at each t of `times`; NumPy.

        x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε,   one ε ~ N(0, I) for every t (x_0 itself at t = 0)

    Args:
        model: a `DiffusionModel`.
        x0: one example in the data's values, shape `data_shape` or `(1,) + data_shape`.
        times: ints in [0, T].
        seed: the seed of ε. Defaults to `0`.

    Returns:
        float32 `(len(times),) + data_shape`, in the model's space.
    """
    times = _check_times(model, times)
    x0 = _one_example(model, x0)
    k = len(times)
    x0s = ops.repeat(x0, k, axis=0)
    eps = ops.repeat(keras.random.normal(ops.shape(x0), seed=v.check_seed("seed", seed)), k, axis=0)
    t = np.maximum(np.asarray(times) - 1, 0).astype("int32")  # step t is index t − 1
    x_t = process.q_sample(x0s, t, eps, model.alphas_cumprod)
    at_zero = np.asarray(times).reshape((-1,) + (1,) * len(model.data_shape)) == 0
    return np.where(at_zero, ops.convert_to_numpy(x0s), ops.convert_to_numpy(x_t)).astype("float32")


def reverse_chain(model, times, seed=0, use_ema=True):
    """States of one reverse DDPM chain from x_T ~ N(0, I) at each t of `times`; NumPy.

        x_{t−1} = μ_θ(x_t, t) + σ_t z,   σ_t² = β_t,   no noise at t = 1

    The draws of `model.sample(1, seed=seed, method="ddpm")` (it restarts the
    model's sampling stream at `seed`), so that
    `model.from_model_space(reverse_chain(model, [0], seed))` is that sample.
    One compiled loop between consecutive times.

    Args:
        model: a `DiffusionModel`.
        times: ints in [0, T].
        seed: the chain's seed. Defaults to `0`.
        use_ema: whether the EMA network denoises. Defaults to `True`.

    Returns:
        float32 `(len(times),) + data_shape`, in the model's space (x_0 is the last mean μ_θ(x_1, 1)).
    """
    times = _check_times(model, times)
    use_ema = v.check_bool("use_ema", use_ema)
    T = model.timesteps
    t_all = np.arange(T - 1, -1, -1, dtype="int32")  # iteration i takes step index T − 1 − i
    generator = model.sampling_seed_generator

    def run(x, start, stop):
        ones = ops.ones((ops.shape(x)[0],), "int32")

        def body(i, x):
            t = ones * ops.take(t_all, i)
            eps_hat = model.predict_noise(x, t, use_ema=use_ema)
            z = backend.normal(ops.shape(x), "float32", generator)
            return process.ddpm_step(x, t, eps_hat, model.betas, model.alphas_cumprod, z)

        return ops.fori_loop(start, stop, body, x)

    fn = backend.compile_function(run, jit_compile=False)
    model.reseed(v.check_seed("seed", seed))
    x = backend.normal((1,) + tuple(model.data_shape), "float32", generator)  # x_T
    states, done = {T: x}, 0
    for s in sorted(set(times), reverse=True):
        if T - s > done:  # after T − s iterations the chain is at x_s
            x = fn(x, ops.convert_to_tensor(done, "int32"), ops.convert_to_tensor(T - s, "int32"))
            done = T - s
        states[s] = x
    return np.stack([ops.convert_to_numpy(states[t])[0] for t in times]).astype("float32")


def chain_figure(model, x0, path=None, n_columns=8, seed=0):
    """The forward chain q(x_t | x_0) of `x0` (top) and a reverse DDPM chain from x_T (bottom), at the same t.

    Args:
        model: a `DiffusionModel`.
        x0: one example in the data's values (a training image, a configuration).
        path: the PNG to write. Defaults to `None`: return the open Figure.
        n_columns: the times shown, evenly spaced from 0 to T. Defaults to `8`.
        seed: the seed of the forward ε and of the reverse chain. Defaults to `0`.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    times = chain_times(model.timesteps, n_columns)
    rows = {"forward\nq(x_t | x_0)": forward_chain(model, x0, times, seed),
            "reverse\nDDPM chain": reverse_chain(model, times, seed)}
    fig, axes = plotting.new_figure(path, nrows=2, ncols=len(times), figsize=(1.3 * len(times) + 0.6, 3.4),
                                    squeeze=False)
    for r, (label, states) in enumerate(rows.items()):
        for c, (t, state) in enumerate(zip(times, states)):
            ax = axes[r][c]
            image = signed_data.to_unit_images(state[None])[0]
            ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="Greys_r", vmin=0.0, vmax=1.0,
                      interpolation="nearest")
            ax.axis("off")
            if r == 0:  # the same times in both rows
                ax.set_title(f"t = {t}", fontsize=9)
            if c == 0:
                ax.text(-0.08, 0.5, label, transform=ax.transAxes, rotation=90, ha="right", va="center",
                        fontsize=9)
    fig.suptitle(f"{type(model).__name__}, T = {model.timesteps}: the forward process from x_0 (top), a reverse "
                 "chain from x_T (bottom)\n(x_t + 1) / 2 clipped: black -1, white +1", fontsize=10)
    fig.subplots_adjust(top=0.8, hspace=0.08, wspace=0.08)
    return plotting.finish_figure(fig, path)


def losses(history, path=None):
    """The ε-prediction loss per epoch (`plotting.training_curves`)."""
    return plotting.training_curves(history, path, units={"loss": "ε-prediction loss per feature"},
                                    title="Diffusion training")
