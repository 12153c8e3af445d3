"""Figures shared by the model families (matplotlib).

Every plotting function takes an optional `path`:

- `path=None`: the figure is made with `matplotlib.pyplot` and returned open,
  so the backend the environment chose shows it (Jupyter's inline backend at
  the end of the cell, a window on `plt.show()`, nothing under Agg). In a
  notebook end the line with `;` (or assign the result): the inline backend
  already shows the figure, and the returned Figure would be shown twice.
- `path="file.png"`: the figure is a bare `matplotlib.figure.Figure` that no
  backend or window manager knows of; it is written as a PNG (dpi 100, tight
  bounding box) and the path is returned. This is what the command line does;
  it never imports pyplot or needs a display.

The library never calls `matplotlib.use`: the backend stays the environment's.
"""

import os

import numpy as np
from matplotlib.figure import Figure

DPI = 100


def new_figure(path=None, nrows=1, ncols=1, figsize=None, **subplots_kwargs):
    """A figure and its axes, as `plt.subplots` returns them.

    Args:
        path: where the figure will be written. Defaults to `None`: a pyplot
            figure, shown by the environment's backend; else a bare `Figure`.
        nrows, ncols: the grid of axes. Default to `1`.
        figsize: `(width, height)` in inches. Defaults to matplotlib's.
        **subplots_kwargs: passed to `Figure.subplots` (`squeeze`, `sharey`, ...).

    Returns:
        `(figure, axes)`.
    """
    if path is None:
        import matplotlib.pyplot as plt

        return plt.subplots(nrows, ncols, figsize=figsize, **subplots_kwargs)
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **subplots_kwargs)


def finish_figure(fig, path=None):
    """Write `fig` as a PNG at `path` and return the path, or return `fig` when `path` is None."""
    if path is None:
        return fig
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return path


def tile_images(images, ncols=None, pad=1):
    """Tile `(n, h, w[, 1])` images in [0, 1] into one `(H, W)` array."""
    images = np.asarray(images, dtype="float32")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(
            f"Expected images of shape (n, height, width) or (n, height, width, 1). "
            f"Received: shape={images.shape}"
        )
    n, h, w = images.shape
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    canvas = np.ones((nrows * (h + pad) + pad, ncols * (w + pad) + pad), dtype="float32")
    for i in range(n):
        r, c = divmod(i, ncols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        canvas[top : top + h, left : left + w] = images[i]
    return canvas


def image_grid(images, path=None, ncols=None, title=None):
    """A grid of grey-level images (values in [0, 1]).

    Args:
        images: `(n, height, width)` or `(n, height, width, 1)` array.
        path: the PNG to write. Defaults to `None`: return the open Figure.
        ncols: images per row. Defaults to `None`: a square grid.
        title: the figure's title. Defaults to `None`.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    canvas = tile_images(images, ncols)
    fig, ax = new_figure(path, figsize=(min(12, canvas.shape[1] / 25), min(12, canvas.shape[0] / 25)))
    ax.imshow(canvas, cmap="Greys_r", vmin=0.0, vmax=1.0)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return finish_figure(fig, path)


def latent_space_grid(decode, path=None, n=20, scale=2.0, image_shape=(28, 28)):
    """The keras.io latent-space plot: decode a grid of 2-D latents.

    Args:
        decode: function from `(m, 2)` latents to `(m,) + image_shape` images.
        path: the PNG to write. Defaults to `None`: return the open Figure.
        n: grid points per axis. Defaults to `20`.
        scale: the grid spans [−scale, scale]². Defaults to `2.0`.
        image_shape: `(height, width)` of a decoded image. Defaults to `(28, 28)`.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    grid = np.linspace(-scale, scale, n, dtype="float32")
    # Rows go from high to low h_2 so that the picture's y axis points up.
    h = np.array([[x, y] for y in grid[::-1] for x in grid], dtype="float32")
    images = np.asarray(decode(h)).reshape((n * n,) + tuple(image_shape))
    canvas = tile_images(images, ncols=n, pad=0)
    fig, ax = new_figure(path, figsize=(8, 8))
    ax.imshow(canvas, cmap="Greys_r", extent=(-scale, scale, -scale, scale), vmin=0, vmax=1)
    ax.set_xlabel("latent h[0] (decoder input)")
    ax.set_ylabel("latent h[1] (decoder input)")
    ax.set_title("Decoded latent space: E[x | h] on a grid of h")
    return finish_figure(fig, path)


def latent_clusters(z_mean, labels, path=None, class_names=None):
    """Scatter of 2-D latent means coloured by label (the keras.io cluster plot).

    Args:
        z_mean: `(n, 2)` encoder means μ(x).
        labels: `(n,)` integer class labels in [0, 10).
        path: the PNG to write. Defaults to `None`: return the open Figure.
        class_names: the ten class names for the colour bar. Defaults to `None`
            (the label numbers).

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    z_mean = np.asarray(z_mean)
    if z_mean.ndim != 2 or z_mean.shape[1] < 2:
        raise ValueError(
            f"Expected latent means of shape (n, 2). Received: shape={z_mean.shape}"
        )
    fig, ax = new_figure(path, figsize=(8, 7))
    sc = ax.scatter(z_mean[:, 0], z_mean[:, 1], c=np.asarray(labels), cmap="tab10", s=2)
    cbar = fig.colorbar(sc, ax=ax, ticks=range(10))
    if class_names is not None:
        cbar.ax.set_yticklabels(class_names)
    cbar.set_label("class" if class_names is not None else "label")
    ax.set_xlabel("encoder mean μ(x)[0]")
    ax.set_ylabel("encoder mean μ(x)[1]")
    ax.set_title("Latent means by class")
    return finish_figure(fig, path)


def training_curves(history, path=None, units=None, title=None):
    """Plot every metric of a Keras history dict (with `val_` partners) per epoch.

    A metric with a `val_` partner gets two curves (train, held-out) and a
    legend; one without (e.g. a gap computed from both) gets its curve only.

    Args:
        history: `{metric: [value per epoch]}` (Keras's `History.history`).
        path: the PNG to write. Defaults to `None`: return the open Figure.
        units: `{metric: y-axis label}`, the quantity and its unit (e.g.
            `"-ELBO (nats per example)"`); other metrics are labelled by name.
            Defaults to `None`.
        title: the figure's title (e.g. the model). Defaults to `None`.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    units = units or {}
    names = [k for k in history if not k.startswith("val_")]
    if not names:
        raise ValueError(f"Expected a non-empty Keras history. Received keys: {list(history)}")
    fig, axes = new_figure(path, 1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = np.arange(1, len(history[name]) + 1)
        marker = "o" if len(epochs) < 20 else None  # one epoch is still a visible point
        ax.plot(epochs, history[name], marker=marker, label="train")
        if f"val_{name}" in history:
            ax.plot(epochs, history[f"val_{name}"], marker=marker, label="held-out")
            ax.legend()
        ax.set_xlabel("epoch")
        ax.set_ylabel(units.get(name, name))
        ax.set_title(name)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return finish_figure(fig, path)
