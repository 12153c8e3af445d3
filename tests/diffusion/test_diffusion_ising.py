"""The diffusion family's Ising study (`keras_genmodels.diffusion.ising`): training, the report, the CLI.

Tiny lattices (L = 8), a narrow network (widths (8, 16), one block), T = 20
diffusion steps, a step or two of training and a few DDIM steps: what is
checked here is the machinery (the report's figures and targets, the
temperature check, the JSON files, bad input), not the physics of a trained
model.
"""

import json
import shutil

import numpy as np
import pytest

from keras_genmodels._files import atomic_write_json
from keras_genmodels.diffusion import ising
from keras_genmodels.metrics import ising_study
from keras_genmodels.metrics.ising import ising_distances
from keras_genmodels.physics import sample_ising

TINY = {"n_configurations": 64, "batch_size": 32, "widths": (8, 16), "block_depth": 1, "timesteps": 20}
TINY_REPORT = {"steps": 4, "n_samples": 100, "reference_n": 100}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ising_cache")


@pytest.fixture(scope="module")
def trained(cache_dir):
    """A model at T = 1.8, stopped by its time budget after one step of three epochs'."""
    return ising.train_ising_diffusion(8, 1.8, seed=0, epochs=3, budget_seconds=1e-3, cache_dir=cache_dir, **TINY)


def test_training_builds_a_spin_model_and_the_budget_stops_it(trained):
    model, history = trained
    assert model.data == "spins" and model.data_shape == (8, 8, 1) and model.timesteps == 20
    assert model.training_temperature == 1.8
    assert int(model.optimizer.iterations.numpy()) == 1  # a budget of 1 ms: one step, one epoch of 3
    assert len(history["loss"]) == len(history["seconds"]) == 1 and np.isfinite(history["loss"][0])


def test_report_keys_targets_and_sampler(trained):
    model, _ = trained
    report = ising.physics_report(model, 8, 1.8, seed=3, **TINY_REPORT)
    assert (report["L"], report["n_samples"], report["reference_n"], report["seed"]) == (8, 100, 100, 3)
    assert report["sampler"] == {"method": "ddim", "steps": 4, "eta": ising.RECIPES[16]["eta"]}
    json.dumps(report, allow_nan=False)
    (row,) = report["temperatures"]
    assert row["temperature"] == 1.8
    for name in ising_study.FIGURES + ("reference_positive_magnetization_fraction",):
        assert isinstance(row[name], float)
    for name in ising_study.OBSERVABLES:
        for key in (name, f"reference_{name}", f"{name}_relative_error"):
            assert key in row and f"{key}_sigma" in row
    # Below T_c the balance target applies, and no published W1 at L = 8.
    assert set(row["targets"]) == {"balanced_magnetization"}
    assert report["targets_met"] == row["targets"]["balanced_magnetization"]["met"]
    # The figures are those of `ising_distances` on the model's draw (seed + 2) and Monte Carlo's (seed + 1).
    samples = model.sample(100, seed=5, method="ddim", steps=4, eta=ising.RECIPES[16]["eta"])
    assert set(np.unique(samples)) <= {-1.0, 1.0}
    d = ising_distances(samples[..., 0], sample_ising(8, 1.8, 100, seed=4).spins, 1.8)
    for name in ising_study.FIGURES:
        assert row[name] == pytest.approx(d[name])


def test_report_defaults_come_from_the_recipe(trained):
    model, _ = trained
    report = ising.physics_report(model, 8, [1.8], n_samples=50, reference_n=50, method="ddpm")
    assert report["sampler"] == {"method": "ddpm", "steps": 20, "eta": None}  # all T steps, no η
    report = ising.physics_report(model, 8, 1.8, n_samples=50, reference_n=50)
    assert report["sampler"] == {"method": "ddim", "steps": 20, "eta": 1.0}  # the recipe's 100 steps, at most T
    assert (report["n_samples"], report["reference_n"]) == (50, 50)
    assert ising.recipe(8) == ising.RECIPES[16] and ising.recipe(32)["n_samples"] == 1000
    assert ising.recipe(32) is not ising.RECIPES[32]


