"""Markov chain Monte Carlo over binary vectors: Metropolis-Hastings, τ_int, schedules.

`MetropolisHastings` samples p(x) ∝ exp(-E(x) / T) over x in {0, 1}^D for any
user-given energy E, with the lecture's single-site flip proposal: propose
x' = x with x_i flipped (a symmetric proposal, q(x'|x) = q(x|x')) and accept
with probability

    A(x -> x') = min(1, p(x') q(x|x') / (p(x) q(x'|x))) = min(1, exp(-ΔE_i / T)),
    ΔE_i = E(x') - E(x).

A sweep proposes every site once. Sites are taken in `site_groups`; the sites
of one group are proposed simultaneously with independent accept decisions,
which is exact when no two of them interact (ΔE_i does not depend on x_j for
i, j in the same group): e.g. the two colours of a checkerboard for a
nearest-neighbour model (`keras_genmodels.physics.sampler` uses it that way
for the Ising model). The default, one site per group, is valid for any E.

`run_chains` is the chain driver shared by every sampler of this subpackage
(this Metropolis-Hastings, the multi-spin-coded Ising Metropolis, Wolff): it
measures the integrated autocorrelation time τ_int of the chains' scalar
observables on a pilot run and chooses burn-in and thinning from it,

    burn_in = max(pilot length, ceil(burn_in_factor * τ)),
    thin    = max(1, ceil(thin_factor * τ)),      τ = max over observables,

then keeps one sample every `thin` steps, and reports τ (in steps), the τ of
the kept samples (in samples: ~1 means nearly independent), burn-in and thin.

τ_int (the convention of emcee and of Goodman & Weare 2010):

    ρ(t) = C(t) / C(0),  τ_int = 1 + 2 sum_{t=1}^{M} ρ(t),

so that Var(sample mean) = τ_int σ^2 / n and n / τ_int samples are effectively
independent. C(t) is the autocovariance averaged over independent chains
(computed by FFT), and the window M is Sokal's: the smallest M >= c τ_int(M),
c = 5. For an AR(1) series x_t = φ x_{t-1} + ε_t, ρ(t) = φ^t and
τ_int = (1 + φ) / (1 - φ).
"""

import dataclasses
import math
import time

import numpy as np

from keras_genmodels._validation import check_array, check_positive_float, check_positive_int


# ---------------------------------------------------------------------------
# Autocorrelation
# ---------------------------------------------------------------------------


def autocorrelation(x):
    """Normalised autocorrelation ρ(t), averaged over chains.

    Args:
        x: array of shape (n_steps,) or (n_steps, n_chains): one scalar
            observable along the chains.

    Returns:
        ρ of shape (n_steps,), ρ(0) = 1 (all zeros if x is constant).
    """
    x = check_array("x", x, allow_empty=True).astype("float64")
    received = x.shape
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(
            "Expected a series of shape (n_steps,) or (n_steps, n_chains) with "
            f"n_steps >= 2. Received: shape={received}"
        )
    n = x.shape[0]
    x = x - x.mean(axis=0)
    size = 1 << (2 * n - 1).bit_length()
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
        return max(self.tau.values()) if self.tau else float("nan")


def _check_schedule_value(name, value):
    if value == "auto":
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
        observables: names of the columns of `measure()`.
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


# ---------------------------------------------------------------------------
# General Metropolis-Hastings over binary vectors
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class MCMCSamples:
    """Samples of `MetropolisHastings.sample`.

    Attributes:
        samples: int8 array (n_samples, D) of 0/1 values, chain-major (all
            the kept samples of chain 0, then of chain 1, ...).
        acceptance_rate: accepted / proposed flips over the whole run.
        info: the `ChainInfo` (τ, burn-in, thinning).
    """

    samples: np.ndarray
    acceptance_rate: float
    info: ChainInfo


