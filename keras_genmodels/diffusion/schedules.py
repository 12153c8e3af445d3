"""Noise schedules of diffusion models: β_t, ᾱ_t and the continuous signal and noise rates.

A discrete schedule is T variances β_1..β_T of the forward (noising) process
q(x_t | x_{t−1}) = N(√(1 − β_t) x_{t−1}, β_t I); its marginal is
q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) with ᾱ_t = Π_{s≤t} (1 − β_s).
The arrays are indexed 0..T−1 for the steps 1..T (index t − 1 is step t).

Discrete schedules are constants, computed once: they are float64 NumPy
arrays, which `keras_genmodels.diffusion.process` gathers from (in float64)
and casts to the dtype of the images. `offset_cosine_rates` is the
continuous schedule of keras-io's DDIM example, written in `keras.ops`
because it is evaluated at random times inside a `train_step`.

References:
    Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models",
    arXiv 2006.11239 (the linear schedule, Sec. 4).
    Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic
    Models", arXiv 2102.09672 (the cosine schedule, eq. 17).
"""

import math
import numbers

import keras
import numpy as np
from keras import ops

from keras_genmodels._validation import check_positive_float, check_positive_int

# A bound on T that refuses absurd sizes before anything is allocated.
MAX_TIMESTEPS = 10**6


def _check_unit_interval(name, value, closed=False):
    """Return `value` as a float if it is a finite real in (0, 1) (or [0, 1] if `closed`)."""
    try:
        ok = (
            isinstance(value, numbers.Real)
            and not isinstance(value, (bool, np.bool_))
            and math.isfinite(value)
            and ((0 <= value <= 1) if closed else (0 < value < 1))
        )
    except OverflowError:  # an int too large for a float
        ok = False
    if not ok:
        interval = "[0, 1]" if closed else "(0, 1)"
        raise ValueError(f"`{name}` must be a float in {interval}. Received: {name}={value!r}")
    return float(value)


def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    """The linear schedule of Ho et al. 2020: β_t linearly spaced from `beta_start` to `beta_end`.

        β_t = β_start + (t − 1) / (T − 1) · (β_end − β_start),   t = 1..T

    Ho et al. use T = 1000, β_1 = 10⁻⁴, β_T = 0.02 (no rescaling with T:
    the bounds are taken as given).

    Args:
        T: the number of diffusion steps, a positive int.
        beta_start: β_1, a float in (0, 1). Defaults to `1e-4`.
        beta_end: β_T, a float in (0, 1), >= `beta_start`. Defaults to `0.02`.

    Returns:
        A float64 NumPy array of shape (T,), β_1..β_T (a single β_1 if T = 1).

    Raises:
        ValueError: naming what was expected and what was received, e.g.
            "`beta_end` must be a float in (0, 1). Received: beta_end=1.5".
    """
    T = check_positive_int("T", T, max_value=MAX_TIMESTEPS)
    beta_start = _check_unit_interval("beta_start", beta_start)
    beta_end = _check_unit_interval("beta_end", beta_end)
    if beta_start > beta_end:
        raise ValueError(
            "`beta_start` must be <= `beta_end`. "
            f"Received: beta_start={beta_start!r}, beta_end={beta_end!r}"
        )
    return np.linspace(beta_start, beta_end, T, dtype="float64")


def cosine_beta_schedule(T, s=0.008, max_beta=0.999):
    """The cosine schedule of Nichol & Dhariwal 2021 (eq. 17).

        ᾱ(t) = f(t) / f(0),   f(t) = cos²( (t/T + s) / (1 + s) · π/2 )
        β_t = min(1 − ᾱ(t) / ᾱ(t − 1), max_beta),   t = 1..T

    The offset s keeps β_1 from being vanishingly small; f(T) = 0 would make
    β_T = 1 (x_T pure noise, and ᾱ_T = 0 divides by zero in x̂_0), hence the
    clip at `max_beta`. The clip is applied to β (as in the authors'
    `betas_for_alpha_bar`), so `alphas_cumprod(betas)` equals f(t)/f(0)
    wherever no β was clipped (every t < T for T = 1000) and stays > 0 at T.

    Args:
        T: the number of diffusion steps, a positive int.
        s: the offset, a finite float > 0. Defaults to `0.008`.
        max_beta: the largest β, a float in (0, 1). Defaults to `0.999`.

    Returns:
        A float64 NumPy array of shape (T,), β_1..β_T.

    Raises:
        ValueError: naming what was expected and what was received.
    """
    T = check_positive_int("T", T, max_value=MAX_TIMESTEPS)
    s = check_positive_float("s", s)
    max_beta = _check_unit_interval("max_beta", max_beta)
    t = np.arange(T + 1, dtype="float64") / T
    f = np.cos((t + s) / (1.0 + s) * (np.pi / 2)) ** 2
    alpha_bar = f / f[0]  # ᾱ(t) = f(t) / f(0), t = 0..T
    betas = 1.0 - alpha_bar[1:] / alpha_bar[:-1]  # β_t = 1 − ᾱ_t / ᾱ_{t−1}
    return np.minimum(betas, max_beta)


