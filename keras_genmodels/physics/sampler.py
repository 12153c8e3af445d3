"""Sampling the 2D Ising model: `sample_ising`.

Methods:

- `"metropolis"`: the checkerboard Metropolis-Hastings update (every site of
  one colour proposed at once, each accepted with min(1, exp(-ΔE/T)),
  ΔE = 2 s_i h_i), with two interchangeable engines:
  - `backend="numpy"`: the general `sampling.MetropolisHastings` sampler over
    binary vectors, given the Ising energy, its ΔE and the two checkerboard
    colours as site groups (for odd L: one site per group, a sequential
    sweep) — the lecture's sampler, tens of millions of attempts per second;
  - `backend="multispin"` (even L): the same chain, multi-spin coded 64
    replicas per machine word (`multispin.MultispinMetropolis`), about a
    billion attempts per second on 2 cores (`bench/ising_mc.py`).
- `"wolff"`: the Wolff cluster algorithm (`wolff.Wolff`), whose
  autocorrelation time stays a few steps at T_c.
- `"auto"`: Wolff for |T / T_c - 1| <= 0.15, Metropolis elsewhere.

Every method runs through `sampling.run_chains`, which measures the integrated
autocorrelation time τ of the energy and |m| (on up to 256 replicas) on a
pilot run, takes burn-in = max(pilot, 20 τ) and thinning = ceil(τ) steps, and
reports them. One step is one sweep (Metropolis) or one cluster flip per
replica (Wolff).

Initial states: `"cold"` (every replica ordered, up or down at random) below
T_c, `"hot"` (independent random spins) at and above it, unless given.
"""

import dataclasses
import math

import numpy as np

from keras_genmodels._validation import check_choice, check_positive_int, check_seed
from keras_genmodels.physics import lattice, multispin, observables, wolff
from keras_genmodels.sampling import (
    ChainInfo,
    MetropolisHastings,
    check_schedule_options,
    run_chains,
)

METHODS = ("auto", "metropolis", "wolff")
BACKENDS = ("auto", "multispin", "numpy")
WOLFF_WINDOW = 0.15
_MEASURED_REPLICAS = 256


