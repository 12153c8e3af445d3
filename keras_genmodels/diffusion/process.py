"""The forward and reverse processes of discrete-time diffusion models, in `keras.ops`.

With β_t the schedule, α_t = 1 − β_t and ᾱ_t = Π_{s≤t} α_s
(`keras_genmodels.diffusion.schedules`):

- forward marginal: q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I), sampled as
  x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (`q_sample`);
- posterior: q(x_{t−1} | x_t, x_0) = N(μ̃_t, β̃_t I) with
  μ̃_t = √ᾱ_{t−1} β_t / (1 − ᾱ_t) · x_0 + √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · x_t and
  β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t (Ho et al. eq. 6–7,
  `posterior_mean_variance`);
- training: L_simple = ‖ε − ε_θ(x_t, t)‖² (Ho et al. eq. 14,
  `noise_prediction_loss`); the variational bound's terms are Gaussian KLs
  (`normal_kl`) and the decoder log-likelihood
  (`discretized_gaussian_log_likelihood`, or `bernoulli_log_likelihood` for
  binary data);
- sampling: the ancestral DDPM step (`ddpm_step`, Ho et al. Algorithm 2) and
  the DDIM step (`ddim_step`, Song et al. eq. 12) over a subsequence of
  steps (`sampling_timesteps`).

Time steps are int tensors of shape (batch,) (or scalars) holding indices
0..T−1 for the steps 1..T. A schedule (a 1-D float64 array or tensor) is
gathered and its coefficients computed in float64, then cast to the dtype
of the images and shaped (batch, 1, ..., 1) to broadcast over them. Every
function traces in a `tf.function`; only the Python-number arguments
(`eta`, `variance`, and those of `sampling_timesteps`) are checked eagerly.

References:
    Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models",
    arXiv 2006.11239, and its code (github.com/hojonathanho/diffusion,
    `diffusion_utils_2.py`).
    Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models",
    arXiv 2010.02502.
    Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are
    Flawed", arXiv 2305.08891 (the trailing DDIM time steps).
"""

import math
import numbers

import keras
import numpy as np
from keras import ops

from keras_genmodels._validation import check_choice, check_positive_int

# Ho et al.'s floor on a bin's probability: log 1e-12 ≈ −27.6 nats.
_MIN_PROBABILITY = 1e-12


def _float_tensor(x):
    """`x` as a float tensor (an int or bool tensor becomes `floatx`)."""
    x = ops.convert_to_tensor(x)
    if not keras.backend.is_float_dtype(x.dtype):
        x = ops.cast(x, keras.backend.floatx())
    return x


def _float64(values):
    """`values` as a float64 tensor (Python and NumPy numbers without a float32 round trip)."""
    if ops.is_tensor(values):
        return ops.cast(values, "float64")
    return ops.convert_to_tensor(np.asarray(values, dtype="float64"))


def _gather(schedule, t):
    """schedule[t] in float64; `t` an int tensor (batch,) or a scalar."""
    return ops.take(_float64(schedule), ops.convert_to_tensor(t), axis=0)


def _like(coefficient, x):
    """A per-example coefficient (batch,) as x's dtype, shaped (batch, 1, ..., 1) to broadcast over x."""
    coefficient = ops.cast(coefficient, x.dtype)
    if len(coefficient.shape) == 0:
        return coefficient
    return ops.reshape(coefficient, (-1,) + (1,) * (len(x.shape) - 1))


def q_sample(x0, t, noise, alphas_cumprod):
    """Sample the forward marginal q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I).

        x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε

    Args:
        x0: the data x_0, a float tensor (batch, ...).
        t: the step indices, an int tensor (batch,) (or a scalar) in 0..T−1
            (index t − 1 is step t).
        noise: ε ~ N(0, I), of x0's shape.
        alphas_cumprod: ᾱ_1..ᾱ_T, a 1-D array (`schedules.alphas_cumprod`).

    Returns:
        x_t, of x0's shape and dtype.
    """
    x0 = _float_tensor(x0)
    noise = ops.cast(noise, x0.dtype)
    abar = _gather(alphas_cumprod, t)
    return _like(ops.sqrt(abar), x0) * x0 + _like(ops.sqrt(1.0 - abar), x0) * noise


