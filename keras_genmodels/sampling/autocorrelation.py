"""Autocorrelation of Markov chains, effective sample size, and the chain driver.

τ_int follows the convention of emcee and of Goodman & Weare (2010):

    ρ(t) = C(t) / C(0),   τ_int = 1 + 2 sum_{t=1}^{M} ρ(t),

so that Var(sample mean) = τ_int σ^2 / n, and the n = n_chains * n_steps
correlated samples are worth

    ESS = n_chains * n_steps / τ_int

independent ones. C(t) is the autocovariance averaged over independent chains
(computed by FFT), and the window M is Sokal's: the smallest M >= c τ_int(M),
c = 5. For an AR(1) series x_t = φ x_{t-1} + ε_t, ρ(t) = φ^t and
τ_int = (1 + φ) / (1 - φ).

`run_chains` is the chain driver shared by every sampler that advances a
batch of chains one step at a time (`MetropolisHastings`, the multi-spin-coded
Ising Metropolis and Wolff of `keras_genmodels.physics`): it measures τ_int of
the chains' scalar observables on a pilot run and chooses burn-in and thinning
from it,

    burn_in = max(pilot length, ceil(burn_in_factor * τ)),
    thin    = max(1, ceil(thin_factor * τ)),      τ = max over observables,

then keeps one sample every `thin` steps, and reports τ (in steps), the τ of
the kept samples (in samples: ~1 means nearly independent), burn-in and thin.

References:
    A. D. Sokal, Monte Carlo methods in statistical mechanics (1997).
    J. Goodman & J. Weare, Commun. Appl. Math. Comput. Sci. 5, 65 (2010).
"""

import dataclasses
import difflib
import inspect
import math
import time

import numpy as np

from keras_genmodels._validation import check_array, check_positive_float, check_positive_int

# The keyword arguments of `run_chains` that a sampler's `**schedule` forwards.
SCHEDULE_OPTIONS = ("burn_in_factor", "thin_factor", "min_pilot", "max_pilot")


# ---------------------------------------------------------------------------
# Autocorrelation, τ_int, ESS
# ---------------------------------------------------------------------------


def _as_series(x):
    """x as a float64 (n_steps, n_chains) array with n_steps >= 2."""
    x = check_array("x", x, allow_empty=True).astype("float64")
    received = x.shape
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(
            "Expected a series of shape (n_steps,) or (n_steps, n_chains) with "
            f"n_steps >= 2. Received: shape={received}"
        )
    return x


def autocorrelation(x):
    """Normalised autocorrelation ρ(t) = C(t) / C(0), averaged over chains.

    C(t) = 1/n sum_{s=0}^{n-1-t} (x_s - x̄)(x_{s+t} - x̄) per chain (x̄ the
    chain's own mean), by FFT, then averaged over the chains.

    Args:
        x: array of shape (n_steps,) or (n_steps, n_chains): one scalar
            observable along the chains, n_steps >= 2.

    Returns:
        ρ of shape (n_steps,), ρ(0) = 1 (all zeros if x is constant).
    """
    x = _as_series(x)
    n = x.shape[0]
    x = x - x.mean(axis=0)
    size = 1 << (2 * n - 1).bit_length()  # zero padding: no circular wrap-around
    f = np.fft.rfft(x, n=size, axis=0)
    acov = np.fft.irfft(f * np.conj(f), n=size, axis=0)[:n].mean(axis=1) / n
    if acov[0] <= 0:
        return np.zeros(n)
    return acov / acov[0]


def integrated_autocorrelation_time(x, c=5.0):
    """τ_int = 1 + 2 sum_{t=1}^{M} ρ(t), with Sokal's window M >= c τ_int(M).

    Args:
        x: series of shape (n_steps,) or (n_steps, n_chains).
        c: window constant. Defaults to `5.0`.

    Returns:
        τ_int as a float (1.0 for a constant series: nothing to decorrelate).
        The estimate is reliable when n_steps >= 50 τ_int.
    """
    check_positive_float("c", c)
    rho = autocorrelation(x)
    if not np.any(rho):
        return 1.0
    taus = 2.0 * np.cumsum(rho) - 1.0  # taus[M] = 1 + 2 sum_{t=1}^{M} rho(t)
    window = np.arange(len(taus)) >= c * taus
    m = int(np.argmax(window)) if np.any(window) else len(taus) - 1
    return float(max(taus[m], 1e-12))


