"""How close are model samples of the 2D Ising model to Monte Carlo samples?

`ising_distances` compares two sets of L x L configurations at one
temperature, e.g. a model's samples and `physics.sample_ising`'s:

- the 1-Wasserstein distances W1 of the per-sample energy per spin e = E/N
  and magnetisation per spin m = M/N (and of |m|), the measure of D'Angelo &
  Böttcher 2020: W1 = ∫ |F(x) − G(x)| dx of the two empirical CDFs, exact,
  for any two sample sizes (`distances.wasserstein_distance_1d`);
- the fraction of configurations with m > 0 in each set (0.5 in
  equilibrium; a model that lost the up/down symmetry shows here);
- e, <|m|>, c and chi of both sets with their jackknife errors
  (`physics.observables.estimate_observables`) and the relative errors
  r = samples / reference − 1 with propagated errors.
"""

import math

import numpy as np

from keras_genmodels._validation import check_choice, check_positive_int
from keras_genmodels.metrics.distances import wasserstein_distance_1d
from keras_genmodels.physics import lattice
from keras_genmodels.physics.observables import Estimate, estimate_observables

COMPARED_OBSERVABLES = ("energy", "abs_magnetization", "heat_capacity", "susceptibility")


def _spins(name, configurations, encoding):
    check_choice("encoding" if name == "samples" else "reference_encoding", encoding, lattice.ENCODINGS)
    s = lattice.check_configurations(configurations, encoding=encoding, name=name)
    if s.shape[0] < 2:
        raise ValueError(
            f"`{name}` must hold at least 2 configurations. Received: shape={s.shape}"
        )
    return 2 * s - 1 if encoding == "binary" else s


def _relative_error(sample, reference):
    """r = a / b − 1 ± sqrt((σ_a / b)² + (a σ_b / b²)²), a and b independent."""
    a, err_a = sample
    b, err_b = reference
    if b == 0:
        return Estimate(float("nan"), float("nan"))
    return Estimate(float(a / b - 1.0), float(math.hypot(err_a / b, a * err_b / b**2)))


def ising_distances(
    samples, reference_samples, temperature, n_blocks=20, encoding="spin", reference_encoding=None
):
    """Distances between Ising samples and reference samples at one temperature.

    With e = E/N and m = M/N per configuration (N = L²),

        energy_w1            = W1(e of samples, e of reference)
        magnetization_w1     = W1(m of samples, m of reference)
        abs_magnetization_w1 = W1(|m| of samples, |m| of reference)

    where W1 = ∫ |F(x) − G(x)| dx is the exact 1-Wasserstein distance of the
    empirical distributions (units of e and m; the sizes may differ). For
    e, <|m|>, c = β² N var(e) and chi = β N (<m²> − <|m|>²), the estimates of
    both sets (± jackknife error, `estimate_observables`) and the relative
    error r = samples / reference − 1, whose error propagates both (the two
    sets taken as independent).

    Args:
        samples: configurations (n, L, L) or (n, L*L), n >= 2, in sample order.
        reference_samples: configurations of the same L, n_ref >= 2, e.g. from
            `physics.sample_ising`.
        temperature: T > 0 of both (enters c and chi).
        n_blocks: jackknife blocks of each set. Defaults to `20`.
        encoding: "spin" (±1) or "binary" (0/1) for `samples`. Defaults to "spin".
        reference_encoding: the same for `reference_samples`, or `None` for
            `encoding`. Defaults to `None`.

    Returns:
        A dict with the floats "energy_w1", "magnetization_w1",
        "abs_magnetization_w1", "positive_magnetization_fraction",
        "reference_positive_magnetization_fraction" (fractions with m > 0),
        and, for each name in `COMPARED_OBSERVABLES`, the `Estimate`s
        "<name>", "reference_<name>" and "<name>_relative_error" (NaN where
        the reference value is 0, e.g. c of a set of equal configurations).

    Example:
    ```python
    from keras_genmodels.physics import sample_ising
    reference = sample_ising(8, 2.5, 4000, seed=0).spins
    model = sample_ising(8, 2.5, 4000, seed=1).spins  # stand-in for a model
    d = ising_distances(model, reference, 2.5)
    d["energy_w1"], d["heat_capacity_relative_error"]
    ```

    References:
        - D'Angelo & Böttcher 2020, Phys. Rev. Research 2, 023266.
    """
    T = lattice.check_temperature(temperature)
    n_blocks = check_positive_int("n_blocks", n_blocks)
    s = _spins("samples", samples, encoding)
    reference_encoding = encoding if reference_encoding is None else reference_encoding
    r = _spins("reference_samples", reference_samples, reference_encoding)
    if s.shape[1] != r.shape[1]:
        raise ValueError(
            "`samples` and `reference_samples` must be configurations of one lattice size. "
            f"Received: L={s.shape[1]} and L={r.shape[1]}"
        )
    n_sites = s.shape[1] * s.shape[2]
    e_s, e_r = lattice.energy(s) / n_sites, lattice.energy(r) / n_sites
    m_s, m_r = lattice.magnetization(s) / n_sites, lattice.magnetization(r) / n_sites
    out = {
        "energy_w1": wasserstein_distance_1d(e_s, e_r),
        "magnetization_w1": wasserstein_distance_1d(m_s, m_r),
        "abs_magnetization_w1": wasserstein_distance_1d(np.abs(m_s), np.abs(m_r)),
        "positive_magnetization_fraction": float(np.mean(m_s > 0)),
        "reference_positive_magnetization_fraction": float(np.mean(m_r > 0)),
    }
    # U_4 = 1 - <m^4> / (3 <m^2>^2), not reported here, is 0/0 for a set with m = 0 throughout.
    with np.errstate(invalid="ignore", divide="ignore"):
        est_s = estimate_observables(s, T, n_blocks=n_blocks)
        est_r = estimate_observables(r, T, n_blocks=n_blocks)
    for name in COMPARED_OBSERVABLES:
        out[name] = est_s[name]
        out[f"reference_{name}"] = est_r[name]
        out[f"{name}_relative_error"] = _relative_error(est_s[name], est_r[name])
    return out
