"""Bad input gets a clear error naming what was expected and what was received."""

import numpy as np
import pytest
import tensorflow as tf

from keras_genmodels import physics
from keras_genmodels.rbm import BernoulliRBM, GaussianBernoulliRBM


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(n_visible=784, n_hidden=0), r"`n_hidden` must be a positive int.* Received: n_hidden=0"),
        (dict(n_visible=0, n_hidden=5), r"Received: n_visible=0"),
        (dict(n_visible=10, n_hidden=5, k=0), r"`k` must be a positive int. Received: k=0"),
        (dict(n_visible=10, n_hidden=5, k=1.5), r"Received: k=1.5"),
        (dict(n_visible=10, n_hidden=5, n_chains=0), r"Received: n_chains=0"),
        (dict(n_visible=10, n_hidden=5, weight_decay=-1.0), r"Received: weight_decay=-1.0"),
        (dict(n_visible=10, n_hidden=5, persistent="yes"), r"Received: persistent='yes'"),
        (dict(n_visible=10, n_hidden=5, centering_rate=2.0), r"\(0, 1\]. Received: centering_rate=2.0"),
        (dict(n_visible=10, n_hidden=5, seed=1.5), r"Received: seed=1.5"),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BernoulliRBM(**kwargs)


def test_bad_gaussian_arguments():
    with pytest.raises(ValueError, match=r"Received: variance=0.0"):
        GaussianBernoulliRBM(4, 2, variance=0.0)
    with pytest.raises(ValueError, match=r"Received: learn_variance=1"):
        GaussianBernoulliRBM(4, 2, learn_variance=1)


def _binary(n=40, d=20):
    return (np.random.default_rng(0).random((n, d)) < 0.5).astype("float32")


def test_non_binary_data_is_refused_by_a_bernoulli_rbm():
    model = BernoulliRBM(20, 4)
    model.compile()
    grey = _binary() * 0.7
    with pytest.raises(ValueError, match=r"must be binary .* Received values such as \[0.7"):
        model.fit(grey, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"must be binary"):
        model.free_energy(grey)
    pixels = _binary() * 255
    with pytest.raises(ValueError, match=r"\[0, 1\] for a BernoulliRBM. Received values in \[0.0, 255.0\]"):
        model.hidden_probabilities(pixels)
    # Mean-field inputs in [0, 1] are fine for the feature transform.
    assert model.hidden_probabilities(grey).shape == (40, 4)


def test_ising_spins_given_to_a_bernoulli_rbm_get_the_spin_to_bit_map_as_hint():
    model = BernoulliRBM(20, 4)
    spins = 2.0 * _binary() - 1.0
    with pytest.raises(ValueError, match=r"must be binary .* Ising spins .*physics.spins_to_binary"):
        model.free_energy(spins)
    # The hint's map gives data the model takes; other negative values get the general hint.
    assert model.free_energy(physics.spins_to_binary(spins)).shape == (40,)
    with pytest.raises(ValueError, match=r"must be binary .* binarise the data first"):
        model.free_energy(-_binary())


def test_non_binary_data_in_a_dataset_is_caught_first_eagerly_then_inside_the_step():
    model = BernoulliRBM(20, 4)
    model.compile()
    ds = tf.data.Dataset.from_tensor_slices(_binary() * 0.7).batch(10)
    with pytest.raises(ValueError, match=r"`x \(first batch\)` must be binary"):  # before any tracing
        model.fit(ds, epochs=1, verbose=0, shuffle=False)
    later = tf.data.Dataset.from_tensor_slices(np.concatenate([_binary(), _binary() * 0.7])).batch(10)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"expected binary visible values"):
        model.fit(later, epochs=1, verbose=0, shuffle=False)


def test_wrong_number_of_visible_units():
    model = BernoulliRBM(784, 4)
    model.compile()
    with pytest.raises(ValueError, match=r"784 visible units per example .* Received: shape=\(40, 20\)"):
        model.fit(_binary(), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"Received: shape=\(40, 20\)"):
        model.free_energy(_binary())
    # A dataset: its first batch is checked eagerly, as NumPy data are.
    ds = tf.data.Dataset.from_tensor_slices(_binary()).batch(10)
    with pytest.raises(ValueError, match=r"`x \(first batch\)` must have 784 visible units .* Received: shape=\(10, 20\)"):
        model.fit(ds, epochs=1, verbose=0, shuffle=False)
    # Inside the step, the static shape is checked when traced.
    step = tf.function(model.train_step)
    with pytest.raises(ValueError, match=r"Expected 784 visible units per example. Received: shape=\(None, 20\)"):
        step.get_concrete_function(tf.TensorSpec((None, 20), tf.float32))
    # (N, 28, 28, 1) images are flattened.
    images = _binary(40, 784).reshape(40, 28, 28, 1)
    assert model.free_energy(images).shape == (40,)


def test_nan_is_refused():
    for model in (BernoulliRBM(20, 4), GaussianBernoulliRBM(20, 4)):
        model.compile()
        x = _binary()
        x[3, 5] = np.nan
        with pytest.raises(ValueError, match=r"finite values. Received 1 NaN/Inf value"):
            model.fit(x, epochs=1, verbose=0)
        with pytest.raises(ValueError, match=r"finite values"):
            model.log_likelihood(x)
    model = GaussianBernoulliRBM(20, 4)
    model.compile()
    ds = tf.data.Dataset.from_tensor_slices(x).batch(10)
    with pytest.raises(ValueError, match=r"`x \(first batch\)` must contain only finite values"):
        model.fit(ds, epochs=1, verbose=0, shuffle=False)
    later = tf.data.Dataset.from_tensor_slices(np.concatenate([_binary(), x])).batch(10)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Expected finite visible values"):
        model.fit(later, epochs=1, verbose=0, shuffle=False)


def test_bad_method_arguments():
    model = BernoulliRBM(6, 3)
    x = _binary(5, 6)
    with pytest.raises(ValueError, match=r"`steps` must be a positive int. Received: steps=0"):
        model.gibbs(x, steps=0)
    with pytest.raises(ValueError, match=r"`method` must be one of .* Received: method='mcmc'"):
        model.log_likelihood(x, method="mcmc")
    with pytest.raises(ValueError, match=r"`n_chains` must be a positive int. Received: n_chains=0"):
        model.log_partition_ais(n_chains=0)
    with pytest.raises(ValueError, match=r"Received: persistent=False"):
        model.persistent_chains
