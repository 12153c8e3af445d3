"""Distances between two sets of samples, computed from their features.

Every function takes features of shape (n, d), one row per sample, and uses
NumPy only:

- `frechet_distance`: the Fréchet distance of the Gaussians fitted to the
  two sets (FD; FID when the features are Inception's);
  `gaussian_frechet_distance` from precomputed means and covariances.
- `kernel_distance`: the unbiased MMD² with the cubic polynomial kernel,
  averaged over random subsets (KD; KID with Inception features).
- `precision_recall`: the k-nearest-neighbour precision and recall.
- `wasserstein_distance_1d`: the exact 1-Wasserstein distance of two
  empirical distributions on the real line.

The features decide the scale and the meaning of every number here: scores
are comparable only between runs that use the same features.
"""

from typing import NamedTuple

import numpy as np

from keras_genmodels._validation import check_array, check_positive_int, check_seed

# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def check_features(name, features, min_samples=1):
    """Return `features` as a float64 (n, d) array of finite values, n >= `min_samples`.

    Raises:
        ValueError: naming what was expected and what was received, e.g.
            "`features_a` must have shape (n_samples, n_features). Received: shape=(5,)".
    """
    arr = check_array(name, features)
    if arr.ndim != 2:
        raise ValueError(
            f"`{name}` must have shape (n_samples, n_features). Received: shape={arr.shape}"
        )
    if arr.shape[0] < min_samples:
        raise ValueError(
            f"`{name}` must hold at least {min_samples} samples. "
            f"Received: shape={arr.shape}"
        )
    return arr.astype(np.float64, copy=False)


def _check_pair(name_a, a, name_b, b, min_samples=1):
    a = check_features(name_a, a, min_samples)
    b = check_features(name_b, b, min_samples)
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same number of features. "
            f"Received: {name_a}.shape={a.shape}, {name_b}.shape={b.shape}"
        )
    return a, b


# ---------------------------------------------------------------------------
# Fréchet distance
# ---------------------------------------------------------------------------


def _sqrt_psd(cov):
    """Σ^{1/2} of a symmetric PSD matrix: V diag(sqrt(max(λ, 0))) Vᵀ."""
    lam, v = np.linalg.eigh(cov)
    return (v * np.sqrt(np.clip(lam, 0.0, None))) @ v.T


def _check_gaussian(name, mean, cov):
    mean = check_array(f"mean_{name}", mean).astype(np.float64, copy=False)
    if mean.ndim != 1:
        raise ValueError(f"`mean_{name}` must have shape (d,). Received: shape={mean.shape}")
    d = mean.shape[0]
    cov = check_array(f"cov_{name}", cov).astype(np.float64, copy=False)
    if cov.shape != (d, d):
        raise ValueError(
            f"`cov_{name}` must have shape (d, d) = {(d, d)} to match `mean_{name}`. "
            f"Received: shape={cov.shape}"
        )
    scale = np.max(np.abs(cov))
    if not np.allclose(cov, cov.T, rtol=1e-8, atol=1e-12 * scale):
        raise ValueError(
            f"`cov_{name}` must be symmetric. Received a matrix with "
            f"max |cov - cov.T| = {np.max(np.abs(cov - cov.T)):.3g}"
        )
    return mean, 0.5 * (cov + cov.T)


