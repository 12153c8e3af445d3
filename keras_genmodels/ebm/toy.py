"""2-D toy densities and the exact normalisation of a 2-D energy by grid quadrature.

An energy-based model p(x) = exp(-E(x)) / Z has no tractable Z in general, but
in two dimensions Z can be computed by quadrature: with the midpoint rule on an
`n_grid` x `n_grid` grid of cell centres c_ij over the box [lo, hi]^2 (cells of
area A = ((hi - lo) / n_grid)^2),

    log Z = log sum_ij exp(-E(c_ij)) + log A,

which is exact to many digits for smooth energies whose density has decayed at
the edges of the box. `GridDensity` keeps that normalisation and gives the test
log-likelihood in nats and KL(data || model) for a known data density.

The density is normalised *on the box only*: mass that the model would put
outside [lo, hi]^2 is not counted in Z, so choose a box that holds the data
and the model's mass (the toy datasets here lie within about [-3, 3]^2, the
default box is [-4, 4]^2). A test point outside the box has no density under
this normalisation: `GridDensity.log_density` refuses it with a `ValueError`
and `GridDensity.fraction_outside` reports how many points a test set has
outside, so that they can be filtered (and the fraction reported) first.

Datasets, each `f(n, ..., seed=None) -> float32 array (n, 2)`, in `DATASETS`:
- `two_moons`: scikit-learn's `make_moons` geometry, centred and scaled by 2,
- `rings`: concentric circles,
- `gaussian_mixture`: Gaussians on a circle, whose exact log density is
  `gaussian_mixture_log_density` (so that KL(data || model) is known).

Everything here is NumPy; an energy is any callable from a float32 (m, 2)
NumPy array to (m,) energies (a Keras model's `predict`, a lambda ...).
"""

import dataclasses
import math
import numbers
import warnings
from collections.abc import Callable

import numpy as np

from keras_genmodels._validation import (
    check_array,
    check_choice,
    check_positive_float,
    check_positive_int,
    check_seed,
)

MAX_POINTS = 10**8  # (n, 2) float32: 800 MB, a bound on absurd requests
MAX_GRID = 4096  # n_grid^2 = 16.8 M energy evaluations

# The default mixture, shared by `gaussian_mixture` and `gaussian_mixture_log_density`.
MIXTURE_COMPONENTS = 8
MIXTURE_RADIUS = 2.0
MIXTURE_SIGMA = 0.2

# `two_moons`: make_moons's points lie in [-1, 2] x [-0.5, 1]; centred on
# (0.5, 0.25) and scaled by 2 they lie in [-3, 3] x [-1.5, 1.5].
MOONS_CENTRE = (0.5, 0.25)
MOONS_SCALE = 2.0


def _rng(seed):
    return np.random.default_rng(check_seed("seed", seed, non_negative=True))


def _check_n(n):
    return check_positive_int("n", n, max_value=MAX_POINTS)


# ---------------------------------------------------------------------------
# Datasets


def two_moons(n, noise=0.1, seed=None):
    """Two interleaving half circles: scikit-learn's `make_moons`, centred and scaled.

    A point is on the upper moon (cos t, sin t) or the lower moon
    (1 - cos t, 0.5 - sin t) with probability 1/2 each, t ~ U(0, pi), plus
    N(0, noise^2) noise per coordinate; then x <- 2 (x - (0.5, 0.25)), so the
    data lie within about [-3, 3] x [-1.5, 1.5]. Unlike `make_moons`, which
    spaces t evenly and splits n in halves, t and the moon are drawn at random,
    so that a training and a test set are i.i.d. draws of one density.

    Args:
        n: number of points.
        noise: standard deviation of the Gaussian noise, in `make_moons`'s
            units (before the scaling by 2, as in `make_moons(noise=...)`).
            Defaults to `0.1`.
        seed: int seed >= 0, or `None` (fresh entropy). Defaults to `None`.

    Returns:
        float32 array (n, 2).
    """
    n = _check_n(n)
    noise = check_positive_float("noise", noise, allow_zero=True)
    rng = _rng(seed)
    t = rng.uniform(0.0, math.pi, n)
    lower = rng.random(n) < 0.5
    x = np.where(lower, 1.0 - np.cos(t), np.cos(t))
    y = np.where(lower, 0.5 - np.sin(t), np.sin(t))
    points = np.stack([x, y], axis=1) + noise * rng.standard_normal((n, 2))
    return (MOONS_SCALE * (points - np.asarray(MOONS_CENTRE))).astype("float32")


def _check_radii(radii):
    try:
        values = [check_positive_float("radius", r) for r in radii]
    except (TypeError, ValueError):
        values = []
    if not values:
        raise ValueError(
            f"`radii` must be a non-empty sequence of finite floats > 0. Received: radii={radii!r}"
        )
    return np.asarray(values)


