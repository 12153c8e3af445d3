"""The physics figures: a PNG with a path, an open Figure without one, every axis labelled."""

import numpy as np
import pytest

from keras_genmodels.physics import T_C, plots

T = np.array([1.5, 2.0, T_C, 3.0])
HS = np.array([2, 4, 8])


def _values(scale):
    return {k: (scale * np.arange(1.0, 5.0), 0.1 * np.ones(4)) for k in plots.LABELS}


FIGURES = {
    "observables_vs_temperature": lambda path: plots.observables_vs_temperature(
        [{"label": "Monte Carlo", "temperature": T, "values": _values(1.0)},
         {"label": "exact", "temperature": T, "values": {k: v[0] for k, v in _values(1.1).items()},
          "style": "k-"}], path, title="test"),
    "latent_vs_magnetization": lambda path: plots.latent_vs_magnetization(
        {"z_mean": np.random.default_rng(0).standard_normal((40, 2)),
         "magnetization": np.linspace(-1, 1, 40), "correlation": np.array([0.9, 0.1])},
        np.linspace(1.0, 3.5, 40), path),
    "reconstruction_vs_temperature": lambda path: plots.reconstruction_vs_temperature(
        {"temperature": T, "reconstruction_loss": np.array([1.0, 5.0, 20.0, 40.0]),
         "error": np.ones(4)}, path, n_sites=16),
    "kl_vs_hidden_units": lambda path: plots.kl_vs_hidden_units(
        {"temperatures": [T_C, 3.0], "hidden_sizes": HS, "kl": np.array([[0.5, 0.1, 0.01], [0.2, 0.05, 0.005]]),
         "kl_threshold": 0.01}, path),
    "accuracy_vs_hidden_units": lambda path: plots.accuracy_vs_hidden_units(
        {"temperatures": [T_C], "hidden_sizes": HS,
         "relative_error": {"energy": np.array([[0.1, -0.05, 0.01]]), "heat_capacity": np.array([[0.3, 0.2, 0.1]])},
         "error_bar": {"energy": np.full((1, 3), 0.01), "heat_capacity": np.full((1, 3), 0.02)},
         "kl_per_spin": np.array([[0.1, 0.03, 0.01]]), "kl_per_spin_error": np.full((1, 3), 0.001)}, path),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_with_and_without_a_path(name, tmp_path, check_figure):
    check_figure(FIGURES[name](tmp_path / f"{name}.png"), tmp_path / f"{name}.png")
    check_figure(FIGURES[name](None))
