"""The GAN models: losses against NumPy, the gradient penalty's interpolation and its zero-norm gradient,
the training step's structure (d_steps, which optimizer updates what), saving with both optimizers,
sampling, conditions and export."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_genmodels import training
from keras_genmodels.gan import DCGAN, WGANGP, losses, networks
from keras_genmodels.saving import load_model, save_model


def _sigmoid(d):
    return 1.0 / (1.0 + np.exp(-d))


def _linear_critic(shape, w):
    x_in = keras.Input(shape)
    dense = keras.layers.Dense(1, use_bias=False)
    out = dense(keras.layers.Flatten()(x_in))
    model = keras.Model(x_in, out)
    dense.kernel.assign(np.asarray(w, "float32").reshape(-1, 1))
    return model


def _tiny(cls=WGANGP, **kwargs):
    """A small spin GAN on 8 x 8 lattices (fast), compiled with its recipe's optimizers."""
    model = cls(networks.lattice_generator(8, 4, filters=4, seed=0), networks.lattice_critic(8, filters=4, seed=0),
                data_shape=(8, 8, 1), latent_dim=4, spins=True, seed=0, **kwargs)
    model.compile()
    return model


def _spins(n=64, seed=0):
    return np.sign(np.random.default_rng(seed).normal(size=(n, 8, 8, 1))).astype("float32")


# ------------------------------------------------------------------- losses
def test_dcgan_losses_are_the_binary_cross_entropies_with_smoothed_real_labels():
    rng = np.random.default_rng(0)
    d, d_fake = rng.normal(size=7) * 3, rng.normal(size=7) * 3
    eps = 0.1
    expected = -((1 - eps) * np.log(_sigmoid(d)) + eps * np.log(1 - _sigmoid(d))) - np.log(1 - _sigmoid(d_fake))
    got = ops.convert_to_numpy(losses.discriminator_losses(d[:, None], d_fake[:, None], eps))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(losses.generator_losses(d_fake)), -np.log(_sigmoid(d_fake)),
                               rtol=1e-5)
    # Stable for large logits (no log(0)).
    assert np.all(np.isfinite(ops.convert_to_numpy(losses.discriminator_losses([[100.0]], [[-100.0]]))))


def test_wasserstein_losses_and_penalty_of_a_linear_critic():
    """D(x) = w·x: the gradient is w everywhere, so the penalty is (‖w‖ − 1)² for any x̂."""
    w = np.random.default_rng(1).normal(size=12)
    critic = _linear_critic((2, 3, 2), w)
    real = np.random.default_rng(2).normal(size=(5, 2, 3, 2)).astype("float32")
    fake = np.random.default_rng(3).normal(size=(5, 2, 3, 2)).astype("float32")
    gp = ops.convert_to_numpy(losses.gradient_penalties(critic, real, fake, seed=0))
    np.testing.assert_allclose(gp, (np.linalg.norm(w) - 1) ** 2, rtol=1e-5)
    scores_r, scores_f = real.reshape(5, -1) @ w, fake.reshape(5, -1) @ w
    np.testing.assert_allclose(ops.convert_to_numpy(losses.critic_losses(scores_r, scores_f)), scores_f - scores_r,
                               rtol=1e-5)
    np.testing.assert_allclose(float(losses.gradient_penalty(critic, real, fake, seed=0)), gp.mean(), rtol=1e-6)


def test_penalty_interpolates_with_a_uniform_weight_per_example():
    """D(x) = ‖x‖² / 2 has ∇D(x̂) = x̂ = α x_real (x_fake = 0, ‖x_real‖ = 1): the penalty is (α − 1)², so
    α = 1 − √gp must be U(0, 1) per example (keras-io's normal draw gives α outside [0, 1])."""
    x_in = keras.Input((4, 1, 1))
    critic = keras.Model(x_in, keras.layers.Lambda(lambda x: 0.5 * ops.sum(ops.square(x), axis=(1, 2, 3)))(x_in))
    n = 4000
    real = np.zeros((n, 4, 1, 1), "float32")
    real[:, 0] = 1.0
    gp = ops.convert_to_numpy(losses.gradient_penalties(critic, real, np.zeros_like(real), seed=3))
    alpha = 1.0 - np.sqrt(gp)
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0
    assert abs(alpha.mean() - 0.5) < 0.02 and abs(alpha.var() - 1 / 12) < 0.005
    assert len(np.unique(np.round(alpha, 6))) > n // 2  # one α per example


