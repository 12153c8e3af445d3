"""Ising configurations on a grid of temperatures, cached on disk, as `tf.data`.

`generate` draws `n_per_temperature` configurations at each temperature with
`sampler.sample_ising`; temperature T gets its own seed, derived from
(`seed`, L, T), so a grid that adds temperatures reproduces the old ones.
The result is cached in `cache_dir` as one `.npz` file whose name hashes
everything that determines it (format version, L, the temperatures, n, seed,
method); it is written to a temporary file and renamed, so an interrupted run
never leaves half a file. Configurations are stored bit-packed (1 bit/spin).

`load` turns the cached arrays into a batched `tf.data.Dataset` of
`(configurations, temperatures)` like `keras_genmodels.datasets.load` does
for images: float32 configurations of shape (batch, L, L) (or
(batch, L * L) with `flatten=True`), in the encoding asked for
(`"binary"`: b = (s + 1) / 2 in {0, 1}, for Bernoulli models; `"spin"`: ±1),
and float32 temperature labels.

With `augment=True` each example is mapped, anew each epoch, by a uniformly
random element of the symmetry group of the Ising Hamiltonian
(`symmetry`: a periodic translation, one of the 8 rotations/reflections of
the square, and the global spin flip s -> -s); these leave E(s) and |M(s)|,
hence the Boltzmann distribution, unchanged. The pipeline runs with tf.data's
autotuning off (`keras_genmodels._arrays.data_options`): in-memory arrays need
no tuning, and its model thread stalls the start of epochs on a CPU.

Cache folder: the `cache_dir` argument, else `$KERAS_GENMODELS_DATA_DIR/ising`,
else `$XDG_CACHE_HOME/keras_genmodels/ising` (`~/.cache/...`).
"""

import dataclasses
import hashlib
import json
import os
import zipfile
import zlib

import numpy as np

from keras_genmodels._arrays import data_options
from keras_genmodels._files import atomic_path
from keras_genmodels._validation import check_choice, check_positive_int, check_seed
from keras_genmodels.physics import lattice, sampler, symmetry

FORMAT_VERSION = 1
ENV_VAR = "KERAS_GENMODELS_DATA_DIR"


