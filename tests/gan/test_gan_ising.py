"""The GAN's Ising study (`keras_genmodels.gan.ising`): training, the physics report, its targets, the CLI.

Tiny lattices (L = 8), narrow networks and a step or two of training: what is
checked here is the machinery (the report's figures, the targets, the
symmetry by construction, bad input), not the physics of a trained model
(docs/gan.md, `bench/results/gan_ising_*.json`).
"""

import json

import numpy as np
import pytest

from keras_genmodels.gan import WGANGP, ising, networks
from keras_genmodels.metrics.ising import ising_distances
from keras_genmodels.physics import lattice, sample_ising

TINY = {"n_per_temperature": 64, "batch_size": 32, "filters": 4, "latent_dim": 8}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ising_cache")


@pytest.fixture(scope="module")
def conditional(cache_dir):
    """A conditional model on T in {1.8, 3.0}, stopped by its time budget after one step."""
    return ising.train_ising_gan(8, [3.0, 1.8], epochs=3, seed=0, budget_seconds=1e-3, cache_dir=cache_dir, **TINY)


def _collapsed_model(L=8):
    """A spin model (not symmetrised) whose generator puts every spin up: fully mode-collapsed."""
    generator = networks.lattice_generator(L, 8, None, filters=4, seed=0)
    layer = generator.get_layer("to_spins")
    layer.bias.assign(np.full(layer.bias.shape, 20.0, "float32"))  # tanh(20 + ...) = 1: P(s = +1) = 1
    return WGANGP(generator, networks.lattice_critic(L, None, filters=4, seed=0), data_shape=(L, L, 1),
                  latent_dim=8, spins=True, symmetric=False, seed=0)


def test_training_builds_the_conditional_model_and_the_budget_stops_it(conditional):
    model, history = conditional
    assert model.temperature_range == (1.8, 3.0)  # (min, max) of the grid, given unsorted
    assert model.spins and model.symmetric and model.data_shape == (8, 8, 1)
    # A budget of 1 ms stops `fit` after its first step: one epoch of 3, one generator update.
    assert int(model.optimizers["generator"].iterations.numpy()) == 1
    assert len(history["seconds"]) == len(history["d_loss"]) == 1
    assert all(np.isfinite(history[k][0]) for k in ("d_loss", "g_loss", "wasserstein", "gradient_penalty"))


def test_report_keys_values_and_json(conditional):
    model, _ = conditional
    report = ising.physics_report(model, 8, [1.8, 3.0], n_samples=500, reference_n=500, seed=0)
    assert [row["temperature"] for row in report["temperatures"]] == [1.8, 3.0]
    assert (report["L"], report["n_samples"], report["reference_n"], report["seed"]) == (8, 500, 500, 0)
    json.dumps(report, allow_nan=False)  # plain floats, bools, None
    low, high = report["temperatures"]
    for row in (low, high):
        for name in ising.FIGURES + ("reference_positive_magnetization_fraction",):
            assert isinstance(row[name], float)
        for name in ising.OBSERVABLES:
            for key in (name, f"reference_{name}", f"{name}_relative_error"):
                assert isinstance(row[key], float) and row[f"{key}_sigma"] >= 0
            assert row[f"{name}_relative_error"] == pytest.approx(row[name] / row[f"reference_{name}"] - 1)
    # Below T_c the balance target applies, above it none (no published W1 at L = 8).
    assert set(low["targets"]) == {"balanced_magnetization"} and high["targets"] == {}
    assert report["targets_met"] == low["targets"]["balanced_magnetization"]["met"]
    # The Monte Carlo reference below T_c is ordered: |m| near 1, e near −2.
    assert low["reference_abs_magnetization"] > 0.9 and low["reference_energy"] < -1.8


def test_report_recomputes_ising_distances(conditional):
    """The report's figures are those of `ising_distances` on the same draws (seeds + 2 and + 1)."""
    model, _ = conditional
    row = ising.physics_report(model, 8, [3.0], n_samples=300, reference_n=300, seed=4)["temperatures"][0]
    samples = np.where(model.sample(300, seed=6, temperature=3.0)[..., 0] > 0, 1, -1)
    d = ising_distances(samples, sample_ising(8, 3.0, 300, seed=5).spins, 3.0)
    for name in ising.FIGURES:
        assert row[name] == pytest.approx(d[name])
    assert row["heat_capacity"] == pytest.approx(d["heat_capacity"].value)


def test_symmetric_model_has_no_preferred_sign(conditional):
    """With symmetric=True, P(m > 0) = P(m < 0) by construction, even untrained; 4000 samples: σ ≈ 0.008."""
    model, _ = conditional
    m = model.sample(4000, seed=3, temperature=1.8)[..., 0].mean(axis=(1, 2))  # the report's draw for seed=1
    up, down = np.mean(m > 0), np.mean(m < 0)
    assert abs(up - down) < 4 * np.sqrt((up + down) / 4000)
    row = ising.physics_report(model, 8, [1.8], n_samples=4000, reference_n=200, seed=1)["temperatures"][0]
    assert row["positive_magnetization_fraction"] == pytest.approx(up)


def test_collapsed_model_fails_the_targets():
    """A model that only draws the all-up configuration: f(m > 0) = 1, W1(e) = |−2 − <e>_MC|; target missed."""
    report = ising.physics_report(_collapsed_model(), 8, [1.8], n_samples=200, reference_n=400, seed=0)
    row = report["temperatures"][0]
    assert row["positive_magnetization_fraction"] == 1.0
    assert row["energy"] == pytest.approx(-2.0)
    assert row["energy_w1"] == pytest.approx(abs(-2.0 - row["reference_energy"]), abs=1e-6)
    assert row["targets"]["balanced_magnetization"]["met"] is False
    assert report["targets_met"] is False


