"""Does a generative model learn the 2D Ising model? The physics report of a model's samples against Monte Carlo.

The part of an Ising study that does not depend on the model: a family's
study trains its models on configurations of the library's Monte Carlo and
hands over `draw(T, n, seed)`, which returns n of its model's configurations
s = ±1 of shape (n, L, L) at temperature T; `physics_report` compares them
with fresh Monte Carlo samples (`physics.sample_ising`, seed `seed + 1`) by
`metrics.ising_distances`, one row per temperature (`report_row`).

The report, per temperature, with e = E/N and m = M/N per configuration
(N = L²):

- W1(e), W1(m), W1(|m|): the 1-Wasserstein distances W1 = ∫ |F(x) − G(x)| dx
  of the empirical laws of the model's and Monte Carlo's e, m and |m|
  (D'Angelo & Böttcher 2020, Phys. Rev. Research 2, 023266);
- the fraction of samples with m > 0 (1/2 in equilibrium; below T_c the
  target is 0.5 ± 0.05, "no mode collapse");
- e, <|m|>, c = β² N var(e), χ = β N (<m²> − <|m|>²) of both sets with
  jackknife errors, and the relative errors r = model / Monte Carlo − 1.

Targets (`targets`): |fraction(m > 0) − 1/2| ≤ 0.05 below T_c
(`MODE_BALANCE_TOLERANCE`); at L = 32, T = 2.5, W1(m) and W1(e) below the
best of D'Angelo & Böttcher's RBM (W1(m) 0.099, W1(e) 0.02) and
convolutional VAE (W1(m) 0.047, W1(e) 0.06), i.e. W1(m) < 0.047 and
W1(e) < 0.02 (`PUBLISHED_W1`).

Over seeds (one report per seed, in JSON files): `summarize_reports` gives
the mean and standard deviation of each figure per temperature,
`format_summary` a plain-text table of them, and `summarize_folder` both
for the files of a folder that match a glob pattern.

Example:

```python
from keras_genmodels.metrics.ising_study import physics_report
from keras_genmodels.physics import sample_ising

# A stand-in for a model: exact Monte Carlo from another stream.
draw = lambda T, n, seed: sample_ising(8, T, n, seed=seed + 100).spins
report = physics_report(draw, 8, [1.8, 3.0], n_samples=500, reference_n=500, seed=0)
report["temperatures"][0]["energy_w1"]   # small: both sets are Monte Carlo
```
"""

import glob
import json
import math
import os
import time

import numpy as np

from keras_genmodels import _validation as v
from keras_genmodels.metrics.ising import ising_distances
from keras_genmodels.physics import lattice, sample_ising

# W1 of D'Angelo & Böttcher 2020 (Phys. Rev. Research 2, 023266) at L = 32, T = 2.5.
PUBLISHED_W1 = {
    (32, 2.5): {
        "restricted_boltzmann_machine": {"magnetization_w1": 0.099, "energy_w1": 0.02},
        "convolutional_vae": {"magnetization_w1": 0.047, "energy_w1": 0.06},
    },
}
# Below T_c: |fraction(m > 0) − 1/2| ≤ this.
MODE_BALANCE_TOLERANCE = 0.05

FIGURES = ("positive_magnetization_fraction", "energy_w1", "magnetization_w1", "abs_magnetization_w1")
OBSERVABLES = ("energy", "abs_magnetization", "heat_capacity", "susceptibility")


def _float(x):
    x = float(x)
    return x if math.isfinite(x) else None


def targets(L, temperature, row):
    """The study's targets at (L, T), each `{"value", "target", "met"}`, from a report row.

    Below T_c: `balanced_magnetization`, |fraction(m > 0) − 1/2| ≤ 0.05
    (`MODE_BALANCE_TOLERANCE`). Where `PUBLISHED_W1` has figures for (L, T):
    `energy_w1` and `magnetization_w1` below the smallest published value.

    Args:
        L: the lattice size.
        temperature: T of the row.
        row: a dict with `positive_magnetization_fraction`, `energy_w1` and
            `magnetization_w1` (a `report_row`).

    Returns:
        A dict of the targets that apply (empty where none does).
    """
    out = {}
    if temperature < lattice.T_C:
        f = row["positive_magnetization_fraction"]
        out["balanced_magnetization"] = {"value": f, "target": f"0.5 ± {MODE_BALANCE_TOLERANCE}",
                                         "met": bool(abs(f - 0.5) <= MODE_BALANCE_TOLERANCE)}
    published = next((p for (size, T), p in PUBLISHED_W1.items() if size == L and abs(T - temperature) < 1e-6), None)
    for name in ("energy_w1", "magnetization_w1") if published else ():
        best = min(model[name] for model in published.values())
        out[name] = {"value": row[name], "target": f"< {best}", "met": bool(row[name] < best)}
    return out


