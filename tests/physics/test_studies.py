"""The studies behind docs/physics.md: a smoke run at L = 8, and the command line's flags."""

import json

import numpy as np
import pytest

from keras_genmodels.physics import studies


def test_studies_at_L8_smoke(tmp_path):
    rows = studies.rbm_temperature_scan(
        8, [3.0], n_hidden=8, fit="cd", epochs=1, n_train=500, n_model_samples=200,
        gibbs_steps=10, batch_size=100, cache_dir=tmp_path,
    )
    row = rows[0]
    for key in ("mc", "rbm", "rbm_from_data"):
        assert set(row[key]) == set(studies.SCAN_OBSERVABLES)
    assert np.isfinite(row["kl_per_spin"]) and row["kl_per_spin_error"] > 0
    scan = studies.hidden_units_scan_sampled(
        8, [2.5, 3.0], (2, 4), n_train=300, n_model_samples=200, gibbs_steps=10,
        epochs=1, batch_size=100, cache_dir=tmp_path,
    )
    assert scan["relative_error"]["energy"].shape == (2, 2)
    assert np.all(np.isfinite(scan["kl_per_spin"])) and np.all(scan["seconds"] > 0)
    with pytest.raises(ValueError, match="fit.*Received: fit='x'"):
        studies.rbm_temperature_scan(8, [3.0], fit="x", n_train=64, cache_dir=tmp_path)


def _capture(monkeypatch, name):
    """Replace `studies.<name>` by a recorder of its arguments."""
    calls = []

    def record(*args, **kwargs):
        calls.append((args, kwargs))
        return {"recorded": True}

    monkeypatch.setattr(studies, name, record)
    return calls


def test_hidden_at_L4_uses_its_flags(monkeypatch, capsys):
    calls = _capture(monkeypatch, "hidden_units_scan")
    studies.main(["hidden", "--L", "4", "--temperatures", "2.5", "--hidden", "2", "3",
                  "--learning-rate", "0.05", "--steps", "7", "--n-train", "300", "--seed", "4"])
    (args, kwargs), = calls
    assert list(args[0]) == [2.5] and list(args[1]) == [2, 3]
    assert kwargs == {"n_train": 300, "steps": 7, "learning_rate": 0.05, "seed": 4}
    assert json.loads(capsys.readouterr().out)["result"] == {"recorded": True}
    # The defaults are those of the help text.
    studies.main(["hidden"])
    assert calls[-1][1] == {"n_train": 200_000, "steps": 2000, "learning_rate": 0.2, "seed": 0}
    assert list(calls[-1][0][1]) == [2, 4, 8, 16]


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--epochs", "3"], "--epochs applies"),
        (["--k", "2"], "--k applies"),
        (["--batch-size", "50"], "--batch-size applies"),
        (["--momentum", "0.5"], "--momentum applies"),
        (["--n-model-samples", "100"], "--n-model-samples applies"),
        (["--gibbs-steps", "10"], "--gibbs-steps applies"),
        (["--epochs", "3", "--gibbs-steps", "10"], "--epochs, --gibbs-steps apply"),
    ],
)
def test_hidden_at_L4_refuses_the_flags_of_the_cd_scan(monkeypatch, capsys, flags, named):
    calls = _capture(monkeypatch, "hidden_units_scan")
    with pytest.raises(SystemExit) as e:
        studies.main(["hidden", "--L", "4", *flags])
    assert e.value.code == 2 and not calls
    err = capsys.readouterr().err
    assert f"{named} to the CD scan (L > 4) only. Received: {' '.join(flags)}" in err


def test_hidden_above_L4_uses_its_flags_and_refuses_steps(monkeypatch, capsys):
    calls = _capture(monkeypatch, "hidden_units_scan_sampled")
    studies.main(["hidden", "--L", "6", "--learning-rate", "0.3", "--epochs", "2", "--k", "3",
                  "--batch-size", "20", "--momentum", "0.5", "--n-model-samples", "40",
                  "--gibbs-steps", "9", "--n-train", "80"])
    (args, kwargs), = calls
    assert args[0] == 6 and list(args[2]) == [4, 8, 16, 32, 64]
    assert kwargs == {"n_train": 80, "n_model_samples": 40, "gibbs_steps": 9, "seed": 0, "k": 3,
                      "epochs": 2, "batch_size": 20, "learning_rate": 0.3, "momentum": 0.5}
    studies.main(["hidden", "--L", "8"])
    assert calls[-1][1]["n_train"] == 20000 and calls[-1][1]["n_model_samples"] == 5000
    assert calls[-1][1]["gibbs_steps"] == 500 and calls[-1][1]["learning_rate"] is None  # CD_RECIPE
    with pytest.raises(SystemExit):
        studies.main(["hidden", "--L", "8", "--steps", "100"])
    assert "--steps applies to the exact scan (L = 4) only. Received: --steps 100" in capsys.readouterr().err