def test_penalty_at_zero_gradient_norm_is_one_with_finite_weight_gradients():
    critic = _linear_critic((3, 3, 1), np.zeros(9))
    x = np.random.default_rng(0).normal(size=(4, 3, 3, 1)).astype("float32")
    with tf.GradientTape() as tape:
        gp = losses.gradient_penalty(critic, x, -x, seed=0)
    grads = tape.gradient(gp, critic.trainable_variables)
    assert float(gp) == pytest.approx(1.0)
    assert all(np.all(np.isfinite(g.numpy())) for g in grads)
    # The naive √(Σ g²) gives NaN here; safe_norm's gradient at 0 is 0.
    v = tf.zeros((2, 3))
    with tf.GradientTape() as tape:
        tape.watch(v)
        norm = losses.safe_norm(v, axis=1)
    assert np.all(tape.gradient(norm, v).numpy() == 0)


def test_penalty_differentiates_through_the_critic_weights():
    """d/dw (‖w‖ − 1)² = 2 (‖w‖ − 1) w / ‖w‖: a second-order gradient through the tape."""
    w = np.array([3.0, 4.0, 0.0, 0.0])
    critic = _linear_critic((2, 2, 1), w)
    x = np.ones((3, 2, 2, 1), "float32")
    with tf.GradientTape() as tape:
        gp = losses.gradient_penalty(critic, x, 0 * x, seed=0)
    (grad,) = tape.gradient(gp, critic.trainable_variables)
    np.testing.assert_allclose(grad.numpy().ravel(), 2 * (5 - 1) * w / 5, rtol=1e-5)


# --------------------------------------------------------- the training step
def test_each_step_makes_d_steps_critic_updates_and_one_generator_update():
    model = _tiny(d_steps=3)
    model.fit(_spins(64), batch_size=16, epochs=1, verbose=0)  # 4 steps
    iterations = {name: int(opt.iterations.numpy()) for name, opt in model.optimizers.items()}
    assert iterations == {"discriminator": 12, "generator": 4}


def test_each_optimizer_updates_only_its_network():
    model = _tiny()
    model.compile(optimizer={"generator": keras.optimizers.SGD(0.0), "discriminator": keras.optimizers.SGD(0.01)})
    g0, d0 = model.generator.get_weights(), model.discriminator.get_weights()
    model.fit(_spins(32), batch_size=16, epochs=1, verbose=0)
    trainable_g = {id(v) for v in model.generator.trainable_variables}
    for var, before in zip(model.generator.weights, g0):
        if id(var) in trainable_g:
            np.testing.assert_array_equal(var.numpy(), before)
    assert any(not np.array_equal(a, b) for a, b in zip(model.discriminator.get_weights(), d0))
    model.compile(optimizer={"generator": keras.optimizers.SGD(0.01), "discriminator": keras.optimizers.SGD(0.0)})
    d1 = [v.numpy() for v in model.discriminator.trainable_variables]
    model.fit(_spins(32), batch_size=16, epochs=1, verbose=0)
    for var, before in zip(model.discriminator.trainable_variables, d1):
        np.testing.assert_array_equal(var.numpy(), before)


def test_defaults_are_the_recipes():
    w, d = WGANGP(), DCGAN()
    assert (w.latent_dim, w.d_steps, w.gp_weight, w.data_shape) == (128, 3, 10.0, (28, 28, 1))
    assert (d.latent_dim, d.d_steps, d.label_smoothing) == (100, 1, 0.0)
    w.compile()
    for opt in w.optimizers.values():
        assert isinstance(opt, keras.optimizers.Adam)
        assert (float(opt.learning_rate), opt.beta_1, opt.beta_2) == (pytest.approx(2e-4), 0.5, 0.9)
    d.compile()
    for opt in d.optimizers.values():
        assert (float(opt.learning_rate), opt.beta_1) == (pytest.approx(2e-4), 0.5)
    # keras-io's networks: 28 x 28 x 1 out of a 128-vector, one score per image.
    assert tuple(w.generator.output.shape) == (None, 28, 28, 1)
    assert [layer.filters for layer in w.discriminator.layers if isinstance(layer, keras.layers.Conv2D)] == [
        64, 128, 256, 512]