def gaussian_frechet_distance(mean_a, cov_a, mean_b, cov_b):
    """Fréchet distance of N(μ_a, Σ_a) and N(μ_b, Σ_b), in float64.

        d² = ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2}),

    the squared 2-Wasserstein distance of the two Gaussians. The trace of the
    matrix square root is computed from symmetric eigendecompositions only:
    Σ_a Σ_b is similar to the symmetric PSD matrix Σ_a^{1/2} Σ_b Σ_a^{1/2}, so

        tr((Σ_a Σ_b)^{1/2}) = Σ_i sqrt(λ_i(Σ_a^{1/2} Σ_b Σ_a^{1/2})),

    with tiny negative eigenvalues (rounding, singular covariances) clipped
    to 0. The result, >= 0 in exact arithmetic, is clipped to >= 0.

    Args:
        mean_a, mean_b: means, shape (d,).
        cov_a, cov_b: symmetric positive semi-definite covariances, (d, d).

    Returns:
        The distance d² as a float.

    Example:
    ```python
    gaussian_frechet_distance([0.0], [[1.0]], [1.0], [[4.0]])  # 1 + (1 - 2)² = 2.0
    ```

    References:
        - Dowson & Landau 1982, J. Multivariate Anal. 12, 450.
        - Heusel et al. 2017, arXiv 1706.08500.
    """
    mean_a, cov_a = _check_gaussian("a", mean_a, cov_a)
    mean_b, cov_b = _check_gaussian("b", mean_b, cov_b)
    if mean_a.shape != mean_b.shape:
        raise ValueError(
            "`mean_a` and `mean_b` must have the same dimension. "
            f"Received: mean_a.shape={mean_a.shape}, mean_b.shape={mean_b.shape}"
        )
    root_a = _sqrt_psd(cov_a)
    m = root_a @ cov_b @ root_a  # Σ_a^{1/2} Σ_b Σ_a^{1/2}, similar to Σ_a Σ_b
    lam = np.linalg.eigvalsh(0.5 * (m + m.T))
    tr_sqrt = np.sum(np.sqrt(np.clip(lam, 0.0, None)))  # tr((Σ_a Σ_b)^{1/2})
    diff = mean_a - mean_b
    d2 = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * tr_sqrt
    return float(max(d2, 0.0))


def frechet_distance(features_a, features_b):
    """Fréchet distance of the Gaussians fitted to two sets of features (FD).

        FD = ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2}),

    with μ the sample means and Σ the sample covariances (divided by n − 1)
    of the rows, in float64; `gaussian_frechet_distance` gives the details.
    With Inception-v3 pool features this is the FID. The estimate from n
    samples is biased upwards by O(d / n): compare scores at equal n.

    Args:
        features_a: (n_a, d) features, n_a >= 2.
        features_b: (n_b, d) features, n_b >= 2.

    Returns:
        FD as a float >= 0 (0 for identical sets, symmetric in a and b).

    Example:
    ```python
    rng = np.random.default_rng(0)
    frechet_distance(rng.normal(size=(5000, 8)), rng.normal(1.0, size=(5000, 8)))  # ~8
    ```

    References:
        - Heusel et al. 2017, arXiv 1706.08500.
    """
    a, b = _check_pair("features_a", features_a, "features_b", features_b, min_samples=2)
    return gaussian_frechet_distance(
        a.mean(axis=0), np.cov(a, rowvar=False, ddof=1).reshape(a.shape[1], a.shape[1]),
        b.mean(axis=0), np.cov(b, rowvar=False, ddof=1).reshape(b.shape[1], b.shape[1]),
    )


# ---------------------------------------------------------------------------
# Kernel distance
# ---------------------------------------------------------------------------


class KernelDistance(NamedTuple):
    """The kernel distance: mean and standard deviation over subsets.

    Attributes:
        mean: the mean of the per-subset MMD² estimates.
        std: their standard deviation (ddof=0; the spread of one subset's estimate;
            the subsets overlap, so this is not the error of `mean`).
        values: the per-subset estimates, float64 (subsets,).
    """

    mean: float
    std: float
    values: np.ndarray

    def __repr__(self):
        return f"KernelDistance({self.mean:.6g} ± {self.std:.2g}, subsets={len(self.values)})"


def polynomial_kernel(x, y):
    """k(x, y) = (xᵀy / d + 1)³ of every row of `x` with every row of `y`, (n_x, n_y)."""
    g = x @ y.T
    g /= x.shape[1]
    g += 1.0
    return g * g * g  # faster than g ** 3


def _unbiased_mmd2(x, y):
    """Unbiased MMD² of two equal-size sets (Bińkowski et al.'s estimator).

        MMD²_u = Σ_{i≠j} k(x_i, x_j) / (m(m−1)) + Σ_{i≠j} k(y_i, y_j) / (m(m−1))
                 − 2 Σ_{i,j} k(x_i, y_j) / m²
    """
    m = x.shape[0]
    k_xx = polynomial_kernel(x, x)
    k_yy = polynomial_kernel(y, y)
    k_xy = polynomial_kernel(x, y)
    same = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return same - 2.0 * k_xy.sum() / (m * m)


