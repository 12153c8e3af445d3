"""2-D toy data and grid quadrature: known normalisers, exact densities, KL in closed form, figures."""

import math

import numpy as np
import pytest

from keras_genmodels.ebm import plots, toy

NAN, INF = float("nan"), float("inf")


def gaussian_energy(sigma, mean=(0.0, 0.0)):
    """E(x) = ||x - mean||^2 / (2 sigma^2): Z = 2 pi sigma^2 in 2-D."""
    mean = np.asarray(mean, dtype="float64")
    return lambda x: np.sum((x.astype("float64") - mean) ** 2, axis=1) / (2.0 * sigma**2)


def gaussian_log_density(sigma, mean=(0.0, 0.0)):
    energy = gaussian_energy(sigma, mean)
    return lambda x: -energy(x) - math.log(2.0 * math.pi * sigma**2)


# ---------------------------------------------------------------------------
# Grid quadrature against known answers


@pytest.mark.parametrize("sigma,n_grid", [(0.5, 200), (0.3, 120), (1.0, 64)])
def test_log_z_of_a_gaussian_energy_is_log_2_pi_sigma_squared(sigma, n_grid):
    grid = toy.grid_density(gaussian_energy(sigma), bounds=(-6, 6), n_grid=n_grid)
    assert grid.log_z == pytest.approx(math.log(2.0 * math.pi * sigma**2), abs=1e-4)
    assert np.sum(grid.density) * grid.cell_area == pytest.approx(1.0, abs=1e-10)


def test_an_energy_shifted_by_a_constant_shifts_log_z_only():
    # logsumexp in float64: E + 1000 would underflow exp(-E) in a naive sum.
    base = toy.grid_density(gaussian_energy(0.5), n_grid=50)
    shifted = toy.grid_density(lambda x: gaussian_energy(0.5)(x) + 1000.0, n_grid=50)
    assert shifted.log_z == pytest.approx(base.log_z - 1000.0, abs=1e-9)
    np.testing.assert_allclose(shifted.log_prob, base.log_prob, atol=1e-9)