@pytest.mark.parametrize("call, match", [
    (lambda m: ising.physics_report(m, 8, 3.0), r"Expected: temperatures=\[1.8\].*Received: temperatures=\[3.0\]"),
    (lambda m: ising.physics_report(m, 8, [1.8, 3.0]), "one temperature"),
    (lambda m: ising.physics_report(m, 16, 1.8), "L = 16"),
    (lambda m: ising.physics_report(m, 8, 1.8, n_samples=1), "n_samples and reference_n >= 2"),
    (lambda m: ising.physics_report(m, 8, 1.8, method="ddpm", steps=4), "method='ddpm'"),
    (lambda m: ising.physics_report(m, 8, 1.8, steps=50), r"\[1, T\] = \[1, 20\]"),
    (lambda m: ising.physics_report(m, 8, 1.8, eta=2.0), "eta"),
    (lambda m: ising.train_ising_diffusion(7, 2.0, widths=(8, 16)), "multiple of the pooling factor"),
    (lambda m: ising.train_ising_diffusion(8, [1.8, 3.0]), "temperature"),
    (lambda m: ising.train_ising_diffusion(8, 2.0, epochs=0), "epochs"),
    (lambda m: ising.train_ising_diffusion(8, 2.0, budget_seconds=-1), "budget_seconds"),
    (lambda m: ising.train_ising_diffusion(8, 2.0, weight_decay=-1e-4), "weight_decay"),
    (lambda m: ising.run_seed(8, [2.0, 2.0], 0), "distinct temperatures"),
    (lambda m: ising.run_seed(8, [2.0], 0, filters=4), r"recipe entries.*\['filters'\]"),
    (lambda m: ising.run_seed(8, [2.0], 0, timesteps=20, steps=50), r"`steps` must be a positive int <= 20"),
    (lambda m: ising.run_seed(8, [2.0], 0, method="ddpm", eta=0.5), "method='ddpm'"),
    (lambda m: ising.run_seed(8, [2.0], 0, eta=1.5), "eta"),
])
def test_bad_input(trained, call, match):
    with pytest.raises(ValueError, match=match):
        call(trained[0])


def test_run_seed_trains_one_model_per_temperature_and_round_trips_json(cache_dir, tmp_path):
    result = ising.run_seed(8, [3.0, 1.8], 1, cache_dir=cache_dir, epochs=1, **TINY, **TINY_REPORT)
    assert (result["L"], result["seed"]) == (8, 1)
    assert [t["temperature"] for t in result["training"]] == [3.0, 1.8]
    assert [t["steps"] for t in result["training"]] == [2, 2]  # 64 configurations / 32 a step, one epoch
    assert result["train_seconds"] == pytest.approx(sum(t["seconds"] for t in result["training"]))
    assert [row["temperature"] for row in result["report"]["temperatures"]] == [3.0, 1.8]
    assert result["report"]["targets_met"] == result["report"]["temperatures"][1]["targets"][
        "balanced_magnetization"]["met"]
    assert result["recipe"]["widths"] == [8, 16] and result["recipe"]["epochs"] == 1
    assert result["recipe"]["learning_rate"] == ising.RECIPES[16]["learning_rate"]  # not overridden
    assert result["recipe"]["budget_seconds"] is None
    path = tmp_path / "diffusion_ising_L8_seed1.json"
    atomic_write_json(path, result)
    assert json.loads(path.read_text()) == result


def test_command_line_writes_one_json_per_seed_and_summarizes(cache_dir, tmp_path, capsys):
    out = tmp_path / "results"
    flags = ["--n-configurations", "64", "--batch-size", "32", "--widths", "8", "16", "--block-depth", "1",
             "--timesteps", "20", "--epochs", "1", "--steps", "4", "--n-samples", "100", "--reference-n", "100"]
    assert ising.main(["--L", "8", "--temperatures", "3.0", "--seeds", "3", "--out", str(out),
                       "--cache-dir", str(cache_dir)] + flags) is None
    assert "seed 3:" in capsys.readouterr().out
    result = json.loads((out / "diffusion_ising_L8_seed3.json").read_text())
    assert result["recipe"]["widths"] == [8, 16] and result["recipe"]["steps"] == 4
    assert result["command"].startswith("python -m keras_genmodels.diffusion.ising --L 8")
    # A second seed's file (a copy with another W1) and a file of another study, which is not read.
    other = json.loads(json.dumps(result))
    other["seed"] = 4
    other["report"]["temperatures"][0]["energy_w1"] += 0.1
    atomic_write_json(out / "diffusion_ising_L8_seed4.json", other)
    shutil.copy(out / "diffusion_ising_L8_seed3.json", out / "gan_ising_L8_seed3.json")
    summaries = ising.main(["--summarize", str(out)])
    (entry,) = summaries[8]
    assert list(summaries) == [8] and entry["n"] == 2
    w1 = [result["report"]["temperatures"][0]["energy_w1"], other["report"]["temperatures"][0]["energy_w1"]]
    assert entry["energy_w1"]["mean"] == pytest.approx(np.mean(w1))
    assert entry["energy_w1"]["sd"] == pytest.approx(np.std(w1, ddof=1))
    assert "W1(e)" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["--summarize", "{tmp}/empty"],
    ["--L", "8"],  # no --out
    ["--out", "{tmp}", "--steps", "0"],
    ["--out", "{tmp}", "--method", "euler"],
    ["--out", "{tmp}", "--schedule", "quadratic"],
    ["--out", "{tmp}", "--temperatures", "-1"],
    ["--out", "{tmp}", "--seeds", "-1"],
    ["--out", "{tmp}", "--widths"],
    ["--out", "{tmp}", "--learning-rate", "0"],
    ["--out", "{tmp}", "--L", "0"],
])
def test_bad_flags(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        ising.main([a.format(tmp=tmp_path) for a in argv])
    assert e.value.code == 2 and "error:" in capsys.readouterr().err
