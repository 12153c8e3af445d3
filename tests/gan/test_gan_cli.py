"""The GAN family through the shared command line: train, evaluate (with --quality), sample, export."""

import json

import numpy as np
import pytest

from keras_genmodels.cli import main


@pytest.fixture(scope="module")
def image_run(tmp_path_factory, fashion_mnist_dir):
    out = tmp_path_factory.mktemp("gan_images")
    code = main(["train", "gan", "--limit", "128", "--batch-size", "64", "--epochs", "2", "--seed", "0",
                 "--local-dir", str(fashion_mnist_dir), "--verbose", "0", "--out", str(out)])
    assert code == 0
    return out


def test_train_writes_the_model_history_and_a_grid_per_epoch(image_run):
    record = json.loads((image_run / "history.json").read_text())
    assert record["family"] == "gan"
    assert set(record["history"]) == {"d_loss", "g_loss", "wasserstein", "gradient_penalty"}
    assert len(record["history"]["d_loss"]) == 2
    assert record["settings"]["d_steps"] == 3 and record["settings"]["model"] == "wgan_gp"
    for name in ("model.keras", "samples.png", "training_curves.png", "epochs/epoch_001.png", "epochs/epoch_002.png"):
        assert (image_run / name).exists(), name


def test_evaluate_gives_held_out_losses_and_sample_quality(image_run, fashion_mnist_dir, tmp_path):
    path = tmp_path / "metrics.json"
    assert main(["evaluate", str(image_run / "model.keras"), "--limit", "200", "--quality", "--quality-samples",
                 "200", "--local-dir", str(fashion_mnist_dir), "--json", str(path)]) == 0
    metrics = json.loads(path.read_text())
    assert metrics["dataset"] == "fashion_mnist" and metrics["n"] == 200
    assert np.isfinite(metrics["wasserstein"]) and metrics["gradient_penalty"] >= 0
    assert metrics["quality"]["fd"] > 0 and 0 <= metrics["quality"]["recall"] <= 1


def test_sample_writes_a_grid(image_run, tmp_path, capsys):
    out = tmp_path / "s.png"
    assert main(["sample", str(image_run / "model.keras"), "--n", "9", "--out", str(out)]) == 0
    assert out.exists() and "G(z), z ~ N(0, I)" in capsys.readouterr().out


def test_conditional_dcgan_samples_the_labels_asked(tmp_path, fashion_mnist_dir, capsys):
    out = tmp_path / "dcgan"
    assert main(["train", "gan", "--model", "dcgan", "--conditional", "--limit", "64", "--batch-size", "32",
                 "--label-smoothing", "0.1", "--local-dir", str(fashion_mnist_dir), "--verbose", "0",
                 "--out", str(out)]) == 0
    record = json.loads((out / "history.json").read_text())
    assert set(record["history"]) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert main(["sample", str(out / "model.keras"), "--n", "4", "--labels", "7", "--out",
                 str(tmp_path / "s.png")]) == 0
    assert "labels 7" in capsys.readouterr().out
    assert main(["sample", str(out / "model.keras"), "--n", "4", "--labels", "10", "--out",
                 str(tmp_path / "t.png")]) == 2
    assert "ints in [0, 10)" in capsys.readouterr().err


def test_export_has_the_sample_signature(image_run, tmp_path):
    import tensorflow as tf

    from keras_genmodels.saving import load_model

    assert main(["export", str(image_run / "model.keras"), str(tmp_path / "serving")]) == 0
    loaded = tf.saved_model.load(str(tmp_path / "serving" / "model" / "1"))
    out = loaded.signatures["sample"](n=tf.constant(4), seed=tf.constant(3))["samples"].numpy()
    np.testing.assert_array_equal(out, load_model(image_run / "model.keras").sample(4, seed=3))


def test_train_refuses_bad_flags_before_building_anything(tmp_path, capsys):
    assert main(["train", "gan", "--d-steps", "0", "--out", str(tmp_path / "x")]) == 2
    assert "argument --d-steps" in capsys.readouterr().err
    assert main(["train", "gan", "--label-smoothing", "1.0", "--out", str(tmp_path / "y")]) == 2
    assert "--label-smoothing in [0, 1)" in capsys.readouterr().err
    assert main(["train", "gan", "--dataset", "ising", "--L", "10", "--out", str(tmp_path / "z")]) == 2
    assert "multiple of 4" in capsys.readouterr().err
