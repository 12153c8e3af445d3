"""Figures shared by the model families (matplotlib, Agg backend, PNG files)."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig, path):
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
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


def image_grid(images, path, ncols=None, title=None):
    """Save a grid of grey-level images (values in [0, 1]) as a PNG."""
    canvas = tile_images(images, ncols)
    fig, ax = plt.subplots(figsize=(min(12, canvas.shape[1] / 25), min(12, canvas.shape[0] / 25)))
    ax.imshow(canvas, cmap="Greys_r", vmin=0.0, vmax=1.0)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return _save(fig, path)


def latent_space_grid(decode, path, n=20, scale=2.0, image_shape=(28, 28)):
    """The keras.io latent-space plot: decode a grid of 2-D latents.

    Args:
        decode: function from `(m, 2)` latents to `(m,) + image_shape` images.
        path: output PNG path.
        n: grid points per axis. Defaults to `20`.
        scale: the grid spans [−scale, scale]². Defaults to `2.0`.
    """
    grid = np.linspace(-scale, scale, n, dtype="float32")
    # Rows go from high to low h_2 so that the picture's y axis points up.
    h = np.array([[x, y] for y in grid[::-1] for x in grid], dtype="float32")
    images = np.asarray(decode(h)).reshape((n * n,) + tuple(image_shape))
    canvas = tile_images(images, ncols=n, pad=0)
    fig, ax = plt.subplots(figsize=(8, 8))
    ax.imshow(canvas, cmap="Greys_r", extent=(-scale, scale, -scale, scale), vmin=0, vmax=1)
    ax.set_xlabel("h[0]")
    ax.set_ylabel("h[1]")
    ax.set_title("Decoded latent space")
    return _save(fig, path)


def latent_clusters(z_mean, labels, path, class_names=None):
    """Scatter of 2-D latent means coloured by label (the keras.io cluster plot)."""
    z_mean = np.asarray(z_mean)
    if z_mean.ndim != 2 or z_mean.shape[1] < 2:
        raise ValueError(
            f"Expected latent means of shape (n, 2). Received: shape={z_mean.shape}"
        )
    fig, ax = plt.subplots(figsize=(8, 7))
    sc = ax.scatter(z_mean[:, 0], z_mean[:, 1], c=np.asarray(labels), cmap="tab10", s=2)
    cbar = fig.colorbar(sc, ax=ax, ticks=range(10))
    if class_names is not None:
        cbar.ax.set_yticklabels(class_names)
    ax.set_xlabel("z_mean[0]")
    ax.set_ylabel("z_mean[1]")
    ax.set_title("Latent means by class")
    return _save(fig, path)


def training_curves(history, path, units=None):
    """Plot every metric of a Keras history dict (with `val_` partners) per epoch.

    Args:
        history: `{metric: [value per epoch]}` (Keras's `History.history`).
        path: the PNG to write.
        units: `{metric: y-axis label}`, the quantity and its unit (e.g.
            `"-ELBO (nats per example)"`); other metrics are labelled by name.
            Defaults to `None`.
    """
    units = units or {}
    names = [k for k in history if not k.startswith("val_")]
    if not names:
        raise ValueError(f"Expected a non-empty Keras history. Received keys: {list(history)}")
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = np.arange(1, len(history[name]) + 1)
        ax.plot(epochs, history[name], label="train")
        if f"val_{name}" in history:
            ax.plot(epochs, history[f"val_{name}"], label="held-out")
        ax.set_xlabel("epoch")
        ax.set_ylabel(units.get(name, name))
        ax.set_title(name)
        ax.legend()
    fig.tight_layout()
    return _save(fig, path)