def test_one_optimizer_is_copied_for_each_network():
    model = _tiny()
    model.compile(optimizer=keras.optimizers.SGD(0.01))
    a, b = model.optimizers["generator"], model.optimizers["discriminator"]
    assert a is not b and a.get_config() == b.get_config()


def test_metrics_of_each_model():
    history = _tiny().fit(_spins(32), batch_size=16, epochs=1, verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "wasserstein", "gradient_penalty"}
    history = _tiny(DCGAN, label_smoothing=0.1).fit(_spins(32), batch_size=16, epochs=1, verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert 0 < history["d_real"][0] < 1 and 0 < history["d_fake"][0] < 1


def test_nan_stops_training():
    model = _tiny()
    model.compile(optimizer={"generator": keras.optimizers.SGD(1e38), "discriminator": keras.optimizers.SGD(1e38)})
    with pytest.raises(training.NonFiniteLossError):
        model.fit(_spins(64), batch_size=16, epochs=3, verbose=0, callbacks=[training.TerminateOnNonFinite()])


# ----------------------------------------------------------- saving, resuming
def test_saved_model_resumes_training_with_both_optimizers(tmp_path):
    x = _spins(64)
    model = _tiny(d_steps=2)
    model.fit(x, batch_size=16, epochs=1, verbose=0)
    path = save_model(model, tmp_path / "gan.keras")
    loaded = load_model(path, safe_mode=True)
    assert {n: int(o.iterations.numpy()) for n, o in loaded.optimizers.items()} == {"generator": 4,
                                                                                    "discriminator": 8}
    np.testing.assert_array_equal(loaded.sample(8, seed=3), model.sample(8, seed=3))
    model.fit(x, batch_size=16, epochs=1, verbose=0)
    loaded.fit(x, batch_size=16, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ sampling
def test_samples_are_reproducible_and_the_stream_continues():
    model = _tiny()
    a, b = model.sample(10, seed=4), model.sample(10, seed=4)
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {-1.0, 1.0} and a.shape == (10, 8, 8, 1)
    c, d = model.sample(10), model.sample(10)
    assert not np.array_equal(c, d)
    means = model.sample(10, seed=4, return_means=True)
    assert np.all(np.abs(means) < 1) and not np.array_equal(means, a)
    # Batches: the same n samples whatever the batch size for the first batch.
    np.testing.assert_array_equal(model.sample(5, seed=4, batch_size=5), a[:5])


def test_symmetric_generator_gives_both_magnetisation_signs_equally():
    model = _tiny(symmetric=True)
    m = model.sample(2000, seed=0).mean(axis=(1, 2, 3))
    assert abs(np.mean(m > 0) - 0.5) < 0.05
    biased = model.sample(2000, seed=0, return_means=True).mean(axis=(1, 2, 3))
    assert abs(np.mean(biased > 0) - 0.5) < 0.05


def test_class_conditional_model_trains_on_pairs_and_samples_each_label():
    model = WGANGP(networks.lattice_generator(8, 4, condition_dim=3, filters=4, seed=0),
                   networks.lattice_critic(8, condition_dim=3, filters=4, seed=0),
                   data_shape=(8, 8, 1), latent_dim=4, num_classes=3, seed=0)
    model.compile()
    x = np.tanh(np.random.default_rng(0).normal(size=(48, 8, 8, 1))).astype("float32")
    y = np.arange(48) % 3
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0, validation_split=0.25).history
    assert "val_wasserstein" in history
    a = model.sample(6, seed=1, labels=[0, 1, 2, 0, 1, 2])
    b = model.sample(6, seed=1, labels=0)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[1], b[1])  # same z, another label


