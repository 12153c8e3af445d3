"""Energies, free energies, conditionals and log Z against brute-force enumeration."""

import numpy as np
import pytest

from keras_genmodels.rbm import BernoulliRBM, GaussianBernoulliRBM
from rbm_testing import all_states, logsumexp, random_bernoulli, random_gaussian


def _params(model):
    w = np.asarray(model.kernel.numpy(), "float64")
    return w, np.asarray(model.visible_bias.numpy(), "float64"), np.asarray(
        model.hidden_bias.numpy(), "float64"
    )


def test_bernoulli_free_energy_matches_enumeration_over_h():
    model = random_bernoulli(7, 5, scale=1.0, seed=1)
    w, b, c = _params(model)
    v = all_states(7)
    h = all_states(5)
    # E(v, h) = -b.v - c.h - v W h for every pair, shape (128, 32).
    energy = -(v @ b)[:, None] - (h @ c)[None, :] - v @ w @ h.T
    np.testing.assert_allclose(
        model.free_energy(v), -logsumexp(-energy, axis=1), rtol=1e-5, atol=1e-5
    )
    pairs_v, pairs_h = np.repeat(v, 32, 0), np.tile(h, (128, 1))
    np.testing.assert_allclose(
        model.energy(pairs_v, pairs_h), energy.ravel(), rtol=1e-5, atol=1e-5
    )


def test_gaussian_free_energy_matches_enumeration_over_h():
    model = random_gaussian(3, 4, seed=2)
    w, b, c = _params(model)
    var = np.exp(model.log_variance.numpy().astype("float64"))
    v = np.random.default_rng(0).normal(size=(6, 3))
    h = all_states(4)
    energy = (
        (0.5 * (v - b) ** 2 / var).sum(1)[:, None] - (h @ c)[None, :] - (v / var) @ w @ h.T
    )
    np.testing.assert_allclose(
        model.free_energy(v), -logsumexp(-energy, axis=1), rtol=1e-5, atol=1e-5
    )


def test_free_energy_is_stable_for_huge_activations():
    # softplus(x) for x ~ 1e4 must not overflow as log(1 + exp(x)) would.
    model = BernoulliRBM(4, 3)
    model.kernel.assign(np.full((4, 3), 5000.0))
    v = np.array([[1, 1, 0, 0], [0, 0, 0, 0]], "float32")
    f = model.free_energy(v)
    assert np.all(np.isfinite(f))
    np.testing.assert_allclose(f, [-3 * 10000.0, -3 * np.log(2.0)], rtol=1e-6)


@pytest.mark.parametrize("n_visible,n_hidden", [(10, 4), (4, 10)])
def test_exact_log_z_matches_brute_force_over_both_layers(n_visible, n_hidden):
    # (10, 4) sums over hidden states, (4, 10) over visible ones; chunks of 8
    # states exercise the chunked accumulation.
    model = random_bernoulli(n_visible, n_hidden, scale=0.8, seed=3)
    w, b, c = _params(model)
    v, h = all_states(n_visible), all_states(n_hidden)
    energy = -(v @ b)[:, None] - (h @ c)[None, :] - v @ w @ h.T
    expected = logsumexp(-energy)
    assert model.log_partition_exact(chunk_size=8) == pytest.approx(expected, abs=1e-4)


def test_gaussian_exact_log_z_matches_numerical_integration():
    # One Gaussian unit: Z = sum_h int exp(-E(v, h)) dv on a fine grid.
    model = random_gaussian(1, 3, scale=1.0, seed=4)
    w, b, c = _params(model)
    var = float(np.exp(model.log_variance.numpy()[0]))
    grid = np.linspace(-40, 40, 400001)
    h = all_states(3)
    energy = (0.5 * (grid[:, None] - b) ** 2 / var) - (h @ c)[None, :] - (
        grid[:, None] / var
    ) * (h @ w.T).T
    log_integrand = logsumexp(-energy, axis=1)
    expected = logsumexp(log_integrand) + np.log(grid[1] - grid[0])
    assert model.log_partition_exact() == pytest.approx(expected, abs=1e-4)


