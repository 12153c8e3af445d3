"""The symmetry group of the Ising Hamiltonian on the L x L torus, and random symmetries.

E(s) = -sum_<ij> s_i s_j, and |M(s)|, are unchanged by

- the L^2 periodic translations T_(dy,dx): s(r, c) -> s(r - dy, c - dx),
- the 8 symmetries of the square (the dihedral group D4), written as
  (transpose?) o (column reversal?) o (row reversal?),
- the global flip F: s -> -s (b -> 1 - b in the binary encoding).

They form a group G of 16 L^2 elements (256 at L = 4; at L = 2 some of them
act alike). Element k in [0, 16 L^2) is numbered in mixed radix,

    k = ((flip * 8 + point) * L + dy) * L + dx,    g_k = F^flip o P_point o T_(dy,dx),

and every element permutes the sites, flipping all of them or none:

    (g_k s)_i = σ_k s_{π_k(i)},   σ_k = -1 if flip else +1,

with sites numbered i = row * L + col. `symmetry_table(L)` is that one
definition, (π, flip) of every element; everything else applies it:

- `apply_symmetries(x, elements)`: g_k x for a batch, written in `keras.ops`,
  so the same code runs on NumPy arrays and inside a `tf.data` pipeline;
- `symmetry_augment(configurations, seed)`: each configuration mapped by a
  uniformly random element (NumPy draws), as `rbm.ising.fit_rbm_ising` does
  every epoch; `data.load(augment=True)` draws the elements in the pipeline
  (stateless TF draws) and applies them with `apply_symmetries`;
- `state_images(L)`: the state index of g_k(state j) of every state of an
  enumerable lattice (L <= 4), for the symmetrised empirical distribution
  (`analysis.empirical_distribution`).

Since E(g s) = E(s), the Boltzmann law is invariant, and a data set mapped
by uniformly random elements is a set of draws from the symmetrised
empirical law (1 / |G|) sum_g p^(g s).
"""

import functools

import numpy as np

from keras_genmodels._validation import check_array, check_choice, check_seed
from keras_genmodels.physics import exact, lattice

N_POINT_SYMMETRIES = 8  # |D4|


def group_size(L):
    """|G| = 2 (flip) x 8 (D4) x L^2 (translations) = 16 L^2 (numbered elements)."""
    L = lattice.check_lattice_size(L)
    return 2 * N_POINT_SYMMETRIES * L * L


def element_index(L, dy, dx, point, flip):
    """The number k = ((flip * 8 + point) * L + dy) * L + dx of g = F^flip o P_point o T_(dy,dx).

    Args:
        L: lattice size.
        dy, dx: translations in [0, L) (ints or int arrays): g moves the spin
            at (r, c) to (r + dy, c + dx).
        point: D4 element in [0, 8): bit 0 row reversal, bit 1 column
            reversal, bit 2 transpose, applied in that order.
        flip: whether g flips every spin (bool or bool array).

    Returns:
        k, an int or an int64 array.
    """
    flip = np.asarray(flip).astype(np.int64)
    k = ((flip * N_POINT_SYMMETRIES + np.asarray(point)) * L + np.asarray(dy)) * L + np.asarray(dx)
    return k if np.ndim(k) else int(k)


