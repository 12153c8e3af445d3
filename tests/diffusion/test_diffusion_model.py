"""`DiffusionModel`: training with the EMA network, sampling, the variational bound against closed forms, saving.

The networks here are tiny functional models with the interface of `diffusion.networks` ([x_t, τ] → ε̂), or
the exact noise predictor of a data distribution concentrated on one point x_0,
E[ε | x_t] = (x_t − √ᾱ_t x_0) / √(1 − ᾱ_t), for which the bound's terms and the samples have closed forms.
"""

import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_genmodels import training
from keras_genmodels.diffusion import schedules
from keras_genmodels.diffusion.model import (
    DiffusionModel,
    binary_decoder_log_likelihood,
)
from keras_genmodels.sampling import backend
from keras_genmodels.saving import load_model, save_model

SHAPE = (4, 4, 1)
D = 16
T = 10


def _network(shape=SHAPE, out_shape=None, seed=0, zero=False):
    """ε̂ = Dense(tanh(Dense([flatten(x_t), τ]))), reshaped: the interface of the library's networks."""
    out_shape = shape if out_shape is None else out_shape
    x_in, t_in = keras.Input(shape), keras.Input(())
    h = keras.layers.Concatenate()([keras.layers.Flatten()(x_in), keras.layers.Reshape((1,))(t_in)])
    h = keras.layers.Dense(16, activation="tanh", kernel_initializer=keras.initializers.GlorotUniform(seed))(h)
    init = "zeros" if zero else keras.initializers.GlorotUniform(seed + 1)
    out = keras.layers.Dense(math.prod(out_shape), kernel_initializer=init)(h)
    return keras.Model([x_in, t_in], keras.layers.Reshape(out_shape)(out))


class ExactNoise(keras.Model):
    """E[ε | x_t] for data concentrated on x0: (x_t − √ᾱ_t x0) / √(1 − ᾱ_t), t read back from τ = t / T."""

    def __init__(self, x0, alphas_cumprod, **kwargs):
        super().__init__(**kwargs)
        self.x0 = np.asarray(x0, "float32")
        self.abar = np.asarray(alphas_cumprod, "float64")

    def call(self, inputs):
        x_t, tau = inputs
        index = ops.cast(ops.round(tau * len(self.abar)), "int32") - 1
        abar = ops.reshape(ops.take(self.abar.astype("float32"), index), (-1,) + (1,) * len(self.x0.shape))
        return (x_t - ops.sqrt(abar) * self.x0) / ops.sqrt(1.0 - abar)

    def get_config(self):
        return {"x0": self.x0.tolist(), "alphas_cumprod": self.abar.tolist(), "name": self.name}


def _tiny(data="grey", network=None, **kwargs):
    return DiffusionModel(_network() if network is None else network, data_shape=SHAPE, timesteps=T, data=data,
                          seed=0, **kwargs)


def _exact(x0, data="grey", **kwargs):
    abar = schedules.alphas_cumprod(schedules.linear_beta_schedule(T))
    return _tiny(data, network=ExactNoise(x0, abar), **kwargs)


def _grey(n=64, seed=0):
    return (np.random.default_rng(seed).integers(0, 256, (n,) + SHAPE) / 127.5 - 1.0).astype("float32")


def _phi(z):
    """The standard normal CDF, elementwise."""
    return 0.5 * (1.0 + np.vectorize(math.erf)(np.asarray(z, "float64") / math.sqrt(2.0)))


def _weights(model):
    return [w.copy() for w in model.network.get_weights()], [w.copy() for w in model.ema_network.get_weights()]


# ------------------------------------------------------------------ building
def test_schedule_constants_come_from_the_config():
    linear, cosine = _tiny(), _tiny(schedule="cosine", cosine_s=0.01)
    np.testing.assert_array_equal(linear.betas, schedules.linear_beta_schedule(T))
    np.testing.assert_array_equal(cosine.betas, schedules.cosine_beta_schedule(T, 0.01))
    abar, b = linear.alphas_cumprod, linear.betas
    assert linear.decoder_log_variance == pytest.approx(math.log((1 - abar[0]) / (1 - abar[1]) * b[1]))  # β̃_2
    assert not any("beta" in w.path for w in linear.weights)  # constants, recomputed from the config


