"""The proof that a new family is a folder: a toy family defined here, in a few lines,
gets train / evaluate / sample / export / preset round trips through the common machinery
(`keras_genmodels.families`, `cli`, `runner`, `export`, `saving`, `presets`,
`preset_training`), none of which names a family.
"""

import ast
import json
import pathlib
import types

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_genmodels import GenerativeModel, families, preset_training, presets
from keras_genmodels.cli import main
from keras_genmodels.export import check_scalars, export_model, seed_pair
from keras_genmodels.runner import Samples, TrainingPlan
from keras_genmodels.saving import load_model

REPO = pathlib.Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------
# The toy family: a diagonal Gaussian p(x) = N(mu, diag sigma^2) fitted by maximum likelihood.


@keras.saving.register_keras_serializable(package="keras_genmodels_tests")
class ToyGaussian(GenerativeModel):
    """p(x) = N(mu, diag exp(2 log_sigma)); `fit` minimises the mean NLL in nats."""

    def __init__(self, dim=2, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.seed = dim, seed
        self.mu = self.add_weight(shape=(dim,), initializer="zeros", name="mu")
        self.log_sigma = self.add_weight(shape=(dim,), initializer="zeros", name="log_sigma")
        self.noise = keras.random.SeedGenerator(seed)
        self.nll_tracker = keras.metrics.Mean(name="nll")
        self.built = True

    def nll(self, x):
        z = (x - self.mu) * ops.exp(-self.log_sigma)
        return ops.sum(0.5 * z**2 + self.log_sigma + 0.5 * np.log(2 * np.pi), axis=-1)

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = ops.mean(self.nll(data))
        self.optimizer.apply(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
        self.nll_tracker.update_state(loss)
        return {"nll": self.nll_tracker.result()}

    @property
    def metrics(self):
        return [self.nll_tracker]

    def sample(self, n, seed=None):
        eps = keras.random.normal((n, self.dim), seed=self.noise if seed is None else seed)
        return ops.convert_to_numpy(self.mu + ops.exp(self.log_sigma) * eps)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "seed": self.seed}


def _data(n=512, seed=0):
    return np.random.default_rng(seed).normal([1.0, -2.0], [0.5, 2.0], size=(n, 2)).astype("float32")


def _add_train_arguments(p):
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--dataset", default="toy_data")


def _training(args, strategy):
    with strategy.scope():
        model = ToyGaussian(seed=args.seed)
        model.compile(optimizer=keras.optimizers.Adam(0.05))

    def finish(model, out, record):
        record["final_mu"] = np.asarray(model.mu).tolist()

    return TrainingPlan(model=model, data=_data(), epochs=args.epochs, examples=512,
                        fit_kwargs={"batch_size": 64}, finish=finish)


def _evaluate(model, args):
    x = _data(200, seed=args.seed + 1)
    return {"dataset": args.dataset, "nll": float(np.mean(ops.convert_to_numpy(model.nll(x))))}


def _sample(model, args):
    return Samples(model.sample(args.n, seed=args.seed))


def _signatures(model):
    def sample(n, seed):
        with tf.control_dependencies(check_scalars(n=n, seed=seed)):
            eps = tf.random.stateless_normal(tf.stack([n, model.dim]), seed=seed_pair(seed, 0))
        return {"samples": model.mu + tf.exp(model.log_sigma) * eps}

    scalar = lambda name: tf.TensorSpec([], tf.int32, name=name)  # noqa: E731
    return {"sample": {"fn": sample, "inputs": {"n": scalar("n"), "seed": scalar("seed")},
                       "outputs": {"samples": [None, model.dim]}, "doc": "x ~ N(mu, sigma^2)"}}


def _preset_train(r, local_dir, verbose):
    model = ToyGaussian(seed=0)
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    history = model.fit(_data(), epochs=r["train"]["epochs"], batch_size=64, verbose=0).history
    model = preset_training.strip_optimizer(model)
    check = {"metric": "nll", "n": 200, "tolerance": 1e-4}
    metrics = {"test_nll": _evaluate(model, types.SimpleNamespace(seed=0, dataset="toy"))["nll"]}
    return preset_training.Trained(model, 1.0, history, metrics, check, 0.1)


def _compute_check(model, check, local_dir=None):
    return _evaluate(model, types.SimpleNamespace(seed=0, dataset="toy"))["nll"], 0.0


TOY = families.Family(
    name="toy_gaussian",
    summary="A diagonal Gaussian (test family)",
    models=(ToyGaussian,),
    cli=types.SimpleNamespace(add_train_arguments=_add_train_arguments, training=_training,
                              evaluate=_evaluate, sample=_sample),
    signatures=_signatures,
    presets=types.SimpleNamespace(
        RECIPES={"toy_gaussian_2d": {"kind": "toy", "description": "A 2-D Gaussian", "data": {}, "model": {},
                                     "train": {"epochs": 3}, "evaluate": {}}},
        HEADLINE={"nll": "test_nll"}, train=_preset_train, compute_check=_compute_check,
    ),
    default_dataset="toy_data",
)


@pytest.fixture
def toy_family():
    families.register(TOY)
    yield TOY
    families.unregister(TOY.name)


# ---------------------------------------------------------------------------
# Round trips


@pytest.fixture
def trained_toy(toy_family, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "toy_gaussian", "--epochs", "3", "--out", str(out), "--verbose", "0"]) == 0
    return out


