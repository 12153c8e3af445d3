"""Annealed importance sampling (Neal 2001): the driver, for any model.

To estimate Z_B of an unnormalised density p*_B, anneal from a tractable p_A
(known Z_A, exact samples) through the intermediate densities

    p*_k(x) = p*_A(x)^(1 - beta_k) p*_B(x)^beta_k,   0 = beta_0 < ... < beta_K = 1.

Each of M chains starts at x_1 ~ p_A and, for k = 1..K, accumulates the
log-weight

    log w += log p*_k(x_k) - log p*_{k-1}(x_k),

then moves x_{k+1} ~ T_k(x_k) by a transition that leaves p_k invariant. Then
Z_B / Z_A ~= mean(w), an unbiased estimate of Z_B, so that log Z_B is (by
Jensen) underestimated on average; the standard error says by how much it can
be trusted.

A model supplies one temperature's work, `sweep` (the weight update and the
transition, fused as it likes), and the driver runs the schedule as compiled
`fori_loop`s, one per segment of temperatures that share a form of the sweep
(`segments`), and turns the log-weights into an `AISEstimate`. The RBM's
`log_partition_ais` (`keras_genmodels.rbm.partition`) uses it.

References:
    - Neal 2001, "Annealed importance sampling", Statistics and Computing 11.
    - Salakhutdinov & Murray 2008, "On the quantitative analysis of deep
      belief networks", ICML (AIS for RBMs, and their schedule).
"""

import functools
import math
import time
from typing import NamedTuple

import numpy as np
from keras import ops

from keras_genmodels._validation import check_choice, check_positive_float
from keras_genmodels.sampling.backend import compile_function


class AISEstimate(NamedTuple):
    """An AIS estimate of log Z.

    Attributes:
        log_z: the estimate log Z_A + log mean(w), in nats.
        std: its standard error in nats, std(w) / (sqrt(M) mean(w)).
        lower: log Z_A + log(mean(w) - 3 s.e.(w)) (`-inf` if not positive).
        upper: log Z_A + log(mean(w) + 3 s.e.(w)).
        log_z_base: log Z_A of the base model.
        log_weights: the M importance log-weights log w, a NumPy array.
        n_chains: M.
        n_betas: the number of inverse temperatures, beta_0 = 0 to beta_K = 1.
        seconds: wall-clock time of the annealing loop, including the tracing
            and XLA compilation of the loop, which each call does afresh.
    """

    log_z: float
    std: float
    lower: float
    upper: float
    log_z_base: float
    log_weights: np.ndarray
    n_chains: int
    n_betas: int
    seconds: float

    def __repr__(self):
        return (
            f"AISEstimate(log_z={self.log_z:.4f}, std={self.std:.4f}, "
            f"lower={self.lower:.4f}, upper={self.upper:.4f}, "
            f"n_chains={self.n_chains}, n_betas={self.n_betas}, "
            f"seconds={self.seconds:.1f})"
        )


def default_ais_schedule(scale=1.0):
    """The schedule of Salakhutdinov & Murray (2008): 14,501 values of beta.

    beta in steps of 1e-3 from 0 to 0.5, of 1e-4 from 0.5 to 0.9 and of 1e-5
    from 0.9 to 1 (500 + 4,000 + 10,000 transitions).

    Args:
        scale: float > 0 multiplying the number of steps of each segment
            (`scale=0.1` gives a 1,451-value schedule of the same shape, for
            quick looks). Defaults to `1.0`.
    """
    scale = check_positive_float("scale", scale)
    counts = [max(1, round(n * scale)) for n in (500, 4000, 10000)]
    return np.concatenate(
        [
            np.linspace(0.0, 0.5, counts[0], endpoint=False),
            np.linspace(0.5, 0.9, counts[1], endpoint=False),
            np.linspace(0.9, 1.0, counts[2], endpoint=False),
            [1.0],
        ]
    )