def report_row(samples, L, temperature, reference_n=4000, seed=0, sampling_seconds=0.0):
    """One row of the report: a model's configurations at T against `reference_n` fresh Monte Carlo ones.

    The reference is `physics.sample_ising(L, T, reference_n, seed=seed + 1)`;
    `metrics.ising_distances` compares the two sets.

    Args:
        samples: the model's configurations s = ±1, (n, L, L) or (n, L * L), n ≥ 2.
        L: the lattice size.
        temperature: T > 0 of the samples.
        reference_n: Monte Carlo configurations, ≥ 2. Defaults to `4000`.
        seed: int ≥ 0; the reference's seed is `seed + 1`. Defaults to `0`.
        sampling_seconds: the seconds the model took to draw `samples`,
            added to the row's `seconds`. Defaults to `0.0`.

    Returns:
        A dict: `temperature`; `positive_magnetization_fraction` and the
        reference's; `energy_w1`, `magnetization_w1`, `abs_magnetization_w1`;
        for each of e, <|m|>, c, χ (`OBSERVABLES`) the model's value,
        `reference_<name>`, `<name>_relative_error`, each with its standard
        error `<...>_sigma`; `targets` (`targets`); `seconds` (sampling, the
        reference and the distances). Plain floats (`None` for NaN).
    """
    start = time.perf_counter()
    L = v.check_positive_int("L", L)
    T = lattice.check_temperature(temperature)
    reference_n = v.check_positive_int("reference_n", reference_n)
    seed = v.check_seed("seed", seed, allow_none=False, non_negative=True)
    samples = lattice.check_configurations(samples, L=L, name="samples")
    reference = sample_ising(L, T, reference_n, seed=seed + 1).spins
    d = ising_distances(samples, reference, T)
    row = {"temperature": T}
    for name in FIGURES + ("reference_positive_magnetization_fraction",):
        row[name] = _float(d[name])
    for name in OBSERVABLES:
        for key in (name, f"reference_{name}", f"{name}_relative_error"):
            row[key], row[f"{key}_sigma"] = _float(d[key].value), _float(d[key].error)
    row["targets"] = targets(L, T, row)
    row["seconds"] = float(sampling_seconds) + time.perf_counter() - start
    return row


def physics_report(draw, L, temperatures, n_samples=4000, reference_n=4000, seed=0):
    """A model's samples against fresh Monte Carlo at each temperature (module docstring).

    At each T, `draw(T, n_samples, seed)` gives the model's configurations
    and `report_row` compares them with `reference_n` Monte Carlo ones
    (seed `seed + 1`: a model's sampling seed and its training data should
    come from other streams).

    Args:
        draw: a callable `(T, n, seed) -> samples`, n configurations s = ±1
            of shape (n, L, L) (or (n, L * L)) at temperature T.
        L: the lattice size.
        temperatures: where to report, T > 0 (a float or a sequence).
        n_samples: model samples per temperature, ≥ 2. Defaults to `4000`.
        reference_n: Monte Carlo configurations per temperature, ≥ 2. Defaults to `4000`.
        seed: int ≥ 0. Defaults to `0`.

    Returns:
        A dict: `L`, `n_samples`, `reference_n`, `seed`, `temperatures` (one
        `report_row` per temperature, in the order given), and `targets_met`:
        whether every target is met (`None` where none applies). All numbers
        are plain floats (`None` for NaN).
    """
    L = v.check_positive_int("L", L)
    temps = lattice.check_temperatures(temperatures)
    n_samples = v.check_positive_int("n_samples", n_samples)
    reference_n = v.check_positive_int("reference_n", reference_n)
    seed = v.check_seed("seed", seed, allow_none=False, non_negative=True)
    if n_samples < 2 or reference_n < 2:
        raise ValueError(f"Expected n_samples and reference_n >= 2. Received: {n_samples}, {reference_n}")
    if not callable(draw):
        raise ValueError(  # noqa: TRY004  (the package raises ValueError for every bad argument)
            f"Expected `draw` to be a callable (T, n, seed) -> samples. Received: draw={draw!r}")
    rows = []
    for T in temps:
        start = time.perf_counter()
        samples = draw(float(T), n_samples, seed)
        rows.append(report_row(samples, L, float(T), reference_n, seed, time.perf_counter() - start))
    met = [t["met"] for row in rows for t in row["targets"].values()]
    return {"L": L, "n_samples": n_samples, "reference_n": reference_n, "seed": seed, "temperatures": rows,
            "targets_met": all(met) if met else None}