def effective_sample_size(x, c=5.0):
    """ESS = n_chains * n_steps / τ_int: the number of independent samples x is worth.

    With τ_int from `integrated_autocorrelation_time` (chains averaged), the
    sample mean of all n_chains * n_steps values has the variance of the mean
    of ESS independent draws, σ^2 / ESS.

    Args:
        x: series of shape (n_steps,) or (n_steps, n_chains).
        c: Sokal's window constant of τ_int. Defaults to `5.0`.

    Returns:
        ESS as a float, in (0, n_chains * n_steps] for τ_int >= 1 (larger than
        n_chains * n_steps when the chains are anticorrelated, τ_int < 1).

    Example:
    ```python
    x = np.random.default_rng(0).standard_normal((10000, 4))
    effective_sample_size(x)  # ~40000: independent draws
    ```
    """
    n_steps, n_chains = _as_series(x).shape
    return n_chains * n_steps / integrated_autocorrelation_time(x, c=c)


# ---------------------------------------------------------------------------
# The chain driver
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class ChainInfo:
    """How a set of chains was run and how correlated it was.

    Attributes:
        observables: names of the scalar observables τ was measured on.
        tau: τ_int of each observable on the pilot run, in steps.
        tau_samples: τ_int of each observable along the kept samples, in
            samples (~1: the kept samples are nearly independent).
        burn_in: steps run before the first kept sample.
        thin: steps between kept samples.
        pilot_steps: length of the pilot run (part of the burn-in).
        reliable: whether the pilot was at least 50 τ long (after discarding
            its first half), as τ's estimate needs.
        n_chains: number of independent chains.
        n_steps: total steps per chain.
        seconds: wall-clock time.
    """

    observables: tuple
    tau: dict
    tau_samples: dict
    burn_in: int
    thin: int
    pilot_steps: int
    reliable: bool
    n_chains: int
    n_steps: int
    seconds: float

    @property
    def tau_max(self):
        """The largest τ over the observables (NaN if none was measured)."""
        return max(self.tau.values()) if self.tau else float("nan")


def check_schedule_options(function, options):
    """Return `options` if each key is a schedule option of `run_chains`.

    For samplers whose `**schedule` is forwarded to `run_chains`: a misspelt
    keyword (`burnin=10`) is refused with a message that names the valid
    keywords of `function` (its own and `SCHEDULE_OPTIONS`), instead of
    Python's TypeError from deep inside the driver.

    Args:
        function: the sampler that received `options` (its signature and
            name go into the message).
        options: dict of the `**schedule` keyword arguments.

    Raises:
        ValueError: e.g. "Unknown keyword argument of
            `MetropolisHastings.sample`: 'burnin' (did you mean 'burn_in'?).
            Expected one of [...]. Received: burnin=10".
    """
    unknown = [k for k in options if k not in SCHEDULE_OPTIONS]
    if not unknown:
        return options
    own = [
        name
        for name, p in inspect.signature(function).parameters.items()
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    valid = own + list(SCHEDULE_OPTIONS)
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, valid, n=1)
        hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    received = ", ".join(f"{k}={options[k]!r}" for k in unknown)
    raise ValueError(
        f"Unknown keyword argument{'s' if len(unknown) > 1 else ''} of "
        f"`{function.__qualname__}`: {', '.join(hints)}. Expected keywords among "
        f"{valid}. Received: {received}"
    )


def _check_schedule_value(name, value):
    if isinstance(value, str) and value == "auto":
        return value
    if name == "burn_in":
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(
                f"`burn_in` must be 'auto' or an int >= 0. Received: burn_in={value!r}"
            )
        return int(value)
    return check_positive_int(name, value)