def test_config_round_trip_and_default_optimizer():
    model = _tiny(data="binary", loss="mae", ema_decay=0.5, schedule="cosine")
    clone = DiffusionModel.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    model.compile()
    assert isinstance(model.optimizer, keras.optimizers.AdamW)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3) and model.optimizer.weight_decay == 1e-4


def test_default_networks_fit_the_data_shape():
    networks = pytest.importorskip("keras_genmodels.diffusion.networks")
    for data, default in (("spins", networks.lattice_network(8, seed=0)), ("grey", networks.unet((8, 8, 1), seed=0))):
        model = DiffusionModel(data_shape=(8, 8, 1), timesteps=T, data=data, seed=0)
        assert model.network.count_params() == default.count_params() == model.ema_network.count_params()
        assert tuple(model([np.zeros((2, 8, 8, 1), "float32"), np.zeros(2, "int32")]).shape) == (2, 8, 8, 1)


# ------------------------------------------------------------------ training
@pytest.mark.parametrize("warmup, decay", [(False, 0.9), (True, 2 / 11)])
def test_fit_reports_the_loss_and_moves_the_ema_after_each_step(warmup, decay):
    """w_ema ← d_1 w_ema + (1 − d_1) w after the first step: d_1 = d, or min(d, 2 / 11) with the warm-up."""
    model = _tiny(ema_decay=0.9, ema_warmup=warmup)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    w0, ema0 = _weights(model)
    for a, b in zip(w0, ema0):
        np.testing.assert_array_equal(a, b)  # the EMA starts at the network's weights
    history = model.fit(_grey(16), batch_size=16, epochs=1, verbose=0).history
    assert set(history) == {"loss"} and np.isfinite(history["loss"][0])
    w1, ema1 = _weights(model)
    assert any(not np.array_equal(a, b) for a, b in zip(w0, w1))
    for a, b, e in zip(w0, w1, ema1):
        np.testing.assert_allclose(e, decay * a + (1 - decay) * b, rtol=1e-5, atol=1e-7)
    assert len(model.trainable_variables) == len(model.network.trainable_variables)


def test_ema_warmup_decay_rises_to_the_decay():
    model = _tiny(ema_decay=0.999)
    steps = np.array([1, 10, 100, 1000, 10000])
    got = [float(ops.convert_to_numpy(model.ema_decay_at(n))) for n in steps]
    np.testing.assert_allclose(got, np.minimum(0.999, (1 + steps) / (10 + steps)), rtol=1e-6)
    assert float(ops.convert_to_numpy(_tiny(ema_decay=0.999, ema_warmup=False).ema_decay_at(1))) == \
        pytest.approx(0.999)
    assert DiffusionModel.from_config(_tiny(ema_warmup=False).get_config()).ema_warmup is False


def test_ema_decay_zero_keeps_the_live_weights_and_sampling_can_use_either():
    model = _tiny(ema_decay=0.0)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    model.fit(_grey(32), batch_size=16, epochs=1, verbose=0)
    for a, b in zip(*_weights(model)):
        np.testing.assert_array_equal(a, b)
    live = model.sample(4, seed=1, method="ddim", steps=2, use_ema=False)
    np.testing.assert_array_equal(live, model.sample(4, seed=1, method="ddim", steps=2))


@pytest.mark.parametrize("loss, expected", [("mse", 1.0), ("mae", math.sqrt(2 / math.pi))])
def test_a_zero_prediction_scores_the_noise_itself(loss, expected):
    """ε̂ = 0: ℓ = mean ε² (E = 1) or mean |ε| (E = √(2/π)), over 4096 draws."""
    model = _tiny(network=_network(zero=True), loss=loss)
    losses = ops.convert_to_numpy(model.losses_of(model.to_model_space(_grey(256))))
    assert losses.shape == (256,) and abs(losses.mean() - expected) < 0.05


