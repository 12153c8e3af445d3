"""The diffusion family through the shared command line: train, evaluate (loss and bound), sample, export, plots.

Tiny U-Nets (one resolution of 8 channels, one residual block) and T = 20 (10) steps keep the file fast: the
cost is tracing, not training.
"""

import json
import math

import numpy as np
import pytest

from keras_genmodels.cli import main

# One resolution of 8 channels (no pooling: the smallest U-Net) and one residual block.
TINY = ["--epochs", "1", "--widths", "8", "--block-depth", "1", "--batch-size", "32", "--verbose", "0"]


@pytest.fixture(scope="module")
def grey_run(tmp_path_factory, fashion_mnist_dir):
    out = tmp_path_factory.mktemp("diffusion_grey")
    assert main(["train", "diffusion", "--limit", "64", "--timesteps", "20", "--seed", "0",
                 "--local-dir", str(fashion_mnist_dir), "--out", str(out), *TINY]) == 0
    return out


@pytest.fixture(scope="module")
def grey_model(grey_run):
    from keras_genmodels.saving import load_model

    return load_model(grey_run / "model.keras")


def test_train_writes_a_model_that_loads_its_history_and_pictures(grey_run, grey_model):
    record = json.loads((grey_run / "history.json").read_text())
    assert record["family"] == "diffusion" and set(record["history"]) == {"loss"}
    assert len(record["history"]["loss"]) == 1 and np.isfinite(record["history"]["loss"][0])
    settings = record["settings"]
    assert settings["data"] == "grey" and settings["timesteps"] == 20 and settings["widths"] == [8]
    for name in ("model.keras", "samples.png", "chain.png", "training_curves.png", "epochs/epoch_001.png"):
        assert (grey_run / name).exists(), name
    assert type(grey_model).__name__ == "DiffusionModel"
    assert grey_model.data == "grey" and grey_model.timesteps == 20 and grey_model.data_shape == (28, 28, 1)