def kernel_distance(features_a, features_b, subsets=100, subset_size=1000, seed=0):
    """Kernel distance (KD; KID with Inception features): unbiased MMD², cubic kernel.

    With the polynomial kernel k(x, y) = (xᵀy / d + 1)³ (d features), each
    of `subsets` estimates draws m = min(subset_size, n_a, n_b) rows of each
    set without replacement and computes

        MMD²_u = 1/(m(m−1)) Σ_{i≠j} [k(a_i, a_j) + k(b_i, b_j)]
                 − 2/m² Σ_{i,j} k(a_i, b_j),

    whose expectation is MMD² between the two distributions: 0 when they are
    equal, so an estimate can be negative. The result is the mean and the
    standard deviation of the estimates, as KID is computed by Bińkowski et
    al.'s code. Kernels are computed in float64.

    Args:
        features_a: (n_a, d) features.
        features_b: (n_b, d) features.
        subsets: positive int, number of random subsets. Defaults to `100`.
        subset_size: positive int, rows drawn from each set per subset
            (capped at n_a and n_b; the cap must be >= 2). Defaults to `1000`.
        seed: `None` or an int >= 0 for the subsets; the same seed gives the
            same score. Defaults to `0`.

    Returns:
        `KernelDistance(mean, std, values)`.

    Example:
    ```python
    rng = np.random.default_rng(0)
    kd = kernel_distance(rng.normal(size=(2000, 16)), rng.normal(0.5, size=(2000, 16)))
    kd.mean, kd.std
    ```

    References:
        - Bińkowski et al. 2018, arXiv 1801.01401.
        - Gretton et al. 2012, J. Mach. Learn. Res. 13, 723.
    """
    a, b = _check_pair("features_a", features_a, "features_b", features_b)
    subsets = check_positive_int("subsets", subsets)
    subset_size = check_positive_int("subset_size", subset_size)
    seed = check_seed("seed", seed, non_negative=True)
    m = min(subset_size, a.shape[0], b.shape[0])
    if m < 2:
        raise ValueError(
            "kernel_distance needs at least 2 samples per subset: "
            "min(subset_size, n_a, n_b) must be >= 2. Received: "
            f"subset_size={subset_size}, features_a.shape={a.shape}, features_b.shape={b.shape}"
        )
    rng = np.random.default_rng(seed)
    values = np.empty(subsets)
    for s in range(subsets):
        x = a[rng.choice(a.shape[0], m, replace=False)]
        y = b[rng.choice(b.shape[0], m, replace=False)]
        values[s] = _unbiased_mmd2(x, y)
    return KernelDistance(float(values.mean()), float(values.std()), values)


# ---------------------------------------------------------------------------
# Precision and recall
# ---------------------------------------------------------------------------


class PrecisionRecall(NamedTuple):
    """Precision (fidelity) and recall (coverage) of generated samples, in [0, 1]."""

    precision: float
    recall: float


def _squared_distances(x, y, y_sq):
    """‖x_i − y_j‖² = ‖x_i‖² − 2 x_iᵀy_j + ‖y_j‖², float32, clipped at 0."""
    d = np.einsum("ij,ij->i", x, x)[:, None] - 2.0 * (x @ y.T) + y_sq[None, :]
    return np.maximum(d, 0.0, out=d)


def _knn_radii(x, k, batch_size):
    """Squared distance of each row of `x` to its k-th nearest other row of `x`."""
    x_sq = np.einsum("ij,ij->i", x, x)
    radii = np.empty(x.shape[0], dtype=x.dtype)
    for start in range(0, x.shape[0], batch_size):
        d = _squared_distances(x[start:start + batch_size], x, x_sq)
        # Index 0 of the sorted row is the point itself (distance 0).
        radii[start:start + batch_size] = np.partition(d, k, axis=1)[:, k]
    return radii