def default_cache_dir():
    """The default cache folder (see the module docstring)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return os.path.join(env, "ising")
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "keras_genmodels", "ising")


def temperature_grid(n=16, t_min=1.0, t_max=3.5, include_tc=True):
    """`n` evenly spaced temperatures in [t_min, t_max], plus T_c if asked.

    Returns a sorted float64 array (T_c replaces its nearest grid point).
    """
    n = check_positive_int("n", n)
    lo = lattice.check_temperature(t_min, "t_min")
    hi = lattice.check_temperature(t_max, "t_max")
    if hi < lo:
        raise ValueError(
            f"`t_max` must be >= `t_min`. Received: t_min={t_min}, t_max={t_max}"
        )
    grid = np.linspace(lo, hi, n)
    if include_tc and lo <= lattice.T_C <= hi:
        grid[np.argmin(np.abs(grid - lattice.T_C))] = lattice.T_C
    return np.unique(grid)


@dataclasses.dataclass
class IsingData:
    """Configurations at several temperatures.

    Attributes:
        spins: int8 (n_T * n, L, L) ±1, grouped by temperature (in the order
            of `temperature_values`), chain-major within a temperature.
        temperatures: float32 (n_T * n,), the label of each configuration.
        temperature_values: float64 (n_T,), the grid.
        info: one dict per temperature: method, backend, tau, burn_in, thin,
            n_replicas, acceptance_rate, seconds.
        path: the cache file, or `None`.
    """

    spins: np.ndarray
    temperatures: np.ndarray
    temperature_values: np.ndarray
    info: list
    path: str = None

    @property
    def L(self):
        return self.spins.shape[1]

    def binary(self):
        return ((self.spins + 1) // 2).astype(np.int8)

    def at(self, temperature):
        """Configurations at the grid temperature closest to `temperature`."""
        t = self.temperature_values[np.argmin(np.abs(self.temperature_values - temperature))]
        return self.spins[self.temperatures == np.float32(t)]


def _cache_key(L, temperatures, n, seed, method):
    payload = json.dumps(
        {
            "version": FORMAT_VERSION,
            "L": L,
            "temperatures": [repr(float(t)) for t in temperatures],
            "n": n,
            "seed": seed,
            "method": method,
        },
        sort_keys=True,
    )
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


def _temperature_seed(seed, L, T):
    return np.random.SeedSequence([int(seed), int(L), int(round(T * 1e6))])


def _atomic_savez(path, **arrays):
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def generate(
    L,
    temperatures,
    n_per_temperature,
    *,
    seed=0,
    method="auto",
    cache_dir=None,
    use_cache=True,
    verbose=False,
):
    """Configurations of the L x L Ising model at each temperature, cached.

    Args:
        L: lattice size >= 2.
        temperatures: the grid, a sequence of T > 0.
        n_per_temperature: int >= 1, configurations per temperature.
        seed: int in [0, 2**63 - 2]. Defaults to `0`.
        method: `sample_ising`'s method. Defaults to "auto".
        cache_dir: cache folder. Defaults to `None` (`default_cache_dir()`).
        use_cache: read and write the cache. Defaults to `True`.
        verbose: print one line per temperature. Defaults to `False`.

    Returns:
        `IsingData`.
    """
    L = lattice.check_lattice_size(L)
    temps = lattice.check_temperatures(temperatures)
    n = lattice.check_n_samples(n_per_temperature, "n_per_temperature")
    seed = check_seed("seed", seed, allow_none=False, non_negative=True)
    check_choice("method", method, sampler.METHODS)
    path = None
    if use_cache:
        folder = os.fspath(cache_dir) if cache_dir is not None else default_cache_dir()
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise ValueError(
                f"`cache_dir` must be a folder. Received: cache_dir={folder!r}, which is a file."
            )
        path = os.path.join(folder, f"ising_L{L}_n{n}_{_cache_key(L, temps, n, seed, method)}.npz")
        if os.path.exists(path):
            try:
                return _read(path, L)
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as e:
                # A corrupt or truncated cache file: regenerate it.
                if verbose:
                    print(f"Regenerating unreadable cache file {path}: {e}")
    spins, info = [], []
    for T in temps:
        r = sampler.sample_ising(L, T, n, method=method, seed=_temperature_seed(seed, L, T))
        spins.append(r.spins)
        info.append(
            {
                "temperature": float(T),
                "method": r.method,
                "backend": r.backend,
                "tau": r.info.tau,
                "tau_samples": r.info.tau_samples,
                "burn_in": r.info.burn_in,
                "thin": r.info.thin,
                "reliable": r.info.reliable,
                "n_replicas": r.n_replicas,
                "acceptance_rate": r.acceptance_rate,
                "mean_cluster_size": r.mean_cluster_size,
                "seconds": r.info.seconds,
            }
        )
        if verbose:
            print(r.summary())
    spins = np.concatenate(spins)
    labels = np.repeat(temps.astype(np.float32), n)
    data = IsingData(spins, labels, temps, info, path)
    if path is not None:
        _atomic_savez(
            path,
            bits=np.packbits((spins > 0).reshape(spins.shape[0], -1), axis=1),
            temperatures=labels,
            temperature_values=temps,
            info=np.array(json.dumps(info)),
        )
    return data


def _read(path, L):
    with np.load(path, allow_pickle=False) as f:
        bits = np.unpackbits(f["bits"], axis=1)[:, : L * L]
        spins = (2 * bits.astype(np.int8) - 1).reshape(-1, L, L)
        labels = f["temperatures"]
        values = f["temperature_values"]
        info = json.loads(str(f["info"]))
    if labels.shape[0] != spins.shape[0]:
        raise ValueError(f"Inconsistent cache file {path}")
    return IsingData(spins, labels, values, info, path)


def load(
    L,
    temperatures,
    n_per_temperature,
    *,
    seed=0,
    method="auto",
    encoding="binary",
    flatten=False,
    batch_size=128,
    shuffle=True,
    with_labels=True,
    augment=False,
    repeat=False,
    drop_remainder=False,
    cache_dir=None,
    use_cache=True,
):
    """Ising configurations as a batched `tf.data.Dataset`.

    Pipeline: `generate` (or the cache) -> float32 in the chosen encoding ->
    shuffle (full buffer, anew each epoch) -> repeat -> batch -> a random
    symmetry per example if `augment` -> prefetch, autotuning off
    (`data_options`).

    Args:
        L, temperatures, n_per_temperature, seed, method, cache_dir,
            use_cache: as in `generate`.
        encoding: "binary" (0/1) or "spin" (±1). Defaults to "binary".
        flatten: yield (batch, L*L) instead of (batch, L, L). Defaults to False.
        batch_size: int >= 1. Defaults to `128`.
        shuffle: shuffle anew every epoch. Defaults to `True`.
        with_labels: yield `(x, T)` pairs rather than x. Defaults to `True`.
        augment: apply a uniformly random element of the symmetry group
            (`symmetry.apply_symmetries`) per example per epoch. Defaults to
            `False`.
        repeat: repeat forever. Defaults to `False`.
        drop_remainder: drop the last smaller batch. Defaults to `False`.

    Returns:
        A `tf.data.Dataset`.

    Example:
    ```python
    ds = load(8, temperature_grid(8), 1000, batch_size=256)
    for x, t in ds.take(1):
        print(x.shape, t[:4])  # (256, 8, 8) [...]
    ```
    """
    import tensorflow as tf

    check_choice("encoding", encoding, lattice.ENCODINGS)
    batch_size = check_positive_int("batch_size", batch_size)
    data = generate(
        L,
        temperatures,
        n_per_temperature,
        seed=seed,
        method=method,
        cache_dir=cache_dir,
        use_cache=use_cache,
    )
    x = data.spins.astype(np.float32)
    if encoding == "binary":
        x = (x + 1.0) / 2.0
    ds = tf.data.Dataset.from_tensor_slices((x, data.temperatures))
    if shuffle:
        ds = ds.shuffle(x.shape[0], seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if augment:
        # One stateless seed pair per batch, fresh each epoch, reproducible.
        seeds = tf.data.Dataset.random(
            seed=(seed + 2) % 2**63, rerandomize_each_iteration=True
        ).batch(2)
        n_elements = symmetry.group_size(data.L)

        def augment_batch(xt, pair):
            x, t = xt
            k = tf.random.stateless_uniform(
                tf.shape(x)[:1], seed=pair, minval=0, maxval=n_elements, dtype=tf.int32
            )  # one group element per example, uniform on [0, 16 L^2)
            return symmetry.apply_symmetries(x, k, encoding), t

        ds = tf.data.Dataset.zip(ds, seeds).map(
            augment_batch, num_parallel_calls=2, deterministic=True
        )
    if flatten:
        n_sites = data.L * data.L
        ds = ds.map(lambda a, t: (tf.reshape(a, (-1, n_sites)), t))
    if not with_labels:
        ds = ds.map(lambda a, t: a)
    return ds.prefetch(2).with_options(data_options())