class MetropolisHastings:
    """Metropolis-Hastings with single-site flips for p(x) ∝ exp(-E(x)/T), x in {0,1}^D.

    Proposal: flip one x_i. Acceptance: min(1, exp(-ΔE_i / T)) with
    ΔE_i = E(x with x_i flipped) - E(x). Many chains run in parallel, as rows
    of one array.

    Args:
        energy_fn: `E(x)`, from an int8 array (batch, D) of 0/1 values to a
            float array (batch,).
        n_variables: int, D.
        temperature: float T > 0. Defaults to `1.0`.
        delta_energy_fn: optional `dE(x, sites)` returning the (batch,
            len(sites)) energy change of flipping each site alone; without
            it ΔE is computed from `energy_fn` (one call per site). Defaults
            to `None`.
        site_groups: list of 1-D arrays of site indices covering 0..D-1; the
            sites of one group are updated at once and must not interact.
            Defaults to `None`: one site per group (a sequential sweep, valid
            for any E).

    Example:
    ```python
    w = np.random.default_rng(0).normal(size=(6, 6)); w = (w + w.T) / 2
    mh = MetropolisHastings(lambda x: -np.einsum("bi,ij,bj->b", x, w, x), 6)
    result = mh.sample(1000, n_chains=100, seed=0)
    result.samples.shape, result.info.tau  # (1000, 6), {"energy": ...}
    ```
    """

    def __init__(
        self,
        energy_fn,
        n_variables,
        temperature=1.0,
        delta_energy_fn=None,
        site_groups=None,
    ):
        if not callable(energy_fn):
            raise ValueError(
                f"`energy_fn` must be callable. Received: {type(energy_fn).__name__}"
            )
        if delta_energy_fn is not None and not callable(delta_energy_fn):
            raise ValueError(
                "`delta_energy_fn` must be None or callable. "
                f"Received: {type(delta_energy_fn).__name__}"
            )
        self.energy_fn = energy_fn
        self.delta_energy_fn = delta_energy_fn
        self.n_variables = check_positive_int("n_variables", n_variables)
        self.temperature = check_positive_float("temperature", temperature)
        if site_groups is None:
            site_groups = [np.array([i]) for i in range(self.n_variables)]
        try:
            groups = [np.asarray(g) for g in site_groups]
        except (TypeError, ValueError):
            groups = None
        if groups is None or not all(
            g.size == 0 or np.issubdtype(g.dtype, np.integer) for g in groups
        ):
            raise ValueError(
                "`site_groups` must be a list of arrays of int site indices. "
                f"Received: site_groups={site_groups!r}"
            )
        groups = [g.astype(np.int64).ravel() for g in groups]
        covered = np.sort(np.concatenate(groups)) if groups else np.array([])
        if not np.array_equal(covered, np.arange(self.n_variables)):
            raise ValueError(
                f"`site_groups` must cover each of the {self.n_variables} sites exactly "
                f"once. Received groups covering {covered.size} site(s) "
                f"({np.unique(covered).size} distinct)."
            )
        self.site_groups = groups

    def energy(self, x):
        """E(x) of a batch, checked to be a finite (batch,) array."""
        e = np.asarray(self.energy_fn(x), dtype="float64")
        if e.shape != (x.shape[0],):
            raise ValueError(
                f"`energy_fn` must return one energy per row, shape ({x.shape[0]},). "
                f"Received: shape={e.shape}"
            )
        return e

    def delta_energy(self, x, sites):
        """ΔE of flipping each of `sites` alone, shape (batch, len(sites))."""
        if self.delta_energy_fn is not None:
            d = np.asarray(self.delta_energy_fn(x, sites), dtype="float64")
            if d.shape != (x.shape[0], len(sites)):
                raise ValueError(
                    "`delta_energy_fn` must return shape (batch, len(sites)) = "
                    f"({x.shape[0]}, {len(sites)}). Received: shape={d.shape}"
                )
            return d
        e0 = self.energy(x)
        out = np.empty((x.shape[0], len(sites)))
        for j, i in enumerate(sites):
            x[:, i] ^= 1
            out[:, j] = self.energy(x) - e0
            x[:, i] ^= 1
        return out

    def sweep(self, x, rng):
        """One sweep in place over the groups; returns the number of accepted flips."""
        accepted = 0
        for sites in self.site_groups:
            d = self.delta_energy(x, sites)
            # Accept with min(1, exp(-ΔE/T)): u < exp(min(0, -ΔE/T)).
            accept = rng.random(d.shape) < np.exp(np.minimum(0.0, -d / self.temperature))
            x[:, sites] ^= accept.astype(np.int8)
            accepted += int(accept.sum())
        return accepted

    def sample(
        self,
        n_samples,
        n_chains=None,
        *,
        burn_in="auto",
        thin="auto",
        initial=None,
        seed=None,
        measure=None,
        **schedule,
    ):
        """Draw `n_samples` states from `n_chains` chains (chain-major order).

        Args:
            n_samples: int >= 1, total number of samples.
            n_chains: int, chains run in parallel. Defaults to
                min(n_samples, 256).
            burn_in: int or "auto" (see `run_chains`). Defaults to "auto".
            thin: int or "auto". Defaults to "auto".
            initial: (n_chains, D) 0/1 start states, or `None` for uniform
                random ones. Defaults to `None`.
            seed: int or `None`. Defaults to `None`.
            measure: `f(x) -> (n_chains, k)` scalar observables for τ, or
                `None` for the energy and the mean of x. Defaults to `None`.
            **schedule: `burn_in_factor`, `thin_factor`, `min_pilot`,
                `max_pilot` of `run_chains`.

        Returns:
            `MCMCSamples`.
        """
        n_samples = check_positive_int("n_samples", n_samples)
        n_chains = min(n_samples, 256) if n_chains is None else check_positive_int(
            "n_chains", n_chains
        )
        rng = np.random.default_rng(seed)
        if initial is None:
            x = rng.integers(0, 2, size=(n_chains, self.n_variables), dtype=np.int8)
        else:
            x = check_array("initial", initial, allow_empty=True)
            expected = f"`initial` must be a 0/1 array of shape ({n_chains}, {self.n_variables})."
            if x.shape != (n_chains, self.n_variables):
                raise ValueError(f"{expected} Received: shape={x.shape}")
            bits = (x == 0) | (x == 1)
            if not np.all(bits):  # checked before the cast: int8 would wrap 256 to 0
                raise ValueError(f"{expected} Received values such as {x[~bits][:3].tolist()}")
            x = x.astype(np.int8)
        counts = [0, 0]  # accepted, proposed

        def step(n):
            for _ in range(n):
                counts[0] += self.sweep(x, rng)
                counts[1] += x.size

        if measure is None:
            names = ("energy", "mean")

            def measure_fn():
                return np.stack([self.energy(x), x.mean(axis=1)], axis=1)

        else:

            def measure_fn():
                m = np.asarray(measure(x), dtype="float64")
                return m.reshape(n_chains, -1)

            names = tuple(f"f{j}" for j in range(measure_fn().shape[1]))

        n_keep = -(-n_samples // n_chains)
        kept, info = run_chains(
            step,
            measure_fn,
            n_keep,
            lambda: x.copy(),
            burn_in=burn_in,
            thin=thin,
            observables=names,
            **schedule,
        )
        samples = np.stack(kept, axis=1).reshape(-1, self.n_variables)[:n_samples]
        rate = counts[0] / counts[1] if counts[1] else float("nan")
        return MCMCSamples(samples=samples, acceptance_rate=rate, info=info)
