"""The model-independent Ising study (`keras_genmodels.metrics.ising_study`): targets, the report, the summaries.

The "model" here is exact Monte Carlo from other seeds, whose samples have
the law of the reference: its W1 distances are sampling noise only (L = 8,
400 samples: W1(e) and W1(|m|) below 0.04 on six seeds tried; W1(m) below T_c
is larger, 2 <|m|> |Δ fraction(m > 0)| ≈ 0.1 at most).
"""

import json

import numpy as np
import pytest

from keras_genmodels.metrics import ising_study
from keras_genmodels.metrics.ising import ising_distances
from keras_genmodels.physics import lattice, sample_ising


def _monte_carlo_draw(calls=None):
    """A stand-in model: `sample_ising` at the asked T, from the stream seed + 100 (the reference's is seed + 1)."""
    def draw(T, n, seed):
        if calls is not None:
            calls.append((T, n, seed))
        return sample_ising(8, T, n, seed=seed + 100).spins
    return draw


@pytest.fixture(scope="module")
def exact_report():
    calls = []
    report = ising_study.physics_report(_monte_carlo_draw(calls), 8, [3.0, 1.8], n_samples=400, reference_n=400,
                                        seed=2)
    return report, calls


def test_targets_at_the_published_point_and_below_tc():
    row = {"positive_magnetization_fraction": 0.56, "energy_w1": 0.019, "magnetization_w1": 0.05}
    t = ising_study.targets(32, 2.5, row)  # above T_c: the published W1 only, the smaller of RBM and VAE
    assert set(t) == {"energy_w1", "magnetization_w1"}
    assert t["energy_w1"] == {"value": 0.019, "target": "< 0.02", "met": True}
    assert t["magnetization_w1"] == {"value": 0.05, "target": "< 0.047", "met": False}
    assert ising_study.targets(16, 2.5, row) == {}  # published figures at L = 32 only
    low = ising_study.targets(32, 1.8, row)  # below T_c: the balance of the signs, and no published W1
    assert set(low) == {"balanced_magnetization"} and low["balanced_magnetization"]["met"] is False
    assert low["balanced_magnetization"]["target"] == f"0.5 ± {ising_study.MODE_BALANCE_TOLERANCE}"
    assert ising_study.targets(8, 1.8, {**row, "positive_magnetization_fraction": 0.45})["balanced_magnetization"][
        "met"]  # |0.45 − 0.5| = 0.05: on the edge, met
    assert ising_study.targets(8, lattice.T_C, row) == {}


def test_exact_monte_carlo_has_small_distances(exact_report):
    report, calls = exact_report
    assert calls == [(3.0, 400, 2), (1.8, 400, 2)]  # the report's seed; the draw picks its own stream
    assert (report["L"], report["n_samples"], report["reference_n"], report["seed"]) == (8, 400, 400, 2)
    assert [row["temperature"] for row in report["temperatures"]] == [3.0, 1.8]  # the order given
    json.dumps(report, allow_nan=False)
    for row in report["temperatures"]:
        assert row["energy_w1"] < 0.05 and row["abs_magnetization_w1"] < 0.05
        assert row["magnetization_w1"] < 0.15
        assert abs(row["positive_magnetization_fraction"] - 0.5) < 0.1
        for name in ising_study.OBSERVABLES:
            assert abs(row[f"{name}_relative_error"]) < 4 * row[f"{name}_relative_error_sigma"] + 0.02
        assert row["seconds"] > 0
    high, low = report["temperatures"]
    assert high["targets"] == {} and set(low["targets"]) == {"balanced_magnetization"}
    assert report["targets_met"] == low["targets"]["balanced_magnetization"]["met"]


def test_report_row_recomputes_ising_distances(exact_report):
    """The reference is `sample_ising(L, T, reference_n, seed=seed + 1)`; the figures are `ising_distances`'."""
    row = exact_report[0]["temperatures"][0]
    d = ising_distances(sample_ising(8, 3.0, 400, seed=102).spins, sample_ising(8, 3.0, 400, seed=3).spins, 3.0)
    for name in ising_study.FIGURES:
        assert row[name] == pytest.approx(d[name])
    assert row["reference_heat_capacity"] == pytest.approx(d["reference_heat_capacity"].value)
    assert row["susceptibility_sigma"] == pytest.approx(d["susceptibility"].error)