def test_temperature_conditional_model_generates_inside_its_range_only():
    model = WGANGP(
        networks.lattice_generator(8, 4, condition_dim=1, filters=4, seed=0),
        networks.lattice_critic(8, condition_dim=1, filters=4, seed=0),
        data_shape=(8, 8, 1), latent_dim=4, spins=True, symmetric=True, temperature_range=(1.5, 3.5), seed=0)
    model.compile()
    model.fit(_spins(32), np.linspace(1.5, 3.5, 32), batch_size=16, epochs=1, verbose=0)
    assert model.sample(4, seed=0, temperature=2.269).shape == (4, 8, 8, 1)
    with pytest.raises(ValueError, match=r"training range \[1.5, 3.5\]"):
        model.sample(4, temperature=3.6)
    with pytest.raises(ValueError, match="conditioned on temperature, not labels"):
        model.sample(4, labels=1)
    with pytest.raises(ValueError, match="needs `temperature`"):
        model.sample(4)


# ------------------------------------------------------------------- export
def test_exported_sample_signature_equals_sample(tmp_path):
    from keras_genmodels import export

    cases = [
        (_tiny(symmetric=True), {}),
        (WGANGP(networks.lattice_generator(8, 4, condition_dim=2, filters=4, seed=0),
                networks.lattice_critic(8, condition_dim=2, filters=4, seed=0), data_shape=(8, 8, 1), latent_dim=4,
                num_classes=2, seed=0), {"labels": np.array([0, 1, 1], "int32")}),
    ]
    for i, (model, condition) in enumerate(cases):
        path = export.export_model(model, tmp_path / str(i))
        loaded = tf.saved_model.load(path)
        assert {"serving_default", "sample", "generate", "discriminate"} <= set(loaded.signatures)
        args = {"n": tf.constant(3), "seed": tf.constant(9), **{k: tf.constant(v) for k, v in condition.items()}}
        out = loaded.signatures["sample"](**args)["samples"].numpy()
        np.testing.assert_array_equal(out, model.sample(3, seed=9, **condition))
        x = model.sample(3, seed=1, **condition)
        scores = loaded.signatures["discriminate"](x=tf.constant(x), **{k: tf.constant(v)
                                                                      for k, v in condition.items()})["score"]
        c = None if not condition else model.condition_vectors(condition["labels"])
        np.testing.assert_allclose(scores.numpy(), ops.convert_to_numpy(model.score(x, c)), rtol=1e-5, atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError):
        loaded.signatures["sample"](n=tf.constant(3), seed=tf.constant(1), labels=tf.constant([0, 2, 1]))


# -------------------------------------------------------------- networks
def test_circular_padding_is_the_torus():
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    out = ops.convert_to_numpy(networks.CircularPad2D(1)(x))[0, :, :, 0]
    np.testing.assert_array_equal(out[1:-1, 1:-1], x[0, :, :, 0])
    np.testing.assert_array_equal(out[0, 1:-1], x[0, -1, :, 0])
    np.testing.assert_array_equal(out[1:-1, 0], x[0, :, -1, 0])
    assert out[0, 0] == x[0, -1, -1, 0]


def test_lattice_critic_is_translation_invariant():
    critic = networks.lattice_critic(8, filters=4, seed=0)
    x = _spins(3)
    shifted = np.roll(x, (4, -4), axis=(1, 2))  # multiples of the two stride-2 stages' total stride, 4
    np.testing.assert_allclose(ops.convert_to_numpy(critic(x)), ops.convert_to_numpy(critic(shifted)), rtol=1e-4,
                               atol=1e-5)


def test_neighbour_products_give_the_ising_energy():
    from keras_genmodels.physics import lattice

    s = _spins(4)
    bonds = ops.convert_to_numpy(networks.NeighbourProducts()(s))[..., 1:]
    np.testing.assert_allclose(-bonds.sum(axis=(1, 2, 3)), lattice.energy(s[..., 0].astype(np.int8)), rtol=1e-6)


def test_squared_magnetization_is_n_m_squared_and_flip_invariant():
    s = _spins(5)
    out = ops.convert_to_numpy(networks.SquaredMagnetization()(s))
    np.testing.assert_allclose(out[:, 0], 64 * s.mean(axis=(1, 2, 3)) ** 2, rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(networks.SquaredMagnetization()(-s)), out, rtol=1e-6)