def test_cli_trains_a_registered_family_with_the_shared_runner(trained_toy, capsys):
    record = json.loads((trained_toy / "history.json").read_text())
    assert record["family"] == "toy_gaussian" and len(record["history"]["nll"]) == 3
    assert record["history"]["nll"][-1] < record["history"]["nll"][0]
    assert record["examples_per_second"] > 0 and record["final_mu"][0] > 0.1  # the family's finish ran
    assert (trained_toy / "training_curves.png").stat().st_size > 0
    assert not (trained_toy / "backup").exists()
    assert type(load_model(trained_toy / "model.keras")).__name__ == "ToyGaussian"


def test_cli_evaluates_with_the_dataset_of_the_history_and_writes_json(trained_toy, tmp_path):
    out = tmp_path / "m.json"
    assert main(["evaluate", str(trained_toy / "model.keras"), "--json", str(out)]) == 0
    metrics = json.loads(out.read_text())
    assert metrics["dataset"] == "toy_data" and np.isfinite(metrics["nll"])


def test_cli_quality_of_a_family_whose_samples_are_not_images_says_so(trained_toy, tmp_path, capsys):
    out = tmp_path / "m.json"
    assert main(["evaluate", str(trained_toy / "model.keras"), "--quality", "--quality-samples", "30",
                 "--json", str(out)]) == 0
    quality = json.loads(out.read_text())["quality"]
    assert quality["computed"] is False and quality["n_samples"] == 30  # drawn by the family's sample hook
    assert "not 28 x 28 images (shape (30, 2))" in quality["reason"]
    assert "Sample quality: not computed" in capsys.readouterr().out


def test_cli_samples_write_the_file_they_name(trained_toy, tmp_path, capsys):
    assert main(["sample", str(trained_toy / "model.keras"), "--n", "5", "--out", str(tmp_path / "s.png")]) == 0
    written = tmp_path / "s.npy"  # not images: the samples go to a .npy file, and the line says so
    assert np.load(written).shape == (5, 2) and not (tmp_path / "s.png").exists()
    assert f"to {written}" in capsys.readouterr().out


def test_export_takes_the_family_signatures(trained_toy, tmp_path):
    model = load_model(trained_toy / "model.keras")
    path = export_model(model, tmp_path / "serving", model_name="toy", version=1)
    served = tf.saved_model.load(path).signatures["sample"]
    got = served(n=tf.constant(4), seed=tf.constant(3))["samples"].numpy()
    np.testing.assert_allclose(got, model.sample(4, seed=3), rtol=1e-6)


def test_presets_train_register_load_and_check_a_registered_family(toy_family, tmp_path):
    card = preset_training.train_preset("toy_gaussian_2d", out=tmp_path)
    assert card["family"] == "toy_gaussian" and card["class"] == "ToyGaussian"
    assert presets.list_presets(family="toy_gaussian", root=tmp_path) == {"toy_gaussian_2d": "A 2-D Gaussian"}
    model = presets.load_pretrained("toy_gaussian_2d", root=tmp_path)
    value, _ = preset_training.compute_check(model, card["check"])
    assert abs(value - card["check"]["value"]) <= card["check"]["tolerance"]
    assert card["check"]["headline"] == "test_nll"


def test_registry_refuses_a_second_family_of_the_same_name_and_bad_names(toy_family):
    with pytest.raises(ValueError, match="already registered"):
        families.register(families.Family(name="toy_gaussian", summary="another"))
    with pytest.raises(ValueError, match="`name` must be a family name"):
        families.Family(name="no spaces", summary="x")
    with pytest.raises(ValueError, match="Unknown family 'gan_of_the_future'. Expected one of"):
        families.get("gan_of_the_future")
    assert families.family_of(object()) is None


# ---------------------------------------------------------------------------
# The core names no family


CORE = ["cli.py", "runner.py", "export.py", "saving.py", "presets.py", "preset_training.py",
        "families.py", "generative_model.py", "training.py", "__init__.py", "signed_data.py", "periodic.py",
        "metrics/ising_study.py"]
FAMILIES = sorted(p.name for p in (REPO / "keras_genmodels").iterdir() if (p / "family.py").exists())


def _imported_modules(path):
    """The `keras_genmodels...` modules that a file imports (absolute imports)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m.startswith("keras_genmodels.")}


@pytest.mark.parametrize("family", FAMILIES)
def test_a_family_imports_no_other_family(family):
    """A family is a folder: what two families share lives in the core (signed_data, periodic, ...)."""
    others = set(FAMILIES) - {family}
    for path in sorted((REPO / "keras_genmodels" / family).rglob("*.py")):
        for module in _imported_modules(path):
            assert module.split(".")[1] not in others, (str(path.relative_to(REPO)), module)


@pytest.mark.parametrize("module", CORE)
def test_core_modules_import_and_test_no_family(module):
    """No import of a family package and no family class in the code (docstrings may give examples)."""
    tree = ast.parse((REPO / "keras_genmodels" / module).read_text())
    family_packages = {p.name for p in (REPO / "keras_genmodels").iterdir() if (p / "family.py").exists()}
    class_names = {"VAE", "Sampling", "RestrictedBoltzmannMachine", "BernoulliRBM", "GaussianBernoulliRBM",
                   "TemperedBernoulliRBM"}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [getattr(node, "module", None) or ""] + [a.name for a in node.names]
            assert not any(n.split(".")[1:2] and n.split(".")[1] in family_packages for n in names
                           if n.startswith("keras_genmodels.")), (module, ast.dump(node))
            if getattr(node, "module", None) == "keras_genmodels":
                assert not {a.name for a in node.names} & family_packages, (module, ast.dump(node))
        if isinstance(node, ast.Name):
            assert node.id not in class_names, (module, node.id)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in family_packages:
            pytest.fail(f"{module} names the family {node.value!r}")
