"""Thermodynamic observables from Ising samples, with jackknife error bars.

From configurations s^(1..n) at temperature T (β = 1/T, N = L^2, e = E/N,
m = M/N), the estimates per spin are

    energy              u   = <e>
    heat capacity       c   = β^2 N (<e^2> - <e>^2)
    |magnetisation|     <|m|>
    susceptibility      chi = β N (<m^2> - <|m|>^2)
    Binder cumulant     U_4 = 1 - <m^4> / (3 <m^2>^2)

(the definitions of `exact.exact_observables`). The error bars are
delete-one-block jackknife errors: the samples are cut, in their order, into
B contiguous blocks; f_(b) is the estimate without block b and

    σ_f^2 = (B - 1) / B sum_b (f_(b) - mean_b f_(b))^2,

which is correct for the non-linear c, chi and U_4 too, and for correlated
samples as long as blocks are longer than the autocorrelation time. Samples
from `sample_ising` are chain-major (all of replica 0, then replica 1, ...),
so blocks hold whole independent replicas when there are B or more.
"""

from typing import NamedTuple

import numpy as np

from keras_genmodels._validation import check_array, check_positive_int
from keras_genmodels.physics import lattice

OBSERVABLES = (
    "energy",
    "abs_magnetization",
    "heat_capacity",
    "susceptibility",
    "binder_cumulant",
)


class Estimate(NamedTuple):
    """A Monte Carlo estimate and its standard error."""

    value: float
    error: float

    def __repr__(self):
        return f"{self.value:.6g} ± {self.error:.2g}"

    def deviation(self, reference):
        """(value - reference) / error: the difference in standard errors."""
        return float((self.value - reference) / self.error) if self.error > 0 else float("inf")


def _observables_from_means(mean, n_sites, beta):
    """Observables from the means of (e, e^2, |m|, m^2, m^4); works on arrays."""
    e, e2, am, m2, m4 = (mean[..., j] for j in range(5))
    return {
        "energy": e,
        "abs_magnetization": am,
        "heat_capacity": beta**2 * n_sites * (e2 - e**2),
        "susceptibility": beta * n_sites * (m2 - am**2),
        "binder_cumulant": 1.0 - m4 / (3.0 * m2**2),
    }


def jackknife(per_sample, fn, n_blocks=20):
    """Delete-one-block jackknife of `fn(mean of per_sample rows)`.

    Args:
        per_sample: (n, k) array of per-sample quantities.
        fn: maps a (..., k) array of means to a dict of (...) arrays.
        n_blocks: B, at most n. Defaults to `20`.

    Returns:
        A dict of `Estimate`s (value from all samples, jackknife error).
    """
    x = check_array("per_sample", per_sample).astype("float64")
    if x.ndim != 2:
        raise ValueError(
            f"`per_sample` must have shape (n, k). Received: shape={x.shape}"
        )
    n = x.shape[0]
    n_blocks = min(check_positive_int("n_blocks", n_blocks), n)
    full = fn(x.mean(axis=0))
    if n_blocks < 2:
        return {k: Estimate(float(v), float("nan")) for k, v in full.items()}
    edges = np.linspace(0, n, n_blocks + 1).astype(int)
    sums = np.add.reduceat(x, edges[:-1], axis=0)  # (B, k)
    counts = np.diff(edges)[:, None]
    loo = (sums.sum(axis=0) - sums) / (n - counts)  # leave-one-block-out means
    jack = fn(loo)
    out = {}
    for k, v in full.items():
        f = np.asarray(jack[k])
        err = np.sqrt((n_blocks - 1) / n_blocks * np.sum((f - f.mean()) ** 2))
        out[k] = Estimate(float(v), float(err))
    return out


def estimate_observables(spins, temperature, n_blocks=20, encoding="spin"):
    """Energy, <|m|>, heat capacity, susceptibility and Binder cumulant, ± error.

    Args:
        spins: configurations (n, L, L) or (n, L*L), n >= 2, in sample order.
        temperature: T > 0 they were sampled at (enters c and chi).
        n_blocks: jackknife blocks. Defaults to `20`.
        encoding: `"spin"` (±1) or `"binary"` (0/1). Defaults to "spin".

    Returns:
        A dict name -> `Estimate`, per spin, for the names in `OBSERVABLES`.

    Example:
    ```python
    result = sample_ising(8, 2.5, 4000, seed=0)
    estimate_observables(result.spins, 2.5)["heat_capacity"]  # 0.8... ± 0.02
    ```
    """
    s = lattice.check_configurations(spins, encoding=encoding)
    if s.shape[0] < 2:
        raise ValueError(
            "`spins` must hold at least 2 configurations to estimate fluctuations. "
            f"Received: shape={s.shape}"
        )
    T = lattice.check_temperature(temperature)
    if encoding == "binary":
        s = 2 * s - 1
    n_sites = s.shape[1] * s.shape[2]
    e = lattice._energy(s) / n_sites
    m = np.abs(s.sum(axis=(1, 2), dtype=np.int64)) / n_sites
    per_sample = np.stack([e, e**2, m, m**2, m**4], axis=1)
    return jackknife(
        per_sample, lambda mean: _observables_from_means(mean, n_sites, 1.0 / T), n_blocks
    )
