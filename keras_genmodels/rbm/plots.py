"""Figures of an RBM, a deep belief network or a deep Boltzmann machine.

Learned filters (`plot_filters`: the first layer's; `plot_layer_filters`:
every layer's, projected to pixel space), Gibbs chains as they mix (RBMs),
samples (`plot_samples`). Built on `keras_genmodels.plotting`: with a `path` each function writes a PNG
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


def visible_units(model):
    """D, the number of visible units of an RBM or a DBM (`n_visible`) or a DBN (`layer_sizes[0]`)."""
    sizes = getattr(model, "layer_sizes", None)
    return int(sizes[0]) if sizes is not None else int(model.n_visible)


def layer_kernels(model):
    """The kernels [W_1, ..., W_L] of a model's layers, bottom first, as NumPy arrays.

    W_l has shape (units of layer l - 1, units of layer l): an RBM's `kernel`;
    a DBN's RBMs' kernels (its generative weights, `rbms[l - 1].kernel`); a
    DBM's `kernel_1` (D, H1) and `kernel_2` (H1, H2).
    """
    from keras_genmodels.rbm import DeepBeliefNetwork, DeepBoltzmannMachine

    if isinstance(model, DeepBeliefNetwork):
        kernels = [rbm.kernel for rbm in model.rbms]
    elif isinstance(model, DeepBoltzmannMachine):
        kernels = [model.kernel_1, model.kernel_2]
    else:
        kernels = [model.kernel]
    return [ops.convert_to_numpy(w) for w in kernels]


def projected_filters(model):
    """Each layer's filters in pixel space: [W_1, W_1 W_2, ..., W_1 ... W_L], shapes (D, H_l).

    The usual linear visualisation of a deep model's units: column j of
    W_1 ... W_l is unit j's weighted combination of the first layer's
    filters, the nonlinearities in between ignored (the simplest of the
    visualisations that Erhan, Bengio, Courville & Vincent 2009, "Visualizing
    higher-layer features of a deep network", compare).
    """
    projections, product = [], None
    for w in layer_kernels(model):
        product = w.astype("float64") if product is None else product @ w
        projections.append(product)
    return projections


def _filter_images(w, n, image_shape):
    """The first `n` columns of `w` (D, H) as images, each scaled to [0, 1] by its largest |w_ij|."""
    w = np.asarray(w, dtype="float64")[:, :n].T  # (n, D)
    scale = np.abs(w).max(axis=1, keepdims=True) + 1e-12
    return _images(0.5 + 0.5 * w / scale, image_shape)


def _images(flat, image_shape):
    return np.clip(np.asarray(flat, dtype="float32"), 0.0, 1.0).reshape(
        (-1,) + tuple(image_shape)
    )


def plot_filters(model, path=None, n=100, image_shape=None, title=None):
    """The receptive fields W[:, j] of the first `n` hidden units as images.

    Each filter is scaled to [0, 1] by its own largest |W_ij| (grey = 0,
    white = excitatory, black = inhibitory). For a DBN or a DBM, the first
    hidden layer's: W_1 = `model.rbms[0].kernel` or `model.kernel_1`.

    Args:
        model: an RBM, a `DeepBeliefNetwork` or a `DeepBoltzmannMachine`.
        path: the PNG to write. Defaults to `None`: return the open Figure.
        n: number of hidden units drawn. Defaults to `100`.
        image_shape: `(height, width)` of a filter. Defaults to `None`:
            `image_shape_of(visible_units(model))`.
        title: the figure's title. Defaults to `None`: says what is drawn.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    from keras_genmodels import plotting

    w = layer_kernels(model)[0]  # (D, H_1)
    n = min(check_positive_int("n", n), w.shape[1])
    images = _filter_images(w, n, image_shape or image_shape_of(visible_units(model)))
    return plotting.image_grid(
        images, path, title=title or f"Filters W[:, j] of {n} hidden units"
    )


def plot_layer_filters(model, path=None, n=20, ncols=10, image_shape=None, title=None):
    """The filters of every hidden layer projected to pixel space, one panel per layer.

    Panel l shows the first `n` columns of W_1 ... W_l (`projected_filters`):
    for layer 1 the receptive fields of `plot_filters`, for the layers above
    the linear images of their units through the weights below. Each filter
    is scaled to [0, 1] by its own largest |value| (grey = 0).

    Args:
        model: a `DeepBeliefNetwork` or a `DeepBoltzmannMachine` (an RBM
            gives one panel).
        path: the PNG to write. Defaults to `None`: return the open Figure.
        n: filters drawn per layer. Defaults to `20`.
        ncols: filters per row of a panel. Defaults to `10`.
        image_shape: `(height, width)` of a filter. Defaults to `None`:
            `image_shape_of(visible_units(model))`.
        title: the figure's title. Defaults to `None`: says what is drawn.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    from keras_genmodels import plotting

    n = check_positive_int("n", n)
    ncols = check_positive_int("ncols", ncols)
    image_shape = image_shape or image_shape_of(visible_units(model))
    projections = projected_filters(model)
    canvases = []
    for w in projections:
        images = _filter_images(w, min(n, w.shape[1]), image_shape)
        canvases.append(plotting.tile_images(images, ncols=min(ncols, images.shape[0])))
    # Same width (white margin) and heights in proportion: every panel at the same scale.
    width = max(c.shape[1] for c in canvases)
    canvases = [np.pad(c, ((0, 0), (0, width - c.shape[1])), constant_values=1.0) for c in canvases]
    heights = [c.shape[0] for c in canvases]
    fig, axes = plotting.new_figure(
        path, nrows=len(canvases), ncols=1, squeeze=False, gridspec_kw={"height_ratios": heights},
        figsize=(min(12, max(3, width / 25)), min(16, max(2, sum(heights) / 25 + 0.4 * len(canvases)))),
    )
    for layer, (ax, canvas) in enumerate(zip(axes[:, 0], canvases), start=1):
        ax.imshow(canvas, cmap="Greys_r", vmin=0.0, vmax=1.0)
        ax.axis("off")
        product = " ".join(f"W{i}" for i in range(1, layer + 1))
        ax.set_title(f"layer {layer}: columns of {product}", fontsize=9)
    fig.suptitle(title or "Filters of each hidden layer, projected to pixel space")
    return plotting.finish_figure(fig, path)


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

    if not hasattr(model, "gibbs_states"):
        raise ValueError(
            "Expected an RBM (a model with `gibbs_states`): the frames are its block Gibbs "
            f"sweeps. Received: {type(model).__name__}; use plot_samples for it."
        )
    frames = gibbs_chain_frames(model, n_chains, n_frames, steps_per_frame, start, seed)
    images = _images(frames.reshape(-1, model.n_visible), image_shape or image_shape_of(model.n_visible))
    return plotting.image_grid(
        images, path, ncols=n_frames,
        title=f"Gibbs chains (rows), every {steps_per_frame} sweeps (columns)",
    )


def plot_samples(model, path=None, n=64, steps=1000, seed=0, image_shape=None):
    """E[v | h] after `steps` Gibbs sweeps of `n` independent chains (`model.sample`).

    For a DBN the sweeps are those of its top RBM, followed by one pass down;
    for a DBM two-block sweeps (h1, then v and h2).

    Args:
        model: an RBM, a `DeepBeliefNetwork` or a `DeepBoltzmannMachine`.
        path: the PNG to write. Defaults to `None`: return the open Figure.
        n: number of chains. Defaults to `64`.
        steps: Gibbs sweeps per chain. Defaults to `1000`.
        seed: int seed. Defaults to `0`.
        image_shape: `(height, width)` of a sample. Defaults to `None`:
            `image_shape_of(visible_units(model))`.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    from keras_genmodels import plotting

    samples = model.sample(n, steps=steps, seed=seed)
    images = _images(samples, image_shape or image_shape_of(visible_units(model)))
    return plotting.image_grid(images, path, title=f"{n} samples after {steps} Gibbs sweeps")