def test_training_does_not_stall_at_the_loss_of_a_constant_prediction(fashion_mnist_dir):
    """keras-io#989 reports DDPM training stuck at a constant loss. ε̂ = 0 scores E‖ε‖²/D = 1: the default
    U-Net (narrow) on 256 Fashion-MNIST images goes well below it within 8 epochs of 8 steps, and keeps falling."""
    from keras_genmodels.diffusion import networks
    from keras_genmodels import signed_data as data

    x = data.load_images("fashion_mnist", "train", 256, fashion_mnist_dir)
    model = DiffusionModel(networks.unet(widths=(8, 16), block_depth=1, seed=0), seed=0)
    model.compile()
    loss = model.fit(x, batch_size=32, epochs=8, verbose=0).history["loss"]
    assert loss[0] > 0.8 and loss[-1] < 0.45 and loss[-1] < min(loss[:-1]), loss


def test_nan_stops_training():
    model = _tiny()
    model.compile(optimizer=keras.optimizers.SGD(1e38))
    with pytest.raises(training.NonFiniteLossError):
        model.fit(_grey(64), batch_size=16, epochs=3, verbose=0, callbacks=[training.TerminateOnNonFinite()])


def test_saved_model_resumes_training_bit_for_bit(tmp_path):
    x = _grey(64)
    model = _tiny(ema_decay=0.5)
    model.compile()
    model.fit(x, batch_size=16, epochs=1, verbose=0)
    loaded = load_model(save_model(model, tmp_path / "diffusion.keras"), safe_mode=True)
    assert int(loaded.optimizer.iterations.numpy()) == 4
    assert len(loaded.get_weights()) == len(model.get_weights())
    for a, b in zip(_weights(model), _weights(loaded)):  # the live and the EMA weights
        for u, w in zip(a, b):
            np.testing.assert_array_equal(u, w)
    for g, h in zip(model.seed_generators(), loaded.seed_generators()):
        np.testing.assert_array_equal(g.state.numpy(), h.state.numpy())
    model.fit(x, batch_size=16, epochs=1, verbose=0)
    loaded.fit(x, batch_size=16, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.sample(3, method="ddim", steps=2), model.sample(3, method="ddim", steps=2))


# ------------------------------------------------------------------ sampling
def test_deterministic_ddim_depends_on_the_seed_only_and_samples_are_data():
    model = _tiny()
    a, b = model.sample(5, seed=3, method="ddim", steps=4), model.sample(5, seed=3, method="ddim", steps=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, model.sample(5, seed=4, method="ddim", steps=4))
    np.testing.assert_array_equal(model.sample(2, seed=3, method="ddim", steps=4, batch_size=2), a[:2])
    assert a.shape == (5,) + SHAPE and a.min() >= -1 and a.max() <= 1
    assert len(model._sample_fns) == 1  # one compiled loop per (method, steps, η, use_ema)
    c, d = model.sample(5, method="ddpm"), model.sample(5, method="ddpm")
    assert not np.array_equal(c, d)  # the stream continues


@pytest.mark.parametrize("data", ["grey", "binary", "spins"])
@pytest.mark.parametrize("method, steps, eta", [("ddpm", None, None), ("ddim", 3, 0.0), ("ddim", 3, 1.0)])
def test_the_exact_noise_predictor_samples_its_one_point(data, method, steps, eta):
    """For data concentrated on x_0, x̂_0 = x_0 at every step: the last step of either sampler returns it."""
    rng = np.random.default_rng(1)
    x0 = rng.choice([-1.0, 1.0], SHAPE) if data != "grey" else rng.integers(0, 256, SHAPE) / 127.5 - 1
    samples = _exact(x0, data).sample(3, seed=0, method=method, steps=steps, eta=eta)
    expected = (x0 > 0).astype("float32") if data == "binary" else x0
    np.testing.assert_allclose(samples, np.broadcast_to(expected, samples.shape), atol=1e-4)