def posterior_mean_variance(x0, x_t, t, betas):
    """Mean and variance of the posterior q(x_{t−1} | x_t, x_0) = N(μ̃_t, β̃_t I) (Ho et al. eq. 6–7).

        μ̃_t = √ᾱ_{t−1} β_t / (1 − ᾱ_t) · x_0 + √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · x_t
        β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t,   ᾱ_0 = 1

    At t = 1 the posterior is a point mass at x_0 (β̃_1 = 0); the returned
    log-variance is then log β̃_2, as in Ho et al.'s code
    (`posterior_log_variance_clipped`), so that it stays finite where it
    serves as the decoder's log-variance (−∞ if T = 1, where no β̃_2 exists).

    Args:
        x0: x_0 (or its prediction x̂_0), a float tensor (batch, ...).
        x_t: x_t, of x0's shape.
        t: the step indices, an int tensor (batch,) (or a scalar) in 0..T−1.
        betas: β_1..β_T, a 1-D array.

    Returns:
        `(mean, variance, log_variance)`: μ̃_t of x0's shape; β̃_t and the
        clipped log β̃_t shaped (batch, 1, ..., 1) (scalars for a scalar t),
        all of x0's dtype.
    """
    x0 = _float_tensor(x0)
    x_t = ops.cast(x_t, x0.dtype)
    t = ops.convert_to_tensor(t)
    betas = _float64(betas)
    abar = ops.cumprod(1.0 - betas)
    abar_prev = ops.concatenate([ops.ones((1,), "float64"), abar[:-1]])  # ᾱ_{t−1}, ᾱ_0 = 1
    variances = betas * (1.0 - abar_prev) / (1.0 - abar)  # β̃_1..β̃_T
    b, a, a_prev = (ops.take(v, t, axis=0) for v in (betas, abar, abar_prev))
    coef_x0 = b * ops.sqrt(a_prev) / (1.0 - a)
    coef_xt = (1.0 - a_prev) * ops.sqrt(1.0 - b) / (1.0 - a)
    mean = _like(coef_x0, x0) * x0 + _like(coef_xt, x0) * x_t
    T = ops.shape(betas)[0]
    t_log = ops.minimum(ops.maximum(t, 1), T - 1)  # log β̃_2 stands in for log β̃_1 = −∞
    log_variance = ops.log(ops.take(variances, t_log, axis=0))
    return mean, _like(ops.take(variances, t, axis=0), x0), _like(log_variance, x0)


def predict_x0_from_noise(x_t, t, eps, alphas_cumprod):
    """x̂_0 from x_t and a noise prediction ε̂, inverting x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε.

        x̂_0 = (x_t − √(1 − ᾱ_t) ε̂) / √ᾱ_t = √(1/ᾱ_t) x_t − √(1/ᾱ_t − 1) ε̂

    Args:
        x_t: a float tensor (batch, ...).
        t: the step indices, an int tensor (batch,) (or a scalar) in 0..T−1.
        eps: ε̂, of x_t's shape.
        alphas_cumprod: ᾱ_1..ᾱ_T, a 1-D array.

    Returns:
        x̂_0, of x_t's shape and dtype.
    """
    x_t = _float_tensor(x_t)
    eps = ops.cast(eps, x_t.dtype)
    abar = _gather(alphas_cumprod, t)
    return _like(ops.sqrt(1.0 / abar), x_t) * x_t - _like(ops.sqrt(1.0 / abar - 1.0), x_t) * eps


def noise_prediction_loss(eps, eps_hat):
    """Per-example L_simple of Ho et al. (eq. 14): the mean squared error ‖ε − ε̂‖² / D.

    The mean over the D features of one example (not the sum), as in Ho et
    al.'s code, so that the scale does not depend on the image size. Per
    example, so that a `train_step` can divide a sum by the global batch size
    (`keras_genmodels.distribute`). Half-precision inputs are upcast to float32.

    Args:
        eps: the noise ε, a float tensor (batch, ...).
        eps_hat: the prediction ε̂ = ε_θ(x_t, t), of eps's shape.

    Returns:
        A tensor of shape (batch,).
    """
    eps = _float_tensor(eps)
    if keras.backend.standardize_dtype(eps.dtype) in ("float16", "bfloat16"):
        eps = ops.cast(eps, "float32")
    squared = ops.square(eps - ops.cast(eps_hat, eps.dtype))
    return ops.mean(ops.reshape(squared, (ops.shape(squared)[0], -1)), axis=-1)


