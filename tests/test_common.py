"""One check for every class the package registers with Keras.

Each public layer and model gets: an identical config round trip, a `.keras`
save/load round trip with identical deterministic outputs (in this process; the
family tests also load in a fresh one), and one `fit` step for models. A class
registered under the "keras_genmodels" package without an entry here fails
`test_every_registered_class_is_covered`, so none slips through untested.
"""

import json

import keras
import numpy as np
import pytest
from keras import ops

import keras_genmodels  # noqa: F401  (registers every class)
from keras_genmodels.saving import load_model, save_model


def _images(n=16):
    return np.random.default_rng(0).random((n, 28, 28, 1)).astype("float32")


def _sampling_case():
    from keras_genmodels.vae import Sampling

    def make():
        mean, log_var = keras.Input((3,)), keras.Input((3,))
        return keras.Model([mean, log_var], Sampling(seed=3, name="sampling")([mean, log_var]))

    inputs = [np.zeros((4, 3), "float32"), np.zeros((4, 3), "float32")]
    return Sampling(seed=3), make, inputs, None


def _vae_case(**kwargs):
    from keras_genmodels.vae import VAE

    def make():
        model = VAE(seed=0, **kwargs)
        model.compile(optimizer="adam")
        return model

    return make(), make, _images(), _images(32)


def _rbm_case(cls, **kwargs):
    def make():
        model = cls(n_visible=784, n_hidden=8, seed=0, **kwargs)
        model.compile()
        return model

    x = np.random.default_rng(0).random((16, 28, 28, 1)).astype("float32")
    if cls.__name__ in ("BernoulliRBM", "TemperedBernoulliRBM"):
        x = (x > 0.5).astype("float32")
    return make(), make, x, x


def _rbm(name, **kwargs):
    from keras_genmodels import rbm

    return _rbm_case(getattr(rbm, name), **kwargs)


def _binary_images(n=16):
    return (np.random.default_rng(0).random((n, 28, 28, 1)) > 0.5).astype("float32")


def _dbn_case():
    from keras_genmodels.rbm import DeepBeliefNetwork

    def make():
        return DeepBeliefNetwork([784, 8, 4], n_chains=16, seed=0)  # each RBM is compiled by `fit`

    return make(), make, _binary_images(), _binary_images()


def _dbm_case():
    from keras_genmodels.rbm import DeepBoltzmannMachine

    def make():
        model = DeepBoltzmannMachine(784, 8, 4, n_chains=16, seed=0)
        model.compile()
        return model

    return make(), make, _binary_images(), _binary_images()


def _feature_network_case():
    from keras_genmodels.features import FeatureNetwork

    def make():
        model = FeatureNetwork(filters=(4, 8), feature_dim=6, dropout=0.2)
        x, y = _images(32), np.arange(32) % 10
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)  # moves the batch-norm statistics
        return model

    # A classifier: fitted on (images, labels) in `make`, not on the images alone.
    return make(), make, _images(), None


def _ebm_case():
    from keras_genmodels.ebm import EnergyBasedModel

    def make():
        model = EnergyBasedModel((2,), hidden_units=(8,), buffer_size=32, steps=3, step_size=0.05,
                                 noise_scale=0.01, grad_clip=None, seed=0)
        model.compile(optimizer="adam")
        return model

    x = np.random.default_rng(0).uniform(-1, 1, (32, 2)).astype("float32")
    return make(), make, x[:8], x


def _gan_case(cls, **kwargs):
    from keras_genmodels.gan import networks

    def make():
        model = cls(networks.lattice_generator(8, 4, filters=4, seed=0), networks.lattice_critic(8, filters=4, seed=0),
                    data_shape=(8, 8, 1), latent_dim=4, spins=True, seed=0, **kwargs)
        model.compile()
        return model

    z = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    x = np.sign(np.random.default_rng(1).normal(size=(32, 8, 8, 1))).astype("float32")
    return make(), make, z, x


def _diffusion_case():
    from keras_genmodels.diffusion import DiffusionModel, lattice_network

    def make():
        model = DiffusionModel(lattice_network(8, widths=(4, 8), groups=4, embedding_dim=8, seed=0),
                               data_shape=(8, 8, 1), timesteps=10, data="spins", seed=0)
        model.compile()
        return model

    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(4, 8, 8, 1)).astype("float32"), np.array([0, 3, 6, 9], "int32")]
    x = np.sign(rng.normal(size=(32, 8, 8, 1))).astype("float32")
    return make(), make, inputs, x


