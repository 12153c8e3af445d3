"""`keras-genmodels train rbm`, `evaluate` and `sample`, end to end (small settings)."""

import json

import pytest

from keras_genmodels.cli import main


@pytest.fixture(scope="module")
def trained(tmp_path_factory, fashion_mnist_dir):
    out = tmp_path_factory.mktemp("rbm_cli")
    code = main([
        "train", "rbm", "--dataset", "fashion_mnist", "--epochs", "2", "--limit", "2000",
        "--hidden", "16", "--k", "1", "--persistent", "--validation-size", "500",
        "--final-learning-rate", "0.001", "--init-visible-bias", "--local-dir", str(fashion_mnist_dir),
        "--out", str(out), "--verbose", "0",
    ])
    assert code == 0
    return out


def test_train_writes_model_history_and_plots(trained):
    for name in ["model.keras", "history.json", "filters.png", "gibbs_chains.png",
                 "samples.png", "training_curves.png"]:
        assert (trained / name).stat().st_size > 0, name
    record = json.loads((trained / "history.json").read_text())
    hist = record["history"]
    for key in ["reconstruction_error", "free_energy", "pseudo_log_likelihood",
                "val_free_energy", "free_energy_gap"]:
        assert len(hist[key]) == 2, key
    assert record["family"] == "rbm" and record["args"]["hidden"] == 16
    assert (trained / "filters.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_exact_and_ais_agree(trained, fashion_mnist_dir, tmp_path, capsys):
    exact_json, ais_json = tmp_path / "exact.json", tmp_path / "ais.json"
    common = ["--split", "test", "--limit", "300", "--local-dir", str(fashion_mnist_dir)]
    assert main(["evaluate", str(trained / "model.keras"), *common, "--method", "exact",
                 "--json", str(exact_json)]) == 0
    assert "nats per example" in capsys.readouterr().out
    assert main(["evaluate", str(trained / "model.keras"), *common, "--method", "ais",
                 "--ais-scale", "0.3", "--ais-chains", "50", "--json", str(ais_json)]) == 0
    exact, ais = json.loads(exact_json.read_text()), json.loads(ais_json.read_text())
    # --dataset was not given: it came from the model's history.json.
    assert exact["dataset"] == "fashion_mnist" and exact["n"] == 300
    assert -700 < exact["log_likelihood"] < -100
    assert ais["ais_chains"] == 50 and ais["ais_betas"] == 4351
    assert abs(ais["log_likelihood"] - exact["log_likelihood"]) < 1.0


def test_sample_writes_png(trained, tmp_path):
    png = tmp_path / "s.png"
    assert main(["sample", str(trained / "model.keras"), "--n", "9", "--gibbs-steps", "20",
                 "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_cli_arguments_give_an_error_status(tmp_path, capsys):
    assert main(["train", "rbm", "--epochs", "0", "--out", str(tmp_path)]) == 2
    assert "argument --epochs: must be a positive int. Received: '0'" in capsys.readouterr().err
    assert main(["train", "rbm", "--visible", "ising", "--out", str(tmp_path)]) == 2
    assert "--visible" in capsys.readouterr().err


def test_auto_method_uses_the_one_exact_threshold(trained, fashion_mnist_dir, tmp_path, monkeypatch):
    """`evaluate --method auto` asks `partition.auto_method`, whose threshold is AUTO_EXACT_MAX_UNITS."""
    from keras_genmodels.rbm import partition

    out = tmp_path / "auto.json"
    common = ["evaluate", str(trained / "model.keras"), "--limit", "50", "--ais-scale", "0.02",
              "--ais-chains", "4", "--local-dir", str(fashion_mnist_dir), "--json", str(out)]
    assert main(common) == 0
    assert json.loads(out.read_text())["method"] == "exact"  # 16 hidden units <= 20
    monkeypatch.setattr(partition, "AUTO_EXACT_MAX_UNITS", 8)
    assert main(common) == 0
    assert json.loads(out.read_text())["method"] == "ais"