def normal_kl(mean1, logvar1, mean2, logvar2):
    """KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) elementwise, in nats (Ho et al.'s `normal_kl`).

        KL = ½ [ log σ₂² − log σ₁² + (σ₁² + (μ₁ − μ₂)²) / σ₂² − 1 ]

    The summed form over a diagonal covariance is
    `keras_genmodels.vae.losses.kl_diagonal_gaussians`.

    Args:
        mean1, logvar1: mean and log-variance of the first Gaussian.
        mean2, logvar2: those of the second. All four broadcast together.

    Returns:
        A tensor of the broadcast shape, >= 0, 0 where the two are equal.
    """
    mean1, logvar1 = _float_tensor(mean1), _float_tensor(logvar1)
    mean2, logvar2 = _float_tensor(mean2), _float_tensor(logvar2)
    return 0.5 * (
        -1.0
        + logvar2
        - logvar1
        + ops.exp(logvar1 - logvar2)  # σ₁² / σ₂²
        + ops.square(mean1 - mean2) * ops.exp(-logvar2)  # (μ₁ − μ₂)² / σ₂²
    )


def _standard_normal_cdf(z):
    """Φ(z) = ½ (1 + erf(z / √2)), exact (no tanh approximation)."""
    return 0.5 * (1.0 + ops.erf(z * (1.0 / math.sqrt(2.0))))


def discretized_gaussian_log_likelihood(x, means, log_scales):
    """log P(x) of a Gaussian discretised into the 256 bins of 8-bit data scaled to [−1, 1].

    Ho et al.'s decoder p(x_0 | x_1) (eq. 13): pixel value k ∈ {0..255} is
    x = 2k/255 − 1; its bin is [x − 1/255, x + 1/255], and the edge bins
    extend to ±∞, so that the 256 probabilities sum to 1:

        P(x) = Φ((x + 1/255 − μ) / σ) − Φ((x − 1/255 − μ) / σ),   interior bins
        P(−1) = Φ((−1 + 1/255 − μ) / σ),   P(1) = 1 − Φ((1 − 1/255 − μ) / σ)

    with σ = exp(log_scales). Φ is the exact normal CDF, ½ (1 + erf(z/√2)),
    not the tanh approximation of Ho et al.'s code; it is evaluated in
    float64 (absolute error ~1e-16 where a bin's two CDFs are both near 0 or
    1), and every probability is floored at 1e-12 before the log as in Ho et
    al.'s code, so a bin far in a tail scores log 1e-12 ≈ −27.6 nats (with
    zero gradient) rather than −∞. Values below −0.999 (above 0.999) are
    taken as the lower (upper) edge bin.

    Args:
        x: the data, values in {2k/255 − 1}, a float tensor.
        means: μ, broadcastable to x.
        log_scales: log σ (half the log-variance), broadcastable to x.

    Returns:
        The elementwise log-probabilities in nats, of x's shape and dtype
        (at least float32).
    """
    x = _float_tensor(x)
    dtype = x.dtype
    if keras.backend.standardize_dtype(dtype) in ("float16", "bfloat16"):
        dtype = "float32"
    x = ops.cast(x, "float64")
    centered = x - _float64(means)
    inv_std = ops.exp(-_float64(log_scales))
    cdf_plus = _standard_normal_cdf(inv_std * (centered + 1.0 / 255.0))
    cdf_min = _standard_normal_cdf(inv_std * (centered - 1.0 / 255.0))
    one_minus_cdf_min = _standard_normal_cdf(-inv_std * (centered - 1.0 / 255.0))  # 1 − Φ(z) = Φ(−z)
    probability = ops.where(
        x < -0.999,
        cdf_plus,
        ops.where(x > 0.999, one_minus_cdf_min, cdf_plus - cdf_min),
    )
    return ops.cast(ops.log(ops.maximum(probability, _MIN_PROBABILITY)), dtype)