def test_rbm_refuses_the_flags_of_other_fits(monkeypatch, capsys):
    calls = _capture(monkeypatch, "rbm_temperature_scan")
    for argv, message in (
        (["--fit", "exact", "--L", "4", "--epochs", "3"], "--epochs applies to the CD and PCD fits"),
        (["--fit", "pcd", "--momentum", "0.5"], "--momentum applies to the CD fit (--fit cd) only"),
        (["--fit", "cd", "--steps", "10"], "--steps applies to the exact fit (--fit exact) only"),
    ):
        with pytest.raises(SystemExit):
            studies.main(["rbm", *argv])
        assert message in capsys.readouterr().err
    assert not calls
    studies.main(["rbm", "--fit", "pcd", "--k", "3", "--batch-size", "20", "--learning-rate", "0.02"])
    kwargs = calls[-1][1]
    assert (kwargs["fit"], kwargs["k"], kwargs["batch_size"], kwargs["learning_rate"]) == ("pcd", 3, 20, 0.02)
    studies.main(["rbm", "--fit", "exact", "--L", "4", "--steps", "30"])
    assert calls[-1][1]["steps"] == 30 and calls[-1][1]["gibbs_steps"] == 500


def test_help_states_the_recipe_defaults(capsys):
    with pytest.raises(SystemExit):
        studies.main(["hidden", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"{studies.CD_RECIPE['learning_rate']} (SGD, CD_RECIPE) for the CD scan" in text
    assert "default 0.2 (Adam) for the exact scan at L = 4" in text
    assert f"(default {studies.CD_RECIPE['epochs']})" in text
    assert "0.2 for CD" not in text
    assert "issue" not in (studies.__doc__ + text).lower()


def test_pcd_scan_uses_k_and_batch_size(monkeypatch, tmp_path):
    seen = {}

    def fake_pcd(x, n_hidden, epochs, seed, learning_rate=1e-2, batch_size=100, k=10):
        seen.update(epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, k=k)
        raise StopIteration  # stop before sampling

    monkeypatch.setattr(studies, "_fit_rbm_pcd", fake_pcd)
    with pytest.raises(StopIteration):
        studies.rbm_temperature_scan(4, [3.0], fit="pcd", n_train=64, k=3, batch_size=16,
                                     cache_dir=tmp_path)
    assert seen == {"epochs": 60, "learning_rate": 1e-2, "batch_size": 16, "k": 3}


def _fake_rows(temperatures, seed):
    """Rows shaped like `rbm_temperature_scan`'s: RBM = MC * (1 + 0.01 * seed) for every observable."""
    mc = {name: (2.0, 0.1) for name in studies.SCAN_OBSERVABLES}
    rbm = {name: (2.0 * (1 + 0.01 * seed), 0.1) for name in studies.SCAN_OBSERVABLES}
    return [{"temperature": T, "mc": mc, "rbm": rbm, "rbm_from_data": mc, "kl_per_spin": 0.1 * seed}
            for T in temperatures]


def test_summarize_seeds_gives_mean_and_sample_sd_of_relative_errors():
    summary = studies.summarize_seeds({s: _fake_rows([2.0, 3.0], s) for s in (0, 1, 2)})
    assert [entry["temperature"] for entry in summary] == [2.0, 3.0]
    energy = summary[0]["rbm"]["energy"]
    np.testing.assert_allclose(energy["values"], [0.0, 0.01, 0.02], atol=1e-12)
    np.testing.assert_allclose([energy["mean"], energy["sd"]], [0.01, 0.01], atol=1e-12)  # ddof = 1
    assert summary[1]["rbm_from_data"]["susceptibility"]["sd"] == 0.0
    np.testing.assert_allclose(summary[0]["kl_per_spin"]["mean"], 0.1)
    one = studies.summarize_seeds({7: _fake_rows([2.0], 7)})
    assert one[0]["rbm"]["energy"]["sd"] == 0.0


def test_rbm_seeds_runs_each_seed_and_summarizes(monkeypatch, capsys):
    seen = []

    def fake_scan(L, temperatures, **kwargs):
        seen.append(kwargs["seed"])
        return _fake_rows(temperatures, kwargs["seed"])

    monkeypatch.setattr(studies, "rbm_temperature_scan", fake_scan)
    studies.main(["rbm", "--temperatures", "2.0", "--seeds", "3", "4", "--seed", "9"])
    assert seen == [3, 4]
    captured = capsys.readouterr()
    out = json.loads(captured.out)["result"]
    assert out["seeds"] == [3, 4] and set(out["runs"]) == {"3", "4"}
    np.testing.assert_allclose(out["summary"][0]["rbm"]["energy"]["mean"], 0.035)
    assert [json.loads(line)["seed"] for line in captured.err.splitlines() if line.startswith("{")] == [3, 4]
    # Without --seeds: one run of --seed, its rows as before.
    studies.main(["rbm", "--temperatures", "2.0", "--seed", "9"])
    assert seen[-1] == 9 and isinstance(json.loads(capsys.readouterr().out)["result"], list)
