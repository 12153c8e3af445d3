"""The symmetry group of the Ising Hamiltonian: one table, applied to NumPy arrays and in tf.data."""

import numpy as np
import pytest

from keras_genmodels.physics import exact, lattice, symmetry


def test_symmetry_augment_preserves_the_energy_and_covers_the_symmetry_group():
    rng = np.random.default_rng(0)
    s = np.where(rng.random((300, 6, 6)) < 0.5, -1, 1).astype(np.int8)
    out = symmetry.symmetry_augment(s, seed=1)
    assert out.shape == s.shape and out.dtype == s.dtype
    np.testing.assert_array_equal(lattice.energy(out), lattice.energy(s))
    np.testing.assert_array_equal(np.abs(out.sum((1, 2))), np.abs(s.sum((1, 2))))
    assert not np.array_equal(out, s)
    np.testing.assert_array_equal(symmetry.symmetry_augment(s, seed=1), out)  # seeded
    # A 4x4 state with no symmetry of its own has 16 x 8 x 2 = 256 distinct
    # images; 20,000 draws reach every one of them, about equally often.
    one = np.array([[1, 1, 1, -1], [-1, -1, -1, -1], [-1, 1, 1, -1], [-1, 1, 1, 1]], np.int8)
    images = symmetry.symmetry_augment(np.repeat(one[None], 20000, axis=0), seed=2)
    counts = np.bincount(exact.state_index(images), minlength=2**16)
    assert np.count_nonzero(counts) == 256
    assert counts[counts > 0].min() > 40 and counts.max() < 120  # mean 78
    # The binary encoding flips b -> 1 - b.
    b = (s + 1) // 2
    out_b = symmetry.symmetry_augment(b, seed=1, encoding="binary")
    np.testing.assert_array_equal(out_b, (out + 1) // 2)
    with pytest.raises(ValueError, match="Received"):
        symmetry.symmetry_augment(s, encoding="binary")


def _augment_before_the_table(x, seed, encoding="spin"):
    """The augmentation used before the group had one table (`symmetry_augment`): a reference."""
    rng = np.random.default_rng(seed)
    n, L = x.shape[0], x.shape[1]
    rows = np.arange(L)
    dy, dx = rng.integers(0, L, n), rng.integers(0, L, n)
    r = (rows[None, :] + dy[:, None]) % L
    c = (rows[None, :] + dx[:, None]) % L
    r = np.where(rng.random(n)[:, None] < 0.5, r[:, ::-1], r)
    c = np.where(rng.random(n)[:, None] < 0.5, c[:, ::-1], c)
    out = x[np.arange(n)[:, None, None], r[:, :, None], c[:, None, :]]
    transpose = rng.random(n) < 0.5
    out[transpose] = np.swapaxes(out[transpose], 1, 2)
    flip = rng.random(n) < 0.5
    out[flip] = (1 - out[flip]) if encoding == "binary" else -out[flip]
    return out


@pytest.mark.parametrize("L", [4, 7])
def test_augmentation_keeps_the_images_of_the_same_seed(L):
    # Same seed, same images as before the table: the measured figures of
    # docs/physics.md (CD recipe, fit_rbm_ising) stay reproducible.
    s = np.where(np.random.default_rng(L).random((500, L, L)) < 0.5, -1, 1).astype(np.int8)
    np.testing.assert_array_equal(symmetry.symmetry_augment(s, seed=3), _augment_before_the_table(s, 3))
    b = (s + 1) // 2
    np.testing.assert_array_equal(
        symmetry.symmetry_augment(b, seed=3, encoding="binary"), _augment_before_the_table(b, 3, "binary")
    )


def test_element_index_numbers_the_table():
    L = 5
    permutations, flips = symmetry.symmetry_table(L)
    k = symmetry.element_index(L, dy=2, dx=1, point=4, flip=True)
    assert k == ((1 * 8 + 4) * L + 2) * L + 1 and flips[k]
    s = np.arange(L * L).reshape(1, L, L)
    expected = -np.roll(s[0], (2, 1), axis=(0, 1)).T  # translate, transpose, flip
    np.testing.assert_array_equal(np.asarray(symmetry.apply_symmetries(s, [k]))[0], expected)


def _reference_images(s):
    """The 16 L^2 images of one (L, L) spin configuration, built independently of the table:
    np.roll for the translations, np.rot90 and a mirror for D4, a sign for the flip."""
    L = s.shape[0]
    images = []
    for k in range(4):
        for mirror in (False, True):
            r = np.rot90(s, k)
            r = r[:, ::-1] if mirror else r
            for dy in range(L):
                for dx in range(L):
                    t = np.roll(r, (dy, dx), axis=(0, 1))
                    images += [t, -t]
    return np.array(images)


def _generic(L, seed=0):
    """A spin configuration of L x L whose 16 L^2 images are all distinct (L >= 4;
    at L = 3 every configuration has a symmetry of its own: orbits hold <= 72 images)."""
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        s = np.where(rng.random((L, L)) < 0.5, -1, 1).astype(np.int8)
        if len({im.tobytes() for im in _reference_images(s)}) == 16 * L * L:
            return s
    raise AssertionError(f"no configuration of L={L} without a symmetry of its own")


@pytest.mark.parametrize("L", [3, 4, 5, 6])
def test_every_element_is_a_symmetry_and_the_table_is_the_whole_group(L):
    n = symmetry.group_size(L)
    assert n == 16 * L * L
    permutations, flips = symmetry.symmetry_table(L)
    assert permutations.shape == (n, L * L) and flips.shape == (n,) and flips.sum() == n // 2
    # Each row is a permutation of the sites.
    np.testing.assert_array_equal(np.sort(permutations, axis=1), np.tile(np.arange(L * L), (n, 1)))
    # Every element preserves E and |M| exactly, on random configurations.
    rng = np.random.default_rng(L)
    s = np.where(rng.random((n, L, L)) < 0.5, -1, 1).astype(np.int8)
    out = np.asarray(symmetry.apply_symmetries(s, np.arange(n)))
    np.testing.assert_array_equal(lattice.energy(out), lattice.energy(s))
    np.testing.assert_array_equal(np.abs(lattice.magnetization(out)), np.abs(lattice.magnetization(s)))
    assert np.mean(np.any(out != s, axis=(1, 2))) > 0.9
    # n distinct elements: no two rows act alike.
    assert len({(p.tobytes(), bool(f)) for p, f in zip(permutations, flips)}) == n
    # The table's images of a configuration are exactly the group's images
    # built independently (translations x rot90/mirror x flip).
    one = _generic(L) if L >= 4 else s[0]
    table_images = np.asarray(symmetry.apply_symmetries(np.repeat(one[None], n, 0), np.arange(n)))
    assert {im.tobytes() for im in table_images} == {im.tobytes() for im in _reference_images(one)}
    if L >= 4:
        assert len({im.tobytes() for im in table_images}) == n  # a free orbit


def test_the_binary_encoding_flips_b_to_one_minus_b():
    L = 4
    n = symmetry.group_size(L)
    s = np.where(np.random.default_rng(0).random((n, L, L)) < 0.5, -1, 1).astype(np.int8)
    spins = np.asarray(symmetry.apply_symmetries(s, np.arange(n), "spin"))
    bits = np.asarray(symmetry.apply_symmetries((s + 1) // 2, np.arange(n), "binary"))
    np.testing.assert_array_equal(bits, (spins + 1) // 2)
    floats = np.asarray(symmetry.apply_symmetries(((s + 1) // 2).astype("float32"), np.arange(n), "binary"))
    assert floats.dtype == np.float32
    np.testing.assert_array_equal(floats, bits)


def test_tf_data_and_numpy_give_the_same_images_for_the_same_draws():
    import tensorflow as tf

    L = 5
    rng = np.random.default_rng(3)
    s = np.where(rng.random((64, L, L)) < 0.5, -1.0, 1.0).astype("float32")
    k = rng.integers(0, symmetry.group_size(L), 64).astype("int32")
    eager = np.asarray(symmetry.apply_symmetries(s, k))
    ds = tf.data.Dataset.from_tensor_slices((s, k)).batch(16).map(
        lambda x, e: symmetry.apply_symmetries(x, e)  # traced: graph mode
    )
    in_graph = np.concatenate([b.numpy() for b in ds])
    np.testing.assert_array_equal(in_graph, eager)


def test_state_images_are_the_group_acting_on_state_indices():
    L = 3
    images = symmetry.state_images(L)
    n = symmetry.group_size(L)
    assert images.shape == (n, 2**9)
    states = exact.all_configurations(L)  # state order
    k = np.repeat(np.arange(n), len(states))
    mapped = np.asarray(symmetry.apply_symmetries(np.tile(states, (n, 1, 1)), k))
    np.testing.assert_array_equal(images.ravel(), exact.state_index(mapped))
    # Each row permutes the states.
    np.testing.assert_array_equal(np.sort(images, axis=1), np.tile(np.arange(2**9), (n, 1)))
    with pytest.raises(ValueError, match="L <= 4.*Received: L=5"):
        symmetry.state_images(5)


def test_bad_input():
    s = np.ones((2, 4, 4), np.int8)
    with pytest.raises(ValueError, match=(
        "`elements` must be 2 ints in \\[0, 256\\). Received: shape=\\(2,\\).*values in \\[0, 256\\]"
    )):
        symmetry.apply_symmetries(s, [0, 256])
    with pytest.raises(ValueError, match="`elements` must be 2 ints.*Received: shape=\\(3,\\)"):
        symmetry.apply_symmetries(s, [0, 1, 2])
    with pytest.raises(ValueError, match="`x` must have shape \\(n, L, L\\).*Received: shape=\\(2, 16\\)"):
        symmetry.apply_symmetries(s.reshape(2, 16), [0, 1])
    with pytest.raises(ValueError, match="`encoding` must be one of.*Received: encoding='ising'"):
        symmetry.apply_symmetries(s, [0, 1], "ising")
    with pytest.raises(ValueError, match="`seed` must be None, an int in \\[0, 2\\*\\*63 - 2\\]"):
        symmetry.symmetry_augment(s, seed=-1)