# -------------------------------------------------------------------- bound
def test_bound_of_the_exact_noise_predictor_is_the_closed_form():
    """ε̂ exact: μ_θ = μ̃_t, so L_{t−1} = D/2 (log β_t/β̃_t + β̃_t/β_t − 1) (p_θ's variance is β_t), the decoder's
    mean is x_0 (−log P of its bin ±1/255 under N(x_0, β̃_2)), and L_T is the Gaussian KL of N(√ᾱ_T x_0, 1 − ᾱ_T)."""
    x0 = np.random.default_rng(2).integers(1, 255, SHAPE) / 127.5 - 1  # interior bins
    model = _exact(x0)
    bound = model.log_likelihood_bound(np.broadcast_to(x0, (3,) + SHAPE), seed=0)
    b, abar = model.betas, model.alphas_cumprod
    posterior = (1 - abar[:-1]) / (1 - abar[1:]) * b[1:]  # β̃_2..β̃_T
    diffusion = D / 2 * np.sum(np.log(b[1:] / posterior) + posterior / b[1:] - 1)
    prior = 0.5 * np.sum(abar[-1] * x0**2 + (1 - abar[-1]) - np.log(1 - abar[-1]) - 1)
    sigma = math.sqrt(posterior[0])
    decoder = -D * math.log(_phi(1 / 255 / sigma) - _phi(-1 / 255 / sigma))
    np.testing.assert_allclose(bound["diffusion"], diffusion, rtol=1e-4)
    np.testing.assert_allclose(bound["prior"], prior, rtol=1e-5)
    np.testing.assert_allclose(bound["decoder"], decoder, rtol=1e-3)
    np.testing.assert_allclose(bound["nats"], prior + diffusion + decoder, rtol=1e-3)
    np.testing.assert_allclose(bound["bits_per_dim"], bound["nats"] / (D * math.log(2)))


def test_bound_is_the_sum_of_nonnegative_terms_at_the_streams_draws():
    """The compiled loop against the terms computed one by one, eagerly, with the same draws."""
    model = _tiny()
    x = _grey(4)
    bound = model.log_likelihood_bound(x, seed=5, batch_size=4)
    model.reseed(5)
    x0, gen = model.to_model_space(x), model.sampling_seed_generator
    terms = [model.diffusion_term(x0, np.full(4, t, "int32"), backend.normal(x.shape, "float32", gen))
             for t in range(1, T)]
    terms = np.stack([ops.convert_to_numpy(term) for term in terms])
    decoder = ops.convert_to_numpy(model.decoder_term(x0, backend.normal(x.shape, "float32", gen)))
    assert np.all(terms >= -1e-6) and np.all(decoder >= 0) and np.all(bound["prior"] >= 0)
    np.testing.assert_allclose(bound["diffusion"], terms.sum(axis=0), rtol=1e-5)
    np.testing.assert_allclose(bound["decoder"], decoder, rtol=1e-5)
    again = model.log_likelihood_bound(x, seed=5, use_ema=True)
    np.testing.assert_array_equal(again["nats"], bound["nats"])


def _exact_steps(model):
    """The exact predictor's L_{t−1} for t = 2..T: D/2 (log β_t/β̃_t + β̃_t/β_t − 1), whatever x_t."""
    b, abar = model.betas, model.alphas_cumprod
    posterior = (1 - abar[:-1]) / (1 - abar[1:]) * b[1:]
    return D / 2 * (np.log(b[1:] / posterior) + posterior / b[1:] - 1)


def test_timestep_strata_cut_the_steps_into_contiguous_pieces():
    model = _tiny()
    starts, sizes = model.timestep_strata(4)  # T − 1 = 9 steps: 3 + 2 + 2 + 2
    np.testing.assert_array_equal(sizes, [3, 2, 2, 2])
    np.testing.assert_array_equal(starts, [1, 4, 6, 8])
    starts, sizes = model.timestep_strata()
    np.testing.assert_array_equal(starts, np.arange(1, T))
    np.testing.assert_array_equal(sizes, np.ones(T - 1))