def _inside_manifold(points, centres, radii, batch_size):
    """Whether each point lies within radii_j of some centre j (squared distances)."""
    c_sq = np.einsum("ij,ij->i", centres, centres)
    inside = np.empty(points.shape[0], dtype=bool)
    for start in range(0, points.shape[0], batch_size):
        d = _squared_distances(points[start:start + batch_size], centres, c_sq)
        inside[start:start + batch_size] = np.any(d <= radii[None, :], axis=1)
    return inside


def precision_recall(real_features, generated_features, k=3, batch_size=1000):
    """Improved precision and recall of Kynkäänniemi et al. (k-NN manifolds).

    Each set defines a manifold: the union of the balls around its samples
    whose radius is the distance to the sample's k-th nearest neighbour in
    the same set. Then

        precision = fraction of generated samples inside the real manifold,
        recall    = fraction of real samples inside the generated manifold.

    Low precision means bad samples; low recall means missing modes. The
    pairwise distances are computed in blocks of `batch_size` rows (memory
    O(batch_size × n), e.g. 40 MB for 1000 × 10,000), as
    ‖x‖² − 2 xᵀy + ‖y‖² with float32 matrix products after subtracting the
    mean of the real features: points within ~1e-6 of a radius (relative to
    the squared distances) may be counted either way.

    Args:
        real_features: (n_real, d) features of real samples, n_real > k.
        generated_features: (n_gen, d) features of generated samples, n_gen > k.
        k: positive int, the neighbour defining the radius. Defaults to `3`.
        batch_size: positive int, rows per block of distances. Defaults to `1000`.

    Returns:
        `PrecisionRecall(precision, recall)`.

    Example:
    ```python
    rng = np.random.default_rng(0)
    real = rng.normal(size=(2000, 8))
    precision_recall(real, real[real[:, 0] > 0])  # precision 1.0, recall ~0.7 (< 1)
    ```

    References:
        - Kynkäänniemi et al. 2019, arXiv 1904.06991.
    """
    k = check_positive_int("k", k)
    batch_size = check_positive_int("batch_size", batch_size)
    real, gen = _check_pair(
        "real_features", real_features, "generated_features", generated_features, min_samples=k + 1
    )
    centre = real.mean(axis=0)  # distances are translation invariant; this cuts rounding
    real = (real - centre).astype(np.float32)
    gen = (gen - centre).astype(np.float32)
    real_radii = _knn_radii(real, k, batch_size)
    gen_radii = _knn_radii(gen, k, batch_size)
    precision = _inside_manifold(gen, real, real_radii, batch_size).mean()
    recall = _inside_manifold(real, gen, gen_radii, batch_size).mean()
    return PrecisionRecall(float(precision), float(recall))


# ---------------------------------------------------------------------------
# 1-Wasserstein distance on the line
# ---------------------------------------------------------------------------


def _check_values(name, values):
    arr = check_array(name, values)
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must have shape (n,). Received: shape={arr.shape}")
    return arr.astype(np.float64, copy=False)


def wasserstein_distance_1d(u, v):
    """Exact 1-Wasserstein distance of the empirical distributions of `u` and `v`.

        W1 = ∫ |F_u(x) − F_v(x)| dx,

    with F the empirical CDFs, integrated exactly: both are step functions,
    constant between consecutive values of the pooled, sorted samples. For
    equal sizes this is mean |sort(u) − sort(v)|; the sizes may differ.

    Args:
        u: 1-D array of finite values.
        v: 1-D array of finite values.

    Returns:
        W1 as a float >= 0.

    Example:
    ```python
    wasserstein_distance_1d([0.0, 1.0], [0.5, 1.5])  # 0.5
    ```
    """
    u = np.sort(_check_values("u", u))
    v = np.sort(_check_values("v", v))
    pooled = np.sort(np.concatenate([u, v]))
    widths = np.diff(pooled)
    # F(x) on [pooled_i, pooled_{i+1}): the fraction of samples <= pooled_i.
    cdf_u = np.searchsorted(u, pooled[:-1], side="right") / u.size
    cdf_v = np.searchsorted(v, pooled[:-1], side="right") / v.size
    return float(np.sum(np.abs(cdf_u - cdf_v) * widths))