def alphas_cumprod(betas):
    """ᾱ_t = Π_{s≤t} (1 − β_s), the signal variance of q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I).

    Args:
        betas: β_1..β_T, a non-empty 1-D array-like of finite values in (0, 1).

    Returns:
        A float64 NumPy array of shape (T,), ᾱ_1..ᾱ_T (decreasing, in (0, 1)).

    Raises:
        ValueError: naming what was expected and what was received, e.g.
            "`betas` must be a 1-D array of values in (0, 1). Received: betas[3]=1.5".
    """
    try:
        arr = np.asarray(betas, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError(
            f"`betas` must be a 1-D array of values in (0, 1). Received: {type(betas).__name__}"
        ) from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"`betas` must be a non-empty 1-D array of values in (0, 1). Received: shape={arr.shape}"
        )
    bad = np.flatnonzero(~((arr > 0) & (arr < 1)))  # NaN fails both comparisons
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"`betas` must be a 1-D array of values in (0, 1). Received: betas[{i}]={float(arr[i])!r}"
        )
    return np.cumprod(1.0 - arr)


def offset_cosine_rates(diffusion_times, min_signal_rate=0.02, max_signal_rate=0.95):
    """The continuous offset-cosine schedule of keras-io's DDIM example, in `keras.ops`.

        φ(τ) = φ_0 + τ (φ_1 − φ_0),   φ_0 = arccos(max_signal_rate), φ_1 = arccos(min_signal_rate)
        noise rate = sin φ(τ),   signal rate = cos φ(τ)

    so that x_τ = signal · x_0 + noise · ε has unit variance for unit-variance
    x_0 (signal² + noise² = 1), the signal rate falls from `max_signal_rate`
    at τ = 0 to `min_signal_rate` at τ = 1, and the rates never reach 0 or 1
    (the offsets keep the network's input informative at both ends).
    The times are a tensor (traced in a `tf.function` as well); an int
    tensor is cast to `keras.backend.floatx()`.

    Args:
        diffusion_times: τ in [0, 1], a tensor of any shape, e.g. (batch, 1, 1, 1).
        min_signal_rate: the signal rate at τ = 1, a float in [0, 1).
            Defaults to `0.02`.
        max_signal_rate: the signal rate at τ = 0, a float in (0, 1],
            > `min_signal_rate`. Defaults to `0.95`.

    Returns:
        `(noise_rates, signal_rates)`, two tensors of the shape and float
        dtype of `diffusion_times`.

    Raises:
        ValueError: for rates outside [0, 1] or `min_signal_rate >= max_signal_rate`.

    Reference: keras-io `examples/generative/ddim.py` (A. Béres, 2022),
    after Song et al. 2021, arXiv 2010.02502, and Nichol & Dhariwal 2021.
    """
    min_signal_rate = _check_unit_interval("min_signal_rate", min_signal_rate, closed=True)
    max_signal_rate = _check_unit_interval("max_signal_rate", max_signal_rate, closed=True)
    if min_signal_rate >= max_signal_rate:
        raise ValueError(
            "`min_signal_rate` must be < `max_signal_rate`. "
            f"Received: min_signal_rate={min_signal_rate!r}, max_signal_rate={max_signal_rate!r}"
        )
    times = ops.convert_to_tensor(diffusion_times)
    if not keras.backend.is_float_dtype(times.dtype):
        times = ops.cast(times, keras.backend.floatx())
    start_angle = math.acos(max_signal_rate)
    end_angle = math.acos(min_signal_rate)
    angles = start_angle + times * (end_angle - start_angle)  # φ(τ)
    return ops.sin(angles), ops.cos(angles)
