"""Exact thermodynamics of small Ising lattices, by enumerating every state.

For L <= 4 the 2^N states (N = L^2 <= 16, so at most 65,536) are enumerated
once per L and reduced to the joint density of states g(E, M), the number of
configurations with energy E and magnetisation M. Then, at any temperature T
(β = 1/T, k_B = 1),

    Z            = sum_{E,M} g(E, M) exp(-β E),          log Z by logsumexp,
    p(s)         = exp(-β E(s)) / Z,
    <f(E, M)>    = sum_{E,M} g(E, M) f(E, M) exp(-β E) / Z,

and the observables per spin (m = M / N, e = E / N) are

    energy            u   = <E> / N,
    heat capacity     c   = β^2 (<E^2> - <E>^2) / N,
    |magnetisation|   <|m|>,
    susceptibility    chi = β N (<m^2> - <|m|>^2),
    Binder cumulant   U_4 = 1 - <m^4> / (3 <m^2>^2),
    free energy       f   = -T log Z / N.

`chi` uses <|m|> in place of <m> (which is 0 on a finite lattice by symmetry):
the standard finite-lattice estimator (Newman & Barkema 1999, eq. 3.48),
the one `observables.estimate_observables` computes from samples.

State order: state k has bit i of k (i = row * L + col) as the 0/1 value of
site i, so b = (k >> i) & 1 and s = 2b - 1; `state_index` inverts it.

`log_partition_kaufman` gives log Z of any L x L torus in closed form
(Kaufman 1949), an independent check of the enumeration.
"""

import functools
import math

import numpy as np

from keras_genmodels.physics import lattice

MAX_EXACT_L = 4


def _check_small_L(L):
    L = lattice.check_lattice_size(L)
    if L > MAX_EXACT_L:
        raise ValueError(
            f"Exact enumeration needs L <= {MAX_EXACT_L} (2^(L*L) states). "
            f"Received: L={L} (2^{L * L} states)"
        )
    return L


def _betas(temperature):
    """β = 1/T as a float64 array (a scalar T gives a 0-d array)."""
    if np.ndim(temperature) == 0:
        return 1.0 / np.asarray(lattice.check_temperature(temperature), dtype="float64")
    return 1.0 / lattice.check_temperatures(temperature, name="temperature")


def _scalar_beta(temperature):
    """β = 1/T for a single temperature (a float), with a clear error for arrays."""
    if np.ndim(temperature) != 0:
        raise ValueError(
            "`temperature` must be a single temperature T > 0 here. Received: "
            f"temperature with shape {np.shape(temperature)}"
        )
    return float(_betas(temperature))


@functools.lru_cache(maxsize=None)
def _enumerated(L):
    """(bits (2^N, N) int8, E (2^N,) int64, M (2^N,) int64) in state order."""
    n = L * L
    k = np.arange(2**n, dtype=np.int64)
    bits = ((k[:, None] >> np.arange(n)) & 1).astype(np.int8)
    spins = (2 * bits - 1).reshape(-1, L, L)
    e = lattice._energy(spins).astype(np.int64)
    m = spins.sum(axis=(1, 2), dtype=np.int64)
    for a in (bits, e, m):
        a.setflags(write=False)
    return bits, e, m


def all_configurations(L, encoding="spin"):
    """Every configuration of the L x L lattice, in state order, (2^N, L, L) int8."""
    L = _check_small_L(L)
    if encoding not in lattice.ENCODINGS:
        raise ValueError(
            f"`encoding` must be one of {list(lattice.ENCODINGS)}. "
            f"Received: encoding={encoding!r}"
        )
    bits = _enumerated(L)[0].reshape(-1, L, L)
    return bits.copy() if encoding == "binary" else (2 * bits - 1).astype(np.int8)


def state_index(configurations, encoding="spin"):
    """Index k = sum_i b_i 2^i of each configuration (i = row * L + col)."""
    x = lattice.check_configurations(configurations, encoding=encoding, name="configurations")
    b = x if encoding == "binary" else (x + 1) // 2
    n = b.shape[1] * b.shape[2]
    if n > 62:
        raise ValueError(
            f"`state_index` needs L*L <= 62 sites. Received: L={b.shape[1]}"
        )
    return (b.reshape(b.shape[0], n).astype(np.int64) << np.arange(n)).sum(axis=1)


@functools.lru_cache(maxsize=None)
def density_of_states(L):
    """The joint density of states of the L x L lattice.

    Returns:
        `(E, M, g)`: int64 arrays of the distinct (energy, magnetisation)
        pairs and the number g of configurations having each; sum(g) = 2^N.
    """
    L = _check_small_L(L)
    _, e, m = _enumerated(L)
    pairs, counts = np.unique(np.stack([e, m], axis=1), axis=0, return_counts=True)
    out = (pairs[:, 0].copy(), pairs[:, 1].copy(), counts.astype(np.int64))
    for a in out:
        a.setflags(write=False)
    return out


def _logsumexp(a, axis=-1):
    top = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(a - top), axis=axis))


def log_partition(L, temperature):
    """log Z(T) = log sum_s exp(-E(s)/T), exactly; T scalar or array."""
    L = _check_small_L(L)
    beta = _betas(temperature)
    e, _, g = density_of_states(L)
    return _logsumexp(np.log(g) - beta[..., None] * e)


def log_probabilities(L, temperature):
    """log p(s) = -E(s)/T - log Z of every state, in state order, (2^N,)."""
    L = _check_small_L(L)
    beta = _scalar_beta(temperature)
    _, e, _ = _enumerated(L)
    return -beta * e - log_partition(L, temperature)


