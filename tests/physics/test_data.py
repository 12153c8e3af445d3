"""Ising data sets: reproducible generation, the disk cache, tf.data pipelines."""

import json
import os

import numpy as np
import pytest

from keras_genmodels.physics import data, lattice, sampler, symmetry

TEMPS = [1.8, 2.4, 3.2]


def test_generation_is_reproducible_and_cached(tmp_path, monkeypatch):
    a = data.generate(4, TEMPS, 200, seed=3, cache_dir=tmp_path)
    assert a.spins.shape == (600, 4, 4) and a.spins.dtype == np.int8
    np.testing.assert_array_equal(a.temperatures, np.repeat(np.float32(TEMPS), 200))
    assert os.path.dirname(a.path) == str(tmp_path) and os.path.exists(a.path)
    assert [i["temperature"] for i in a.info] == TEMPS
    assert all(i["thin"] >= 1 and i["burn_in"] >= 1 for i in a.info)

    # A second call reads the file: the sampler is not called again.
    def fail(*args, **kwargs):
        raise AssertionError("the cache was not used")

    monkeypatch.setattr(sampler, "sample_ising", fail)
    b = data.generate(4, TEMPS, 200, seed=3, cache_dir=tmp_path)
    np.testing.assert_array_equal(a.spins, b.spins)
    np.testing.assert_array_equal(a.temperatures, b.temperatures)
    assert json.dumps(b.info) == json.dumps(a.info)  # (NaN != NaN in a dict compare)
    monkeypatch.undo()

    # Without the cache, the same seed gives the same data; another seed does not.
    c = data.generate(4, TEMPS, 200, seed=3, use_cache=False)
    np.testing.assert_array_equal(a.spins, c.spins)
    d = data.generate(4, TEMPS, 200, seed=4, use_cache=False)
    assert not np.array_equal(a.spins, d.spins)


def test_each_temperature_has_its_own_seed():
    small = data.generate(4, [2.4], 100, seed=0, use_cache=False)
    large = data.generate(4, [1.8, 2.4, 3.2], 100, seed=0, use_cache=False)
    np.testing.assert_array_equal(small.spins, large.at(2.4))


def test_data_follow_their_temperature():
    d = data.generate(6, [1.5, 3.5], 400, seed=0, use_cache=False)
    m_cold = np.abs(d.at(1.5).mean(axis=(1, 2))).mean()
    m_hot = np.abs(d.at(3.5).mean(axis=(1, 2))).mean()
    assert m_cold > 0.95 and m_hot < 0.4


def test_corrupt_cache_file_is_regenerated(tmp_path):
    a = data.generate(4, [2.0], 50, seed=1, cache_dir=tmp_path)
    with open(a.path, "wb") as f:
        f.write(b"not an npz file")
    b = data.generate(4, [2.0], 50, seed=1, cache_dir=tmp_path)
    np.testing.assert_array_equal(a.spins, b.spins)


def test_tf_data_pipeline(tmp_path):
    ds = data.load(4, TEMPS, 100, seed=0, batch_size=32, cache_dir=tmp_path)
    x, t = next(iter(ds))
    assert x.shape == (32, 4, 4) and x.dtype.name == "float32" and t.dtype.name == "float32"
    assert set(np.unique(x.numpy())) <= {0.0, 1.0}
    assert set(np.unique(t.numpy())) <= set(np.float32(TEMPS))
    total = sum(int(b[0].shape[0]) for b in ds)
    assert total == 300

    spins = data.load(4, TEMPS, 100, encoding="spin", flatten=True, with_labels=False,
                      shuffle=False, batch_size=300, cache_dir=tmp_path)
    (x,) = [b.numpy() for b in spins]
    reference = data.generate(4, TEMPS, 100, seed=0, cache_dir=tmp_path).spins
    np.testing.assert_array_equal(x, reference.reshape(300, 16).astype(np.float32))


