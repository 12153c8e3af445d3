"""The deep models of the RBM family on the command line, in TF Serving and in the plots.

`keras-genmodels train rbm --architecture dbm` end to end (with and without
greedy pre-training), `evaluate` and `sample` on a DBM file and on a DBN file
written in Python, the exported signatures of both against their Python
methods, and the figures.
"""

import json

import keras
import numpy as np
import pytest

from keras_genmodels.cli import main
from keras_genmodels.export import MAX_SEED, export_model, signature_names
from keras_genmodels.rbm import DeepBeliefNetwork, DeepBoltzmannMachine, plots
from keras_genmodels.saving import load_model, save_model

PNG = b"\x89PNG\r\n\x1a\n"


def _binary(n, d, seed, p=0.3):
    return (np.random.default_rng(seed).random((n, d)) < p).astype("float32")


def _test_images(local_dir, limit):
    from keras_genmodels import datasets

    return datasets.load_unit_images("fashion_mnist", "test", binarize="fixed", limit=limit,
                                     local_dir=local_dir, flatten=True)


def _train_dbm(out, local_dir, *extra):
    return main([
        "train", "rbm", "--architecture", "dbm", "--dataset", "fashion_mnist", "--epochs", "1",
        "--limit", "200", "--hidden", "8", "--hidden-2", "6", "--n-chains", "20", "--batch-size", "50",
        "--mean-field-steps", "3", "--validation-size", "100", "--local-dir", str(local_dir),
        "--out", str(out), "--verbose", "0", *extra,
    ])


@pytest.fixture(scope="module")
def dbm_dir(tmp_path_factory, fashion_mnist_dir):
    out = tmp_path_factory.mktemp("dbm_cli")
    assert _train_dbm(out, fashion_mnist_dir, "--ais", "--init-visible-bias") == 0
    return out


@pytest.fixture(scope="module")
def dbn_file(tmp_path_factory):
    """A tiny DBN [784, 10, 6] fitted greedily in Python on toy binary images, saved."""
    dbn = DeepBeliefNetwork([784, 10, 6], n_chains=20, seed=0)
    dbn.fit(_binary(200, 784, 1, p=0.2), epochs=1, batch_size=50, verbose=0, jit_compile=False)
    path = save_model(dbn, tmp_path_factory.mktemp("dbn") / "dbn.keras")
    return path, dbn


# ---------------------------------------------------------------------------
# train rbm --architecture dbm


def test_train_dbm_writes_model_history_bound_and_pictures(dbm_dir):
    assert (dbm_dir / "model.keras").stat().st_size > 0
    for name in ["filters.png", "layer_filters.png", "samples.png", "training_curves.png"]:
        assert (dbm_dir / name).read_bytes()[:8] == PNG, name
    record = json.loads((dbm_dir / "history.json").read_text())
    assert record["family"] == "rbm" and record["args"]["architecture"] == "dbm"
    for key in ["reconstruction_error", "mean_field_bound", "val_reconstruction_error", "val_mean_field_bound"]:
        assert len(record["history"][key]) == 1, key
    assert "pretrain_seconds" not in record
    # --ais: the mean-field bound on the 10,000 test images; log Z exact (H1 = 8 <= 20).
    assert record["log_z_method"] == "exact" and record["log_z_std"] == 0.0
    assert -784 * np.log(2) - 50 < record["test_log_likelihood_bound"] < 0
    assert 0 < record["test_log_likelihood_bound_stderr"] < 5
    model = load_model(dbm_dir / "model.keras", safe_mode=True)
    assert isinstance(model, DeepBoltzmannMachine)
    assert (model.n_visible, model.n_hidden_1, model.n_hidden_2, model.mean_field_steps) == (784, 8, 6, 3)
    assert model.gibbs_steps == 1 and model.n_chains == 20
    # The record's bound is the model's own.
    log_z = model.log_partition_exact()
    assert record["log_z"] == pytest.approx(log_z, abs=1e-6)


