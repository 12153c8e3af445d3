"""Configs, `.keras` files (loaded in a fresh process) and scikit-learn weights."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from keras_genmodels.rbm import BernoulliRBM, GaussianBernoulliRBM
from keras_genmodels.saving import save_model

CONFIGS = {
    "bernoulli_pcd": (
        BernoulliRBM,
        dict(n_visible=12, n_hidden=5, k=2, persistent=True, n_chains=7, weight_decay=1e-3,
             centering=True, centering_rate=0.05, seed=3),
    ),
    "gaussian_pcd": (
        GaussianBernoulliRBM,
        dict(n_visible=12, n_hidden=5, persistent=True, n_chains=7, variance=0.5,
             learn_variance=True, seed=4),
    ),
}


def _data(name, n=60):
    rng = np.random.default_rng(0)
    if name.startswith("gaussian"):
        return rng.normal(size=(n, 12)).astype("float32")
    return (rng.random((n, 12)) < 0.4).astype("float32")


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_config_round_trip(name):
    cls, kwargs = CONFIGS[name]
    model = cls(**kwargs)
    config = model.get_config()
    for key, value in kwargs.items():
        assert config[key] == value
    clone = cls.from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config


_CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from keras_genmodels.saving import load_model

    out = {}
    for name, path, data in json.loads(sys.argv[1]):
        model = load_model(path, safe_mode=True)
        x = np.load(data)
        record = {
            "class": type(model).__name__,
            "config": model.get_config(),
            "weights": [w.tolist() for w in model.get_weights()],
            "features": model.predict(x, verbose=0).tolist(),
            "iterations": int(model.optimizer.iterations.numpy()),
            "steps_per_execution": model.steps_per_execution,
            "seed_state": model.seed_generator.state.numpy().tolist(),
        }
        before = model.persistent_hidden.numpy().copy()
        model.fit(x, batch_size=20, epochs=1, verbose=0)
        record["chains_moved"] = bool((model.persistent_hidden.numpy() != before).any())
        record["iterations_after"] = int(model.optimizer.iterations.numpy())
        out[name] = record
    print("RESULT" + json.dumps(out))
    """
)


def test_keras_file_round_trip_in_a_fresh_process(tmp_path):
    jobs, models = [], {}
    for name, (cls, kwargs) in sorted(CONFIGS.items()):
        model = cls(**kwargs)
        model.compile(steps_per_execution=2)
        x = _data(name)
        model.fit(x, batch_size=20, epochs=1, verbose=0)
        path = save_model(model, tmp_path / f"{name}.keras")
        np.save(tmp_path / f"{name}.npy", x)
        jobs.append([name, str(path), str(tmp_path / f"{name}.npy")])
        models[name] = (model, x)

    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(jobs)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.split("RESULT", 1)[1])
    for name, (model, x) in models.items():
        got = result[name]
        assert got["class"] == type(model).__name__
        assert got["config"] == json.loads(json.dumps(model.get_config()))
        for saved, loaded in zip(model.get_weights(), got["weights"]):
            np.testing.assert_allclose(saved, np.asarray(loaded), rtol=0, atol=0)
        np.testing.assert_allclose(model.predict(x, verbose=0), got["features"], atol=1e-6)
        # The optimizer (and its momenta) came back: training resumes at step 3.
        assert got["iterations"] == 3 and got["steps_per_execution"] == 2
        assert got["iterations_after"] == 6 and got["chains_moved"]
        # The random stream resumes where it stopped instead of replaying it.
        assert got["seed_state"] == model.seed_generator.state.numpy().tolist()
        assert got["seed_state"] != [CONFIGS[name][1]["seed"], 0]
    # The persistent chains are among the saved weights, and are not trivial.
    assert np.any(models["bernoulli_pcd"][0].persistent_hidden.numpy() != 0)


def test_weights_imported_from_scikit_learn_give_the_same_model():
    sklearn_rbm = pytest.importorskip("sklearn.neural_network").BernoulliRBM
    x = (np.random.default_rng(1).random((200, 12)) < 0.4).astype("float32")
    sk = sklearn_rbm(n_components=5, n_iter=2, learning_rate=0.1, random_state=0).fit(x)
    model = BernoulliRBM.from_sklearn(sk)
    assert (model.n_visible, model.n_hidden) == (12, 5)
    np.testing.assert_allclose(model.hidden_probabilities(x), sk.transform(x), rtol=1e-5)
    np.testing.assert_allclose(model.free_energy(x), sk._free_energy(x), rtol=1e-5, atol=1e-5)