def test_evaluate_gives_the_held_out_loss_and_the_bound(grey_run, grey_model, fashion_mnist_dir, tmp_path, capsys):
    from keras_genmodels import signed_data as data

    path = tmp_path / "metrics.json"
    assert main(["evaluate", str(grey_run / "model.keras"), "--limit", "16", "--bound", "6",
                 "--local-dir", str(fashion_mnist_dir), "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ε-prediction loss" in out and "bits/dim" in out
    metrics = json.loads(path.read_text())
    assert metrics["dataset"] == "fashion_mnist" and metrics["split"] == "test" and metrics["n"] == 16
    assert 0 < metrics["loss"] < 10
    bound = metrics["bound"]
    assert bound["n"] == 6 and bound["nats_stderr"] > 0
    assert bound["nats"] == pytest.approx(bound["prior"] + bound["diffusion"] + bound["decoder"], rel=1e-9)
    assert bound["bits_per_dim"] == pytest.approx(bound["nats"] / (784 * math.log(2)), rel=1e-9)
    # The same numbers as the Python API, at the same seed and batches.
    x = data.load_images("fashion_mnist", "test", 6, fashion_mnist_dir)
    direct = grey_model.log_likelihood_bound(x, batch_size=100, seed=0)
    assert bound["nats"] == pytest.approx(direct["nats"].mean(), rel=1e-6)


def test_evaluate_with_strata_of_the_steps(grey_run, grey_model, fashion_mnist_dir, tmp_path, capsys):
    from keras_genmodels import signed_data as data

    path = tmp_path / "metrics.json"
    assert main(["evaluate", str(grey_run / "model.keras"), "--limit", "8", "--bound", "8", "--bound-timesteps", "4",
                 "--local-dir", str(fashion_mnist_dir), "--json", str(path)]) == 0
    assert "one t in each of 4 strata" in capsys.readouterr().out
    bound = json.loads(path.read_text())["bound"]
    assert bound["timestep_samples"] == 4
    x = data.load_images("fashion_mnist", "test", 8, fashion_mnist_dir)
    direct = grey_model.log_likelihood_bound(x, batch_size=100, seed=0, timestep_samples=4)
    assert bound["nats"] == pytest.approx(direct["nats"].mean(), rel=1e-6)
    for flags, expected in ((["--bound-timesteps", "4"], "--bound-timesteps applies with --bound N"),
                            (["--bound", "2", "--bound-timesteps", "20"],
                             "Expected --bound-timesteps of at most T - 1 = 19")):
        assert main(["evaluate", str(grey_run / "model.keras"), "--limit", "8", *flags,
                     "--local-dir", str(fashion_mnist_dir)]) != 0
        assert expected in capsys.readouterr().err


def test_sample_writes_a_grid_with_either_sampler(grey_run, tmp_path, capsys):
    out = tmp_path / "ddim.png"
    assert main(["sample", str(grey_run / "model.keras"), "--n", "4", "--out", str(out)]) == 0
    assert out.exists() and "DDIM, 20 steps, η = 0" in capsys.readouterr().out
    out = tmp_path / "ddpm.png"
    assert main(["sample", str(grey_run / "model.keras"), "--n", "4", "--method", "ddpm", "--out", str(out)]) == 0
    assert out.exists() and "DDPM, 20 steps" in capsys.readouterr().out


def test_export_sample_equals_model_sample_and_denoise_the_ema_network(grey_run, grey_model, tmp_path):
    import tensorflow as tf

    from keras_genmodels.diffusion.export import signatures

    assert main(["export", str(grey_run / "model.keras"), str(tmp_path / "serving")]) == 0
    loaded = tf.saved_model.load(str(tmp_path / "serving" / "model" / "1"))
    assert {"serving_default", "sample", "denoise"} <= set(loaded.signatures)
    served = loaded.signatures["sample"](n=tf.constant(3), seed=tf.constant(5))["samples"].numpy()
    np.testing.assert_array_equal(served, grey_model.sample(3, seed=5, method="ddim", steps=20, eta=0.0))
    x_t = np.random.default_rng(0).normal(size=(2, 28, 28, 1)).astype("float32")
    t = np.array([0, 19], "int32")
    eps = loaded.signatures["denoise"](x_t=tf.constant(x_t), t=tf.constant(t))["epsilon"].numpy()
    np.testing.assert_allclose(eps, np.asarray(grey_model.predict_noise(x_t, t, use_ema=True)), rtol=1e-5, atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError):
        loaded.signatures["denoise"](x_t=tf.constant(x_t), t=tf.constant([0, 20]))
    with pytest.raises(ValueError, match=r"`steps` must be an int in \[1, T\] = \[1, 20\]"):
        signatures(grey_model, steps=21)


def test_chain_figure_shows_the_forward_and_the_reverse_chain(grey_model, fashion_mnist_dir, tmp_path,
                                                                check_figure):
    from keras_genmodels.diffusion import plots
    from keras_genmodels import signed_data as data

    x0 = data.load_images("fashion_mnist", "test", 1, fashion_mnist_dir)[0]
    forward = plots.forward_chain(grey_model, x0, [0, 20], seed=1)
    np.testing.assert_array_equal(forward[0], x0)
    abar = grey_model.alphas_cumprod[-1]
    eps = (forward[1] - math.sqrt(abar) * x0) / math.sqrt(1.0 - abar)  # x_T = √ᾱ_T x_0 + √(1 − ᾱ_T) ε
    assert abs(eps.mean()) < 0.15 and abs(eps.std() - 1.0) < 0.15
    chain = plots.reverse_chain(grey_model, [20, 10, 0], seed=3)
    assert chain.shape == (3, 28, 28, 1)
    np.testing.assert_allclose(np.asarray(grey_model.from_model_space(chain[2:])),
                               grey_model.sample(1, seed=3, method="ddpm"), rtol=1e-5, atol=1e-5)
    check_figure(plots.chain_figure(grey_model, x0, n_columns=4))  # train wrote one as chain.png


def test_binarized_images_train_a_binary_model(tmp_path, fashion_mnist_dir, capsys):
    from keras_genmodels.saving import load_model

    out = tmp_path / "binary"
    assert main(["train", "diffusion", "--binarize", "--limit", "32", "--timesteps", "10",
                 "--local-dir", str(fashion_mnist_dir), "--out", str(out), *TINY]) == 0
    assert load_model(out / "model.keras").data == "binary" and (out / "samples.png").exists()
    path = tmp_path / "metrics.json"
    assert main(["evaluate", str(out / "model.keras"), "--limit", "8", "--local-dir", str(fashion_mnist_dir),
                 "--json", str(path)]) == 0  # on the test images binarised (check_data refuses grey levels)
    assert json.loads(path.read_text())["n"] == 8 and "mnist/test (n=8)" in capsys.readouterr().out


def test_ising_trains_on_spins_and_samples_configurations(tmp_path, monkeypatch, capsys):
    from keras_genmodels.saving import load_model

    monkeypatch.setenv("KERAS_GENMODELS_DATA_DIR", str(tmp_path / "data"))  # the Monte Carlo cache
    out = tmp_path / "ising"
    assert main(["train", "diffusion", "--dataset", "ising", "--L", "8", "--temperature", "2.5",
                 "--n-configurations", "32", "--timesteps", "10", "--out", str(out), *TINY]) == 0
    record = json.loads((out / "history.json").read_text())
    assert record["settings"]["temperature"] == 2.5 and record["settings"]["data"] == "spins"
    assert load_model(out / "model.keras").data_shape == (8, 8, 1)
    path = tmp_path / "metrics.json"
    assert main(["evaluate", str(out / "model.keras"), "--limit", "8", "--json", str(path)]) == 0
    metrics = json.loads(path.read_text())  # held-out configurations at the training temperature (history.json)
    assert metrics["dataset"] == "ising" and metrics["n"] == 8 and np.isfinite(metrics["loss"])
    assert main(["sample", str(out / "model.keras"), "--n", "4", "--out", str(tmp_path / "s.png")]) == 0
    spins = np.load(tmp_path / "s.npy")
    assert spins.shape == (4, 8, 8) and set(np.unique(spins)) <= {-1, 1}
    assert "s.npy" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["train", "diffusion", "--widths", "8", "12"], "Expected every --widths to be a multiple of --groups"),
    (["train", "diffusion", "--ema-decay", "1"], "Expected --ema-decay in [0, 1)"),
    (["train", "diffusion", "--timesteps", "0"], "argument --timesteps: must be a positive int"),
    (["train", "diffusion", "--dataset", "ising", "--binarize"], "--binarize applies to images"),
    (["train", "diffusion", "--dataset", "ising", "--L", "6", "--widths", "8", "16", "32"],
     "Expected --L to be a multiple of 2^(number of --widths - 1) = 4"),
    (["sample", "MODEL", "--eta", "2"], "argument --eta: must be a float in [0, 1]. Received: '2'"),
    (["sample", "MODEL", "--steps", "50"], "Expected --steps in [1, T] = [1, 20]"),
    (["sample", "MODEL", "--method", "ddpm", "--steps", "5"], "DDPM takes all T = 20 steps"),
    (["sample", "MODEL", "--method", "ddpm", "--eta", "0.5"], "--eta applies to --method ddim"),
])
def test_bad_input_exits_with_a_clear_message(argv, message, grey_run, tmp_path, capsys):
    argv = [str(grey_run / "model.keras") if a == "MODEL" else a for a in argv]
    extra = ["--out", str(tmp_path / ("x" if argv[0] == "train" else "x.png"))]
    assert main(argv + extra) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.png").exists()