def test_a_wrong_temperature_is_seen():
    """Monte Carlo at T = 3.0 reported as T = 1.8: e and |m| far from the ordered phase's."""
    row = ising_study.report_row(sample_ising(8, 3.0, 300, seed=7).spins, 8, 1.8, reference_n=300, seed=0,
                                 sampling_seconds=5.0)
    assert row["energy_w1"] > 0.5 and row["abs_magnetization_w1"] > 0.5
    assert row["seconds"] >= 5.0


def _fake_report(values, L=16):
    rows = []
    for T, f in values:
        row = {"temperature": T, **{name: f for name in ising_study.FIGURES}}
        row.update({f"{o}_relative_error": None if f is None else -f for o in ising_study.OBSERVABLES})
        row["targets"] = {"balanced_magnetization": {"met": abs(f - 0.5) <= 0.05}} if T < lattice.T_C else {}
        rows.append(row)
    return {"L": L, "temperatures": rows}


def test_summarize_reports_mean_and_sd():
    s = ising_study.summarize_reports([_fake_report([(1.8, 0.5), (3.0, 0.1)]),
                                       _fake_report([(1.8, 0.6), (3.0, 0.3)]),
                                       _fake_report([(1.8, 0.52), (3.0, None)])])
    assert [e["temperature"] for e in s] == [1.8, 3.0] and s[0]["n"] == 3
    assert s[0]["energy_w1"]["mean"] == pytest.approx(np.mean([0.5, 0.6, 0.52]))
    assert s[0]["energy_w1"]["sd"] == pytest.approx(np.std([0.5, 0.6, 0.52], ddof=1))
    assert s[0]["heat_capacity_relative_error"]["values"] == pytest.approx([-0.5, -0.6, -0.52])
    assert np.isnan(s[1]["energy_w1"]["mean"])  # a None (NaN) figure spoils the mean, visibly
    assert s[0]["targets_met"] == {"balanced_magnetization": 2} and s[1]["targets_met"] == {}
    assert ising_study.summarize_reports([_fake_report([(1.8, 0.5)])])[0]["energy_w1"]["sd"] == 0.0
    text = ising_study.format_summary(16, s)
    assert "L = 16, T = 1.8 (3 seeds)" in text and "target balanced_magnetization: met by 2 of 3" in text


@pytest.mark.parametrize("reports, match", [
    ([_fake_report([(1.8, 0.5)]), _fake_report([(2.0, 0.5)])], "same temperatures"),
    ([], "at least one report"),
])
def test_summarize_reports_refuses(reports, match):
    with pytest.raises(ValueError, match=match):
        ising_study.summarize_reports(reports)


def test_summarize_folder_reads_the_files_of_its_pattern(tmp_path):
    for name, report in (("a_ising_L16_seed0.json", _fake_report([(1.8, 0.5)])),
                         ("a_ising_L16_seed1.json", _fake_report([(1.8, 0.7)])),
                         ("a_ising_L32_seed0.json", _fake_report([(2.5, 0.1)], L=32)),
                         ("b_ising_L16_seed0.json", _fake_report([(1.8, 0.0)]))):
        (tmp_path / name).write_text(json.dumps({"report": report}))
    summaries = ising_study.summarize_folder(tmp_path, "a_ising_L*_seed*.json")
    assert list(summaries) == [16, 32]
    assert summaries[16][0]["n"] == 2 and summaries[16][0]["energy_w1"]["mean"] == pytest.approx(0.6)
    assert ising_study.summarize_folder(tmp_path, "c_*.json") == {}


@pytest.mark.parametrize("call, match", [
    (lambda: ising_study.physics_report(None, 8, [2.0], 10, 10), "callable"),
    (lambda: ising_study.physics_report(_monte_carlo_draw(), 8, [2.0], n_samples=1), "n_samples and reference_n >= 2"),
    (lambda: ising_study.physics_report(_monte_carlo_draw(), 8, [2.0], reference_n=0), "reference_n"),
    (lambda: ising_study.physics_report(_monte_carlo_draw(), 8, [2.0, -1.0]), "finite and > 0"),
    (lambda: ising_study.physics_report(_monte_carlo_draw(), 8, [2.0], seed=-1), "seed"),
    (lambda: ising_study.physics_report(_monte_carlo_draw(), 4, [2.0], 10, 10), r"shape \(batch, 4, 4\)"),
    (lambda: ising_study.report_row(np.zeros((10, 8, 8)), 8, 2.0), "samples"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