@pytest.mark.parametrize("encoding", ["binary", "spin"])
def test_augmentation_is_a_symmetry(tmp_path, encoding):
    ds = data.load(6, [2.3], 200, seed=0, encoding=encoding, augment=True, shuffle=False,
                   batch_size=200, cache_dir=tmp_path)
    x = next(iter(ds))[0].numpy().astype(np.int8)
    s = x if encoding == "spin" else 2 * x - 1
    original = data.generate(6, [2.3], 200, seed=0, cache_dir=tmp_path).spins
    # Energy and |M| of every configuration are unchanged ...
    np.testing.assert_array_equal(lattice.energy(s), lattice.energy(original))
    np.testing.assert_array_equal(np.abs(lattice.magnetization(s)), np.abs(lattice.magnetization(original)))
    # ... but the configurations themselves moved.
    assert np.mean(np.any(s != original, axis=(1, 2))) > 0.5


def test_augmentation_draws_every_group_element_uniformly(tmp_path):
    # The pipeline's draws: 600 epochs of the same 64 configurations, each
    # augmented image traced back to the one group element that made it.
    L, n = 4, 64
    original = data.generate(L, [10.0], n, seed=0, cache_dir=tmp_path).spins  # hot: few symmetric states
    ds = data.load(L, [10.0], n, seed=0, encoding="spin", augment=True, shuffle=False,
                   repeat=True, batch_size=n, with_labels=False, cache_dir=tmp_path)
    seen = np.stack([b.numpy().astype(np.int8) for b in ds.take(600)])  # (epochs, n, L, L)
    size = symmetry.group_size(L)
    counts = np.zeros(size, int)
    for i, s in enumerate(original):
        images = np.asarray(symmetry.apply_symmetries(np.repeat(s[None], size, 0), np.arange(size)))
        keys = [im.tobytes() for im in images]
        if len(set(keys)) < size:
            continue  # a configuration with a symmetry of its own: its element is ambiguous
        where = {key: k for k, key in enumerate(keys)}
        for image in seen[:, i]:
            counts[where[image.tobytes()]] += 1  # KeyError: an image outside the orbit
    mean = counts.sum() / size
    assert mean > 60  # 34 of the 64 configurations have a free orbit: mean 80
    assert counts.min() > 0.5 * mean and counts.max() < 1.5 * mean  # Poisson: ±9
    # Fresh draws each epoch: the first two epochs differ.
    assert np.mean(np.any(seen[0] != seen[1], axis=(1, 2))) > 0.9


def test_pipeline_runs_without_autotuning(tmp_path):
    # tf.data's autotuning model thread stalls the start of epochs on a CPU
    # (keras_genmodels._arrays): off, as in the package's other pipelines.
    for augment in (False, True):
        ds = data.load(4, [2.0], 10, augment=augment, batch_size=4, cache_dir=tmp_path)
        options = ds.options()
        assert options.autotune.enabled is False
        assert options.deterministic is True


def test_temperature_grid():
    grid = data.temperature_grid(11, 1.0, 3.5)
    assert grid.size == 11 and grid[0] == 1.0 and grid[-1] == 3.5
    assert np.any(np.isclose(grid, lattice.T_C))
    with pytest.raises(ValueError, match="t_max.*Received"):
        data.temperature_grid(5, 3.0, 2.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(L=4, temperatures=[2.0], n_per_temperature=0), "n_per_temperature.*Received: n_per_temperature=0"),
        (dict(L=4, temperatures=[2.0, 0.0], n_per_temperature=5), "temperatures.*Received values such as \\[0.0\\]"),
        (dict(L=4, temperatures=[], n_per_temperature=5), "non-empty"),
        (dict(L=1, temperatures=[2.0], n_per_temperature=5), "Received: L=1"),
        (dict(L=4, temperatures=[2.0], n_per_temperature=5, seed=-1), "seed.*Received: seed=-1"),
    ],
)
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.generate(use_cache=False, **kwargs)


def test_bad_pipeline_arguments(tmp_path):
    with pytest.raises(ValueError, match="encoding.*Received: encoding='ising'"):
        data.load(4, [2.0], 5, encoding="ising", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="batch_size.*Received: batch_size=0"):
        data.load(4, [2.0], 5, batch_size=0, cache_dir=tmp_path)


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    assert data.default_cache_dir() == os.path.join(str(tmp_path), "ising")