def rings(n, radii=(1.0, 2.0), noise=0.1, seed=None):
    """Concentric circles: radius r_k (k uniform over the rings), angle ~ U(0, 2 pi), plus noise.

    x = r_k (cos t, sin t) + N(0, noise^2 I). Each ring gets 1/K of the points
    (as in scikit-learn's `make_circles`), so the outer rings are sparser per
    unit length.

    Args:
        n: number of points.
        radii: the radii of the rings. Defaults to `(1.0, 2.0)`.
        noise: standard deviation of the Gaussian noise per coordinate.
            Defaults to `0.1`.
        seed: int seed >= 0, or `None` (fresh entropy). Defaults to `None`.

    Returns:
        float32 array (n, 2).
    """
    n = _check_n(n)
    radii = _check_radii(radii)
    noise = check_positive_float("noise", noise, allow_zero=True)
    rng = _rng(seed)
    r = radii[rng.integers(0, len(radii), n)]
    t = rng.uniform(0.0, 2.0 * math.pi, n)
    points = r[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1)
    return (points + noise * rng.standard_normal((n, 2))).astype("float32")


def gaussian_mixture_means(n_components=MIXTURE_COMPONENTS, radius=MIXTURE_RADIUS):
    """The means mu_k = radius (cos 2 pi k / K, sin 2 pi k / K), k = 0 .. K - 1, as float64 (K, 2)."""
    n_components = check_positive_int("n_components", n_components, max_value=10**6)
    radius = check_positive_float("radius", radius, allow_zero=True)
    angle = 2.0 * math.pi * np.arange(n_components) / n_components
    return radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def gaussian_mixture(n, n_components=MIXTURE_COMPONENTS, radius=MIXTURE_RADIUS,
                     sigma=MIXTURE_SIGMA, seed=None):
    """Equal-weight isotropic Gaussians N(mu_k, sigma^2 I) on a circle (`gaussian_mixture_means`).

    Its exact density is `gaussian_mixture_log_density` (same defaults).

    Args:
        n: number of points.
        n_components: number K of Gaussians. Defaults to `8`.
        radius: radius of the circle of means. Defaults to `2.0`.
        sigma: standard deviation of each Gaussian. Defaults to `0.2`.
        seed: int seed >= 0, or `None` (fresh entropy). Defaults to `None`.

    Returns:
        float32 array (n, 2).
    """
    n = _check_n(n)
    means = gaussian_mixture_means(n_components, radius)
    sigma = check_positive_float("sigma", sigma)
    rng = _rng(seed)
    k = rng.integers(0, len(means), n)
    return (means[k] + sigma * rng.standard_normal((n, 2))).astype("float32")