def bernoulli_log_likelihood(x, logits):
    """log p(x) of binary data under independent Bernoulli(σ(l)) variables, elementwise.

        log p(x) = x log σ(l) + (1 − x) log(1 − σ(l)) = x l − softplus(l)

    computed from the logits l (never log σ(l)), finite for any l. The
    per-example sum is `keras_genmodels.vae.losses.bernoulli_log_likelihood`.

    Args:
        x: the data, values in {0, 1} (values in [0, 1] give minus the binary
            cross-entropy).
        logits: l, broadcastable to x.

    Returns:
        The log-probabilities in nats, of the broadcast shape.
    """
    logits = _float_tensor(logits)
    x = ops.cast(x, logits.dtype)
    return x * logits - ops.softplus(logits)


def ddpm_step(x_t, t, eps_hat, betas, alphas_cumprod, noise, variance="beta"):
    """One ancestral sampling step x_t → x_{t−1} of Ho et al. (Algorithm 2).

        μ_θ(x_t, t) = (x_t − β_t / √(1 − ᾱ_t) · ε̂) / √α_t
        x_{t−1} = μ_θ(x_t, t) + σ_t z,   z ~ N(0, I),   no noise at t = 1 (index 0)

    With the true noise ε̂ = ε of x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, μ_θ is the
    posterior mean μ̃_t(x_t, x_0).

    Args:
        x_t: a float tensor (batch, ...).
        t: the step indices, an int tensor (batch,) (or a scalar) in 0..T−1.
        eps_hat: the noise prediction ε̂ = ε_θ(x_t, t), of x_t's shape.
        betas: β_1..β_T, a 1-D array.
        alphas_cumprod: ᾱ_1..ᾱ_T, the same schedule's `alphas_cumprod(betas)`.
        noise: z ~ N(0, I) of x_t's shape, or `None` for the mean μ_θ.
        variance: σ_t², `"beta"` for β_t (Ho et al.'s "fixedlarge") or
            `"posterior"` for β̃_t ("fixedsmall"; equal to `ddim_step` with
            η = 1 and t_prev = t − 1). Defaults to `"beta"`.

    Returns:
        x_{t−1}, of x_t's shape and dtype.
    """
    variance = check_choice("variance", variance, ("beta", "posterior"))
    x_t = _float_tensor(x_t)
    eps_hat = ops.cast(eps_hat, x_t.dtype)
    t = ops.convert_to_tensor(t)
    b = _gather(betas, t)
    a = _gather(alphas_cumprod, t)
    mean = _like(1.0 / ops.sqrt(1.0 - b), x_t) * (
        x_t - _like(b / ops.sqrt(1.0 - a), x_t) * eps_hat
    )
    if noise is None:
        return mean
    if variance == "beta":
        sigma2 = b
    else:  # β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t; 0 at index 0, where no noise is added anyway
        a_prev = ops.where(t > 0, _gather(alphas_cumprod, ops.maximum(t - 1, 0)), 1.0)
        sigma2 = (1.0 - a_prev) / (1.0 - a) * b
    sigma = ops.where(t > 0, ops.sqrt(sigma2), 0.0)  # σ_1 z is not added
    return mean + _like(sigma, x_t) * ops.cast(noise, x_t.dtype)


def check_eta(eta):
    """Return η as a float if it is a finite real in [0, 1], else raise `ValueError`.

    η interpolates DDIM (η = 0, deterministic) and DDPM-like ancestral
    sampling (η = 1), Song et al. 2021 eq. 16.
    """
    try:
        ok = (
            isinstance(eta, numbers.Real)
            and not isinstance(eta, (bool, np.bool_))
            and math.isfinite(eta)
            and 0 <= eta <= 1
        )
    except OverflowError:  # an int too large for a float
        ok = False
    if not ok:
        raise ValueError(f"`eta` must be a float in [0, 1]. Received: eta={eta!r}")
    return float(eta)


