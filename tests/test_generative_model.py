"""The shared base class: random state that survives saving, named optimizers, and files of
release 0.1.0 that keep loading with the same outputs."""

import io
import pathlib
import subprocess
import sys
import textwrap
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_genmodels import GenerativeModel, presets
from keras_genmodels.rbm import BernoulliRBM
from keras_genmodels.saving import load_model, save_model
from keras_genmodels.vae import VAE

REPO = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


# ---------------------------------------------------------------------------
# Files written by release 0.1.0 (tests/fixtures/README.md)


@pytest.fixture(scope="module")
def expected():
    return dict(np.load(FIXTURES / "outputs_v0_1_0.npz"))


def test_a_vae_saved_by_release_0_1_0_loads_and_gives_the_same_outputs(expected):
    vae = load_model(FIXTURES / "vae_v0_1_0.keras", safe_mode=True)
    x = expected["vae_input"]
    np.testing.assert_allclose(np.asarray(vae(x)), expected["vae_call"], rtol=1e-6, atol=1e-7)
    mean, log_var = vae.encode(x)
    np.testing.assert_allclose(np.asarray(mean), expected["vae_z_mean"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.asarray(log_var), expected["vae_z_log_var"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.asarray(vae.sample(3, seed=0)), expected["vae_sample_seed0"], rtol=1e-6, atol=1e-7)
    assert vae.optimizer is not None and int(vae.optimizer.iterations) == 4  # 64 images, batch 16


def test_rbms_saved_by_release_0_1_0_load_and_give_the_same_outputs(expected):
    rbm = load_model(FIXTURES / "rbm_v0_1_0.keras", safe_mode=True)
    x = expected["rbm_input"]
    np.testing.assert_allclose(rbm.free_energy(x), expected["rbm_free_energy"], rtol=1e-6)
    np.testing.assert_allclose(rbm.hidden_probabilities(x), expected["rbm_hidden"], rtol=1e-6)
    np.testing.assert_array_equal(rbm.sample(4, seed=0, steps=20), expected["rbm_sample_seed0"])
    np.testing.assert_array_equal(rbm.gibbs(x, steps=3, seed=0), expected["rbm_gibbs_seed0"])
    assert rbm.log_partition_exact() == pytest.approx(float(expected["rbm_log_z"]), rel=1e-6)
    gaussian = load_model(FIXTURES / "gaussian_rbm_v0_1_0.keras", safe_mode=True)
    np.testing.assert_allclose(gaussian.free_energy(expected["grbm_input"]), expected["grbm_free_energy"], rtol=1e-6)
    tempered = load_model(FIXTURES / "tempered_rbm_v0_1_0.keras", safe_mode=True)
    np.testing.assert_allclose(tempered.free_energy(expected["trbm_input"]), expected["trbm_free_energy"], rtol=1e-6)


def test_the_seed_states_release_0_1_0_saved_under_other_names_are_restored():
    with zipfile.ZipFile(FIXTURES / "rbm_v0_1_0.keras") as z:
        import h5py

        with h5py.File(io.BytesIO(z.read("model.weights.h5"))) as f:
            saved = {k: f[f"vars/{k}"][()] for k in ("seed_state", "sampling_seed_state")}
    rbm = load_model(FIXTURES / "rbm_v0_1_0.keras", safe_mode=True)
    np.testing.assert_array_equal(np.asarray(rbm.seed_generator.state), saved["seed_state"])
    np.testing.assert_array_equal(np.asarray(rbm.sampling_seed_generator.state), saved["sampling_seed_state"])
    assert saved["seed_state"][1] > 0  # the training stream had advanced: a real check


def test_every_shipped_preset_gives_the_outputs_of_release_0_1_0():
    expected = dict(np.load(FIXTURES / "preset_outputs_v0_1_0.npz"))
    names = sorted({k.split("/")[0] for k in expected})
    shipped = presets.list_presets()
    # Every preset of release 0.1.0 is still shipped; those added since (their cards name a later
    # release) have no outputs of 0.1.0 to compare with.
    assert set(names) <= set(shipped)
    for name in sorted(set(shipped) - set(names)):
        assert presets.preset_card(name)["keras_genmodels_version"] != "0.1.0", name
    for name in names:
        model = presets.load_pretrained(name)
        x = expected[f"{name}/input"]
        if hasattr(model, "encode"):
            np.testing.assert_allclose(np.asarray(model(x)), expected[f"{name}/call"], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(np.asarray(model.sample(2, seed=0)), expected[f"{name}/sample"],
                                       rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_allclose(model.free_energy(x), expected[f"{name}/free_energy"], rtol=1e-5)
            np.testing.assert_allclose(model.hidden_probabilities(x), expected[f"{name}/hidden"], rtol=1e-5)


# ---------------------------------------------------------------------------
# Random state that survives saving


def _vae():
    vae = VAE(architecture="mlp", data_shape=(6,), latent_dim=2, hidden_units=(4,), seed=3)
    vae.compile()
    vae.fit(np.random.default_rng(0).random((32, 6)).astype("float32"), batch_size=8, verbose=0)
    return vae


def _rbm():
    rbm = BernoulliRBM(6, 3, persistent=True, n_chains=4, seed=3)
    rbm.compile(steps_per_execution=2)
    rbm.fit((np.random.default_rng(0).random((32, 6)) < 0.5).astype("float32"), batch_size=8, verbose=0)
    return rbm


@pytest.mark.parametrize("make", [_vae, _rbm], ids=["vae", "rbm"])
def test_unseeded_samples_continue_the_stream_in_a_fresh_process(make, tmp_path):
    model = make()
    model.sample(2)  # the stream has moved on before the save
    path = save_model(model, tmp_path / "m.keras")
    here = np.asarray(model.sample(5))  # right after save, in the saving process
    script = textwrap.dedent(f"""
        import numpy as np
        from keras_genmodels import load_model
        np.save({str(tmp_path / "there.npy")!r}, np.asarray(load_model({path!r}).sample(5)))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    there = np.load(tmp_path / "there.npy")  # right after load, in a fresh process
    np.testing.assert_array_equal(here, there)
    assert not np.array_equal(here, np.asarray(model.sample(5)))  # and it is a stream, not a fixed draw


def test_every_seed_generator_of_the_layers_is_saved(tmp_path):
    """A user's encoder with Dropout: its generator's state comes back too."""
    vae = _vae()
    for generator in vae.seed_generators():
        generator.next()
    states = [np.asarray(g.state) for g in vae.seed_generators()]
    assert len(states) >= 2  # sample's own and the Sampling layer's
    loaded = load_model(save_model(vae, tmp_path / "v.keras"))
    for a, b in zip(states, [np.asarray(g.state) for g in loaded.seed_generators()]):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# Several named optimizers


@keras.saving.register_keras_serializable(package="keras_genmodels_tests")
class TwoParts(GenerativeModel):
    """Two dense layers, each updated by its own optimizer (as a GAN's generator and critic)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.first, self.second = keras.layers.Dense(3, name="first"), keras.layers.Dense(3, name="second")
        self.first.build((None, 3))
        self.second.build((None, 3))
        self.noise = keras.random.SeedGenerator(seed)
        self.built = True

    def optimizer_variables(self):
        return {"first": self.first.trainable_variables, "second": self.second.trainable_variables}

    def train_step(self, x):
        with tf.GradientTape(persistent=True) as tape:
            a, b = ops.mean(self.first(x) ** 2), ops.mean(self.second(x) ** 2)
        self.optimizers["first"].apply(tape.gradient(a, self.first.trainable_variables),
                                       self.first.trainable_variables)
        self.optimizers["second"].apply(tape.gradient(b, self.second.trainable_variables),
                                        self.second.trainable_variables)
        return {"a": a, "b": b}

    def sample(self, n, seed=None):
        return keras.random.normal((n, 3), seed=self.noise if seed is None else seed)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def test_named_optimizers_are_saved_with_their_states_and_training_resumes(tmp_path):
    model = TwoParts(seed=1)
    model.compile(optimizer={"first": keras.optimizers.Adam(0.1),
                             "second": keras.optimizers.SGD(0.1, momentum=0.9)})
    assert model.optimizer is model.optimizers["first"]
    x = np.random.default_rng(0).random((32, 3)).astype("float32")
    model.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0)
    loaded = load_model(save_model(model, tmp_path / "two.keras"))
    assert list(loaded.named_optimizers()) == ["first", "second"]
    assert type(loaded.optimizers["second"]).__name__ == "SGD"
    for name in ("first", "second"):
        for a, b in zip(model.optimizers[name].variables, loaded.optimizers[name].variables):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # iterations, moments, momenta
    model.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0)
    loaded.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_named_optimizers_need_variables_for_each_name_and_identifier_names():
    with pytest.raises(ValueError, match="must be identifiers"):
        TwoParts().compile(optimizer={"a b": "adam"})
    with pytest.raises(ValueError, match="non-empty dict"):
        TwoParts().compile(optimizer={})
    with pytest.raises(ValueError, match="names no variables for the optimizer 'third'"):
        TwoParts().compile(optimizer={"first": "adam", "third": "sgd"})