def test_stratified_bound_is_exact_with_one_step_per_stratum_and_unbiased_with_fewer():
    """The exact predictor's L_{t−1} does not depend on x_t: K = T − 1 strata give the sum itself, and with
    K = 1 (one step in 2..T, weight T − 1) the mean over examples is the sum within its standard error."""
    x0 = np.random.default_rng(2).integers(1, 255, SHAPE) / 127.5 - 1
    model = _exact(x0)
    steps = _exact_steps(model)
    full = model.log_likelihood_bound(np.broadcast_to(x0, (2,) + SHAPE), seed=0, timestep_samples=T - 1)
    np.testing.assert_allclose(full["diffusion"], steps.sum(), rtol=1e-4)
    one = model.log_likelihood_bound(np.broadcast_to(x0, (4000,) + SHAPE), seed=1, timestep_samples=1,
                                     batch_size=1000)
    assert set(np.round(one["diffusion"] / (T - 1), 3)) <= set(np.round(steps, 3))  # one step's term, weighted
    stderr = (T - 1) * steps.std() / math.sqrt(4000)
    assert abs(one["diffusion"].mean() - steps.sum()) < 4 * stderr
    assert one["diffusion"].std() > 0.1 * steps.sum()  # the draws do differ between examples
    np.testing.assert_allclose(one["prior"], full["prior"][0], rtol=1e-6)


def test_binary_decoder_is_two_bins_of_the_gaussian():
    means = np.linspace(-0.2, 0.2, 41)
    log_scale = np.log(0.01)
    up = np.exp(ops.convert_to_numpy(binary_decoder_log_likelihood(np.ones_like(means), means, log_scale)))
    down = np.exp(ops.convert_to_numpy(binary_decoder_log_likelihood(-np.ones_like(means), means, log_scale)))
    np.testing.assert_allclose(up + down, 1.0, atol=1e-6)
    # log Φ(μ/σ) to 1e-4 nats, floored at log 1e-12 (float64 1 + erf loses digits near the floor).
    np.testing.assert_allclose(np.log(up), np.log(np.maximum(_phi(means / 0.01), 1e-12)), atol=1e-4)


def test_binary_bound_maps_pixels_to_plus_minus_one():
    """The exact predictor on binary data: decoder mean x_0 = ±1, σ_1 ≈ 0.008, so P(b | x_1) = 1 − 1e-35."""
    x0 = np.random.default_rng(3).choice([-1.0, 1.0], SHAPE)
    model = _exact(x0, "binary")
    bound = model.log_likelihood_bound(np.broadcast_to((x0 + 1) / 2, (2,) + SHAPE), seed=0)
    np.testing.assert_allclose(bound["decoder"], 0.0, atol=1e-5)
    assert np.all(bound["diffusion"] > 0)


# ---------------------------------------------------------------- bad input
def _fit(model, x):
    model.compile()
    return lambda: model.fit(x, batch_size=8, epochs=1, verbose=0)