def test_lattice_critic_reads_the_magnetization_only_when_asked():
    with_m = networks.lattice_critic(8, filters=4, seed=0)
    without = networks.lattice_critic(8, filters=4, seed=0, magnetization_feature=False)
    assert "squared_magnetization" in [layer.name for layer in with_m.layers]
    assert "squared_magnetization" not in [layer.name for layer in without.layers]
    assert with_m.count_params() == without.count_params() + 1  # one more read-out weight
    # The read-out weight of N m² moves the score of an all-up lattice by N times it, not of a zero-m one.
    up, flat = np.ones((1, 8, 8, 1), "float32"), np.tile([[1.0, -1.0], [-1.0, 1.0]], (4, 4))[None, ..., None]
    before = [ops.convert_to_numpy(with_m(x))[0, 0] for x in (up, flat)]
    kernel = with_m.get_layer("score").kernel
    k = ops.convert_to_numpy(kernel)
    k[-1] += 0.5
    kernel.assign(k)
    after = [ops.convert_to_numpy(with_m(x))[0, 0] for x in (up, flat)]
    np.testing.assert_allclose(after[0] - before[0], 0.5 * 64, rtol=1e-5)
    np.testing.assert_allclose(after[1] - before[1], 0.0, atol=1e-5)


def test_straight_through_fakes_are_spin_draws_with_the_means_gradient():
    model = _tiny(straight_through=True)
    z = keras.random.normal((256, 4), seed=1)
    fakes = model.training_fakes(z)
    values = ops.convert_to_numpy(fakes)
    assert set(np.unique(values)) == {-1.0, 1.0}
    means = ops.convert_to_numpy(model.generate(z, training=True))
    assert np.abs(means).max() < 1.0  # so the draws are not the means themselves
    # d/dθ of Σ w·x̃ is d/dθ of Σ w·m: the draw is transparent to the gradient.
    w = np.random.default_rng(0).normal(size=values.shape).astype("float32")
    variables = model.generator.trainable_variables

    def gradients(fn):
        with tf.GradientTape() as tape:
            out = ops.sum(w * fn(z))
        return [ops.convert_to_numpy(g) for g in tape.gradient(out, variables)]

    for a, b in zip(gradients(model.training_fakes), gradients(lambda z: model.generate(z, training=True))):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert not _tiny().straight_through and set(np.unique(ops.convert_to_numpy(_tiny().training_fakes(z)))) != {-1, 1}
    model.fit(_spins(32), batch_size=16, epochs=1, verbose=0)  # trains
    assert WGANGP.from_config(model.get_config()).straight_through


def test_width_scales_the_image_networks_channels():
    assert networks.wgan_gp_generator().count_params() == 910_660  # keras-io's generator at width 1
    assert networks.wgan_gp_critic().count_params() == 4_305_409  # keras-io's critic
    half = networks.wgan_gp_critic(width=0.5)
    assert [layer.filters for layer in half.layers if isinstance(layer, keras.layers.Conv2D)] == [32, 64, 128, 256]
    g = networks.dcgan_generator(width=0.25)
    assert g.get_layer("reshape").output.shape[-1] == 64 and g.get_layer("deconv_0").filters == 32
    assert networks.dcgan_discriminator(width=2.0).get_layer("conv_1").filters == 256


# ---------------------------------------------------------------- bad input
def _fit(model, x, y=None):
    return lambda: model.fit(x, y, batch_size=8, epochs=1, verbose=0)


def _constant_critic_of_two_scores():
    x_in = keras.Input((8, 8, 1))
    return keras.Model(x_in, keras.layers.Dense(2)(keras.layers.Flatten()(x_in)))


