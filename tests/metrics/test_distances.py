"""FD, KD, precision/recall and W1 against closed forms and brute-force references."""

import numpy as np
import pytest

from keras_genmodels.metrics import (
    frechet_distance,
    gaussian_frechet_distance,
    kernel_distance,
    precision_recall,
    wasserstein_distance_1d,
)


def _random_covariance(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def _rotation(rng, d):
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


# ---------------------------------------------------------------------------
# Fréchet distance
# ---------------------------------------------------------------------------


def test_gaussian_fd_of_non_commuting_2x2_covariances_matches_closed_form():
    # For 2 x 2 matrices with non-negative eigenvalues λ1, λ2:
    # tr(M^{1/2}) = sqrt(λ1) + sqrt(λ2) = sqrt(tr M + 2 sqrt(det M)).
    s1 = np.array([[2.0, 0.8], [0.8, 1.0]])
    s2 = np.array([[1.0, -0.5], [-0.5, 3.0]])
    assert not np.allclose(s1 @ s2, s2 @ s1)
    m1, m2 = np.array([0.3, -1.0]), np.array([1.0, 0.5])
    m = s1 @ s2
    tr_sqrt = np.sqrt(np.trace(m) + 2.0 * np.sqrt(np.linalg.det(m)))
    expected = np.sum((m1 - m2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * tr_sqrt
    assert gaussian_frechet_distance(m1, s1, m2, s2) == pytest.approx(expected, rel=1e-12)


def test_gaussian_fd_matches_the_eigenvalues_of_the_non_symmetric_product():
    # tr((Σ1 Σ2)^{1/2}) = Σ sqrt(eig(Σ1 Σ2)): a different route (general eig).
    rng = np.random.default_rng(0)
    d = 6
    s1, s2 = _random_covariance(rng, d), _random_covariance(rng, d)
    m1, m2 = rng.normal(size=d), rng.normal(size=d)
    lam = np.linalg.eigvals(s1 @ s2)
    assert np.max(np.abs(lam.imag)) < 1e-10
    expected = (
        np.sum((m1 - m2) ** 2) + np.trace(s1 + s2) - 2.0 * np.sum(np.sqrt(lam.real))
    )
    assert gaussian_frechet_distance(m1, s1, m2, s2) == pytest.approx(expected, rel=1e-10)


def test_gaussian_fd_in_one_dimension_and_for_diagonal_covariances():
    # 1-D: (μ1 − μ2)² + (σ1 − σ2)²; diagonal: the sum over the axes.
    assert gaussian_frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9.0 + 1.0)
    sd1, sd2 = np.array([1.0, 2.0, 0.5]), np.array([3.0, 0.1, 0.5])
    expected = np.sum((sd1 - sd2) ** 2)
    got = gaussian_frechet_distance(np.zeros(3), np.diag(sd1**2), np.zeros(3), np.diag(sd2**2))
    assert got == pytest.approx(expected, rel=1e-12)


def test_gaussian_fd_with_a_singular_covariance():
    # Σ1 of rank 1: Σ1^{1/2} has a zero eigenvalue; 1-D case along e1: (1 − 2)² = 1,
    # plus tr Σ2 on the other axis.
    s1 = np.diag([1.0, 0.0])
    s2 = np.diag([4.0, 1.0])
    assert gaussian_frechet_distance(np.zeros(2), s1, np.zeros(2), s2) == pytest.approx(2.0)


def test_fd_of_gaussian_samples_approaches_the_closed_form():
    rng = np.random.default_rng(1)
    d, n = 4, 20000
    s1, s2 = _random_covariance(rng, d), _random_covariance(rng, d)
    m1, m2 = np.zeros(d), np.full(d, 0.5)
    exact = gaussian_frechet_distance(m1, s1, m2, s2)
    estimates = [
        frechet_distance(
            rng.multivariate_normal(m1, s1, size=n), rng.multivariate_normal(m2, s2, size=n)
        )
        for _ in range(10)
    ]
    mean = np.mean(estimates)
    stderr = np.std(estimates, ddof=1) / np.sqrt(len(estimates))
    assert stderr < 0.01 * exact  # the check below is a sharp one
    # The O(d / n) bias is ~1e-4 here, far below the standard error.
    assert abs(mean - exact) < 4 * stderr, (mean, exact, stderr)


def test_fd_of_samples_uses_the_sample_mean_and_unbiased_covariance():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(50, 3)), rng.exponential(size=(80, 3))
    expected = gaussian_frechet_distance(
        a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    )
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-12)


def test_fd_is_zero_for_identical_sets_and_symmetric():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(500, 10)) @ rng.normal(size=(10, 10))
    b = rng.exponential(size=(300, 10))
    assert frechet_distance(a, a) < 1e-9 * np.trace(np.cov(a, rowvar=False))
    assert frechet_distance(a, b) > 1.0
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)


