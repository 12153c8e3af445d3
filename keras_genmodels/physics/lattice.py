"""The 2D Ising model on an L x L square lattice with periodic boundaries.

Spins s_i in {-1, +1} on the sites i = (row, col), coupling J = 1, no field:

    E(s) = -J sum_<ij> s_i s_j = -sum_i s_i (s_right(i) + s_down(i)),

a sum over the 2N nearest-neighbour bonds (N = L^2). For L = 2 the right and
left neighbours of a site are the same site, so each pair is coupled twice
(the usual convention, which keeps ΔE = 2 s_i h_i with h_i the sum of the four
neighbours). The magnetisation is M(s) = sum_i s_i and m = M / N.

Encodings: a Bernoulli model sees b in {0, 1} with

    b = (s + 1) / 2,     s = 2 b - 1,

so b = 1 is spin up. `spins_to_binary` and `binary_to_spins` apply the map
and refuse anything else (a 0 among spins, a -1 among bits).

Site order, where configurations are flattened: i = row * L + col (C order).
"""

import math
import numbers

import numpy as np

from keras_genmodels._validation import check_array, check_positive_float, check_positive_int

J = 1.0
# Onsager's critical temperature of the infinite lattice, T_c = 2 J / ln(1 + sqrt 2).
T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))

ENCODINGS = ("spin", "binary")


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def check_lattice_size(L, even=False, minimum=2):
    """Return `L` as an int if it is a lattice size >= `minimum` (and even)."""
    if (
        isinstance(L, bool)
        or not isinstance(L, numbers.Integral)
        or L < minimum
        or (even and L % 2)
    ):
        what = f"an {'even ' if even else ''}int >= {minimum}"
        why = (
            " (the checkerboard update needs two colours, which an odd periodic"
            " lattice does not have)"
            if even
            else ""
        )
        raise ValueError(f"`L` must be {what}{why}. Received: L={L!r}")
    return int(L)


def check_temperature(T, name="temperature"):
    """Return `T` as a float if it is a finite temperature > 0."""
    if isinstance(T, np.ndarray) and T.ndim == 0:
        T = T.item()
    return check_positive_float(name, T)


def check_temperatures(temperatures, name="temperatures"):
    """Return a 1-D float64 array of finite temperatures > 0 (at least one)."""
    raw = np.asarray(temperatures) if not isinstance(temperatures, np.ndarray) else temperatures
    if raw.dtype == object or not (
        np.issubdtype(raw.dtype, np.integer) or np.issubdtype(raw.dtype, np.floating)
    ):
        raise ValueError(
            f"`{name}` must be a sequence of real temperatures. "
            f"Received: {name}={temperatures!r}"
        )
    arr = np.atleast_1d(raw.astype("float64"))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"`{name}` must be a non-empty 1-D sequence of temperatures. "
            f"Received: shape={arr.shape}"
        )
    bad = arr[~(np.isfinite(arr) & (arr > 0))]
    if bad.size:
        raise ValueError(
            f"`{name}` must all be finite and > 0. Received values such as "
            f"{bad[:3].tolist()}"
        )
    return arr


def check_n_samples(n, name="n_samples"):
    """Return `n` if it is a positive int (a sampler asked for 0 samples fails)."""
    return check_positive_int(name, n)


def check_configurations(x, L=None, encoding="spin", name="spins"):
    """Validate a batch of Ising configurations and return it as int8 (batch, L, L).

    Args:
        x: array-like of shape (batch, L, L) or (batch, L * L).
        L: the expected lattice size, or `None` to infer it (the flat length
            must then be a perfect square).
        encoding: `"spin"` (values -1 and +1) or `"binary"` (values 0 and 1).
        name: the argument's name in error messages.

    Returns:
        The configurations in the same encoding, int8, shape (batch, L, L).
    """
    if encoding not in ENCODINGS:
        raise ValueError(
            f"`encoding` must be one of {list(ENCODINGS)}. Received: encoding={encoding!r}"
        )
    arr = check_array(name, x)
    if arr.ndim == 2:
        side = math.isqrt(arr.shape[1])
        if side * side != arr.shape[1] or (L is not None and side != L):
            raise ValueError(
                f"`{name}` must have shape (batch, L, L) or (batch, L*L)"
                + (f" with L={L}" if L is not None else " with L*L a square")
                + f". Received: shape={arr.shape}"
            )
        arr = arr.reshape(arr.shape[0], side, side)
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2] or (L is not None and arr.shape[1] != L):
        expected = f"(batch, {L}, {L})" if L is not None else "(batch, L, L)"
        raise ValueError(
            f"`{name}` must have shape {expected} or (batch, L*L). Received: shape={arr.shape}"
        )
    allowed = (-1, 1) if encoding == "spin" else (0, 1)
    ok = (arr == allowed[0]) | (arr == allowed[1])
    if not np.all(ok):
        bad = arr[~ok].ravel()[:3]
        hint = (
            " (0/1 bits: convert them with binary_to_spins)"
            if encoding == "spin"
            else " (±1 spins: convert them with spins_to_binary)"
        )
        raise ValueError(
            f"`{name}` must contain only the values {allowed[0]} and {allowed[1]} "
            f"({encoding} encoding){hint}. Received values such as {bad.tolist()}."
        )
    return arr.astype(np.int8, copy=False)


