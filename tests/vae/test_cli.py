"""The command line, end to end on local Fashion-MNIST (small settings)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_genmodels.cli import main


@pytest.fixture(scope="module")
def trained(tmp_path_factory, fashion_mnist_dir):
    out = tmp_path_factory.mktemp("vae_cli")
    code = main([
        "train", "vae", "--dataset", "fashion_mnist", "--epochs", "2", "--limit", "2000",
        "--batch-size", "100", "--local-dir", str(fashion_mnist_dir), "--out", str(out),
        "--verbose", "0",
    ])
    assert code == 0
    return out


def test_train_writes_model_history_and_plots(trained):
    for name in ["model.keras", "history.json", "samples.png", "training_curves.png",
                 "latent_space.png", "latent_clusters.png"]:
        assert (trained / name).stat().st_size > 0, name
    record = json.loads((trained / "history.json").read_text())
    hist = record["history"]
    assert len(hist["loss"]) == 2 and len(hist["val_loss"]) == 2
    assert hist["loss"][1] < hist["loss"][0]


def test_evaluate_reports_elbo_and_iw_bound(trained, fashion_mnist_dir, tmp_path, capsys):
    out_json = tmp_path / "m.json"
    code = main([
        "evaluate", str(trained / "model.keras"), "--dataset", "fashion_mnist", "--split", "test",
        "--limit", "300", "--iw-samples", "50", "--iw-examples", "20",
        "--local-dir", str(fashion_mnist_dir), "--json", str(out_json),
    ])
    assert code == 0
    metrics = json.loads(out_json.read_text())
    assert metrics["n"] == 300 and metrics["iw_examples"] == 20
    assert metrics["elbo"] < 0 and metrics["nll_estimate"] > 0
    # The bound and the ELBO on the same 20 images: L_K >= ELBO, within the paired error.
    assert metrics["iw_minus_elbo"] == pytest.approx(metrics["iw_bound"] - metrics["elbo_on_iw_examples"])
    assert metrics["iw_minus_elbo"] > -3 * metrics["iw_minus_elbo_stderr"]
    out = capsys.readouterr().out
    assert "the first 20 images: ELBO =" in out and "importance-weighted bound (K=50)" in out
    assert "all 300 images: ELBO =" in out and "300/300" in out and "1000/1000" in out  # progress: images, draws


def test_sample_writes_png(trained, tmp_path):
    png = tmp_path / "s.png"
    assert main(["sample", str(trained / "model.keras"), "--n", "16", "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_console_script_runs_in_a_fresh_process(trained, tmp_path):
    png = tmp_path / "s.png"
    out = subprocess.run(
        [sys.executable, "-m", "keras_genmodels", "sample", str(trained / "model.keras"),
         "--n", "4", "--out", str(png)],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert png.exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "vae", "--dataset", "cifar10", "--epochs", "1"], "cifar10"),
        (["train", "vae", "--epochs", "0"], "--epochs"),
        (["train", "vae", "--latent-dim", "0", "--epochs", "1", "--limit", "10"], "argument --latent-dim"),
        (["train", "vae", "--hidden-units", "a,b", "--epochs", "1"], "--hidden-units"),
        (["train", "vae", "--binarize", "maybe", "--epochs", "1"], "--binarize"),
        (["train", "vae", "--warmup-epochs", "-1", "--epochs", "2"], "argument --warmup-epochs"),
        (["train", "vae", "--warmup-epochs", "2", "--epochs", "2", "--limit", "10"],
         "Expected --warmup-epochs to be an integer from 0 to --epochs - 1 (1). Received --warmup-epochs 2."),
        (["evaluate", "/nonexistent/model.keras"], "does not exist"),
    ],
)
def test_bad_arguments_give_a_clear_error(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_warmup_rises_linearly_to_the_peak_then_follows_the_schedule(schedule):
    import argparse

    from keras_genmodels.vae.cli import _learning_rate

    args = argparse.Namespace(learning_rate=5e-3, lr_schedule=schedule, warmup_epochs=1)
    lr = _learning_rate(args, epochs=4, steps_per_epoch=100)
    at = lambda step: float(lr(step))  # noqa: E731
    assert at(0) == 0.0
    np.testing.assert_allclose([at(25), at(50), at(100)], [1.25e-3, 2.5e-3, 5e-3], rtol=1e-5)
    end = 5e-3 * (0.02 if schedule == "cosine" else 1.0)
    np.testing.assert_allclose(at(400), end, rtol=1e-5)
    if schedule == "cosine":
        np.testing.assert_allclose(at(250), 5e-3 * (0.02 + 0.98 * 0.5), rtol=1e-5)  # half-way down the decay
    args.warmup_epochs = 0
    no_warmup = _learning_rate(args, 4, 100)
    if schedule == "constant":
        assert no_warmup == 5e-3
    else:
        np.testing.assert_allclose(float(no_warmup(0)), 5e-3, rtol=1e-6)


def test_truncated_model_file(trained, tmp_path, capsys):
    data = (trained / "model.keras").read_bytes()
    bad = tmp_path / "bad.keras"
    bad.write_bytes(data[:1000])
    assert main(["sample", str(bad), "--out", str(tmp_path / "x.png")]) == 2
    assert "truncated or corrupt" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "x.png")


def test_train_mlp_bf16_cosine_binarized(tmp_path, fashion_mnist_dir):
    import keras

    out = tmp_path / "mlp"
    code = main([
        "train", "vae", "--architecture", "mlp", "--latent-dim", "8", "--hidden-units", "64,32",
        "--mixed-precision", "--lr-schedule", "cosine", "--binarize", "dynamic", "--epochs", "2",
        "--limit", "1000", "--local-dir", str(fashion_mnist_dir), "--out", str(out), "--verbose", "0",
    ])
    assert code == 0
    assert keras.mixed_precision.global_policy().name == "float32", "the global policy is restored"
    from keras_genmodels.saving import load_model

    model = load_model(out / "model.keras")
    assert model.encoder.layers[-1].dtype_policy.name == "mixed_bfloat16"
    hist = __import__("json").loads((out / "history.json").read_text())["history"]
    assert hist["loss"][1] < hist["loss"][0]
    assert not (out / "latent_space.png").exists(), "latent plots are for 2-D latents only"


def test_train_loads_each_split_once_through_one_loader(tmp_path, fashion_mnist_dir, monkeypatch):
    """The latent-space pictures use the test split the model was validated on (no second loader)."""
    from keras_genmodels import datasets

    calls = []
    load = datasets.load
    monkeypatch.setattr(datasets, "load", lambda *a, **k: calls.append((a, k)) or load(*a, **k))

    def second_loader(*args, **kwargs):
        raise AssertionError("the data were loaded a second time, through load_arrays")

    monkeypatch.setattr(datasets, "load_arrays", second_loader)
    out = tmp_path / "run"
    assert main(["train", "vae", "--epochs", "1", "--limit", "300", "--batch-size", "100",
                 "--local-dir", str(fashion_mnist_dir), "--out", str(out), "--verbose", "0"]) == 0
    assert sorted(a[1] for a, _ in calls) == ["test", "train"]
    assert (out / "latent_clusters.png").stat().st_size > 0


def test_evaluate_takes_the_dataset_from_the_history_beside_the_model(trained, tmp_path, capsys):
    """Without --dataset, the VAE is evaluated on the data set it was trained on (here: MNIST)."""
    import shutil

    run = tmp_path / "mnist_run"
    run.mkdir()
    shutil.copy(trained / "model.keras", run / "model.keras")
    record = json.loads((trained / "history.json").read_text())
    record["args"]["dataset"] = "mnist"
    (run / "history.json").write_text(json.dumps(record))
    empty = tmp_path / "no_data"
    empty.mkdir()
    assert main(["evaluate", str(run / "model.keras"), "--local-dir", str(empty),
                 "--iw-samples", "2", "--iw-examples", "2"]) == 2
    err = capsys.readouterr().err
    assert "MNIST" in err and "Fashion-MNIST" not in err


def test_samples_that_are_not_images_go_to_the_npy_file_the_line_names(tmp_path, capsys):
    from keras_genmodels.saving import save_model
    from keras_genmodels.vae import VAE

    path = save_model(VAE(architecture="mlp", data_shape=(5,), latent_dim=1, hidden_units=(2,)),
                      tmp_path / "flat.keras")
    assert main(["sample", path, "--n", "3", "--out", str(tmp_path / "s.png")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (3, 5) and not (tmp_path / "s.png").exists()
    assert f"to {tmp_path / 's.npy'}" in capsys.readouterr().out