BAD_INPUT = [
    ("images-wrong-shape", lambda: _fit(_tiny(), np.zeros((8, 28, 28, 1), "float32"))(),
     r"`x` must have shape \(batch, 8, 8, 1\). Received: shape=\(8, 28, 28, 1\)"),
    ("images-out-of-range", lambda: _fit(_tiny(), np.full((8, 8, 8, 1), 255.0, "float32"))(),
     r"`x` must .*\[-1.0, 1.0\]|`x` must .*-1.0.*1.0"),
    ("nan-images", lambda: _fit(_tiny(), np.full((8, 8, 8, 1), np.nan, "float32"))(), "finite"),
    ("labels-out-of-range", lambda: WGANGP(data_shape=(8, 8, 1), latent_dim=4, spins=True, num_classes=3,
                                           seed=0).sample(2, labels=[0, 3]),
     r"`labels` must be class labels, ints in \[0, 3\). Received values in \[0, 3\]"),
    ("labels-in-fit-out-of-range", lambda: _fit(WGANGP(data_shape=(8, 8, 1), latent_dim=4, spins=True, num_classes=3,
                                                       seed=0), _spins(8), np.full(8, 7))(),
     r"`y` must be class labels"),
    ("conditional-fit-without-labels", lambda: _fit(WGANGP(data_shape=(8, 8, 1), latent_dim=4, spins=True,
                                                           num_classes=3, seed=0), _spins(8))(),
     "pass labels as `y`. Received: y=None"),
    ("unconditional-with-labels", lambda: _tiny().sample(2, labels=1), "unconditional: it takes no `labels`"),
    ("temperature-outside-range", lambda: WGANGP(data_shape=(8, 8, 1), latent_dim=4, spins=True,
                                                 temperature_range=(2.0, 3.0), seed=0).sample(2, temperature=1.0),
     r"temperatures in the training range \[2.0, 3.0\]. Received values in \[1.0, 1.0\]"),
    ("critic-two-outputs", lambda: WGANGP(None, _constant_critic_of_two_scores(), data_shape=(8, 8, 1), latent_dim=4,
                                          spins=True),
     r"one number per example, of shape \(batch, 1\) or \(batch,\). Received: shape \(2, 2\)"),
    ("generator-wrong-shape", lambda: WGANGP(networks.lattice_generator(12, 4, filters=4), None,
                                             data_shape=(8, 8, 1), latent_dim=4, spins=True),
     r"`generator` must return a batch of shape \(batch,\) \+ data_shape"),
    ("d-steps-zero", lambda: _tiny(d_steps=0), r"`d_steps` must be a positive int"),
    ("gp-weight-negative", lambda: _tiny(gp_weight=-1.0), "gp_weight"),
    ("label-smoothing-one", lambda: _tiny(DCGAN, label_smoothing=1.0), r"`label_smoothing` must be a float in \[0, 1\)"),
    ("both-conditions", lambda: WGANGP(num_classes=2, temperature_range=(1, 2)), "not both"),
    ("temperature-range-reversed", lambda: WGANGP(temperature_range=(3, 2)), "T_min < T_max"),
    ("symmetric-without-spins", lambda: WGANGP(symmetric=True), "needs `spins=True`"),
    ("default-images-other-shape", lambda: WGANGP(data_shape=(32, 32, 1)), "28 x 28 x 1"),
    ("optimizer-names", lambda: _tiny().compile(optimizer={"generator": "adam", "critic": "adam"}),
     r"one optimizer for each network, \['generator', 'discriminator'\]"),
    ("lattice-not-multiple-of-4", lambda: networks.lattice_generator(10), "multiple of 4"),
    ("spins-not-plus-minus-one", lambda: _fit(_tiny(), (_spins(8) > 0).astype("float32"))(),
     r"every value −1 or \+1 \(`spins=True`\). Received values \{0, 1\}"),
    ("straight-through-without-spins", lambda: WGANGP(straight_through=True), "needs `spins=True`"),
    ("width-zero", lambda: networks.wgan_gp_critic(width=0), r"`width` must be a finite float > 0"),
    ("magnetization-feature-not-bool", lambda: networks.lattice_critic(8, magnetization_feature="yes"),
     "magnetization_feature"),
]


@pytest.mark.parametrize("make", [c[1] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_a_clear_error(make):
    expected = dict((id(c[1]), c[2]) for c in BAD_INPUT)[id(make)]
    with pytest.raises(ValueError, match=expected):
        make()