def test_train_dbm_after_pretraining_starts_as_the_rbm(monkeypatch, tmp_path, fashion_mnist_dir, capsys):
    """`--pretrain-epochs`: an RBM is trained first, and the runner trains `from_rbm(rbm, --hidden-2)`."""
    seen = {}
    original = DeepBoltzmannMachine.from_rbm.__func__

    def spy(cls, rbm, n_hidden_2, **kwargs):
        model = original(cls, rbm, n_hidden_2, **kwargs)
        seen.update(w1=keras.ops.convert_to_numpy(rbm.kernel), w1_dbm=model.kernel_1.numpy(),
                    sizes=(rbm.n_visible, rbm.n_hidden, n_hidden_2), persistent=rbm.persistent,
                    centering=rbm.centering, kwargs=kwargs)
        return model

    monkeypatch.setattr(DeepBoltzmannMachine, "from_rbm", classmethod(spy))
    out = tmp_path / "pretrained"
    assert _train_dbm(out, fashion_mnist_dir, "--pretrain-epochs", "1", "--persistent", "--k", "2",
                      "--centering") == 0
    assert "the test log-likelihood bound: keras-genmodels evaluate MODEL" in capsys.readouterr().out
    assert seen["sizes"] == (784, 8, 6) and seen["persistent"] is True and seen["centering"] is True
    np.testing.assert_array_equal(seen["w1_dbm"], seen["w1"])
    assert seen["kwargs"] == {"n_chains": 20, "gibbs_steps": 2, "mean_field_steps": 3,
                              "weight_decay": 0.0, "centering": True, "seed": 0}
    record = json.loads((out / "history.json").read_text())
    assert record["pretrain_epochs"] == 1 and record["pretrain_seconds"] > 0
    assert sorted(record["pretrain_history"]) == ["rbm_0"]
    assert len(record["pretrain_history"]["rbm_0"]["reconstruction_error"]) == 1
    assert len(record["history"]["mean_field_bound"]) == 1
    model = load_model(out / "model.keras", safe_mode=True)
    assert isinstance(model, DeepBoltzmannMachine) and model.centering


# ---------------------------------------------------------------------------
# evaluate and sample


def test_evaluate_dbm_exact_and_ais_agree_and_bound_the_log_likelihood(dbm_dir, fashion_mnist_dir, tmp_path,
                                                                         capsys):
    exact_json, ais_json = tmp_path / "exact.json", tmp_path / "ais.json"
    common = ["evaluate", str(dbm_dir / "model.keras"), "--limit", "100", "--local-dir", str(fashion_mnist_dir)]
    assert main([*common, "--method", "exact", "--json", str(exact_json)]) == 0
    assert "mean-field bound" in capsys.readouterr().out
    assert main([*common, "--method", "ais", "--ais-scale", "0.05", "--ais-chains", "16",
                 "--json", str(ais_json)]) == 0
    exact, ais = json.loads(exact_json.read_text()), json.loads(ais_json.read_text())
    for key in ["dataset", "split", "n", "log_likelihood_bound", "log_likelihood_bound_stderr", "log_z",
                "seconds", "method"]:
        assert key in exact and key in ais, key
    assert exact["dataset"] == "fashion_mnist" and exact["split"] == "test" and exact["n"] == 100
    assert exact["method"] == "exact" and ais["method"] == "ais" and ais["ais_chains"] == 16
    assert exact["bound"] == "mean_field" and exact["mean_field_steps"] == 3
    assert abs(ais["log_z"] - exact["log_z"]) < 0.5
    assert abs(ais["log_likelihood_bound"] - exact["log_likelihood_bound"]) < 0.5
    # A lower bound: below the exact log-likelihood (h1 enumerated, 2^8 states).
    model = load_model(dbm_dir / "model.keras", safe_mode=True)
    x = _test_images(fashion_mnist_dir, 100)
    assert exact["log_likelihood_bound"] <= float(np.mean(model.log_likelihood_exact(x))) + 1e-6


def test_evaluate_dbn_is_its_monte_carlo_bound(dbn_file, fashion_mnist_dir, tmp_path, capsys):
    path, dbn = dbn_file
    exact_json, ais_json = tmp_path / "exact.json", tmp_path / "ais.json"
    common = ["evaluate", str(path), "--limit", "50", "--bound-samples", "5", "--seed", "3",
              "--local-dir", str(fashion_mnist_dir)]
    assert main([*common, "--method", "exact", "--json", str(exact_json)]) == 0
    assert "Salakhutdinov & Murray's bound, 5 draws per example" in capsys.readouterr().out
    assert main([*common, "--method", "ais", "--ais-scale", "0.05", "--ais-chains", "16",
                 "--json", str(ais_json)]) == 0
    exact, ais = json.loads(exact_json.read_text()), json.loads(ais_json.read_text())
    assert exact["bound"] == "monte_carlo" and exact["bound_samples"] == 5 and exact["n"] == 50
    # The file's DBN in Python, with the same draws, gives the same number.
    expected = dbn.log_likelihood_bound(_test_images(fashion_mnist_dir, 50), log_z_method="exact", n_samples=5,
                                        seed=3)
    assert exact["log_likelihood_bound"] == pytest.approx(expected.mean, abs=1e-4)
    assert exact["log_likelihood_bound_stderr"] == pytest.approx(expected.stderr, abs=1e-4)
    assert exact["log_z"] == pytest.approx(expected.log_z, abs=1e-6)
    assert ais["method"] == "ais" and abs(ais["log_z"] - exact["log_z"]) < 0.5