def probabilities(L, temperature):
    """The Boltzmann distribution p(s) of every state, in state order, (2^N,)."""
    return np.exp(log_probabilities(L, temperature))


def log_prob(configurations, temperature, encoding="spin"):
    """log p(s) = -E(s)/T - log Z of given configurations of a small lattice."""
    x = lattice.check_configurations(configurations, encoding=encoding, name="configurations")
    L = _check_small_L(x.shape[1])
    beta = _scalar_beta(temperature)
    s = x if encoding == "spin" else 2 * x - 1
    return -beta * lattice._energy(s).astype(np.float64) - log_partition(L, temperature)


def moments(L, temperature):
    """Exact <E>, <E^2>, <|M|>, <M^2>, <M^4> (totals, not per spin) at T.

    Returns a dict of float64 arrays shaped like `temperature`.
    """
    L = _check_small_L(L)
    beta = _betas(temperature)
    e, m, g = density_of_states(L)
    log_w = np.log(g) - beta[..., None] * e
    w = np.exp(log_w - _logsumexp(log_w)[..., None])  # p(E, M), sums to 1
    e = e.astype(np.float64)
    a = np.abs(m).astype(np.float64)
    return {
        "E": w @ e,
        "E2": w @ e**2,
        "absM": w @ a,
        "M2": w @ a**2,
        "M4": w @ a**4,
    }


def exact_observables(L, temperature):
    """Exact thermodynamics of the L x L lattice (L <= 4) at `temperature`.

    Args:
        L: lattice size, 2 <= L <= 4.
        temperature: T > 0, a float or an array of them.

    Returns:
        A dict of float64 values (arrays if `temperature` is one), per spin:
        `log_z`, `free_energy` (-T log Z / N), `energy` (<E>/N),
        `heat_capacity` (β^2 Var(E) / N), `abs_magnetization` (<|m|>),
        `magnetization_sq` (<m^2>), `susceptibility` (β N (<m^2> - <|m|>^2)),
        `binder_cumulant` (1 - <m^4> / (3 <m^2>^2)).

    Example:
    ```python
    exact_observables(4, T_C)["heat_capacity"]
    ```
    """
    L = _check_small_L(L)
    beta = _betas(temperature)
    t = np.asarray(temperature, dtype="float64")
    n = L * L
    mom = moments(L, temperature)
    log_z = log_partition(L, temperature)
    m2 = mom["M2"] / n**2
    abs_m = mom["absM"] / n
    return {
        "log_z": log_z,
        "free_energy": -t * log_z / n,
        "energy": mom["E"] / n,
        "heat_capacity": beta**2 * (mom["E2"] - mom["E"] ** 2) / n,
        "abs_magnetization": abs_m,
        "magnetization_sq": m2,
        "susceptibility": beta * n * (m2 - abs_m**2),
        "binder_cumulant": 1.0 - (mom["M4"] / n**4) / (3.0 * m2**2),
    }


def log_partition_kaufman(L, temperature):
    """log Z of the L x L torus in closed form (Kaufman 1949), any L >= 2.

    With K = J/T and N = L^2,

        Z = 1/2 (2 sinh 2K)^(N/2) (Z_1 + Z_2 + Z_3 + Z_4),
        Z_1 = prod_{r=0}^{L-1} 2 cosh(L γ_{2r+1} / 2),
        Z_2 = prod_{r=0}^{L-1} 2 sinh(L γ_{2r+1} / 2),
        Z_3 = prod_{r=0}^{L-1} 2 cosh(L γ_{2r} / 2),
        Z_4 = prod_{r=0}^{L-1} 2 sinh(L γ_{2r} / 2),

    where cosh γ_k = cosh 2K coth 2K - cos(π k / L) (γ_k > 0) for k >= 1 and
    γ_0 = 2K + log tanh K, which changes sign at T_c (so Z_4 < 0 below T_c).
    Computed in logs with signs, so large L does not overflow.
    """
    L = lattice.check_lattice_size(L)
    t = lattice.check_temperature(temperature)
    K = 1.0 / t
    k = np.arange(2 * L)
    c = math.cosh(2 * K) / math.tanh(2 * K) - np.cos(np.pi * k / L)
    gamma = np.arccosh(c)
    gamma[0] = 2 * K + math.log(math.tanh(K))
    x_odd = L * gamma[1::2] / 2  # k = 2r + 1
    x_even = L * gamma[0::2] / 2  # k = 2r

    def log_cosh(x):
        x = np.abs(x)
        return x + np.log1p(np.exp(-2 * x)) - math.log(2.0)

    def log_abs_sinh(x):
        x = np.abs(x)
        return x + np.log1p(-np.exp(-2 * x)) - math.log(2.0)

    terms = [  # (log |Z_i|, sign Z_i)
        (np.sum(math.log(2.0) + log_cosh(x_odd)), 1.0),
        (np.sum(math.log(2.0) + log_abs_sinh(x_odd)), float(np.prod(np.sign(x_odd)))),
        (np.sum(math.log(2.0) + log_cosh(x_even)), 1.0),
        (np.sum(math.log(2.0) + log_abs_sinh(x_even)), float(np.prod(np.sign(x_even)))),
    ]
    top = max(lz for lz, _ in terms)
    total = sum(sign * math.exp(lz - top) for lz, sign in terms)
    return (
        math.log(0.5)
        + (L * L / 2) * math.log(2 * math.sinh(2 * K))
        + top
        + math.log(total)
    )