def _logsumexp(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def gaussian_mixture_log_density(x, n_components=MIXTURE_COMPONENTS, radius=MIXTURE_RADIUS,
                                 sigma=MIXTURE_SIGMA):
    """Exact log density of `gaussian_mixture`, in nats.

    log p(x) = log sum_k exp(-||x - mu_k||^2 / (2 sigma^2)) - log(2 pi sigma^2) - log K.

    Args:
        x: points, array (m, 2).
        n_components, radius, sigma: as in `gaussian_mixture`.

    Returns:
        float64 array (m,).
    """
    x = check_array("x", x, feature_shape=(2,), allow_empty=True).astype("float64")
    means = gaussian_mixture_means(n_components, radius)
    sigma = check_positive_float("sigma", sigma)
    sq = np.sum((x[:, None, :] - means[None, :, :]) ** 2, axis=-1)  # (m, K)
    return (_logsumexp(-sq / (2.0 * sigma**2), axis=1)
            - math.log(2.0 * math.pi * sigma**2) - math.log(len(means)))


DATASETS = {
    "two_moons": two_moons,
    "rings": rings,
    "gaussian_mixture": gaussian_mixture,
}


def load(name, n, seed=None, **kwargs):
    """`n` points of the toy dataset `name` (a key of `DATASETS`).

    Args:
        name: `"two_moons"`, `"rings"` or `"gaussian_mixture"`.
        n: number of points.
        seed: int seed >= 0, or `None`. Defaults to `None`.
        **kwargs: the dataset's own parameters (`noise`, `radii`, `sigma`, ...).

    Returns:
        float32 array (n, 2).
    """
    check_choice("name", name, DATASETS)
    return DATASETS[name](n, seed=seed, **kwargs)


# ---------------------------------------------------------------------------
# Grid quadrature


def _check_bounds(bounds):
    try:
        lo, hi = bounds
        ok = all(
            isinstance(b, numbers.Real) and not isinstance(b, (bool, np.bool_)) and math.isfinite(b)
            for b in (lo, hi)
        ) and lo < hi
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(
            f"`bounds` must be a pair (lo, hi) of finite floats with lo < hi. Received: bounds={bounds!r}"
        )
    return float(lo), float(hi)


def _check_n_grid(n_grid):
    n_grid = check_positive_int("n_grid", n_grid, max_value=MAX_GRID)
    if n_grid < 2:
        raise ValueError(f"`n_grid` must be an int in [2, {MAX_GRID}]. Received: n_grid={n_grid!r}")
    return n_grid


def evaluate_energy(energy_fn, x, chunk_size=10_000):
    """E(x) for points `x`, calling `energy_fn` on float32 chunks of `chunk_size` rows.

    Args:
        energy_fn: callable from a float32 (m, 2) NumPy array to (m,) energies
            (anything `np.asarray` converts: a NumPy array, an eager tensor).
        x: points, array (m, 2).
        chunk_size: rows per call. Defaults to `10_000`.

    Returns:
        float64 array (m,).

    Raises:
        ValueError: if `energy_fn` returns another shape than (rows,) or
            a NaN/Inf energy.
    """
    chunk_size = check_positive_int("chunk_size", chunk_size)
    x = np.asarray(x, dtype="float32")
    out = np.empty(len(x), dtype="float64")
    for start in range(0, len(x), chunk_size):
        chunk = x[start : start + chunk_size]
        e = np.asarray(energy_fn(chunk))
        if e.shape != (len(chunk),):
            raise ValueError(
                f"`energy_fn` must return energies of shape ({len(chunk)},) for points of shape "
                f"{chunk.shape}. Received: shape={e.shape}"
            )
        e = e.astype("float64")
        if not np.all(np.isfinite(e)):
            n_bad = int(e.size - np.count_nonzero(np.isfinite(e)))
            raise ValueError(
                f"`energy_fn` must return finite energies. Received: {n_bad} NaN/Inf energies "
                f"of {e.size}, e.g. at x={chunk[~np.isfinite(e)][0].tolist()}"
            )
        out[start : start + len(chunk)] = e
    return out


def _grid_points(centers):
    xx, yy = np.meshgrid(centers, centers)  # [i, j] = (centers[j], centers[i])
    return np.stack([xx.ravel(), yy.ravel()], axis=1).astype("float32")


@dataclasses.dataclass(frozen=True, eq=False)
class GridDensity:
    """p(x) = exp(-E(x)) / Z with Z by midpoint quadrature on the box [lo, hi]^2.

    Made by `grid_density`. Cell (i, j) has centre (centers[j], centers[i])
    (rows go along x[1], columns along x[0], as `imshow` and `contour` take
    them) and area A = ((hi - lo) / n_grid)^2;
    log Z = logsumexp_ij(-E_ij) + log A (float64).

    Normalised on the box only: see the module docstring.

    Attributes:
        energy_fn: the energy, a callable from float32 (m, 2) to (m,).
        bounds: `(lo, hi)`.
        n_grid: cells per axis.
        centers: float64 (n_grid,) cell centres along each axis.
        energy: float64 (n_grid, n_grid) E at the cell centres.
        log_z: log Z on the box (nats).
        chunk_size: rows per call of `energy_fn`.
    """

    energy_fn: Callable
    bounds: tuple
    n_grid: int
    centers: np.ndarray
    energy: np.ndarray
    log_z: float
    chunk_size: int = 10_000

    @property
    def cell_area(self):
        """A = ((hi - lo) / n_grid)^2."""
        return ((self.bounds[1] - self.bounds[0]) / self.n_grid) ** 2

    @property
    def points(self):
        """float32 (n_grid^2, 2): the cell centres, row-major over (x[1], x[0])."""
        return _grid_points(self.centers)

    @property
    def log_prob(self):
        """float64 (n_grid, n_grid): log p = -E - log Z at the cell centres."""
        return -self.energy - self.log_z

    @property
    def density(self):
        """float64 (n_grid, n_grid): p = exp(-E) / Z at the cell centres (sums to 1 / A)."""
        return np.exp(self.log_prob)

    def _check_points(self, name, x):
        return check_array(name, x, feature_shape=(2,))

    def _outside(self, x):
        lo, hi = self.bounds
        return np.any((x < lo) | (x > hi), axis=1)

    def fraction_outside(self, x):
        """The fraction of the points `x` (m, 2) that lie outside the closed box [lo, hi]^2."""
        return float(np.mean(self._outside(self._check_points("x", x))))

    def log_density(self, x):
        """log p(x) = -E(x) - log Z in nats, with E evaluated at the points themselves.

        Args:
            x: points, array (m, 2), inside the box.

        Returns:
            float64 array (m,).

        Raises:
            ValueError: if a point lies outside [lo, hi]^2, where this
                normalisation gives no density (filter them with
                `fraction_outside` and report the fraction).
        """
        x = self._check_points("x", x)
        outside = self._outside(x)
        if np.any(outside):
            lo, hi = self.bounds
            raise ValueError(
                f"`x` must lie in the box [{lo}, {hi}]^2 on which the density is normalised. "
                f"Received: {int(np.sum(outside))} of {len(x)} points outside, "
                f"e.g. x={x[outside][0].tolist()}"
            )
        return -evaluate_energy(self.energy_fn, x, self.chunk_size) - self.log_z

    def log_likelihood(self, x):
        """The mean log density (1/m) sum_i log p(x_i) of a test set `x` (m, 2), in nats."""
        return float(np.mean(self.log_density(x)))

    def mass(self, log_density):
        """The quadrature sum_ij exp(log q(c_ij)) A of a density q on the box (1 if q lives in it).

        Args:
            log_density: callable from float32 (m, 2) points to (m,) log densities.
        """
        return float(np.sum(np.exp(self._log_density_on_grid("log_density", log_density))) * self.cell_area)

    def _log_density_on_grid(self, name, log_density):
        # log q may be -inf (q = 0); NaN and +inf are refused.
        log_q = np.asarray(log_density(self.points))
        n = self.n_grid**2
        if log_q.shape != (n,):
            raise ValueError(
                f"`{name}` must return log densities of shape ({n},) for the "
                f"grid's points of shape ({n}, 2). Received: shape={log_q.shape}"
            )
        log_q = log_q.astype("float64")
        if np.any(np.isnan(log_q) | (log_q == np.inf)):
            raise ValueError(
                f"`{name}` must return log densities in [-inf, inf). "
                f"Received: {int(np.sum(np.isnan(log_q) | (log_q == np.inf)))} NaN/+inf values"
            )
        return log_q.reshape(self.n_grid, self.n_grid)

    def kl_divergence(self, true_log_density):
        """KL(data || model) = sum_ij p(c_ij) (log p(c_ij) - log p_model(c_ij)) A, in nats.

        The data density p is known (e.g. `gaussian_mixture_log_density`);
        cells where p = 0 contribute 0. The quadrature covers the box only: if
        p puts mass outside it (its `mass` differs from 1 by more than 1e-3)
        a `RuntimeWarning` says so, and the value is KL of the truncated,
        unnormalised p.

        Args:
            true_log_density: callable from float32 (m, 2) points to (m,)
                log densities of the data distribution.

        Returns:
            float (nats).
        """
        log_p = self._log_density_on_grid("true_log_density", true_log_density)
        p = np.exp(log_p)
        mass = float(np.sum(p) * self.cell_area)
        if abs(mass - 1.0) > 1e-3:
            warnings.warn(
                f"The data density has mass {mass:.6f} on the box {self.bounds}, not 1: "
                "KL(data || model) covers the box only.",
                RuntimeWarning,
                stacklevel=2,
            )
        terms = np.where(p > 0, p * (log_p - self.log_prob), 0.0)
        return float(np.sum(terms) * self.cell_area)


def grid_density(energy_fn, bounds=(-4.0, 4.0), n_grid=200, chunk_size=10_000):
    """Normalise exp(-E) on the box [lo, hi]^2 by midpoint quadrature.

    log Z = logsumexp_ij(-E(c_ij)) + log A over the n_grid^2 cell centres c_ij,
    A the cell area, in float64.

    Args:
        energy_fn: callable from a float32 (m, 2) NumPy array to (m,) energies,
            called on chunks of `chunk_size` points.
        bounds: `(lo, hi)`, the box [lo, hi]^2. Defaults to `(-4.0, 4.0)`.
        n_grid: cells per axis, >= 2. Defaults to `200`.
        chunk_size: points per call of `energy_fn`. Defaults to `10_000`.

    Returns:
        A `GridDensity`.

    Example:
    ```python
    g = grid_density(lambda x: -gaussian_mixture_log_density(x))
    g.log_z                                      # ~0: the density is normalised
    g.kl_divergence(gaussian_mixture_log_density)  # ~0
    g.log_likelihood(gaussian_mixture(1000, seed=1))
    ```
    """
    if not callable(energy_fn):
        raise ValueError(f"`energy_fn` must be callable. Received: energy_fn={energy_fn!r}")
    lo, hi = _check_bounds(bounds)
    n_grid = _check_n_grid(n_grid)
    chunk_size = check_positive_int("chunk_size", chunk_size)
    h = (hi - lo) / n_grid
    centers = lo + h * (np.arange(n_grid) + 0.5)
    energy = evaluate_energy(energy_fn, _grid_points(centers), chunk_size).reshape(n_grid, n_grid)
    log_z = float(_logsumexp(-energy.ravel(), axis=0) + 2.0 * math.log(h))  # + log A, A = h^2
    return GridDensity(energy_fn, (lo, hi), n_grid, centers, energy, log_z, chunk_size)
