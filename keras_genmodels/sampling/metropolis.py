"""Metropolis-Hastings over binary vectors, for any user-given energy.

`MetropolisHastings` samples p(x) ∝ exp(-E(x) / T) over x in {0, 1}^D with
the single-site flip proposal: propose x' = x with x_i flipped (a symmetric
proposal, q(x'|x) = q(x|x')) and accept with probability

    A(x -> x') = min(1, p(x') q(x|x') / (p(x) q(x'|x))) = min(1, exp(-ΔE_i / T)),
    ΔE_i = E(x') - E(x).

A sweep proposes every site once. Sites are taken in `site_groups`; the sites
of one group are proposed simultaneously with independent accept decisions,
which is exact when no two of them interact (ΔE_i does not depend on x_j for
i, j in the same group): e.g. the two colours of a checkerboard for a
nearest-neighbour model (`keras_genmodels.physics.sampler` uses it that way
for the Ising model). The default, one site per group, is valid for any E.

Burn-in and thinning come from the measured autocorrelation time
(`keras_genmodels.sampling.run_chains`).
"""

import dataclasses

import numpy as np

from keras_genmodels._validation import (
    check_array,
    check_positive_float,
    check_positive_int,
    check_seed,
)
from keras_genmodels.sampling.autocorrelation import (
    ChainInfo,
    check_schedule_options,
    run_chains,
)


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
    result.samples.shape, result.info.tau  # (1000, 6), {"energy": ..., "mean": ...}
    ```

    References:
        N. Metropolis et al., J. Chem. Phys. 21, 1087 (1953);
        W. K. Hastings, Biometrika 57, 97 (1970).
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
        """ΔE_i = E(x with x_i flipped) - E(x) for each of `sites`, shape (batch, len(sites))."""
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
            seed: `None`, an int >= 0, a `np.random.SeedSequence` or a
                `np.random.Generator`. Defaults to `None`.
            measure: `f(x) -> (n_chains, k)` scalar observables for τ, or
                `None` for the energy and the mean of x. Defaults to `None`.
            **schedule: `burn_in_factor`, `thin_factor`, `min_pilot`,
                `max_pilot` of `run_chains`; any other keyword is refused.

        Returns:
            `MCMCSamples`.
        """
        check_schedule_options(self.sample, schedule)
        n_samples = check_positive_int("n_samples", n_samples)
        n_chains = min(n_samples, 256) if n_chains is None else check_positive_int(
            "n_chains", n_chains
        )
        if not isinstance(seed, (np.random.Generator, np.random.BitGenerator)):
            seed = check_seed("seed", seed, non_negative=True, allow_seed_sequence=True)
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