def test_grid_layout_rows_along_x1_columns_along_x0():
    grid = toy.grid_density(lambda x: x[:, 0].astype("float64") + 0.0 * x[:, 1], bounds=(0, 4), n_grid=4)
    np.testing.assert_allclose(grid.centers, [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(grid.energy[0], grid.centers)  # along a row, x[0] grows
    assert grid.cell_area == 1.0
    assert grid.points.dtype == np.float32 and grid.points.shape == (16, 2)


def test_the_energy_is_called_in_chunks():
    sizes = []

    def energy(x):
        sizes.append(len(x))
        assert x.dtype == np.float32 and x.shape[1:] == (2,)
        return np.sum(x**2, axis=1)  # float32 energies are accepted

    toy.grid_density(energy, n_grid=150)
    assert sizes == [10_000, 10_000, 2_500]
    sizes.clear()
    toy.grid_density(energy, n_grid=10, chunk_size=30)
    assert sizes == [30, 30, 30, 10]


def test_log_density_and_log_likelihood_equal_the_gaussians_exact_values():
    sigma, mean = 0.6, (0.5, -0.3)
    grid = toy.grid_density(gaussian_energy(sigma, mean), n_grid=200)
    x = np.random.default_rng(0).normal(mean, sigma, size=(500, 2)).astype("float32")
    exact = gaussian_log_density(sigma, mean)(x)
    np.testing.assert_allclose(grid.log_density(x), exact, atol=1e-4)
    assert grid.log_likelihood(x) == pytest.approx(float(np.mean(exact)), abs=1e-4)
    # the mean of -log p over samples is the entropy, 1 + log(2 pi sigma^2) nats in 2-D
    assert grid.log_likelihood(x) == pytest.approx(-(1.0 + math.log(2 * math.pi * sigma**2)), abs=0.1)


def test_kl_of_the_mixture_against_itself_is_zero():
    grid = toy.grid_density(lambda x: -toy.gaussian_mixture_log_density(x))
    # ~0 up to the rounding of the grid's points to float32 (the energy's input)
    assert grid.kl_divergence(toy.gaussian_mixture_log_density) == pytest.approx(0.0, abs=1e-6)


def test_kl_of_two_gaussians_matches_the_closed_form():
    s1, m1, s2, m2 = 0.5, (0.3, -0.2), 0.7, (-0.4, 0.5)
    grid = toy.grid_density(gaussian_energy(s2, m2))  # the model
    kl = grid.kl_divergence(gaussian_log_density(s1, m1))  # KL(data || model)
    # KL(N(m1, s1^2 I) || N(m2, s2^2 I)) in d = 2 dimensions
    closed = s1**2 / s2**2 - 1.0 + 2.0 * math.log(s2 / s1) + np.sum(np.subtract(m1, m2) ** 2) / (2 * s2**2)
    assert kl > 0
    assert kl == pytest.approx(closed, abs=1e-3)
    reverse = toy.grid_density(gaussian_energy(s1, m1)).kl_divergence(gaussian_log_density(s2, m2))
    assert reverse != pytest.approx(kl, abs=1e-2), "KL is not symmetric: the direction matters"


def test_kl_warns_when_the_data_density_has_mass_outside_the_box():
    grid = toy.grid_density(gaussian_energy(1.0), bounds=(-1, 1), n_grid=20)
    with pytest.warns(RuntimeWarning, match="mass 0.46"):
        grid.kl_divergence(gaussian_log_density(1.0))


def test_points_outside_the_box_are_refused_and_counted():
    grid = toy.grid_density(gaussian_energy(0.5), bounds=(-2, 2), n_grid=20)
    x = np.array([[0.0, 0.0], [2.0, -2.0], [2.5, 0.0], [0.0, -3.0]], dtype="float32")
    assert grid.fraction_outside(x) == 0.5  # the box is closed: (2, -2) is inside
    with pytest.raises(ValueError, match=r"box \[-2.0, 2.0\]\^2 .* Received: 2 of 4 points outside"):
        grid.log_likelihood(x)
    assert np.isfinite(grid.log_likelihood(x[:2]))


# ---------------------------------------------------------------------------
# Datasets


def test_the_mixture_density_integrates_to_one_on_the_grid():
    grid = toy.grid_density(lambda x: -toy.gaussian_mixture_log_density(x))
    assert grid.log_z == pytest.approx(0.0, abs=1e-6)
    assert grid.mass(toy.gaussian_mixture_log_density) == pytest.approx(1.0, abs=1e-6)
    wide = {"n_components": 3, "radius": 1.0, "sigma": 0.5}
    assert grid.mass(lambda x: toy.gaussian_mixture_log_density(x, **wide)) == pytest.approx(1.0, abs=1e-6)


def test_the_mixture_density_matches_a_histogram_of_its_samples():
    n, bins, per_bin = 200_000, 20, 20  # 0.4-wide bins over [-4, 4]^2, 20 x 20 grid cells each
    samples = toy.gaussian_mixture(n, seed=3)
    grid = toy.grid_density(lambda x: -toy.gaussian_mixture_log_density(x), n_grid=bins * per_bin)
    p = (grid.density * grid.cell_area).reshape(bins, per_bin, bins, per_bin).sum(axis=(1, 3))  # [y, x]
    counts, _, _ = np.histogram2d(samples[:, 1], samples[:, 0], bins=bins, range=[[-4, 4], [-4, 4]])
    assert counts.sum() == n
    full = n * p >= 5
    z = (counts[full] - n * p[full]) / np.sqrt(n * p[full] * (1 - p[full]))
    assert np.max(np.abs(z)) < 5, np.max(np.abs(z))
    assert counts[~full].sum() <= n * p[~full].sum() + 5 * math.sqrt(n * p[~full].sum() + 1)


@pytest.mark.parametrize("name", sorted(toy.DATASETS))
def test_datasets_are_seeded_float32_pairs_in_the_box(name):
    x = toy.load(name, 2000, seed=7)
    assert x.dtype == np.float32 and x.shape == (2000, 2)
    np.testing.assert_array_equal(x, toy.load(name, 2000, seed=7))
    np.testing.assert_array_equal(x, toy.DATASETS[name](2000, seed=7))
    assert not np.array_equal(x, toy.load(name, 2000, seed=8))
    assert toy.load(name, 1).shape == (1, 2)  # seed=None: fresh entropy
    assert np.mean(np.all(np.abs(x) <= 3.0, axis=1)) > 0.9
    assert np.all(np.abs(x) < 4.0)  # inside the default quadrature box


def test_dataset_geometry():
    moons = toy.two_moons(20_000, noise=0.0, seed=0)
    assert moons.min(axis=0) == pytest.approx([-3, -1.5], abs=1e-2)
    assert moons.max(axis=0) == pytest.approx([3, 1.5], abs=1e-2)
    upper = np.hypot(moons[:, 0] / 2 + 0.5, moons[:, 1] / 2 + 0.25)  # make_moons's units
    lower = np.hypot(moons[:, 0] / 2 + 0.5 - 1.0, moons[:, 1] / 2 + 0.25 - 0.5)
    assert np.allclose(np.minimum(np.abs(upper - 1), np.abs(lower - 1)), 0, atol=1e-5)

    r = np.hypot(*toy.rings(20_000, radii=(0.5, 1.5, 2.5), noise=0.0, seed=0).T)
    assert np.allclose(np.min(np.abs(r[:, None] - [0.5, 1.5, 2.5]), axis=1), 0, atol=1e-5)
    assert np.bincount(np.argmin(np.abs(r[:, None] - [0.5, 1.5, 2.5]), axis=1)) / 20_000 == pytest.approx(
        [1 / 3] * 3, abs=0.02)

    x = toy.gaussian_mixture(40_000, seed=0)
    means = toy.gaussian_mixture_means()
    nearest = np.argmin(np.sum((x[:, None] - means) ** 2, axis=-1), axis=1)
    assert np.bincount(nearest, minlength=8) / 40_000 == pytest.approx([1 / 8] * 8, abs=0.01)
    assert np.linalg.norm(means, axis=1) == pytest.approx([2.0] * 8)
    assert np.std(x - means[nearest]) == pytest.approx(0.2, abs=0.005)


def test_the_log_density_is_that_of_one_gaussian_for_one_component():
    x = np.random.default_rng(0).normal(size=(50, 2))
    np.testing.assert_allclose(
        toy.gaussian_mixture_log_density(x, n_components=1, radius=0.0, sigma=0.8),
        gaussian_log_density(0.8)(x), rtol=1e-12)


# ---------------------------------------------------------------------------
# Figures


def _trained_like_energy(x):
    return -toy.gaussian_mixture_log_density(x)


FIGURES = {
    "energy_landscape": lambda path: plots.energy_landscape(
        _trained_like_energy, n_grid=40, data=toy.gaussian_mixture(200, seed=0),
        samples=toy.gaussian_mixture(100, seed=1), path=path),
    "energy_landscape_of_a_grid": lambda path: plots.energy_landscape(
        toy.grid_density(gaussian_energy(0.5), bounds=(-2, 2), n_grid=30), path=path),
    "chains": lambda path: plots.chains(
        np.cumsum(np.random.default_rng(0).normal(0, 0.1, (30, 5, 2)), axis=0),
        data=toy.two_moons(200, seed=0), path=path),
    "image_chains_grey": lambda path: plots.image_chains(
        np.random.default_rng(0).uniform(-1.2, 1.2, (6, 10, 8, 8, 1)), path=path, n_show=4),
    "image_chains_rgb": lambda path: plots.image_chains(
        np.random.default_rng(0).uniform(-1, 1, (3, 2, 8, 8, 3)), path=path),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_with_and_without_a_path(name, tmp_path, check_figure):
    path = tmp_path / "sub" / f"{name}.png"
    check_figure(FIGURES[name](path), path)
    check_figure(FIGURES[name](None))


def test_image_chains_draw_chains_as_rows_and_steps_as_columns():
    import matplotlib.pyplot as plt

    frames = np.zeros((5, 3, 4, 6, 1))  # 5 steps, 3 chains of 4 x 6 images
    fig = plots.image_chains(frames)
    try:
        canvas = fig.axes[0].get_images()[0].get_array()
        assert canvas.shape == (3 * 5 + 1, 5 * 7 + 1)  # rows: 3 chains of (4 + 1), columns: 5 steps of (6 + 1)
        assert "3 chains (rows), 5 recorded steps (columns)" in fig.axes[0].get_title()
    finally:
        plt.close(fig)


# ---------------------------------------------------------------------------
# Bad input


def _grid():
    return toy.grid_density(gaussian_energy(0.5), n_grid=10)


BAD = [
    (lambda: toy.two_moons(0), r"`n` must be a positive int.* Received: n=0"),
    (lambda: toy.rings(2.5), r"Received: n=2.5"),
    (lambda: toy.gaussian_mixture(True), r"Received: n=True"),
    (lambda: toy.two_moons(10, noise=-0.1), r"`noise` must be a finite float >= 0. Received: noise=-0.1"),
    (lambda: toy.rings(10, noise=NAN), r"Received: noise=nan"),
    (lambda: toy.rings(10, radii=()), r"`radii` must be a non-empty .* Received: radii=\(\)"),
    (lambda: toy.rings(10, radii=(1.0, -1.0)), r"Received: radii=\(1.0, -1.0\)"),
    (lambda: toy.gaussian_mixture(10, sigma=0.0), r"`sigma` must be a finite float > 0. Received: sigma=0.0"),
    (lambda: toy.gaussian_mixture(10, n_components=0), r"Received: n_components=0"),
    (lambda: toy.two_moons(10, seed=-1), r"`seed` must be None or an int in \[0, .* Received: seed=-1"),
    (lambda: toy.rings(10, seed="a"), r"Received: seed='a'"),
    (lambda: toy.load("spirals", 10),
     r"`name` must be one of \['gaussian_mixture', 'rings', 'two_moons'\]. Received: name='spirals'"),
    (lambda: toy.gaussian_mixture_log_density(np.zeros((3, 3))), r"shape \(batch, 2\). Received: shape=\(3, 3\)"),
    (lambda: toy.grid_density(gaussian_energy(1), bounds=(1, 1)), r"lo < hi. Received: bounds=\(1, 1\)"),
    (lambda: toy.grid_density(gaussian_energy(1), bounds=(3, -3)), r"Received: bounds=\(3, -3\)"),
    (lambda: toy.grid_density(gaussian_energy(1), bounds=(0, INF)), r"Received: bounds=\(0, inf\)"),
    (lambda: toy.grid_density(gaussian_energy(1), bounds=4), r"Received: bounds=4"),
    (lambda: toy.grid_density(gaussian_energy(1), bounds=(-1, 0, 1)), r"Received: bounds=\(-1, 0, 1\)"),
    (lambda: toy.grid_density(gaussian_energy(1), n_grid=1), r"`n_grid` must be an int in \[2, .* Received: n_grid=1"),
    (lambda: toy.grid_density(gaussian_energy(1), n_grid=20.0), r"Received: n_grid=20.0"),
    (lambda: toy.grid_density(gaussian_energy(1), n_grid=10**6), r"Received: n_grid=1000000"),
    (lambda: toy.grid_density("energy"), r"`energy_fn` must be callable. Received: energy_fn='energy'"),
    (lambda: toy.grid_density(lambda x: x[:, :1], n_grid=10),
     r"`energy_fn` must return energies of shape \(100,\) .* Received: shape=\(100, 1\)"),
    (lambda: toy.grid_density(lambda x: np.where(x[:, 0] > 3, NAN, 0.0), n_grid=10),
     r"`energy_fn` must return finite energies. Received: 10 NaN/Inf energies of 100"),
    (lambda: toy.grid_density(lambda x: np.full(len(x), -INF), n_grid=10), r"finite energies. Received: 100"),
    (lambda: _grid().log_density(np.zeros((4, 3))), r"`x` must have shape \(batch, 2\). Received: shape=\(4, 3\)"),
    (lambda: _grid().log_likelihood(np.full((2, 2), NAN)), r"`x` must contain only finite values"),
    (lambda: _grid().log_likelihood(np.zeros((0, 2))), r"`x` must not be empty. Received: shape=\(0, 2\)"),
    (lambda: _grid().kl_divergence(lambda x: np.zeros((len(x), 2))),
     r"`true_log_density` must return log densities of shape \(100,\) .* Received: shape=\(100, 2\)"),
    (lambda: _grid().kl_divergence(lambda x: np.full(len(x), NAN)), r"in \[-inf, inf\). Received: 100 NaN"),
    (lambda: plots.chains(np.zeros((10, 3))),
     r"`trajectories` must have shape \(steps, n_chains, 2\). Received: shape=\(10, 3\)"),
    (lambda: plots.chains(np.zeros((10, 3, 2)), data=np.zeros(5)), r"`data` must have shape \(batch, 2\)"),
    (lambda: plots.energy_landscape(gaussian_energy(1), n_grid=10, samples=np.zeros((5, 3))),
     r"`samples` must have shape \(batch, 2\). Received: shape=\(5, 3\)"),
    (lambda: plots.image_chains(np.zeros((2, 3, 4, 4, 2))), r"1 or 3 channels. Received: shape=\(2, 3, 4, 4, 2\)"),
    (lambda: plots.image_chains(np.zeros((2, 3, 4, 4))), r"Received: shape=\(2, 3, 4, 4\)"),
    (lambda: plots.image_chains(np.zeros((2, 3, 4, 4, 1)), n_show=0), r"`n_show` must be a positive int. Received: n_show=0"),
]


@pytest.mark.parametrize("call,message", BAD, ids=[m[:40] for _, m in BAD])
def test_bad_input_is_refused_with_what_was_expected_and_received(call, message):
    with pytest.raises(ValueError, match=message):
        call()