def run_chains(
    step,
    measure,
    n_keep,
    collect,
    *,
    burn_in="auto",
    thin="auto",
    observables=("energy",),
    burn_in_factor=20.0,
    thin_factor=1.0,
    min_pilot=128,
    max_pilot=2**15,
):
    """Run chains: pilot (τ), burn-in, then `n_keep` samples every `thin` steps.

    burn_in = max(pilot, ceil(burn_in_factor τ)), thin = max(1, ceil(thin_factor τ))
    with τ the largest τ_int of the observables on the pilot's second half
    (module docstring).

    Args:
        step: `step(n)` advances every chain by `n` steps (sweeps, cluster
            flips, ...).
        measure: `measure()` returns the current scalar observables of the
            chains, shape (n_chains, len(observables)).
        n_keep: int >= 1, samples to keep per chain.
        collect: `collect()` returns the current states; called `n_keep`
            times, its results are returned in order.
        burn_in: int >= 0 or "auto" (max(pilot, ceil(burn_in_factor * τ))).
            Defaults to "auto".
        thin: int >= 1 or "auto" (ceil(thin_factor * τ)). Defaults to "auto".
        observables: names of the columns of `measure()`. Defaults to
            `("energy",)`.
        burn_in_factor: burn-in in units of τ. Defaults to `20.0`.
        thin_factor: thinning in units of τ. Defaults to `1.0`.
        min_pilot: first pilot length, doubled until the second half is at
            least 50 τ long or `max_pilot` is reached. Defaults to `128`.
        max_pilot: longest pilot. Defaults to `2**15`.

    Returns:
        `(collected, ChainInfo)`.
    """
    n_keep = check_positive_int("n_keep", n_keep)
    burn_in = _check_schedule_value("burn_in", burn_in)
    thin = _check_schedule_value("thin", thin)
    check_positive_float("burn_in_factor", burn_in_factor)
    check_positive_float("thin_factor", thin_factor)
    min_pilot = check_positive_int("min_pilot", min_pilot)
    max_pilot = check_positive_int("max_pilot", max_pilot)
    if min_pilot < 2:
        # tau is measured on the pilot's second half, which needs >= 2 steps.
        raise ValueError(f"`min_pilot` must be an int >= 2. Received: min_pilot={min_pilot}")
    start = time.perf_counter()
    names = tuple(observables)

    series, tau, reliable, done = [], {}, True, 0
    if burn_in == "auto" or thin == "auto":
        series.append(measure())
        target = min_pilot
        while True:
            while done < target:
                step(1)
                done += 1
                series.append(measure())
            arr = np.asarray(series)  # (steps + 1, chains, obs)
            half = arr[len(arr) // 2 :]
            tau = {
                name: integrated_autocorrelation_time(half[:, :, j])
                for j, name in enumerate(names)
            }
            reliable = len(half) >= 50 * max(tau.values())
            if reliable or target >= max_pilot:
                break
            target = min(2 * target, max_pilot)
    tau_max = max(tau.values()) if tau else 1.0
    if burn_in == "auto":
        burn_in = max(done, math.ceil(burn_in_factor * tau_max))
    if thin == "auto":
        thin = max(1, math.ceil(thin_factor * tau_max))
    if burn_in > done:
        step(burn_in - done)
    burn_in = max(burn_in, done)

    kept, kept_series = [], []
    for i in range(n_keep):
        if i:
            step(thin)
        kept.append(collect())
        kept_series.append(measure())
    kept_arr = np.asarray(kept_series)
    tau_samples = (
        {
            name: integrated_autocorrelation_time(kept_arr[:, :, j])
            for j, name in enumerate(names)
        }
        if n_keep >= 2
        else {name: float("nan") for name in names}
    )
    info = ChainInfo(
        observables=names,
        tau=tau,
        tau_samples=tau_samples,
        burn_in=int(burn_in),
        thin=int(thin),
        pilot_steps=int(done),
        reliable=bool(reliable),
        n_chains=int(kept_arr.shape[1]),
        n_steps=int(burn_in + (n_keep - 1) * thin),
        seconds=time.perf_counter() - start,
    )
    return kept, info