def test_exact_log_z_refuses_too_many_states():
    model = BernoulliRBM(40, 30)
    with pytest.raises(ValueError, match="m <= max_states_log2=24. Received m=30"):
        model.log_partition_exact()


def test_conditionals_match_closed_form():
    model = random_bernoulli(6, 4, seed=5)
    w, b, c = _params(model)
    v = all_states(6)[::5]
    h = all_states(4)
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    np.testing.assert_allclose(model.hidden_probabilities(v), sigmoid(c + v @ w), rtol=1e-5)
    np.testing.assert_allclose(model.visible_mean(h), sigmoid(b + h @ w.T), rtol=1e-5)
    # reconstruct (mean field) = P(v | h = P(h | v)).
    np.testing.assert_allclose(
        model.reconstruct(v), sigmoid(b + sigmoid(c + v @ w) @ w.T), rtol=1e-5
    )


def test_mean_of_sampled_hiddens_matches_p_h_given_v():
    model = random_bernoulli(8, 6, seed=6)
    v = np.repeat(all_states(8)[[3, 200]], 20000, axis=0)
    h = model.sample_hidden(v, seed=0)
    assert set(np.unique(h)) <= {0.0, 1.0}
    p = model.hidden_probabilities(v[[0, -1]])
    for row, mean in [(0, h[:20000].mean(0)), (1, h[20000:].mean(0))]:
        # 5 standard errors of a mean of 20,000 Bernoulli draws.
        tol = 5 * np.sqrt(p[row] * (1 - p[row]) / 20000) + 1e-6
        assert np.all(np.abs(mean - p[row]) < tol)


def test_mean_of_sampled_visibles_matches_gaussian_conditional():
    model = random_gaussian(3, 2, seed=7)
    h = np.repeat(np.array([[1.0, 0.0]]), 40000, axis=0)
    v = model.sample_visible(h, seed=1)
    np.testing.assert_allclose(v.mean(0), model.visible_mean(h[:1])[0], atol=0.05)
    np.testing.assert_allclose(v.var(0), np.exp(model.log_variance.numpy()), rtol=0.05)


def test_float32_and_float64_agree():
    m32 = random_bernoulli(12, 6, scale=0.7, seed=8)
    m64 = BernoulliRBM(12, 6, dtype="float64")
    for a, b in zip(m64.trainable_variables, m32.trainable_variables):
        a.assign(b.numpy().astype("float64"))
    v = all_states(12)[::7]
    assert m64.free_energy(v).dtype == np.float64
    np.testing.assert_allclose(m32.free_energy(v), m64.free_energy(v), rtol=1e-5)
    np.testing.assert_allclose(
        m32.hidden_probabilities(v), m64.hidden_probabilities(v), rtol=1e-5, atol=1e-7
    )
    assert m32.log_partition_exact() == pytest.approx(m64.log_partition_exact(), rel=1e-6)
    # The closed-form gradient on the same two phases.
    rows = v[:20]
    ph = m64.hidden_probabilities(rows)
    weight = np.r_[np.full(10, -0.1), np.full(10, 0.1)]
    g32 = [np.asarray(g) for g in m32.contrastive_gradient(rows.astype("float32"), ph.astype("float32"), weight.astype("float32"))]
    g64 = [np.asarray(g) for g in m64.contrastive_gradient(rows, ph, weight)]
    for a, b in zip(g32, g64):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_input_array_is_not_modified():
    model = random_bernoulli(6, 3, seed=9)
    v = all_states(6).astype("float32")
    before = v.copy()
    model.free_energy(v)
    model.gibbs(v, steps=3, seed=0)
    model.reconstruct(v, sample_hidden=True, seed=0)
    np.testing.assert_array_equal(v, before)


def test_gaussian_model_accepts_real_values():
    model = GaussianBernoulliRBM(3, 2, seed=0)
    f = model.free_energy(np.array([[0.3, -1.7, 2.5]], "float32"))
    assert f.shape == (1,) and np.isfinite(f).all()
