"""log Z by AIS against the exact sum, and held-out log-likelihoods in nats."""

import itertools

import numpy as np
import pytest

from keras_genmodels.rbm import (
    AISEstimate,
    BernoulliRBM,
    check_schedule,
    default_ais_schedule,
    log_likelihood,
)
from rbm_testing import random_bernoulli, random_gaussian


def test_default_schedule_is_salakhutdinov_and_murray():
    betas = default_ais_schedule()
    assert len(betas) == 14501 and betas[0] == 0.0 and betas[-1] == 1.0
    steps = np.diff(betas)
    np.testing.assert_allclose(steps[:500], 1e-3)
    np.testing.assert_allclose(steps[500:4500], 1e-4)
    np.testing.assert_allclose(steps[4500:], 1e-5)
    assert len(default_ais_schedule(0.1)) == 1451


@pytest.mark.parametrize(
    "betas,message",
    [
        ([0.0, 0.5, 0.9], r"end at beta = 1 \(the model itself\). Received: betas\[-1\]=0.9"),
        ([0.1, 1.0], r"start at beta = 0"),
        ([0.0, 0.6, 0.4, 1.0], r"non-decreasing. Received: betas\[1\]=0.6 > betas\[2\]=0.4"),
        ([0.0, np.nan, 1.0], r"finite"),
        ([1.0], r"at least 2"),
    ],
)
def test_bad_schedules_are_refused(betas, message):
    with pytest.raises(ValueError, match=message):
        check_schedule(betas)
    with pytest.raises(ValueError, match=message):
        BernoulliRBM(4, 2).log_partition_ais(betas=betas)


def test_ais_matches_exact_on_a_tiny_bernoulli_rbm():
    model = random_bernoulli(12, 6, scale=1.0, seed=0)
    exact = model.log_partition_exact()
    est = model.log_partition_ais(betas=default_ais_schedule(0.2), n_chains=100, seed=0)
    assert isinstance(est, AISEstimate) and est.n_chains == 100
    assert abs(est.log_z - exact) < 0.1
    assert est.lower <= est.log_z <= est.upper and est.std < 0.1


def test_ais_matches_exact_on_a_tiny_gaussian_rbm():
    model = random_gaussian(5, 6, scale=0.6, seed=1)
    exact = model.log_partition_exact()
    est = model.log_partition_ais(betas=default_ais_schedule(0.2), seed=0)
    assert abs(est.log_z - exact) < 0.1


@pytest.fixture(scope="module")
def fashion_784x16(binary_fashion):
    """A 784 x 16 BernoulliRBM trained briefly with CD-1 on binarised Fashion-MNIST.

    (CD rather than PCD: with 16 hidden units, PCD's held-out log-likelihood
    oscillates by tens of nats from epoch to epoch at this learning rate.)
    """
    x_train, x_test = binary_fashion
    model = BernoulliRBM(784, 16, seed=0)
    model.initialize_visible_bias(x_train)
    ll_base = model.log_likelihood(x_test, method="exact")
    model.compile(steps_per_execution=20)
    model.fit(x_train, batch_size=100, epochs=1, verbose=0)
    ll_one = model.log_likelihood(x_test, method="exact")
    model.fit(x_train, batch_size=100, epochs=3, verbose=0)
    return model, ll_base, ll_one


@pytest.mark.slow
def test_ais_within_half_a_nat_of_exact_on_784x16(fashion_784x16):
    model, *_ = fashion_784x16
    exact = model.log_partition_exact()
    est = model.log_partition_ais(seed=1)  # the default schedule, 100 chains
    assert est.n_betas == 14501
    assert abs(est.log_z - exact) < 0.5, (est, exact)


@pytest.mark.slow
def test_training_raises_the_held_out_log_likelihood(fashion_784x16, binary_fashion):
    model, ll_base, ll_one = fashion_784x16
    _, x_test = binary_fashion
    ll_four = log_likelihood(model, x_test, method="exact")
    # The base-rate model (independent pixels) is far worse than the RBM,
    # and three more epochs help further.
    assert ll_base + 20 < ll_one < ll_four - 5, (ll_base, ll_one, ll_four)
    assert -450 < ll_four < -100
    # "auto" sums exactly over the 16 hidden units.
    assert model.log_likelihood(x_test) == pytest.approx(ll_four, abs=1e-6)


def test_log_likelihood_of_a_tiny_model_is_a_normalised_distribution():
    from rbm_testing import all_states

    model = random_bernoulli(8, 3, seed=2)
    v = all_states(8)
    log_p = -model.free_energy(v) - model.log_partition_exact()
    assert np.exp(log_p.astype("float64")).sum() == pytest.approx(1.0, rel=1e-5)
    assert model.log_likelihood(v[:5], method="exact") == pytest.approx(log_p[:5].mean(), abs=1e-5)


@pytest.mark.parametrize("scale", [1e-5, 1e-3, 0.5, 3.0, 50.0])
def test_softplus_difference_matches_float64(scale):
    """softplus(a) - softplus(a - d) in float32 from sigmoid(a): both branches, against float64."""
    from keras import ops

    from keras_genmodels.rbm.partition import softplus_difference

    rng = np.random.default_rng(0)
    a = rng.normal(0, 30, (64, 50))
    d = scale * rng.normal(0, 1, a.shape)
    exact = np.logaddexp(0, a) - np.logaddexp(0, a - d)
    a32, d32 = a.astype("float32"), d.astype("float32")
    got = ops.convert_to_numpy(
        softplus_difference(
            ops.convert_to_tensor(a32), ops.sigmoid(ops.convert_to_tensor(a32)), ops.convert_to_tensor(d32)
        )
    )
    assert np.all(np.isfinite(got))
    # float32 inputs carry a relative error of ~6e-8; the result may not be closer than that.
    tolerance = 1e-6 * np.abs(d) + 1e-5 * np.abs(exact) + 1e-6 * (scale > 10)
    np.testing.assert_array_less(np.abs(got - exact), tolerance + 1e-7)


def test_exact_log_z_compiles_once_per_model_and_follows_its_weights():
    """The compiled chunk sum is kept with the model (no retracing on each
    call), and it reads the model's variables: new weights give their own Z."""
    from keras_genmodels.rbm import partition

    rbm = BernoulliRBM(10, 5, seed=0)
    first = rbm.log_partition_exact()
    (fn,) = partition._EXACT_FUNCTIONS[rbm].values()
    assert rbm.log_partition_exact() == first
    rbm.kernel.assign(rbm.kernel.numpy() * 3.0)
    rbm.visible_bias.assign(np.full(10, -0.5, "float32"))
    (same,) = partition._EXACT_FUNCTIONS[rbm].values()
    assert same is fn
    w, b, c = (np.asarray(v, "float64") for v in (rbm.kernel, rbm.visible_bias, rbm.hidden_bias))
    h = np.array(list(itertools.product([0.0, 1.0], repeat=5)))
    expected = np.logaddexp.reduce(h @ c + np.logaddexp(0.0, b + h @ w.T).sum(axis=1))
    np.testing.assert_allclose(rbm.log_partition_exact(), expected, rtol=1e-6)
    assert fn.experimental_get_tracing_count() == 1