def test_targets_table():
    row = {"positive_magnetization_fraction": 0.56, "energy_w1": 0.019, "magnetization_w1": 0.05}
    t = ising.targets(32, 2.5, row)  # above T_c: the published W1 only, the smaller of RBM and VAE
    assert set(t) == {"energy_w1", "magnetization_w1"}
    assert t["energy_w1"]["met"] and t["energy_w1"]["target"] == "< 0.02"
    assert not t["magnetization_w1"]["met"] and t["magnetization_w1"]["target"] == "< 0.047"
    assert ising.targets(16, 1.8, row)["balanced_magnetization"]["met"] is False  # 0.56: off by more than 0.05
    assert ising.targets(16, 1.8, {**row, "positive_magnetization_fraction": 0.46})["balanced_magnetization"]["met"]
    assert ising.targets(16, lattice.T_C, row) == {} and ising.targets(16, 3.0, row) == {}


def test_default_report_temperatures(conditional):
    model, _ = conditional
    assert ising.default_report_temperatures(model) == [1.8, lattice.T_C, 3.0]
    with pytest.raises(ValueError, match="does not record the temperature"):
        ising.default_report_temperatures(_collapsed_model())


@pytest.mark.parametrize("call, match", [
    (lambda m: ising.physics_report(m, 8, [1.5, 2.0]), r"training range \[1.8, 3.0\]"),
    (lambda m: ising.physics_report(m, 8, [3.5]), r"training range"),
    (lambda m: ising.physics_report(m, 16, [2.0]), "L = 16"),
    (lambda m: ising.physics_report(m, 8, [2.0], n_samples=1), "n_samples and reference_n >= 2"),
    (lambda m: ising.physics_report(m, 8, [2.0], reference_n=0), "reference_n"),
    (lambda m: ising.physics_report(m, 8, [-1.0]), "finite and > 0"),
    (lambda m: ising.physics_report(_collapsed_model(), 8, [1.8, 3.0]), "unconditional model"),
    (lambda m: ising.train_ising_gan(6, [2.0]), "multiple of 4"),
    (lambda m: ising.train_ising_gan(8, [2.0], spins=False), "sets `spins` itself"),
    (lambda m: ising.train_ising_gan(8, [2.0, np.nan]), "finite and > 0"),
    (lambda m: ising.train_ising_gan(8, [2.0], epochs=0), "epochs"),
    (lambda m: ising.train_ising_gan(8, [2.0], budget_seconds=-1), "budget_seconds"),
])
def test_bad_input(conditional, call, match):
    with pytest.raises(ValueError, match=match):
        call(conditional[0])


def _fake_report(values):
    rows = []
    for T, f in values:
        row = {"temperature": T, **{name: f for name in ising.FIGURES}}
        row.update({f"{o}_relative_error": -f for o in ising.OBSERVABLES})
        row["targets"] = {"balanced_magnetization": {"met": abs(f - 0.5) <= 0.05}} if T < lattice.T_C else {}
        rows.append(row)
    return {"L": 16, "temperatures": rows}


def test_summarize_reports():
    s = ising.summarize_reports([_fake_report([(1.8, 0.5), (3.0, 0.1)]), _fake_report([(1.8, 0.6), (3.0, 0.3)])])
    assert [e["temperature"] for e in s] == [1.8, 3.0]
    assert s[0]["energy_w1"]["mean"] == pytest.approx(0.55)
    assert s[0]["energy_w1"]["sd"] == pytest.approx(np.std([0.5, 0.6], ddof=1))
    assert s[1]["heat_capacity_relative_error"]["values"] == [-0.1, -0.3]
    assert s[0]["targets_met"] == {"balanced_magnetization": 1} and s[1]["targets_met"] == {}
    assert ising.summarize_reports([_fake_report([(1.8, 0.5)])])[0]["energy_w1"]["sd"] == 0.0
    with pytest.raises(ValueError, match="same temperatures"):
        ising.summarize_reports([_fake_report([(1.8, 0.5)]), _fake_report([(2.0, 0.5)])])


def test_command_line_writes_one_json_per_seed_and_summarizes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_GENMODELS_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "results"
    ising.main(["--L", "8", "--temperatures", "3.0", "--seeds", "3", "--out", str(out), "--epochs", "2",
                "--n-per-temperature", "64", "--batch-size", "32", "--filters", "4", "--latent-dim", "8",
                "--n-samples", "200", "--reference-n", "200"])
    result = json.loads((out / "gan_ising_L8_seed3.json").read_text())
    assert result["seed"] == 3 and result["L"] == 8
    assert result["recipe"]["conditional"] is False and result["recipe"]["train_temperatures"] == [3.0]
    assert result["recipe"]["filters"] == 4 and result["recipe"]["learning_rate"] == ising.RECIPES[16]["learning_rate"]
    assert result["generator_steps"] == 4  # 2 epochs of 64 / 32 steps
    assert result["report"]["temperatures"][0]["temperature"] == 3.0
    capsys.readouterr()
    summaries = ising.main(["--summarize", str(out)])
    assert list(summaries) == [8] and summaries[8][0]["n"] == 1
    assert "W1(e)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        ising.main(["--summarize", str(tmp_path / "empty")])


def test_command_line_refuses_report_temperatures_outside_training():
    with pytest.raises(ValueError, match=r"training range \[2.5, 2.5\]"):
        ising.run_seed(8, [3.0], 0, train_temperatures=[2.5])
    with pytest.raises(ValueError, match=r"training range \[1.5, 3.5\]"):
        ising.run_seed(8, [1.0, 2.0], 0)
