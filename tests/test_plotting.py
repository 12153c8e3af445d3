"""The shared figures: a PNG with a path, an open Figure without one, labelled axes, no forced backend."""

import os
import subprocess
import sys

import numpy as np
import pytest

from keras_genmodels import plotting


def _history():
    return {"loss": [3.0, 2.0, 1.5], "val_loss": [3.1, 2.2, 1.7], "kl_loss": [0.5, 0.7, 0.8]}


FIGURES = {
    "image_grid": lambda path: plotting.image_grid(np.random.default_rng(0).uniform(size=(6, 5, 4)), path,
                                                   title="six images"),
    "latent_space_grid": lambda path: plotting.latent_space_grid(
        lambda h: np.tile(h[:, :1], (1, 12)) * 0.2 + 0.5, path, n=4, image_shape=(3, 4)),
    "latent_clusters": lambda path: plotting.latent_clusters(
        np.random.default_rng(0).standard_normal((50, 2)), np.arange(50) % 10, path,
        class_names=[f"class {i}" for i in range(10)]),
    "training_curves": lambda path: plotting.training_curves(
        _history(), path, units={"loss": "-ELBO (nats per image)"}),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_with_and_without_a_path(name, tmp_path, check_figure):
    check_figure(FIGURES[name](tmp_path / "sub" / f"{name}.png"), tmp_path / "sub" / f"{name}.png")
    check_figure(FIGURES[name](None))


def test_training_curves_label_y_with_the_units_given():
    fig = plotting.training_curves(_history(), units={"loss": "-ELBO (nats per image)"}, title="VAE")
    try:
        assert fig.get_suptitle() == "VAE"
        assert [ax.get_ylabel() for ax in fig.axes] == ["-ELBO (nats per image)", "kl_loss"]
        assert [len(ax.get_lines()) for ax in fig.axes] == [2, 1], "train and held-out, train only"
        assert fig.axes[0].get_legend() is not None and fig.axes[1].get_legend() is None
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_importing_the_plots_leaves_the_backend_to_the_environment():
    # Jupyter's kernel sets MPLBACKEND to its inline backend: the library must not replace it.
    code = ("import matplotlib, keras_genmodels.plotting, keras_genmodels.physics.plots, "
            "keras_genmodels.rbm.plots; print(matplotlib.get_backend())")
    env = dict(os.environ, MPLBACKEND="svg", TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip().lower() == "svg"
