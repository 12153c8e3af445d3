"""Helper processes of tests/test_distribute.py (not a test module).

TensorFlow's logical devices must be configured before it initialises, so the
MirroredStrategy checks run here, in a fresh interpreter:

    python tests/distribute_worker.py mirrored OUT.json

splits the CPU into two logical devices, trains each model once on the default
strategy (one device) and once under MirroredStrategy over both, on the same
global batches, and writes the weights, histories and noise draws to OUT.json.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _vae(seed=0, deterministic=True):
    """A small MLP VAE; `deterministic`: log σ² starts at −40, clipped to −30,
    so σ = e^-15 and the reparameterisation noise is negligible (and the
    clipped head gets no gradient): a deterministic path to compare devices."""
    import keras

    from keras_genmodels.vae import VAE

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(16, activation="tanh")(inputs)
    mean = keras.layers.Dense(2)(hidden)
    log_var = keras.layers.Dense(
        2,
        kernel_initializer="zeros" if deterministic else "glorot_uniform",
        bias_initializer=keras.initializers.Constant(-40.0 if deterministic else 0.0),
    )(hidden)
    encoder = keras.Model(inputs, [mean, log_var])
    latent = keras.Input((2,))
    decoder = keras.Model(
        latent, keras.layers.Dense(8)(keras.layers.Dense(16, activation="tanh")(latent))
    )
    return VAE(encoder, decoder, likelihood="gaussian", seed=seed)


def _train_vae(strategy, x, steps_per_execution, deterministic=True):
    import warnings

    import keras

    with strategy.scope(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = _vae(deterministic=deterministic)
        model.compile(keras.optimizers.Adam(0.01), steps_per_execution=steps_per_execution,
                      jit_compile=steps_per_execution > 1)
    history = model.fit(x, batch_size=16, epochs=3, shuffle=False, verbose=0)
    evaluation = model.evaluate(x, batch_size=16, verbose=0, return_dict=True)
    return {
        "weights": [w.numpy().tolist() for w in model.weights],
        "history": {k: [float(a) for a in v] for k, v in history.history.items()},
        "evaluate": {k: float(v) for k, v in evaluation.items()},
        "compiled": [model.steps_per_execution, bool(model.jit_compile)],
        "warnings": [str(w.message) for w in caught],
    }


def _sampling_noise(strategy):
    """ε drawn by `Sampling(seed=3)` on each replica for the same zero inputs."""
    import numpy as np
    import tensorflow as tf

    from keras_genmodels.vae import Sampling

    with strategy.scope():
        layer = Sampling(seed=3)
    zeros = np.zeros((4, 2), "float32")

    @tf.function
    def draw():
        return strategy.run(lambda: layer([zeros, zeros]))

    values = strategy.experimental_local_results(draw())
    return [v.numpy().tolist() for v in values]


# Bernoulli RBMs whose every pre-activation is an odd multiple of 125 (|x| ≥ 125):
# sigmoid is exactly 0 or 1 in float32, so Gibbs sampling is deterministic and
# a run on two replicas (other random streams) can be compared with one device.
RBM_CASES = {
    "cd1": dict(k=1),
    "pcd2_centering_decay": dict(k=2, persistent=True, n_chains=5, centering=True,
                                 weight_decay=0.01),
}


def _saturated_rbm(case):
    import numpy as np

    from keras_genmodels.rbm import BernoulliRBM

    model = BernoulliRBM(n_visible=6, n_hidden=4, seed=0, **RBM_CASES[case])
    signs = np.where(np.random.default_rng(1).random((6, 4)) < 0.5, -1.0, 1.0)
    model.kernel.assign((250.0 * signs).astype("float32"))
    model.visible_bias.assign(np.full(6, 125.0, "float32"))
    model.hidden_bias.assign(np.full(4, 125.0, "float32"))
    return model


def _train_rbm(strategy, case, x):
    import keras

    with strategy.scope():
        model = _saturated_rbm(case)
        model.compile(keras.optimizers.SGD(0.01, momentum=0.5))
    history = model.fit(x, batch_size=16, epochs=3, shuffle=False, verbose=0, validation_data=x)
    evaluation = model.evaluate(x, batch_size=16, verbose=0, return_dict=True)
    return {
        "weights": {w.path.split("/", 1)[1]: w.numpy().tolist() for w in model.weights},
        "history": {k: [float(a) for a in v] for k, v in history.history.items()},
        "evaluate": {k: float(v) for k, v in evaluation.items()},
    }


def _train_tempered_rbm(strategy, x):
    """Saturated couplings at every temperature of the ladder (beta >= 0.5): deterministic."""
    import keras
    import numpy as np

    from keras_genmodels.rbm import TemperedBernoulliRBM

    with strategy.scope():
        model = TemperedBernoulliRBM(n_visible=6, n_hidden=4, k=2, n_chains=5, n_temperatures=3,
                                     beta_min=0.5, weight_decay=0.01, seed=0)
        signs = np.where(np.random.default_rng(1).random((6, 4)) < 0.5, -1.0, 1.0)
        model.kernel.assign((250.0 * signs).astype("float32"))
        model.visible_bias.assign(np.full(6, 125.0, "float32"))
        model.hidden_bias.assign(np.full(4, 125.0, "float32"))
        model.compile(keras.optimizers.SGD(0.01, momentum=0.5))
    model.fit(x, batch_size=16, epochs=3, shuffle=False, verbose=0)
    return {"weights": {w.path.split("/", 1)[1]: w.numpy().tolist() for w in model.weights}}


def _train_gaussian_rbm(strategy, x):
    import keras

    from keras_genmodels.rbm import GaussianBernoulliRBM

    with strategy.scope():
        model = GaussianBernoulliRBM(n_visible=6, n_hidden=4, persistent=True, n_chains=6,
                                     learn_variance=True, seed=0)
        model.compile(keras.optimizers.SGD(0.01, momentum=0.5))
    history = model.fit(x, batch_size=16, epochs=3, shuffle=False, verbose=0)
    return {
        "weights": {w.path.split("/", 1)[1]: w.numpy().tolist() for w in model.weights},
        "history": {k: [float(a) for a in v] for k, v in history.history.items()},
    }


def _train_ebm(strategy, x):
    """No restarts, no data noise and a vanishing Langevin noise: the chains are deterministic given their
    buffer slots, which the replicas draw from one permutation, so two replicas must give one device's run."""
    import keras

    from keras_genmodels.ebm import EnergyBasedModel

    with strategy.scope():
        model = EnergyBasedModel((2,), hidden_units=(8,), buffer_size=64, steps=3, step_size=0.1,
                                 noise_scale=1e-20, grad_clip=None, restart_fraction=0.0, data_noise=0.0,
                                 alpha=0.1, seed=0)
        model.compile(keras.optimizers.SGD(0.05))
    history = model.fit(x, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return {
        # Keyed by position and name: the two models' paths differ by Keras's name suffixes.
        "weights": {f"{i}/{w.name}": w.numpy().tolist() for i, w in enumerate(model.weights)},
        "history": {k: [float(a) for a in v] for k, v in history.history.items()},
    }


def _train_gan(strategy, x):
    """A WGAN-GP whose generator ignores z (a frozen zero kernel, a trainable bias) and whose critic is
    linear (its gradient, hence the penalty, does not depend on x̂): nothing random is left, so two replicas
    must give one device's run; the losses are summed over the global batch (the last batch splits 7 / 6)."""
    import keras

    from keras_genmodels.gan import WGANGP

    with strategy.scope():
        z = keras.Input((3,))
        g = keras.layers.Dense(4, kernel_initializer="zeros", bias_initializer="ones", name="g_dense")
        g.build((None, 3))
        g.kernel.trainable = False
        out = keras.layers.Reshape((2, 2, 1))(keras.layers.Activation("tanh")(g(z)))
        generator = keras.Model(z, out)
        x_in = keras.Input((2, 2, 1))
        critic = keras.Model(x_in, keras.layers.Dense(1, kernel_initializer="ones")(keras.layers.Flatten()(x_in)))
        model = WGANGP(generator, critic, data_shape=(2, 2, 1), latent_dim=3, d_steps=2, gp_weight=1.0, seed=0)
        model.compile(optimizer={"generator": keras.optimizers.SGD(0.05), "discriminator": keras.optimizers.SGD(0.05)})
    history = model.fit(x, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return {
        "weights": {f"{i}/{w.name}": w.numpy().tolist() for i, w in enumerate(model.weights)},
        "history": {k: [float(a) for a in v] for k, v in history.history.items()},
    }


def _train_diffusion(strategy, x):
    """A diffusion model's training draws t and ε per example, from each replica's own stream: two replicas
    cannot give one device's weights, only the same learning. A tiny ε-network on data concentrated on one
    point, whose exact ε̂ is linear in x_t for each t; the losses are summed over the global batch."""
    import keras
    import numpy as np

    from keras_genmodels.diffusion import DiffusionModel

    with strategy.scope():
        x_in, t_in = keras.Input((2, 2, 1)), keras.Input(())
        h = keras.layers.Concatenate()([keras.layers.Flatten()(x_in), keras.layers.Reshape((1,))(t_in)])
        h = keras.layers.Dense(32, activation="tanh", kernel_initializer=keras.initializers.GlorotUniform(0))(h)
        out = keras.layers.Reshape((2, 2, 1))(keras.layers.Dense(4, kernel_initializer="zeros")(h))
        model = DiffusionModel(keras.Model([x_in, t_in], out), data_shape=(2, 2, 1), timesteps=10, ema_decay=0.9,
                               seed=0)
        model.compile(keras.optimizers.Adam(0.01))
    history = model.fit(x, batch_size=16, epochs=40, shuffle=False, verbose=0)
    ema_gap = max(float(np.max(np.abs(a - b))) for a, b in zip(model.network.get_weights(),
                                                                model.ema_network.get_weights()))
    return {"history": {k: [float(a) for a in v] for k, v in history.history.items()}, "ema_gap": ema_gap,
            "samples": model.sample(64, seed=1, method="ddim", steps=10, eta=0.0).tolist()}


def mirrored(out_path):
    from keras_genmodels import distribute

    devices = distribute.split_cpu(2)
    import numpy as np

    one = distribute.get_strategy("none")
    two = distribute.get_strategy("mirrored", devices=devices)
    # 61 examples in batches of 16: the last global batch (13) splits 7 / 6.
    x = np.random.default_rng(0).normal(size=(61, 8)).astype("float32")
    result = {"replicas": two.num_replicas_in_sync}
    for spe in (1, 4):
        result[f"vae_one_spe{spe}"] = _train_vae(one, x, spe)
        result[f"vae_two_spe{spe}"] = _train_vae(two, x, spe)
    result["vae_two_stochastic"] = _train_vae(two, x, 1, deterministic=False)
    binary = (np.random.default_rng(2).random((61, 6)) < 0.4).astype("float32")
    for case in RBM_CASES:
        result[f"rbm_{case}_one"] = _train_rbm(one, case, binary)
        result[f"rbm_{case}_two"] = _train_rbm(two, case, binary)
    result["tempered_rbm_one"] = _train_tempered_rbm(one, binary)
    result["tempered_rbm_two"] = _train_tempered_rbm(two, binary)
    real = np.random.default_rng(3).normal(size=(61, 6)).astype("float32")
    result["gaussian_rbm_one"] = _train_gaussian_rbm(one, real)
    result["gaussian_rbm_two"] = _train_gaussian_rbm(two, real)
    points = np.random.default_rng(4).uniform(-1, 1, size=(61, 2)).astype("float32")
    gan_data = np.tanh(np.random.default_rng(5).normal(size=(61, 2, 2, 1))).astype("float32")
    result["gan_one"] = _train_gan(one, gan_data)
    result["gan_two"] = _train_gan(two, gan_data)
    point = np.array([0.5, -0.5, 0.25, -0.75], "float32").reshape(1, 2, 2, 1)
    result["diffusion_one"] = _train_diffusion(one, np.repeat(point, 61, axis=0))
    result["diffusion_two"] = _train_diffusion(two, np.repeat(point, 61, axis=0))
    result["ebm_one"] = _train_ebm(one, points)
    result["ebm_two"] = _train_ebm(two, points)
    result["noise_one"] = _sampling_noise(one)
    result["noise_two"] = _sampling_noise(two)
    with open(out_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    {"mirrored": mirrored}[sys.argv[1]](*sys.argv[2:])