@functools.lru_cache(maxsize=None)
def symmetry_table(L):
    """The site permutation π_k and the flip of every group element g_k.

    (g_k s).ravel()[i] = σ_k s.ravel()[π_k(i)], k numbered as in the module
    docstring.

    Args:
        L: lattice size >= 2.

    Returns:
        `(permutations, flips)`: read-only int32 (16 L^2, L^2) and bool
        (16 L^2,) arrays.
    """
    L = lattice.check_lattice_size(L)
    n_sites = L * L
    sites = np.arange(n_sites).reshape(L, L)
    size = group_size(L)
    permutations = np.empty((size, n_sites), np.int32)
    for k in range(size):
        dx, dy = k % L, (k // L) % L
        point = (k // n_sites) % N_POINT_SYMMETRIES
        # Moving site indices as the spins move gives π_k: f(s) = s.ravel()[f(sites)].
        grid = np.roll(sites, (dy, dx), axis=(0, 1))
        if point & 1:
            grid = grid[::-1, :]  # row reversal
        if point & 2:
            grid = grid[:, ::-1]  # column reversal
        if point & 4:
            grid = grid.T  # transpose
        permutations[k] = grid.ravel()
    flips = np.arange(size) >= size // 2
    permutations.setflags(write=False)
    flips.setflags(write=False)
    return permutations, flips


def apply_symmetries(x, elements, encoding="spin"):
    """g_k x for each configuration of a batch, each with its own element k.

    (g_k x)_i = x_{π_k(i)}, then the global flip if element k has one:
    s -> -s in the spin encoding, b -> 1 - b in the binary one. Written in
    `keras.ops`: on NumPy input it runs eagerly, inside a `tf.data` map in
    graph mode, the same code for both.

    Args:
        x: (n, L, L) configurations, any numeric dtype (L static).
        elements: (n,) ints in [0, 16 L^2), the group element of each
            configuration (see `symmetry_table`).
        encoding: "spin" or "binary", which decides the flip. Defaults to
            "spin".

    Returns:
        A backend tensor of the shape and dtype of `x` (use
        `keras.ops.convert_to_numpy` for a NumPy array).
    """
    from keras import ops

    check_choice("encoding", encoding, lattice.ENCODINGS)
    if not hasattr(x, "shape"):
        x = check_array("x", x)
    if len(x.shape) != 3 or x.shape[-1] is None or x.shape[-1] != x.shape[-2]:
        raise ValueError(
            f"`x` must have shape (n, L, L) with a known L. Received: shape={tuple(x.shape)}"
        )
    L = int(x.shape[-1])
    permutations, flips = symmetry_table(L)
    if isinstance(elements, (np.ndarray, list, tuple)):
        k = check_array("elements", elements, allow_empty=True)
        if k.shape != (x.shape[0],) or not np.issubdtype(k.dtype, np.integer) or (
            k.size and (k.min() < 0 or k.max() >= len(flips))
        ):
            raise ValueError(
                f"`elements` must be {x.shape[0]} ints in [0, {len(flips)}). "
                f"Received: shape={k.shape}, dtype={k.dtype}"
                + (f", values in [{k.min()}, {k.max()}]" if k.size else "")
            )
    flat = ops.reshape(x, (-1, L * L))
    index = ops.take(permutations, elements, axis=0)  # (n, N): π_k of each row
    out = ops.take_along_axis(flat, index, axis=1)  # out[b, i] = x[b, π_k(i)]
    flip = ops.expand_dims(ops.take(flips, elements, axis=0), 1)
    flipped = ops.subtract(1 if encoding == "binary" else 0, out)  # 1 - b or -s
    return ops.reshape(ops.where(flip, flipped, out), (-1, L, L))


def symmetry_augment(configurations, seed=None, encoding="spin"):
    """Each configuration mapped by its own uniformly random symmetry of the Hamiltonian.

    g_k with k uniform on the 16 L^2 elements (its translation, row and
    column reversals, transpose and flip drawn independently), for each
    configuration its own: E(g s) = E(s) and |M(g s)| = |M(s)|, so a data set
    of n samples becomes n draws from the symmetrised empirical law.

    Args:
        configurations: (n, L, L) or (n, L*L) configurations.
        seed: `None`, an int >= 0, a `np.random.SeedSequence` or a
            `np.random.Generator`. Defaults to `None`.
        encoding: "spin" (flip s -> -s) or "binary" (flip b -> 1 - b).
            Defaults to "spin".

    Returns:
        A new int8 array of shape (n, L, L).

    Example:
    ```python
    s = sample_ising(8, T_C, 1000, seed=0).spins
    augmented = symmetry_augment(s, seed=1)
    assert (lattice.energy(augmented) == lattice.energy(s)).all()
    ```
    """
    from keras import ops

    x = lattice.check_configurations(configurations, encoding=encoding, name="configurations")
    if not isinstance(seed, (np.random.Generator, np.random.BitGenerator)):
        seed = check_seed("seed", seed, non_negative=True, allow_seed_sequence=True)
    rng = np.random.default_rng(seed)
    n, L = x.shape[0], x.shape[1]
    # Each factor drawn uniformly and independently, so g is uniform on G; in
    # this order, and with T_(-dy,-dx), these are the draws (hence the images)
    # of the augmentation that this module replaces, which the measured
    # figures of docs/physics.md used.
    dy, dx = rng.integers(0, L, n), rng.integers(0, L, n)
    rows, cols, transpose, flip = (rng.random(n) < 0.5 for _ in range(4))
    elements = element_index(L, -dy % L, -dx % L, rows + 2 * cols + 4 * transpose, flip)
    return ops.convert_to_numpy(apply_symmetries(x, elements, encoding)).astype(np.int8)


@functools.lru_cache(maxsize=None)
def state_images(L):
    """Index of g_k(state j) for every element k and state j of an enumerable lattice.

    States are numbered as in `exact` (bit i of j is the 0/1 value of site
    i); the flip maps state j to 2^N - 1 - j.

    Args:
        L: lattice size, 2 <= L <= 4.

    Returns:
        A read-only uint16 array (16 L^2, 2^(L*L)).
    """
    L = lattice.check_lattice_size(L)
    if L > exact.MAX_EXACT_L:
        raise ValueError(
            f"The images of every state need L <= {exact.MAX_EXACT_L} (2^(L*L) states). "
            f"Received: L={L}"
        )
    n_sites = L * L
    permutations, flips = symmetry_table(L)
    states = np.arange(2**n_sites, dtype=np.int64)
    bits = (states[:, None] >> np.arange(n_sites)) & 1  # (2^N, N)
    powers = np.int64(1) << np.arange(n_sites, dtype=np.int64)
    images = np.empty((len(flips), 2**n_sites), np.uint16)
    half = len(flips) // 2  # elements half.. are the flipped images of 0..half-1
    for k in range(half):
        images[k] = bits[:, permutations[k]] @ powers
    images[half:] = (2**n_sites - 1) - images[:half]
    images.setflags(write=False)
    return images