BAD_INPUT = [
    ("wrong-data-shape", lambda: _fit(_tiny(), np.zeros((8, 28, 28, 1), "float32"))(),
     r"`x` must have shape \(batch, 4, 4, 1\). Received: shape=\(8, 28, 28, 1\)"),
    ("grey-out-of-range", lambda: _fit(_tiny(), np.full((8,) + SHAPE, 255.0, "float32"))(),
     r"`x` must be images in \[-1, 1\] \(data='grey'.*Received values in \[255.0, 255.0\]"),
    ("nan-data", lambda: _fit(_tiny(), np.full((8,) + SHAPE, np.nan, "float32"))(), "finite"),
    ("binary-not-0-1", lambda: _fit(_tiny("binary"), np.full((8,) + SHAPE, 0.5, "float32"))(),
     r"`x` must be binary \(every value 0 or 1\). Received values such as \[0.5"),
    ("spins-not-plus-minus-one", lambda: _fit(_tiny("spins"), np.zeros((8,) + SHAPE, "float32"))(),
     r"every value −1 or \+1 \(data='spins'\). Received values \{0\}"),
    ("bound-out-of-range", lambda: _tiny().log_likelihood_bound(np.full((2,) + SHAPE, 2.0)), r"\[-1, 1\]"),
    ("bound-strata-above-steps", lambda: _tiny().log_likelihood_bound(_grey(2), timestep_samples=T),
     r"`timestep_samples` of at most T − 1 = 9 \(the steps 2..T\). Received: timestep_samples=10"),
    ("bound-strata-zero", lambda: _tiny().log_likelihood_bound(_grey(2), timestep_samples=0),
     r"`timestep_samples` must be a positive int"),
    ("ema-decay-one", lambda: _tiny(ema_decay=1.0), r"`ema_decay` must be a float in \[0, 1\). Received: ema_decay=1.0"),
    ("ema-warmup-not-bool", lambda: _tiny(ema_warmup="yes"), "`ema_warmup` must be"),
    ("ema-decay-negative", lambda: _tiny(ema_decay=-0.1), r"`ema_decay` must be a float in \[0, 1\)"),
    ("timesteps-zero", lambda: DiffusionModel(_network(), data_shape=SHAPE, timesteps=0),
     r"`timesteps` must be a positive int.*Received: timesteps=0"),
    ("unknown-schedule", lambda: _tiny(schedule="quadratic"), r"`schedule` must be one of \['cosine', 'linear'\]"),
    ("unknown-data", lambda: _tiny(data="colour"), r"`data` must be one of \['binary', 'grey', 'spins'\]"),
    ("unknown-loss", lambda: _tiny(loss="huber"), r"`loss` must be one of \['mae', 'mse'\]. Received: loss='huber'"),
    ("beta-end-above-one", lambda: _tiny(beta_end=1.5), r"`beta_end` must be a float in \(0, 1\)"),
    ("beta-start-above-end", lambda: _tiny(beta_start=0.1, beta_end=0.01), "`beta_start` must be <= `beta_end`"),
    ("cosine-s-negative", lambda: _tiny(cosine_s=-1.0), r"`cosine_s` must be a finite float > 0"),
    ("data-shape-junk", lambda: DiffusionModel(_network(), data_shape=(4, 0, 1)), "`data_shape` must be"),
    ("network-not-a-model", lambda: DiffusionModel("unet", data_shape=SHAPE), "`network` must be a keras.Model"),
    ("network-wrong-output", lambda: _tiny(network=_network(out_shape=(4, 4, 2))),
     (r"`network` must return ε̂ of shape \(batch,\) \+ data_shape = \(batch, 4, 4, 1\). "
      r"Received: shape \(2, 4, 4, 2\)")),
    ("network-wrong-input", lambda: _tiny(network=_network(shape=(8, 8, 1))),
     r"`network` must take \[x_t, t\] with x_t of shape \(batch,\) \+ data_shape = \(batch, 4, 4, 1\)"),
    ("ddim-steps-above-T", lambda: _tiny().sample(2, method="ddim", steps=11),
     r"`steps` must be an int in \[1, T\] = \[1, 10\] for method='ddim'. Received: steps=11"),
    ("eta-above-one", lambda: _tiny().sample(2, method="ddim", eta=1.5), r"`eta` must be a float in \[0, 1\]"),
    ("ddpm-fewer-steps", lambda: _tiny().sample(2, steps=5),
     r"`steps` must be None or T = 10 for method='ddpm'.*Received: steps=5"),
    ("ddpm-with-eta", lambda: _tiny().sample(2, eta=0.5), "`eta` applies to method='ddim' only"),
    ("unknown-method", lambda: _tiny().sample(2, method="euler"), r"`method` must be one of \['ddim', 'ddpm'\]"),
    ("seed-junk", lambda: _tiny().sample(2, seed="x"), "`seed` must be None or an int"),
]


@pytest.mark.parametrize("make, expected", [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_a_clear_error(make, expected):
    with pytest.raises(ValueError, match=expected):
        make()