def test_fd_is_invariant_under_a_common_translation_and_rotation():
    rng = np.random.default_rng(4)
    d = 8
    a = rng.normal(size=(400, d)) * np.linspace(0.5, 2.0, d)
    b = rng.standard_t(5, size=(600, d))
    q, shift = _rotation(rng, d), rng.normal(scale=10.0, size=d)
    assert frechet_distance(a @ q + shift, b @ q + shift) == pytest.approx(
        frechet_distance(a, b), rel=1e-8
    )


def test_fd_with_fewer_samples_than_features_is_finite_and_symmetric():
    # Singular sample covariances: the clipped eigenvalues keep it real.
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(10, 50)), rng.normal(0.2, size=(12, 50))
    fd = frechet_distance(a, b)
    assert np.isfinite(fd) and fd > 0
    assert fd == pytest.approx(frechet_distance(b, a), rel=1e-8)


# ---------------------------------------------------------------------------
# Kernel distance
# ---------------------------------------------------------------------------


def _mmd2_loops(x, y):
    """The unbiased MMD² written out term by term."""
    m, d = x.shape
    k = lambda u, v: (u @ v / d + 1.0) ** 3
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return xx / (m * (m - 1)) + yy / (m * (m - 1)) - 2.0 * xy / m**2


def test_kd_matches_the_estimator_written_out():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 5)), rng.normal(0.3, 1.2, size=(20, 5))
    # subset_size >= n: every subset is all of both sets, in some order.
    kd = kernel_distance(x, y, subsets=3, subset_size=1000)
    np.testing.assert_allclose(kd.values, _mmd2_loops(x, y), rtol=1e-10)
    assert kd.std < 1e-12


def test_kd_uses_min_of_subset_size_and_set_sizes():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 4)), rng.normal(size=(12, 4))
    kd = kernel_distance(x, y, subsets=1, subset_size=1000, seed=7)
    # The same draw by hand: 12 rows of each.
    r = np.random.default_rng(7)
    xs, ys = x[r.choice(30, 12, replace=False)], y[r.choice(12, 12, replace=False)]
    assert kd.mean == pytest.approx(_mmd2_loops(xs, ys), rel=1e-10)


def test_kd_is_seeded():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(300, 4)), rng.normal(size=(300, 4))
    a = kernel_distance(x, y, subsets=5, subset_size=50, seed=3)
    b = kernel_distance(x, y, subsets=5, subset_size=50, seed=3)
    c = kernel_distance(x, y, subsets=5, subset_size=50, seed=4)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.allclose(a.values, c.values)


def test_kd_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(1000, 16)), rng.normal(size=(1000, 16))
    c = rng.normal(0.3, size=(1000, 16))
    same = kernel_distance(a, b, subsets=20, subset_size=300)
    different = kernel_distance(a, c, subsets=20, subset_size=300)
    assert abs(same.mean) < 2 * same.std
    assert different.mean > 5 * different.std
    assert different.mean > 20 * abs(same.mean)


def test_unbiased_estimator_has_expectation_zero_for_equal_distributions():
    # Fresh data each time; the V-statistic (diagonals kept) is biased upwards,
    # which shows that this test can tell the difference.
    rng = np.random.default_rng(4)
    m, d = 40, 4
    unbiased, biased = [], []
    for seed in range(300):
        x, y = rng.normal(size=(m, d)), rng.normal(size=(m, d))
        unbiased.append(kernel_distance(x, y, subsets=1, subset_size=m, seed=seed).mean)
        k = lambda u, v: (u @ v.T / d + 1.0) ** 3
        biased.append(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())
    unbiased, biased = np.array(unbiased), np.array(biased)
    stderr = unbiased.std(ddof=1) / np.sqrt(len(unbiased))
    assert abs(unbiased.mean()) < 3 * stderr, (unbiased.mean(), stderr)
    assert biased.mean() > 10 * biased.std(ddof=1) / np.sqrt(len(biased))


def test_fd_and_kd_rise_with_noise():
    rng = np.random.default_rng(5)
    x = rng.exponential(size=(1000, 8))
    noise = rng.normal(size=x.shape)
    fd = [frechet_distance(x, x + s * noise) for s in [0.0, 0.1, 0.3, 1.0, 3.0]]
    # One seed: the same subsets for every σ. Below σ ~ 0.5 the change of KD
    # is below the noise of 10 subsets of 300 (std ~0.1).
    kd = [
        kernel_distance(x, x + s * noise, subsets=10, subset_size=300).mean
        for s in [0.5, 1.0, 2.0, 4.0]
    ]
    assert fd[0] < 1e-9
    assert np.all(np.diff(fd) > 0), fd
    assert np.all(np.diff(kd) > 0), kd


