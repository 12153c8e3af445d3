"""Figures of an RBM: learned filters, Gibbs chains as they mix, samples.

Built on `keras_genmodels.plotting`: with a `path` each function writes a PNG
and returns the path; without one it returns the open matplotlib Figure (shown
inline in Jupyter).
"""

import math

import numpy as np
from keras import ops

from keras_genmodels._validation import check_positive_int


def image_shape_of(n_visible):
    """(side, side) when n_visible is a perfect square (28 x 28 for 784), else (1, n_visible)."""
    side = math.isqrt(n_visible)
    return (side, side) if side * side == n_visible else (1, n_visible)


def _images(flat, image_shape):
    return np.clip(np.asarray(flat, dtype="float32"), 0.0, 1.0).reshape(
        (-1,) + tuple(image_shape)
    )


def plot_filters(model, path=None, n=100, image_shape=None, title=None):
    """The receptive fields W[:, j] of the first `n` hidden units as images.

    Each filter is scaled to [0, 1] by its own largest |W_ij| (grey = 0,
    white = excitatory, black = inhibitory).

    Args:
        model: an RBM.
        path: the PNG to write. Defaults to `None`: return the open Figure.
        n: number of hidden units drawn. Defaults to `100`.
        image_shape: `(height, width)` of a filter. Defaults to `None`:
            `image_shape_of(model.n_visible)`.
        title: the figure's title. Defaults to `None`: says what is drawn.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    from keras_genmodels import plotting

    n = min(check_positive_int("n", n), model.n_hidden)
    w = ops.convert_to_numpy(model.kernel)[:, :n].T  # (n, D)
    scale = np.abs(w).max(axis=1, keepdims=True) + 1e-12
    images = _images(0.5 + 0.5 * w / scale, image_shape or image_shape_of(model.n_visible))
    return plotting.image_grid(
        images, path, title=title or f"Filters W[:, j] of {n} hidden units"
    )


def gibbs_chain_frames(model, n_chains=8, n_frames=10, steps_per_frame=10, start=None, seed=0):
    """E[v | h] of `n_chains` Gibbs chains, recorded every `steps_per_frame` sweeps.

    Args:
        model: an RBM.
        n_chains: number of chains (rows). Defaults to `8`.
        n_frames: number of recorded states per chain (columns). Defaults to `10`.
        steps_per_frame: Gibbs sweeps between frames. Defaults to `10`.
        start: starting visible states (e.g. data); defaults to draws from
            the base-rate model (independent units with the data means).
        seed: int seed. Defaults to `0`.

    Returns:
        NumPy array (n_chains, n_frames, n_visible).
    """
    n_chains = check_positive_int("n_chains", n_chains)
    n_frames = check_positive_int("n_frames", n_frames)
    steps_per_frame = check_positive_int("steps_per_frame", steps_per_frame)
    if start is None:
        v = model.sample(n_chains, steps=1, seed=seed, return_means=False)
    else:
        v = model.check_visible("start", start)[:n_chains]
    frames = []
    for i in range(n_frames):
        v, mean = model.gibbs_states(v, steps_per_frame, seed=seed + i)
        frames.append(mean)
    return np.stack(frames, axis=1)


def plot_gibbs_chains(model, path=None, n_chains=8, n_frames=10, steps_per_frame=10, start=None,
                      seed=0, image_shape=None):
    """One row per chain, one column per `steps_per_frame` Gibbs sweeps.

    The arguments are those of `gibbs_chain_frames`, with `path` (the PNG to
    write; defaults to `None`: return the open Figure) and `image_shape`.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    from keras_genmodels import plotting

    frames = gibbs_chain_frames(model, n_chains, n_frames, steps_per_frame, start, seed)
    images = _images(frames.reshape(-1, model.n_visible), image_shape or image_shape_of(model.n_visible))
    return plotting.image_grid(
        images, path, ncols=n_frames,
        title=f"Gibbs chains (rows), every {steps_per_frame} sweeps (columns)",
    )


def plot_samples(model, path=None, n=64, steps=1000, seed=0, image_shape=None):
    """E[v | h] after `steps` Gibbs sweeps of `n` independent chains.

    Args:
        model: an RBM.
        path: the PNG to write. Defaults to `None`: return the open Figure.
        n: number of chains. Defaults to `64`.
        steps: Gibbs sweeps per chain. Defaults to `1000`.
        seed: int seed. Defaults to `0`.
        image_shape: `(height, width)` of a sample. Defaults to `None`:
            `image_shape_of(model.n_visible)`.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    from keras_genmodels import plotting

    samples = model.sample(n, steps=steps, seed=seed)
    images = _images(samples, image_shape or image_shape_of(model.n_visible))
    return plotting.image_grid(images, path, title=f"{n} samples after {steps} Gibbs sweeps")
