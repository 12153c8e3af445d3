"""Figures of an energy-based model: the learned energy landscape and Langevin chains.

Built on `keras_genmodels.plotting`: with a `path` each function writes a PNG
and returns the path; without one it returns the open matplotlib Figure (shown
inline in Jupyter).
"""

import numpy as np

from keras_genmodels._validation import check_array, check_positive_int
from keras_genmodels.ebm import toy
from keras_genmodels.plotting import finish_figure, new_figure, tile_images

AXIS_LABELS = ("x[0]", "x[1]")


def _check_points(name, x):
    return None if x is None else check_array(name, x, feature_shape=(2,))


def _overlay(ax, data, samples):
    if data is not None:
        ax.scatter(data[:, 0], data[:, 1], s=2, c="white", edgecolors="none", alpha=0.6, label="data")
    if samples is not None:
        ax.scatter(samples[:, 0], samples[:, 1], s=2, c="red", edgecolors="none", alpha=0.6,
                   label="model samples")
    if data is not None or samples is not None:
        ax.legend(loc="upper right", fontsize=8, markerscale=4, facecolor="lightgrey")


def energy_landscape(energy_fn, bounds=(-4.0, 4.0), n_grid=200, data=None, samples=None, path=None):
    """Two panels: the energy E(x) and the density p(x) = exp(-E(x)) / Z on a grid.

    Z is computed by grid quadrature (`toy.grid_density`) on the box
    [lo, hi]^2. E is drawn as E - min E (the additive constant of an energy
    is arbitrary) with contour lines; data (white) and model samples (red)
    are drawn over both panels when given.

    Args:
        energy_fn: callable from a float32 (m, 2) NumPy array to (m,)
            energies, or a `toy.GridDensity` already computed (then `bounds`
            and `n_grid` are its own).
        bounds: `(lo, hi)`, the box [lo, hi]^2. Defaults to `(-4.0, 4.0)`.
        n_grid: cells per axis. Defaults to `200`.
        data: training or test points, array (n, 2). Defaults to `None`.
        samples: model samples, array (m, 2). Defaults to `None`.
        path: the PNG to write. Defaults to `None`: return the open Figure.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    if isinstance(energy_fn, toy.GridDensity):
        grid = energy_fn
    else:
        grid = toy.grid_density(energy_fn, bounds, n_grid)
    data = _check_points("data", data)
    samples = _check_points("samples", samples)
    lo, hi = grid.bounds
    extent = (lo, hi, lo, hi)
    fig, axes = new_figure(path, 1, 2, figsize=(11, 4.6))
    panels = (
        (grid.energy - grid.energy.min(), "viridis", "energy E(x) - min E", "Energy landscape E(x)"),
        (grid.density, "magma", "density p(x)",
         f"Density exp(-E(x)) / Z, log Z = {grid.log_z:.3f} (grid)"),
    )
    for ax, (values, cmap, label, title) in zip(axes, panels):
        image = ax.imshow(values, origin="lower", extent=extent, cmap=cmap, aspect="equal")
        cbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        cbar.set_label(label)
        ax.set_xlabel(AXIS_LABELS[0])
        ax.set_ylabel(AXIS_LABELS[1])
        ax.set_title(title, fontsize=10)
    levels = np.unique(np.quantile(panels[0][0], np.linspace(0.05, 0.95, 10)))
    if len(levels) > 1:  # a flat energy has no contour lines
        axes[0].contour(grid.centers, grid.centers, panels[0][0], levels=levels,
                        colors="white", linewidths=0.5, alpha=0.7)
    for ax in axes:
        _overlay(ax, data, samples)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
    fig.tight_layout()
    return finish_figure(fig, path)


def chains(trajectories, data=None, path=None):
    """2-D Langevin chains drawn as lines, from a circle (start) to a cross (end), over the data.

    Args:
        trajectories: array (steps, n_chains, 2), the states of each chain
            at the recorded steps.
        data: the data, array (n, 2), drawn in grey. Defaults to `None`.
        path: the PNG to write. Defaults to `None`: return the open Figure.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    traj = check_array("trajectories", trajectories)
    if traj.ndim != 3 or traj.shape[2] != 2:
        raise ValueError(
            f"`trajectories` must have shape (steps, n_chains, 2). Received: shape={traj.shape}"
        )
    data = _check_points("data", data)
    steps, n_chains = traj.shape[:2]
    fig, ax = new_figure(path, figsize=(6, 6))
    if data is not None:
        ax.scatter(data[:, 0], data[:, 1], s=2, c="grey", edgecolors="none", alpha=0.4, label="data")
    colors = [f"C{i % 10}" for i in range(n_chains)]
    for i in range(n_chains):
        ax.plot(traj[:, i, 0], traj[:, i, 1], "-", color=colors[i], lw=0.8, alpha=0.8)
    ax.scatter(traj[0, :, 0], traj[0, :, 1], marker="o", s=14, c=colors, label="start")
    ax.scatter(traj[-1, :, 0], traj[-1, :, 1], marker="x", s=20, c=colors, label="end")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(AXIS_LABELS[0])
    ax.set_ylabel(AXIS_LABELS[1])
    ax.set_title(f"Langevin chains: {n_chains} chains, {steps} recorded steps")
    return finish_figure(fig, path)


def image_chains(frames, path=None, n_show=8):
    """Langevin chains on images: one row per chain, one column per recorded step.

    Pixels in [-1, 1] are drawn as (x + 1) / 2, clipped to [0, 1] (a chain
    may step outside the data range).

    Args:
        frames: array (steps_to_show, n_chains, height, width, channels),
            channels 1 (grey) or 3 (RGB), values in [-1, 1].
        path: the PNG to write. Defaults to `None`: return the open Figure.
        n_show: the number of chains (rows) drawn, the first ones.
            Defaults to `8`.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    frames = check_array("frames", frames)
    if frames.ndim != 5 or frames.shape[-1] not in (1, 3):
        raise ValueError(
            "`frames` must have shape (steps_to_show, n_chains, height, width, channels) "
            f"with 1 or 3 channels. Received: shape={frames.shape}"
        )
    n_show = check_positive_int("n_show", n_show)
    steps, n_chains, h, w, c = frames.shape
    rows = min(n_show, n_chains)
    images = np.swapaxes(frames[:, :rows], 0, 1).reshape(rows * steps, h, w, c)  # row-major: chain, step
    images = np.clip((images.astype("float32") + 1.0) / 2.0, 0.0, 1.0)
    canvas = np.stack([tile_images(images[..., k], ncols=steps) for k in range(c)], axis=-1)
    fig, ax = new_figure(path, figsize=(min(12, max(2, canvas.shape[1] / 25)),
                                        min(12, max(2, canvas.shape[0] / 25))))
    if c == 1:
        ax.imshow(canvas[..., 0], cmap="Greys_r", vmin=0.0, vmax=1.0)
    else:
        ax.imshow(canvas)
    ax.axis("off")
    ax.set_title(f"Langevin chains: {rows} chains (rows), {steps} recorded steps (columns)")
    return finish_figure(fig, path)
