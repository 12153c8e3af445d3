"""Block Gibbs sampling: chains reach the exact distribution; seeds reproduce."""

import numpy as np
import pytest

from keras_genmodels.rbm import plots
from rbm_testing import all_states, random_bernoulli, random_gaussian


def test_gibbs_chains_reach_the_exact_distribution_of_a_tiny_rbm():
    model = random_bernoulli(4, 3, scale=1.5, seed=0)
    states = all_states(4)
    log_p = -model.free_energy(states).astype("float64") - model.log_partition_exact()
    exact = np.exp(log_p)
    assert exact.sum() == pytest.approx(1.0, rel=1e-5)

    # 20,000 chains from all-zero states, 50 sweeps each.
    v = model.gibbs(np.zeros((20000, 4), "float32"), steps=50, seed=1)
    codes = (v @ (2 ** np.arange(4))).astype(int)
    empirical = np.bincount(codes, minlength=16) / len(codes)
    total_variation = 0.5 * np.abs(empirical - exact).sum()
    assert total_variation < 0.02, (empirical, exact)
    # A chain of one sweep has not mixed yet: the test can tell the difference.
    v1 = model.gibbs(np.zeros((20000, 4), "float32"), steps=1, seed=1)
    early = np.bincount((v1 @ (2 ** np.arange(4))).astype(int), minlength=16) / 20000
    assert 0.5 * np.abs(early - exact).sum() > total_variation


def test_seeded_sampling_is_reproducible_and_unseeded_is_not():
    model = random_bernoulli(6, 4, seed=1)
    v = (np.random.default_rng(0).random((50, 6)) < 0.5).astype("float32")
    np.testing.assert_array_equal(model.gibbs(v, 5, seed=3), model.gibbs(v, 5, seed=3))
    assert not np.array_equal(model.gibbs(v, 5), model.gibbs(v, 5))
    np.testing.assert_array_equal(model.sample(10, steps=20, seed=4), model.sample(10, steps=20, seed=4))


def test_sample_shapes_and_ranges():
    model = random_bernoulli(6, 4, seed=2)
    means = model.sample(7, steps=3, seed=0)
    binary = model.sample(7, steps=3, seed=0, return_means=False)
    assert means.shape == binary.shape == (7, 6)
    assert np.all((means >= 0) & (means <= 1)) and set(np.unique(binary)) <= {0.0, 1.0}
    gaussian = random_gaussian(3, 2, seed=3)
    assert gaussian.sample(5, steps=2, seed=0, return_means=False).shape == (5, 3)


def test_gibbs_chain_frames_and_plots(tmp_path, check_figure):
    model = random_bernoulli(16, 5, seed=4)
    frames = plots.gibbs_chain_frames(model, n_chains=3, n_frames=4, steps_per_frame=2, seed=0)
    assert frames.shape == (3, 4, 16)
    assert plots.image_shape_of(784) == (28, 28) and plots.image_shape_of(10) == (1, 10)
    for fn in (plots.plot_filters, plots.plot_gibbs_chains, plots.plot_samples):
        path = tmp_path / f"{fn.__name__}.png"
        check_figure(fn(model, path), path)  # the PNG, and its path returned
        check_figure(fn(model))  # no path: the open Figure (shown inline in Jupyter)
