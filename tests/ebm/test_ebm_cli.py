"""The energy-based family through the shared command line and TF Serving export."""

import json

import numpy as np
import pytest

from keras_genmodels.cli import main


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ebm_toy")
    code = main(["train", "ebm", "--dataset", "gaussian_mixture", "--epochs", "2", "--toy-size", "400",
                 "--batch-size", "100", "--langevin-steps", "5", "--buffer-size", "400", "--seed", "0",
                 "--verbose", "0", "--out", str(out)])
    assert code == 0
    return out


def test_train_writes_the_model_history_and_pictures(toy_run, capsys):
    record = json.loads((toy_run / "history.json").read_text())
    assert record["family"] == "ebm"
    held_out = record["held_out"]
    assert held_out["n_test"] == 400 and held_out["n_grid"] == 200
    # A likelihood of a density: below the data's own (the exact mixture's) plus the KL, in nats.
    np.testing.assert_allclose(held_out["data_log_likelihood"] - held_out["log_likelihood"],
                               held_out["kl_data_model"], atol=0.5)
    assert held_out["kl_data_model"] > 0
    for name in ("model.keras", "energy_landscape.png", "chains.png", "training_curves.png"):
        assert (toy_run / name).exists(), name
    assert set(record["history"]) >= {"energy_data", "energy_model", "energy_gap", "loss", "regularizer"}


def test_evaluate_uses_the_dataset_of_the_history_and_writes_json(toy_run, tmp_path):
    path = tmp_path / "metrics.json"
    assert main(["evaluate", str(toy_run / "model.keras"), "--toy-size", "300", "--grid", "100",
                 "--json", str(path)]) == 0
    metrics = json.loads(path.read_text())
    assert metrics["dataset"] == "gaussian_mixture" and metrics["n_test"] == 300
    assert np.isfinite(metrics["log_likelihood"]) and metrics["kl_data_model"] > 0


def test_evaluate_refuses_an_image_dataset_for_a_model_of_points(toy_run, capsys):
    assert main(["evaluate", str(toy_run / "model.keras"), "--dataset", "fashion_mnist"]) == 2
    assert "2-D toy sets" in capsys.readouterr().err


def test_sample_writes_points_to_npy(toy_run, tmp_path, capsys):
    out = tmp_path / "s.png"
    assert main(["sample", str(toy_run / "model.keras"), "--n", "7", "--langevin-steps", "3",
                 "--out", str(out)]) == 0
    values = np.load(tmp_path / "s.npy")
    assert values.shape == (7, 2) and np.all(np.abs(values) <= 4.0)
    assert "3 Langevin steps" in capsys.readouterr().out


def test_train_refuses_bad_flags_before_building_anything(tmp_path, capsys):
    assert main(["train", "ebm", "--step-size", "0", "--out", str(tmp_path / "x")]) == 2
    assert "argument --step-size: must be a finite float > 0. Received: '0'" in capsys.readouterr().err
    assert main(["train", "ebm", "--dataset", "rings", "--restart-fraction", "1.5", "--out", str(tmp_path / "y")]) == 2
    assert "Received --restart-fraction 1.5" in capsys.readouterr().err
    assert not (tmp_path / "y" / "model.keras").exists()


def test_export_signatures_match_the_model(toy_run, tmp_path):
    import tensorflow as tf

    from keras_genmodels.export import export_model
    from keras_genmodels.saving import load_model

    model = load_model(str(toy_run / "model.keras"))
    path = export_model(model, tmp_path / "export", version=1)
    loaded = tf.saved_model.load(str(path))
    assert set(loaded.signatures) == {"serving_default", "energy", "sample"}
    x = np.random.default_rng(0).uniform(-3, 3, (6, 2)).astype("float32")
    energy = loaded.signatures["energy"](x=tf.constant(x))["energy"].numpy()
    np.testing.assert_allclose(energy, model.energy(x), rtol=1e-5, atol=1e-5)
    samples = loaded.signatures["sample"](n=tf.constant(5), steps=tf.constant(4), seed=tf.constant(3))["samples"]
    np.testing.assert_allclose(samples.numpy(), model.sample(5, seed=3, steps=4), atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`steps` must be a positive int"):
        loaded.signatures["sample"](n=tf.constant(2), steps=tf.constant(0), seed=tf.constant(1))


def test_evaluate_quality_scores_buffer_chains_of_an_image_model(tmp_path, capsys):
    from keras_genmodels.ebm import EnergyBasedModel
    from keras_genmodels.saving import save_model

    model = EnergyBasedModel((32, 32, 1), buffer_size=64, steps=2, seed=0)
    path = save_model(model, tmp_path / "ebm.keras")
    out = tmp_path / "metrics.json"
    assert main(["evaluate", str(path), "--dataset", "fashion_mnist", "--limit", "200", "--quality",
                 "--quality-samples", "100", "--json", str(out)]) == 0
    metrics = json.loads(out.read_text())
    assert metrics["n"] == 200 and np.isfinite(metrics["energy_data"])
    quality = metrics["quality"]
    assert quality["computed"] and quality["n_samples"] == 100 and quality["fd"] > 0
    assert "replay buffer + 2 Langevin steps" in capsys.readouterr().out