# ------------------------------------------------------------------ seeds
def summarize_reports(reports):
    """Mean and sample standard deviation (ddof = 1; 0 for one report) over reports, per temperature.

    Args:
        reports: `physics_report` results of one L over the same temperatures
            (one per seed).

    Returns:
        A list with one dict per temperature: `temperature`, `n`, and for each
        figure (`FIGURES`, the relative errors of `OBSERVABLES`)
        `{"mean", "sd", "values"}`, and `targets_met` (how many reports met
        each target).
    """
    if not reports:
        raise ValueError("Expected at least one report. Received none.")
    names = list(FIGURES) + [f"{o}_relative_error" for o in OBSERVABLES]
    out = []
    for i, first in enumerate(reports[0]["temperatures"]):
        rows = [r["temperatures"][i] for r in reports]
        if any(abs(row["temperature"] - first["temperature"]) > 1e-9 for row in rows):
            raise ValueError("Expected reports over the same temperatures. Received: "
                             f"{sorted({row['temperature'] for row in rows})} at position {i}")
        entry = {"temperature": first["temperature"], "n": len(rows)}
        for name in names:
            values = np.asarray([np.nan if row[name] is None else row[name] for row in rows], "float64")
            sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            entry[name] = {"mean": float(values.mean()), "sd": sd, "values": values.tolist()}
        entry["targets_met"] = {k: sum(bool(row["targets"][k]["met"]) for row in rows)
                                for k in first["targets"]}
        out.append(entry)
    return out


def format_summary(L, summary):
    """A plain-text table of `summarize_reports`: mean ± sd of each figure per temperature."""
    short = {"positive_magnetization_fraction": "f(m>0)", "energy_w1": "W1(e)", "magnetization_w1": "W1(m)",
             "abs_magnetization_w1": "W1(|m|)", "energy_relative_error": "r(e)",
             "abs_magnetization_relative_error": "r(<|m|>)", "heat_capacity_relative_error": "r(c)",
             "susceptibility_relative_error": "r(chi)"}
    lines = []
    for entry in summary:
        lines.append(f"L = {L}, T = {entry['temperature']:.4g} ({entry['n']} seeds)")
        for name, label in short.items():
            s = entry[name]
            lines.append(f"  {label:>9}: {s['mean']:+.4f} ± {s['sd']:.4f}   "
                         + " ".join(f"{x:+.4f}" for x in s["values"]))
        for name, met in entry["targets_met"].items():
            lines.append(f"  target {name}: met by {met} of {entry['n']}")
    return "\n".join(lines)


def summarize_folder(folder, pattern):
    """`{L: summarize_reports(...)}` of the JSON files in `folder` whose names match `pattern`.

    Args:
        folder: the folder of the results, one JSON file per seed, each with
            its `physics_report` under `"report"`.
        pattern: a glob pattern of the file names, e.g. `"*_ising_L*_seed*.json"`.

    Returns:
        A dict from L to `summarize_reports` of that L's reports, by L
        (empty where no file matches).
    """
    by_L = {}
    for path in sorted(glob.glob(os.path.join(glob.escape(os.fspath(folder)), pattern))):
        with open(path, encoding="utf-8") as f:
            run = json.load(f)
        by_L.setdefault(run["report"]["L"], []).append(run["report"])
    return {L: summarize_reports(reports) for L, reports in sorted(by_L.items())}