# ---------------------------------------------------------------------------
# Precision and recall
# ---------------------------------------------------------------------------


def _precision_recall_brute_force(real, gen, k):
    def radii(x):
        d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
        return np.sort(d, axis=1)[:, k]

    def inside(points, centres, r):
        d = np.sqrt(((points[:, None] - centres[None]) ** 2).sum(-1))
        return np.any(d <= r[None], axis=1)

    return inside(gen, real, radii(real)).mean(), inside(real, gen, radii(gen)).mean()


@pytest.mark.parametrize("k", [1, 3, 5])
def test_precision_recall_matches_brute_force_in_float64(k):
    rng = np.random.default_rng(k)
    real, gen = rng.normal(size=(80, 3)), rng.normal(1.5, 1.0, size=(70, 3))
    expected = _precision_recall_brute_force(real, gen, k)
    got = precision_recall(real, gen, k=k)
    assert got == pytest.approx(expected, abs=1e-12)
    assert 0 < got.precision < 1 and 0 < got.recall < 1  # a case that tests something
    assert precision_recall(real, gen, k=k, batch_size=7) == got


def test_identical_sets_give_precision_and_recall_one():
    x = np.random.default_rng(0).normal(size=(500, 32))
    assert precision_recall(x, x.copy()) == (1.0, 1.0)


def _two_modes(rng, n, d=4):
    centres = np.zeros((2, d))
    centres[:, 0] = [-6.0, 6.0]
    return centres[rng.integers(0, 2, size=n)] + rng.normal(size=(n, d))


def test_mode_dropping_lowers_recall():
    rng = np.random.default_rng(1)
    real = _two_modes(rng, 2000)
    one_mode = rng.normal(size=(2000, 4)) + [6.0, 0.0, 0.0, 0.0]
    pr = precision_recall(real, one_mode)
    assert pr.recall < pr.precision
    assert pr.precision > 0.9 and pr.recall < 0.6, pr


def test_bad_samples_lower_precision():
    rng = np.random.default_rng(2)
    real = _two_modes(rng, 2000)
    good = _two_modes(rng, 1000)
    bad = rng.normal(size=(1000, 4)) + [0.0, 20.0, 0.0, 0.0]
    pr = precision_recall(real, np.concatenate([good, bad]))
    assert pr.precision < pr.recall
    assert pr.precision < 0.6 and pr.recall > 0.8, pr


# ---------------------------------------------------------------------------
# 1-Wasserstein distance
# ---------------------------------------------------------------------------


def test_w1_of_equal_sizes_is_the_mean_gap_of_sorted_samples():
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=500), rng.exponential(size=500)
    expected = np.mean(np.abs(np.sort(u) - np.sort(v)))
    assert wasserstein_distance_1d(u, v) == pytest.approx(expected, rel=1e-12)


def test_w1_of_unequal_sizes_matches_a_brute_force_cdf_integral():
    rng = np.random.default_rng(1)
    u, v = rng.normal(size=7), rng.normal(0.4, size=5)
    # Exact: n_v copies of each u and n_u copies of each v are equal-size sets
    # with the same empirical distributions.
    replicated = np.mean(np.abs(np.sort(np.repeat(u, 5)) - np.sort(np.repeat(v, 7))))
    # Numerical: |F_u − F_v| on a fine grid (error <= jumps x grid step).
    grid = np.linspace(min(u.min(), v.min()) - 1, max(u.max(), v.max()) + 1, 400001)
    mid = 0.5 * (grid[1:] + grid[:-1])
    cdf = lambda s: np.searchsorted(np.sort(s), mid, side="right") / s.size
    integral = np.sum(np.abs(cdf(u) - cdf(v)) * np.diff(grid))
    got = wasserstein_distance_1d(u, v)
    assert got == pytest.approx(replicated, rel=1e-12)
    assert got == pytest.approx(integral, abs=12 * (grid[1] - grid[0]))


def test_w1_to_a_point_mass_is_the_mean_absolute_deviation():
    assert wasserstein_distance_1d([0.0, 1.0, 3.0], [2.0]) == pytest.approx(4.0 / 3.0)
    assert wasserstein_distance_1d([2.0], [0.0, 1.0, 3.0]) == pytest.approx(4.0 / 3.0)


def test_w1_of_a_shift_is_the_shift_and_zero_for_equal_distributions():
    u = np.random.default_rng(2).normal(size=100)
    assert wasserstein_distance_1d(u, u + 0.7) == pytest.approx(0.7)
    # Same empirical distribution, different sizes and order.
    assert wasserstein_distance_1d(u, np.tile(u, 3)[::-1]) == pytest.approx(0.0, abs=1e-15)