def _sinusoidal_embedding():
    from keras_genmodels.diffusion.networks import SinusoidalEmbedding

    layer = SinusoidalEmbedding(8)

    def make():
        t_in = keras.Input(())
        return keras.Model(t_in, SinusoidalEmbedding(8)(t_in))

    return layer, make, np.array([0.1, 0.5, 1.0], "float32"), None


def _layer_case(layer_fn, shape):
    def make():
        x_in = keras.Input(shape)
        return keras.Model(x_in, layer_fn()(x_in))

    x = np.random.default_rng(0).normal(size=(2,) + shape).astype("float32")
    return layer_fn(), make, x, None


def _circular_pad():
    from keras_genmodels.gan.networks import CircularPad2D

    return _layer_case(lambda: CircularPad2D(2), (6, 6, 1))


def _squared_magnetization():
    from keras_genmodels.gan.networks import SquaredMagnetization

    return _layer_case(SquaredMagnetization, (4, 4, 1))


def _neighbour_products():
    from keras_genmodels.gan.networks import NeighbourProducts

    return _layer_case(NeighbourProducts, (4, 4, 1))


# "package>Class" -> function returning (instance, make_model, inputs, fit_data or None)
CASES = {
    "keras_genmodels>Sampling": _sampling_case,
    "keras_genmodels>VAE": lambda: _vae_case(architecture="mlp", latent_dim=2, hidden_units=(8,)),
    "keras_genmodels>BernoulliRBM": lambda: _rbm("BernoulliRBM", persistent=True, n_chains=16),
    "keras_genmodels>GaussianBernoulliRBM": lambda: _rbm("GaussianBernoulliRBM", learn_variance=True),
    "keras_genmodels>TemperedBernoulliRBM": lambda: _rbm("TemperedBernoulliRBM", n_chains=8, n_temperatures=3),
    "keras_genmodels>DeepBeliefNetwork": _dbn_case,
    "keras_genmodels>DeepBoltzmannMachine": _dbm_case,
    "keras_genmodels>FeatureNetwork": _feature_network_case,
    "keras_genmodels>EnergyBasedModel": _ebm_case,
    "keras_genmodels>WGANGP": lambda: _gan_case(_gan_class("WGANGP"), d_steps=2),
    "keras_genmodels>DCGAN": lambda: _gan_case(_gan_class("DCGAN"), label_smoothing=0.1),
    "keras_genmodels>CircularPad2D": _circular_pad,
    "keras_genmodels>NeighbourProducts": _neighbour_products,
    "keras_genmodels>SquaredMagnetization": _squared_magnetization,
    "keras_genmodels>DiffusionModel": _diffusion_case,
    "keras_genmodels>SinusoidalEmbedding": _sinusoidal_embedding,
}


def _gan_class(name):
    from keras_genmodels import gan

    return getattr(gan, name)


def _registered():
    return sorted(k for k in keras.saving.get_custom_objects() if k.startswith("keras_genmodels>"))


def _json(config):
    return json.loads(json.dumps(config))


def test_every_registered_class_is_covered():
    missing = set(_registered()) - set(CASES)
    assert not missing, f"add a case to tests/test_common.py for {sorted(missing)}"


@pytest.mark.parametrize("key", sorted(CASES))
def test_config_round_trip(key):
    instance, *_ = CASES[key]()
    clone = type(instance).from_config(instance.get_config())
    assert _json(clone.get_config()) == _json(instance.get_config())


@pytest.mark.parametrize("key", sorted(CASES))
def test_keras_file_round_trip(key, tmp_path):
    _, make, inputs, fit_data = CASES[key]()
    model = make()
    if fit_data is not None:
        model.fit(fit_data, epochs=1, batch_size=16, verbose=0)
    path = save_model(model, tmp_path / "m.keras")
    loaded = load_model(path, safe_mode=True)
    # seeded layers restore their generator state, so even random outputs agree
    np.testing.assert_allclose(
        ops.convert_to_numpy(model(inputs)), ops.convert_to_numpy(loaded(inputs)), atol=1e-6
    )
    if fit_data is not None:
        loaded.fit(fit_data, epochs=1, batch_size=16, verbose=0)