@pytest.mark.parametrize("which", ["dbm", "dbn"])
def test_sample_writes_a_png_grid(which, dbm_dir, dbn_file, tmp_path, capsys):
    path = dbm_dir / "model.keras" if which == "dbm" else dbn_file[0]
    png = tmp_path / "s.png"
    assert main(["sample", str(path), "--n", "9", "--gibbs-steps", "20", "--seed", "4", "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == PNG
    out = capsys.readouterr().out
    assert "Wrote 9 samples" in out
    assert ("two-block" in out) if which == "dbm" else ("top RBM" in out)


def test_sample_hook_returns_the_models_samples(dbn_file):
    import argparse

    from keras_genmodels.rbm import cli as rbm_cli

    _, dbn = dbn_file
    result = rbm_cli.sample(dbn, argparse.Namespace(n=5, seed=2, gibbs_steps=7))
    assert result.image_shape == (28, 28)
    np.testing.assert_array_equal(result.values, dbn.sample(5, seed=2, steps=7))


# ---------------------------------------------------------------------------
# train rbm --architecture dbn


def _dbn_argv(out, local_dir, *extra):
    return [
        "train", "rbm", "--architecture", "dbn", "--dataset", "fashion_mnist", "--epochs", "2",
        "--limit", "200", "--hidden", "10", "--hidden-2", "6", "--n-chains", "20", "--batch-size", "50",
        "--persistent", "--validation-size", "100", "--local-dir", str(local_dir), "--out", str(out),
        "--verbose", "0", *extra,
    ]


def test_train_dbn_greedily_writes_model_history_bound_and_pictures(tmp_path, fashion_mnist_dir, capsys):
    out = tmp_path / "dbn"
    assert main(_dbn_argv(out, fashion_mnist_dir, "--ais")) == 0
    assert "Salakhutdinov & Murray's bound, top log Z exact" in capsys.readouterr().out
    for name in ["layer_filters.png", "samples.png", "training_curves.png"]:
        assert (out / name).read_bytes()[:8] == PNG, name
    assert not (out / "backup").exists()  # removed once the model is saved
    record = json.loads((out / "history.json").read_text())
    assert record["args"]["architecture"] == "dbn" and record["resumed_from_epoch"] == 0
    for layer in (1, 2):  # each RBM's own epochs, held-out metrics too
        for key in ["free_energy", "val_free_energy", "reconstruction_error"]:
            assert len(record["history"][f"{key} (RBM {layer})"]) == 2, (key, layer)
    model = load_model(out / "model.keras", safe_mode=True)
    assert isinstance(model, DeepBeliefNetwork) and model.layer_sizes == [784, 10, 6]
    assert all(rbm.persistent and float(rbm.data_count.numpy()) > 0 for rbm in model.rbms)
    # --ais: the Monte Carlo bound on the 10,000 test images, top log Z exact (6 <= 20 units).
    assert record["log_z_method"] == "exact"
    assert -784 * np.log(2) - 50 < record["test_log_likelihood_bound"] < 0
    bound = model.log_likelihood_bound(
        _test_images(fashion_mnist_dir, None), log_z=record["log_z"], n_samples=100, seed=1
    )
    assert abs(bound.mean - record["test_log_likelihood_bound"]) < 4 * record["test_log_likelihood_bound_stderr"]


class _StopInLayer(keras.callbacks.Callback):
    """Kill the greedy training in the second RBM's first epoch."""

    def on_train_batch_end(self, batch, logs=None):
        if self.model.n_visible != 784:
            raise KeyboardInterrupt("killed in RBM 2")


def test_train_dbn_resumes_after_the_last_finished_rbm(tmp_path, fashion_mnist_dir, monkeypatch, capsys):
    """A run killed in RBM 2 leaves the stack backed up after RBM 1; `--resume` trains RBM 2 only."""
    from keras_genmodels import training

    out = tmp_path / "dbn"
    original = training.training_callbacks

    def with_kill(*args, **kwargs):
        callbacks, backup = original(*args, **kwargs)
        return [_StopInLayer(), *callbacks], backup

    monkeypatch.setattr(training, "training_callbacks", with_kill)
    with pytest.raises(KeyboardInterrupt):
        main(_dbn_argv(out, fashion_mnist_dir))
    monkeypatch.setattr(training, "training_callbacks", original)
    backup = training.StageBackup(out / "backup").read_metadata()
    assert backup["stages"] == 1 and not (out / "model.keras").exists()
    saved = DeepBeliefNetwork([784, 10, 6], n_chains=20, persistent=True)
    saved.load_weights(out / "backup" / backup["weights"])
    (first,) = backup["histories"]
    assert main(_dbn_argv(out, fashion_mnist_dir, "--resume")) == 0
    assert "resumed after epoch 2" in capsys.readouterr().out
    record = json.loads((out / "history.json").read_text())
    assert record["resumed_from_epoch"] == 2
    assert record["history"]["free_energy (RBM 1)"] == backup["histories"][first]["free_energy"]
    assert len(record["history"]["free_energy (RBM 2)"]) == 2
    model = load_model(out / "model.keras", safe_mode=True)
    np.testing.assert_array_equal(model.rbms[0].kernel.numpy(), saved.rbms[0].kernel.numpy())
    assert not np.array_equal(model.rbms[1].kernel.numpy(), saved.rbms[1].kernel.numpy())
    # A backup of a training by epochs is refused, with a clear error.
    (out / "backup").mkdir()
    (out / "backup" / "training_metadata.json").write_text(json.dumps({"epoch": 1, "weights": "x.weights.h5"}))
    with pytest.raises(ValueError, match="training by stages. Received one of a training by epochs"):
        DeepBeliefNetwork([784, 10, 6]).fit(_binary(50, 784, 0), epochs=1, backup_dir=out / "backup", verbose=0)


def test_bad_flags_give_a_clear_error(tmp_path, capsys):
    assert main(["train", "rbm", "--architecture", "dbm", "--visible", "gaussian", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--architecture dbm has binary visible units: expected --visible bernoulli" in err
    assert main(["train", "rbm", "--architecture", "dbn", "--visible", "gaussian", "--out", str(tmp_path)]) == 2
    assert "--architecture dbn has binary visible units: expected --visible bernoulli" in capsys.readouterr().err
    assert main(["train", "rbm", "--architecture", "dbn", "--final-learning-rate", "0", "--out", str(tmp_path)]) == 2
    assert "expected no --final-learning-rate" in capsys.readouterr().err
    assert main(["train", "rbm", "--architecture", "dbx", "--out", str(tmp_path)]) == 2
    assert "--architecture" in capsys.readouterr().err
    assert main(["train", "rbm", "--architecture", "dbm", "--hidden-2", "0", "--out", str(tmp_path)]) == 2
    assert "argument --hidden-2: must be a positive int" in capsys.readouterr().err
    assert main(["train", "rbm", "--architecture", "dbm", "--pretrain-epochs", "-1", "--out", str(tmp_path)]) == 2
    assert "--pretrain-epochs" in capsys.readouterr().err
    assert main(["evaluate", "m.keras", "--bound-samples", "0"]) == 2
    assert "--bound-samples" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# TF Serving


def _call(loaded, signature, **inputs):
    import tensorflow as tf

    out = loaded.signatures[signature](**{k: tf.constant(val) for k, val in inputs.items()})
    return {k: t.numpy() for k, t in out.items()}


def test_dbm_export_round_trip(dbm_dir, tmp_path, capsys):
    import tensorflow as tf

    assert main(["export", str(dbm_dir / "model.keras"), str(tmp_path), "--name", "dbm", "--version", "1"]) == 0
    model = load_model(dbm_dir / "model.keras", safe_mode=True)
    assert signature_names(model) == ["mean_field", "sample", "serving_default"]
    loaded = tf.saved_model.load(str(tmp_path / "dbm" / "1"))
    v = _binary(5, 784, 2)
    mu1, mu2 = model.mean_field(v)
    for signature in ("serving_default", "mean_field"):
        out = _call(loaded, signature, v=v)
        np.testing.assert_allclose(out["mu1"], mu1, atol=1e-6)
        np.testing.assert_allclose(out["mu2"], mu2, atol=1e-6)
    scalars = {"n": np.int32(4), "steps": np.int32(3), "seed": np.int32(11)}
    out = _call(loaded, "sample", **scalars)
    np.testing.assert_allclose(out["samples"], model.sample(4, seed=11, steps=3), atol=1e-6)
    np.testing.assert_array_equal(out["binary"], model.sample(4, seed=11, steps=3, return_means=False))
    assert not np.allclose(out["samples"], model.sample(4, seed=12, steps=3), atol=1e-3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="`steps` must be a positive int"):
        _call(loaded, "sample", n=np.int32(2), steps=np.int32(0), seed=np.int32(1))


@pytest.mark.parametrize("layer_sizes", [[30, 8], [30, 8, 5], [30, 8, 6, 4]], ids=["1", "2", "3"])
def test_dbn_export_round_trip(layer_sizes, tmp_path):
    import tensorflow as tf

    x = _binary(60, 30, 1)
    dbn = DeepBeliefNetwork(layer_sizes, n_chains=10, seed=0)
    dbn.fit(x, epochs=1, batch_size=20, verbose=0, jit_compile=False)
    if len(layer_sizes) == 3:  # untied recognition weights: transform reads them, sample does not
        dbn.up_down(x, epochs=1, batch_size=20)
    assert signature_names(dbn) == ["sample", "serving_default", "transform"]
    path = export_model(dbn, tmp_path, model_name="dbn", version=1)
    loaded = tf.saved_model.load(path)
    v = _binary(5, 30, 2)
    for signature in ("serving_default", "transform"):
        np.testing.assert_allclose(_call(loaded, signature, v=v)["features"], dbn.transform(v), atol=1e-6)
    out = _call(loaded, "sample", n=np.int32(4), steps=np.int32(3), seed=np.int32(11))["samples"]
    np.testing.assert_allclose(out, dbn.sample(4, seed=11, steps=3), atol=1e-6)
    assert not np.allclose(out, dbn.sample(4, seed=12, steps=3), atol=1e-3)
    if len(layer_sizes) == 4:
        # More rows than one draw of `sample_visible` (4096), and a seed whose
        # offset seed + 1 wraps around Keras's int32 fold.
        out = _call(loaded, "sample", n=np.int32(4100), steps=np.int32(1), seed=np.int32(MAX_SEED))["samples"]
        np.testing.assert_allclose(out, dbn.sample(4100, seed=MAX_SEED, steps=1), atol=1e-6)


def test_signatures_refuse_other_models():
    from keras_genmodels.rbm.export import signatures

    with pytest.raises(ValueError, match="Expected a BernoulliRBM, GaussianBernoulliRBM, DeepBeliefNetwork or"):
        signatures(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))


# ---------------------------------------------------------------------------
# Plots


def test_filters_of_each_layer_project_to_pixel_space(dbm_dir, dbn_file):
    dbm = load_model(dbm_dir / "model.keras", safe_mode=True)
    w1, w2 = dbm.kernel_1.numpy(), dbm.kernel_2.numpy()
    first, second = plots.projected_filters(dbm)
    np.testing.assert_allclose(first, w1, atol=1e-7)
    np.testing.assert_allclose(second, w1.astype("float64") @ w2, rtol=1e-6, atol=1e-7)
    _, dbn = dbn_file
    kernels = plots.layer_kernels(dbn)
    assert [k.shape for k in kernels] == [(784, 10), (10, 6)]
    np.testing.assert_array_equal(kernels[0], dbn.rbms[0].kernel.numpy())
    assert plots.visible_units(dbn) == plots.visible_units(dbm) == 784


@pytest.mark.parametrize("which", ["dbm", "dbn"])
def test_plots_write_pngs_and_figures(which, dbm_dir, dbn_file, tmp_path, check_figure):
    model = load_model(dbm_dir / "model.keras", safe_mode=True) if which == "dbm" else dbn_file[1]
    for name, draw in [
        ("filters", lambda path: plots.plot_filters(model, path, n=5)),
        ("layer_filters", lambda path: plots.plot_layer_filters(model, path, n=4, ncols=2)),
        ("samples", lambda path: plots.plot_samples(model, path, n=4, steps=5, seed=1)),
    ]:
        check_figure(draw(tmp_path / f"{name}.png"), tmp_path / f"{name}.png")
        check_figure(draw(None))
    with pytest.raises(ValueError, match="Expected an RBM"):
        plots.plot_gibbs_chains(model, tmp_path / "chains.png")