# ---------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------


def spins_to_binary(spins):
    """b = (s + 1) / 2: ±1 spins to 0/1 bits (int8), same shape."""
    s = _checked_any_shape(spins, "spin", "spins")
    return ((s + 1) // 2).astype(np.int8)


def binary_to_spins(bits):
    """s = 2 b - 1: 0/1 bits to ±1 spins (int8), same shape."""
    b = _checked_any_shape(bits, "binary", "bits")
    return (2 * b - 1).astype(np.int8)


def _checked_any_shape(x, encoding, name):
    arr = check_array(name, x)
    allowed = (-1, 1) if encoding == "spin" else (0, 1)
    ok = (arr == allowed[0]) | (arr == allowed[1])
    if not np.all(ok):
        bad = arr[~ok].ravel()[:3]
        raise ValueError(
            f"`{name}` must contain only the values {allowed[0]} and {allowed[1]} "
            f"({encoding} encoding). Received values such as {bad.tolist()}."
        )
    return arr.astype(np.int8)


# ---------------------------------------------------------------------------
# Energy, magnetisation, local fields (spins, int arrays)
# ---------------------------------------------------------------------------


def _energy(s):
    """E = -sum_i s_i (s_right + s_down) for int spins of shape (..., L, L)."""
    s = s.astype(np.int32)
    return -np.sum(s * (np.roll(s, -1, axis=-1) + np.roll(s, -1, axis=-2)), axis=(-2, -1))


def local_field(spins):
    """h_i = sum of the four neighbours of each site, shape (..., L, L), int32.

    Flipping s_i changes the energy by ΔE_i = 2 J s_i h_i.
    """
    s = np.asarray(spins).astype(np.int32)
    return (
        np.roll(s, 1, axis=-1) + np.roll(s, -1, axis=-1)
        + np.roll(s, 1, axis=-2) + np.roll(s, -1, axis=-2)
    )


def energy(spins, encoding="spin"):
    """Total energy E(s) = -J sum_<ij> s_i s_j of each configuration.

    Args:
        spins: configurations of shape (batch, L, L) or (batch, L * L).
        encoding: `"spin"` (±1) or `"binary"` (0/1, mapped by s = 2b - 1).

    Returns:
        int64 array of shape (batch,), values in [-2N, 2N].
    """
    s = check_configurations(spins, encoding=encoding)
    if encoding == "binary":
        s = 2 * s - 1
    return _energy(s).astype(np.int64)


def magnetization(spins, encoding="spin"):
    """Total magnetisation M(s) = sum_i s_i of each configuration, int64 (batch,)."""
    s = check_configurations(spins, encoding=encoding)
    if encoding == "binary":
        s = 2 * s - 1
    return np.sum(s, axis=(1, 2), dtype=np.int64)


def neighbour_table(L):
    """Flat indices of the (right, left, down, up) neighbours of each site, (N, 4)."""
    L = check_lattice_size(L)
    idx = np.arange(L * L).reshape(L, L)
    return np.stack(
        [
            np.roll(idx, -1, axis=1).ravel(),
            np.roll(idx, 1, axis=1).ravel(),
            np.roll(idx, -1, axis=0).ravel(),
            np.roll(idx, 1, axis=0).ravel(),
        ],
        axis=1,
    ).astype(np.int64)


def checkerboard_groups(L):
    """The two colours of the checkerboard, as arrays of flat site indices.

    No two sites of one colour are neighbours (L even), so all the sites of a
    colour can be updated at once: each one's ΔE depends only on the other
    colour.
    """
    L = check_lattice_size(L, even=True)
    rows, cols = np.indices((L, L))
    colour = ((rows + cols) % 2).ravel()
    return [np.flatnonzero(colour == 0), np.flatnonzero(colour == 1)]


def energy_binary_flat(L):
    """Energy function on flat bits, for the general Metropolis-Hastings sampler.

    Returns `E(b)` taking (batch, L*L) 0/1 arrays to (batch,) energies, with
    s = 2b - 1.
    """
    L = check_lattice_size(L)

    def energy_fn(b):
        b = np.asarray(b)
        s = 2 * b.reshape(b.shape[0], L, L).astype(np.int32) - 1
        return _energy(s).astype(np.float64)

    return energy_fn


def delta_energy_binary_flat(L):
    """ΔE of single-site flips on flat bits: ΔE_i = 2 s_i h_i, s = 2b - 1.

    Returns `dE(b, sites)` taking (batch, L*L) bits and a 1-D array of site
    indices to the (batch, len(sites)) energy changes of flipping each site
    alone.
    """
    nbr = neighbour_table(L)

    def delta_energy_fn(b, sites):
        s = 2 * np.asarray(b, dtype=np.int32) - 1  # (batch, N)
        h = s[:, nbr[sites]].sum(axis=-1)  # (batch, k): the four neighbours
        return (2 * s[:, sites] * h).astype(np.float64)

    return delta_energy_fn