@dataclasses.dataclass
class IsingSamples:
    """Configurations drawn by `sample_ising`, with how they were drawn.

    Attributes:
        spins: int8 array (n_samples, L, L) of ±1, chain-major (every kept
            sample of replica 0, then replica 1, ...).
        L: lattice size.
        temperature: T.
        method: "metropolis" or "wolff".
        backend: "multispin", "numpy" or "wolff".
        n_replicas: independent chains run.
        acceptance_rate: Metropolis acceptance rate (NaN for Wolff).
        mean_cluster_size: mean Wolff cluster size (NaN for Metropolis).
        info: `sampling.ChainInfo`: τ per observable (steps), τ of the kept
            samples, burn-in, thinning, pilot length, reliability, time.
    """

    spins: np.ndarray
    L: int
    temperature: float
    method: str
    backend: str
    n_replicas: int
    acceptance_rate: float
    mean_cluster_size: float
    info: ChainInfo

    @property
    def tau(self):
        return self.info.tau

    @property
    def burn_in(self):
        return self.info.burn_in

    @property
    def thin(self):
        return self.info.thin

    def binary(self):
        """The samples in the 0/1 encoding b = (s + 1) / 2."""
        return ((self.spins + 1) // 2).astype(np.int8)

    def observables(self, n_blocks=20):
        """`observables.estimate_observables` of these samples."""
        return observables.estimate_observables(self.spins, self.temperature, n_blocks)

    def summary(self):
        tau = ", ".join(f"{k}={v:.3g}" for k, v in self.info.tau.items())
        return (
            f"L={self.L} T={self.temperature:.4g} {self.method}/{self.backend}: "
            f"{self.spins.shape[0]} samples from {self.n_replicas} replicas, "
            f"tau=({tau}) steps, burn_in={self.info.burn_in}, thin={self.info.thin}, "
            f"{self.info.seconds:.2f} s"
        )


def choose_method(temperature):
    """`"wolff"` for |T / T_c - 1| <= 0.15, else `"metropolis"`."""
    temperature = lattice.check_temperature(temperature)
    return "wolff" if abs(temperature / lattice.T_C - 1.0) <= WOLFF_WINDOW else "metropolis"


def initial_spins(L, temperature, n_replicas, initial="auto", seed=None):
    """Initial (R, L, L) ±1 spins: "cold", "hot", "auto" or a given array."""
    L = lattice.check_lattice_size(L)
    temperature = lattice.check_temperature(temperature)
    n_replicas = check_positive_int("n_replicas", n_replicas)
    generator = isinstance(seed, (np.random.Generator, np.random.BitGenerator))
    if not generator:
        seed = check_seed("seed", seed, non_negative=True, allow_seed_sequence=True)
    rng = np.random.default_rng(seed)
    if isinstance(initial, str):
        check_choice("initial", initial, ("auto", "cold", "hot"))
        if initial == "auto":
            initial = "cold" if temperature < lattice.T_C else "hot"
        if initial == "cold":
            sign = rng.choice(np.array([-1, 1], np.int8), size=n_replicas)
            return np.broadcast_to(sign[:, None, None], (n_replicas, L, L)).copy()
        return rng.choice(np.array([-1, 1], np.int8), size=(n_replicas, L, L))
    s = lattice.check_configurations(initial, L=L, name="initial")
    if s.shape[0] != n_replicas:
        raise ValueError(
            f"`initial` must hold one configuration per replica ({n_replicas}). "
            f"Received: shape={s.shape}"
        )
    return s.copy()


def _measure(spins):
    """(n, 2) array of (e, |m|) per configuration."""
    n_sites = spins.shape[1] * spins.shape[2]
    return np.stack(
        [lattice._energy(spins) / n_sites, np.abs(spins.sum(axis=(1, 2))) / n_sites],
        axis=1,
    )


def sample_ising(
    L,
    temperature,
    n_samples,
    *,
    method="auto",
    backend="auto",
    n_replicas=None,
    burn_in="auto",
    thin="auto",
    initial="auto",
    seed=None,
    n_threads=None,
    **schedule,
):
    """Draw equilibrium configurations of the L x L Ising model at `temperature`.

    Args:
        L: lattice size >= 2 (even for the multispin backend).
        temperature: T > 0 (J = k_B = 1).
        n_samples: int >= 1, number of configurations returned.
        method: "auto", "metropolis" or "wolff". Defaults to "auto".
        backend: Metropolis engine, "auto" (multispin for even L, else
            numpy), "multispin" or "numpy". Defaults to "auto".
        n_replicas: independent chains. Defaults to `None`: for multispin
            min(4096, n_samples rounded up to 64), for numpy min(256,
            n_samples), for Wolff min(512, n_samples).
        burn_in: steps before the first sample, or "auto". Defaults to "auto".
        thin: steps between samples of a chain, or "auto". Defaults to "auto".
        initial: "auto", "cold", "hot" or (n_replicas, L, L) spins.
            Defaults to "auto".
        seed: `None`, an int >= 0 or a `np.random.SeedSequence`; the same seed gives
            the same samples (whatever `n_threads`). Defaults to `None`.
        n_threads: threads of the multispin backend. Defaults to `None`
            (the number of CPUs).
        **schedule: `burn_in_factor`, `thin_factor`, `min_pilot`, `max_pilot`
            of `sampling.run_chains`; any other keyword is refused.

    Returns:
        `IsingSamples`.

    Example:
    ```python
    result = sample_ising(16, T_C, 1000, seed=0)
    print(result.summary())
    result.observables()["binder_cumulant"]
    ```
    """
    check_schedule_options(sample_ising, schedule)
    L = lattice.check_lattice_size(L)
    T = lattice.check_temperature(temperature)
    n_samples = lattice.check_n_samples(n_samples)
    check_choice("method", method, METHODS)
    check_choice("backend", backend, BACKENDS)
    if method == "auto":
        method = choose_method(T)
    if method == "metropolis":
        if backend == "auto":
            backend = "multispin" if L % 2 == 0 else "numpy"
        if backend == "multispin":
            lattice.check_lattice_size(L, even=True)
    else:
        backend = "wolff"
    if n_replicas is None:
        if backend == "multispin":
            n_replicas = min(4096, 64 * math.ceil(n_samples / 64))
        elif backend == "numpy":
            n_replicas = min(256, n_samples)
        else:
            n_replicas = min(512, n_samples)
    n_replicas = check_positive_int("n_replicas", n_replicas)
    seed = check_seed("seed", seed, non_negative=True, allow_seed_sequence=True)
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    init_seed, kernel_seed = seq.spawn(2)
    s0 = initial_spins(L, T, n_replicas, initial, seed=init_seed)
    n_meas = min(n_replicas, _MEASURED_REPLICAS)
    acceptance, cluster = float("nan"), float("nan")

    if backend == "multispin":
        engine = multispin.MultispinMetropolis(L, T, s0, seed=kernel_seed, n_threads=n_threads)
        step = engine.sweep
        current = engine.spins
    elif backend == "numpy":
        groups = lattice.checkerboard_groups(L) if L % 2 == 0 else None
        mh = MetropolisHastings(
            lattice.energy_binary_flat(L),
            L * L,
            temperature=T,
            delta_energy_fn=lattice.delta_energy_binary_flat(L),
            site_groups=groups,
        )
        bits = ((s0.reshape(n_replicas, -1) + 1) // 2).astype(np.int8)
        rng = np.random.Generator(np.random.SFC64(kernel_seed))
        counts = [0, 0]

        def step(n):
            for _ in range(n):
                counts[0] += mh.sweep(bits, rng)
                counts[1] += bits.size

        def current(n=None):
            b = bits if n is None else bits[:n]
            return (2 * b - 1).reshape(-1, L, L).astype(np.int8)

    else:
        engine = wolff.Wolff(L, T, s0, seed=kernel_seed)
        step = engine.step
        current = engine.spins

    n_keep = math.ceil(n_samples / n_replicas)
    kept, info = run_chains(
        step,
        lambda: _measure(current(n_meas)),
        n_keep,
        current,
        burn_in=burn_in,
        thin=thin,
        observables=("energy", "abs_magnetization"),
        **schedule,
    )
    if backend == "multispin":
        acceptance = engine.acceptance_rate
        engine.close()
    elif backend == "numpy":
        acceptance = counts[0] / counts[1] if counts[1] else float("nan")
    else:
        cluster = engine.mean_cluster_size
    spins = np.stack(kept, axis=1).reshape(-1, L, L)[:n_samples]
    return IsingSamples(
        spins=spins,
        L=L,
        temperature=T,
        method=method,
        backend=backend,
        n_replicas=n_replicas,
        acceptance_rate=acceptance,
        mean_cluster_size=cluster,
        info=info,
    )