def check_schedule(betas):
    """Return `betas` as a float64 array if it is a valid AIS schedule.

    A valid schedule has at least two values, starts at beta = 0, ends at
    beta = 1, and never decreases.
    """
    try:
        arr = np.asarray(betas, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError(
            "`betas` must be a 1-D schedule of inverse temperatures from 0 to 1 "
            f"(floats). Received: betas={betas!r}"
        ) from None
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(
            "`betas` must be a 1-D schedule of at least 2 inverse temperatures "
            f"from 0 to 1. Received: shape={arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("`betas` must be finite. Received NaN or Inf values.")
    if arr[0] != 0.0:
        raise ValueError(
            f"`betas` must start at beta = 0 (the base model). Received: betas[0]={float(arr[0])!r}"
        )
    if arr[-1] != 1.0:
        raise ValueError(
            "`betas` must end at beta = 1 (the model itself). "
            f"Received: betas[-1]={float(arr[-1])!r}"
        )
    if np.any(np.diff(arr) < 0):
        i = int(np.argmax(np.diff(arr) < 0))
        raise ValueError(
            "`betas` must be non-decreasing. Received: "
            f"betas[{i}]={float(arr[i])!r} > betas[{i + 1}]={float(arr[i + 1])!r}"
        )
    return arr


def ais_estimate(log_weights, log_z_base, n_betas, seconds=0.0):
    """The `AISEstimate` of the log-weights of M chains.

    log Z = log Z_A + log mean(w), computed as log Z_A + max + log mean(e^(log w - max));
    std = s.e.(w) / mean(w) (the delta method); the bounds at mean(w) -+ 3 s.e.(w).

    Args:
        log_weights: the M log-weights log w (array-like).
        log_z_base: log Z_A.
        n_betas: the schedule's length (recorded).
        seconds: the annealing's time (recorded). Defaults to `0.0`.
    """
    log_w = np.asarray(log_weights, dtype="float64").reshape(-1)
    n_chains = log_w.size
    top = float(np.max(log_w))
    w = np.exp(log_w - top)  # rescaled weights, max 1
    mean_w = float(np.mean(w))
    se_w = float(np.std(w, ddof=1) / math.sqrt(n_chains)) if n_chains > 1 else float("inf")
    log_z_base = float(log_z_base)
    lower_w = mean_w - 3.0 * se_w
    return AISEstimate(
        log_z=log_z_base + top + math.log(mean_w),
        std=se_w / mean_w,
        lower=log_z_base + top + math.log(lower_w) if lower_w > 0 else -math.inf,
        upper=log_z_base + top + math.log(mean_w + 3.0 * se_w),
        log_z_base=log_z_base,
        log_weights=log_w,
        n_chains=n_chains,
        n_betas=int(n_betas),
        seconds=float(seconds),
    )


def anneal(sweep, initial, betas, log_z_base, segments=None, verbose=0):
    """Run AIS over the schedule `betas` from the states `initial`; returns an `AISEstimate`.

    Args:
        sweep: `sweep(x, log_w, beta_prev, beta, form) -> (x, log_w)`, one
            temperature k: log w += log p*_k(x) - log p*_{k-1}(x), then a
            transition x ~ T_k(x) that leaves p_k invariant. `keras.ops`
            code (it is compiled); `log_w` is float64 of shape (M,); `form`
            is the segment's Python value (see `segments`).
        initial: x_1 ~ p_A for the M chains, a tensor (M, ...).
        betas: the schedule (see `check_schedule`).
        log_z_base: log Z_A.
        segments: `[(first, stop, form)]`, temperatures k = first .. stop - 1
            (numbered from 1; together 1 .. K) run by one compiled loop whose
            `sweep` is given `form`: a model can use a cheaper form of its
            update where it is exact (the RBM's series form of the log-weight
            increment). Defaults to `None`: one loop over every temperature,
            with `form=None`.
        verbose: 0 (silent), 1 (a progress bar over the temperatures) or 2.
            With a bar, each segment runs as ~50 calls of its compiled loop
            (the same loop, so nothing is compiled again). Defaults to `0`.

    Returns:
        An `AISEstimate`; its `seconds` include tracing and compiling the loops.
    """
    betas = check_schedule(betas)
    n_chains = int(ops.shape(initial)[0])
    segments = [(1, len(betas), None)] if segments is None else list(segments)
    covered = [k for first, stop, _ in segments for k in range(first, stop)]
    if covered != list(range(1, len(betas))):
        raise ValueError(
            f"`segments` must cover the temperatures 1 .. {len(betas) - 1} in order, once each. "
            f"Received: {[(first, stop) for first, stop, _ in segments]}"
        )

    def loop(x, log_w, betas_t, first, stop, form):
        def body(k, state):
            return sweep(*state, betas_t[k - 1], betas_t[k], form)

        return ops.fori_loop(first, stop, body, (x, log_w))

    compiled = {
        form: compile_function(functools.partial(loop, form=form))
        for form in {form for _, _, form in segments}
    }
    progress = None
    if check_choice("verbose", verbose, (0, 1, 2)):
        import keras

        progress = keras.utils.Progbar(len(betas) - 1, verbose=verbose, unit_name="temperature")
        piece = max(1, math.ceil((len(betas) - 1) / 50))
        segments = [
            (a, min(a + piece, stop), form) for first, stop, form in segments for a in range(first, stop, piece)
        ]
    x = initial
    log_w = ops.zeros((n_chains,), "float64")
    betas_t = ops.convert_to_tensor(betas, initial.dtype)
    start = time.perf_counter()
    for first, stop, form in segments:
        x, log_w = compiled[form](
            x, log_w, betas_t, ops.convert_to_tensor(first), ops.convert_to_tensor(stop)
        )
        if progress is not None:
            progress.add(stop - first)
    log_w = ops.convert_to_numpy(log_w)
    return ais_estimate(log_w, log_z_base, len(betas), time.perf_counter() - start)