def ddim_step(x_t, t, t_prev, eps_hat, alphas_cumprod, eta, noise):
    """One generalised DDIM step x_t → x_{t_prev} (Song et al. 2021, eq. 12 and 16).

        x̂_0 = (x_t − √(1 − ᾱ_t) ε̂) / √ᾱ_t
        x_{t_prev} = √ᾱ_{t_prev} x̂_0 + √(1 − ᾱ_{t_prev} − σ_t²) ε̂ + σ_t z
        σ_t(η) = η √((1 − ᾱ_{t_prev}) / (1 − ᾱ_t)) √(1 − ᾱ_t / ᾱ_{t_prev})

    η = 0 is the deterministic DDIM (z unused); η = 1 with t_prev = t − 1 is
    the DDPM posterior, σ_t² = β̃_t. t_prev = −1 stands for ᾱ = 1, the last
    step, which returns x̂_0.

    Args:
        x_t: a float tensor (batch, ...).
        t: the step indices, an int tensor (batch,) (or a scalar) in 0..T−1.
        t_prev: the next (smaller) indices, in −1..t−1, of t's shape.
        eps_hat: the noise prediction ε̂ = ε_θ(x_t, t), of x_t's shape.
        alphas_cumprod: ᾱ_1..ᾱ_T, a 1-D array.
        eta: η in [0, 1], a float (checked by `check_eta`) or a float tensor.
        noise: z ~ N(0, I) of x_t's shape, or `None` (no noise, the mean).

    Returns:
        x_{t_prev}, of x_t's shape and dtype.
    """
    if not ops.is_tensor(eta):
        eta = check_eta(eta)
    x_t = _float_tensor(x_t)
    eps_hat = ops.cast(eps_hat, x_t.dtype)
    t_prev = ops.convert_to_tensor(t_prev)
    a = _gather(alphas_cumprod, t)
    a_prev = ops.where(t_prev >= 0, _gather(alphas_cumprod, ops.maximum(t_prev, 0)), 1.0)
    x0_hat = _like(1.0 / ops.sqrt(a), x_t) * (x_t - _like(ops.sqrt(1.0 - a), x_t) * eps_hat)
    eta = _float64(eta)
    sigma2 = ops.square(eta) * (1.0 - a_prev) / (1.0 - a) * (1.0 - a / a_prev)  # σ_t(η)²
    direction = ops.sqrt(ops.maximum(1.0 - a_prev - sigma2, 0.0))  # √(1 − ᾱ_{t_prev} − σ_t²)
    x_prev = _like(ops.sqrt(a_prev), x_t) * x0_hat + _like(direction, x_t) * eps_hat
    if noise is None:
        return x_prev
    return x_prev + _like(ops.sqrt(sigma2), x_t) * ops.cast(noise, x_t.dtype)


def sampling_timesteps(T, steps):
    """The descending step indices of a `steps`-step DDIM sampler over a T-step schedule.

    The steps are evenly spaced and "trailing" (Lin et al. 2024, Table 2):
    step numbers round(k T / steps) for k = steps..1, so the first is T (the
    noisiest, where x_T ~ N(0, I) is the model's input) and each is followed
    by the next one, the last by step 0 (t_prev = −1, ᾱ = 1). As indices
    (step − 1), T = 1000, steps = 10 gives 999, 899, ..., 99. Song et al.'s
    code uses 0, T/steps, ... instead, which never starts at T.

    Example:

    ```python
    ts = sampling_timesteps(1000, 50)
    for t, t_prev in zip(ts, list(ts[1:]) + [-1]):
        x = ddim_step(x, t, t_prev, network([x, t]), abar, eta=0.0, noise=None)
    ```

    Args:
        T: the number of steps of the schedule, a positive int.
        steps: the number of sampling steps, an int in [1, T].

    Returns:
        An int64 NumPy array of shape (steps,), strictly decreasing from
        T − 1 to round(T / steps) − 1 >= 0.

    Raises:
        ValueError: naming what was expected and what was received, e.g.
            "`steps` must be an int in [1, T]. Received: steps=2000 with T=1000".
    """
    T = check_positive_int("T", T)
    steps = check_positive_int("steps", steps)
    if steps > T:
        raise ValueError(f"`steps` must be an int in [1, T]. Received: steps={steps} with T={T}")
    k = np.arange(steps, 0, -1, dtype="int64")
    step_numbers = (2 * k * T + steps) // (2 * steps)  # ⌊k T / steps + ½⌋, exact in integers
    return step_numbers - 1
