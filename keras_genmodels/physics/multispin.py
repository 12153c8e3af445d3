"""Checkerboard Metropolis for the 2D Ising model with multi-spin coding.

64 independent replicas share one uint64 word per site: bit r of the word of
site i is the 0/1 value b = (s + 1) / 2 of site i in replica 64 w + r. The
lattice (L even) is stored as its two checkerboard colours, each of shape
(L, L/2, n_words): `black[i, k]` is site (i, 2k + i % 2) and `white[i, k]` is
site (i, 2k + 1 - i % 2). A black site's four neighbours are the white sites

    white[i - 1, k], white[i + 1, k], white[i, k], white[i, k - 1 + 2 (i % 2)]

and a white site's are black[i ± 1, k], black[i, k], black[i, k + 1 - 2 (i % 2)]
(indices modulo L and L/2), so one colour is updated at once, 64 replicas
per bitwise operation.

The Metropolis decision for flipping s_i, whose four neighbours hold a of the
opposite sign (x_k = s_i XOR s_k, a = x_1 + x_2 + x_3 + x_4):

    ΔE = 2 s_i h_i = 8 - 4a;  accept if a >= 2 (ΔE <= 0),
    with probability p_4 = exp(-4/T) if a = 1, p_8 = exp(-8/T) if a = 0.

`a >= 2`, `a = 1` and `a = 0` are bitwise formulas in x_1..x_4. The random
part compares, bit by bit, a uniform u = 0.r_1 r_2 ... (r_j random words,
most significant digit first) with the threshold t = p_4 or p_8 whose binary
digits are known: u < t is decided at the first digit j where r_j differs
from t_j. Digits are drawn 8 at a time for all words, then only for the
words that still hold an undecided bit, up to 64 digits, so the acceptance
probabilities are exact to 2^-64 at an average of ~9 random words per word
update (p written as floor(p 2^64) / 2^64).

Each shard of up to `words_per_shard` words has its own random generator
(SFC64, seeded from one `SeedSequence`), so the result depends on the seed
only, not on the number of threads that run the shards.
"""

import concurrent.futures
import math
import os

import numpy as np

from keras_genmodels._validation import check_positive_int
from keras_genmodels.physics import lattice

_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_DIGITS = 64
_FIRST_CHUNK = 8


def _threshold_digits(p):
    """Binary digits (MSB first) of floor(p 2^64), as 64 bools."""
    n = min(int(math.ldexp(p, _DIGITS)), 2**_DIGITS - 1)
    return [(n >> (_DIGITS - 1 - j)) & 1 for j in range(_DIGITS)]


def _random_words(rng, shape):
    return rng.integers(0, _ALL, size=shape, dtype=np.uint64, endpoint=True)


def _compare_digits(und, less, a0, a1, words, d4, d8, start):
    """Process threshold digits start.. with random words `words` (chunk, ...).

    For each bit still undecided, u < t is settled at the first digit where
    r_j != t_j: u < t iff t_j = 1 (and r_j = 0). t_j is d4[j] on bits with
    a = 1 and d8[j] on bits with a = 0.
    """
    for j in range(words.shape[0]):
        r = words[j]
        t4, t8 = d4[start + j], d8[start + j]
        if t4 and t8:  # t_j = 1 on every undecided bit
            less |= und & ~r
            und &= r
        elif not t4 and not t8:  # t_j = 0: stays undecided iff r_j = 0
            und &= ~r
        else:
            t = a1 if t4 else a0
            less |= und & t & ~r
            und &= ~(r ^ t)


class _Shard:
    """A block of words (64 replicas each) with its own random generator."""

    def __init__(self, black, white, seed_seq):
        self.black = black
        self.white = white
        self.rng = np.random.Generator(np.random.SFC64(seed_seq))
        self.accepted = 0
        shape = black.shape
        self._n = [np.empty(shape, np.uint64) for _ in range(3)]

    def _neighbours(self, src, side_even, side_odd):
        """(up, down, side) neighbour words of the other colour `src`."""
        up, down, side = self._n
        up[1:] = src[:-1]
        up[0] = src[-1]
        down[:-1] = src[1:]
        down[-1] = src[0]
        for rows, shift in ((slice(0, None, 2), side_even), (slice(1, None, 2), side_odd)):
            side[rows] = np.roll(src[rows], shift, axis=1)
        return up, down, side

    def _half_sweep(self, target, src, side_even, side_odd, d4, d8, count):
        up, down, side = self._neighbours(src, side_even, side_odd)
        # x_k = 1 where neighbour k is anti-aligned with the target spin.
        x1 = target ^ up
        x2 = target ^ down
        x3 = target ^ src
        x4 = target ^ side
        ge2 = (x1 & x2) | (x3 & x4) | ((x1 ^ x2) & (x3 ^ x4))  # a >= 2: ΔE <= 0
        a0 = ~(x1 | x2 | x3 | x4)  # a = 0: ΔE = +8
        a1 = ~(ge2 | a0)  # a = 1: ΔE = +4
        und = ~ge2  # bits that need the random comparison
        less = np.zeros_like(target)
        words = _random_words(self.rng, (_FIRST_CHUNK,) + target.shape)
        _compare_digits(und, less, a0, a1, words, d4, d8, 0)
        # Continue on the few words that still hold an undecided bit.
        flat_und = und.reshape(-1)
        idx = np.flatnonzero(flat_und)
        start = _FIRST_CHUNK
        if idx.size:
            und_s = flat_und[idx]
            less_s = less.reshape(-1)[idx]
            a0_s, a1_s = a0.reshape(-1)[idx], a1.reshape(-1)[idx]
            while idx.size and start < _DIGITS:
                chunk = min(_FIRST_CHUNK, _DIGITS - start)
                words = _random_words(self.rng, (chunk, idx.size))
                _compare_digits(und_s, less_s, a0_s, a1_s, words, d4, d8, start)
                start += chunk
                less.reshape(-1)[idx] = less_s
                keep = und_s != 0
                idx, und_s, less_s = idx[keep], und_s[keep], less_s[keep]
                a0_s, a1_s = a0_s[keep], a1_s[keep]
        flip = ge2 | less
        target ^= flip
        if count:
            self.accepted += int(np.bitwise_count(flip).sum())

    def sweep(self, n, d4, d8, count):
        for _ in range(n):
            # Black site (i, k): side neighbour white[i, k-1] (even i), [i, k+1] (odd i).
            self._half_sweep(self.black, self.white, 1, -1, d4, d8, count)
            # White site (i, k): side neighbour black[i, k+1] (even i), [i, k-1] (odd i).
            self._half_sweep(self.white, self.black, -1, 1, d4, d8, count)


def pack(spins):
    """(R, L, L) ±1 spins -> (black, white), each (L, L/2, ceil(R/64)) uint64.

    Replicas beyond R (up to a multiple of 64) are filled with copies of
    replica 0 and ignored by `unpack`.
    """
    spins = np.asarray(spins)
    R, L, _ = spins.shape
    pad = (-R) % 64
    if pad:
        spins = np.concatenate([spins, np.repeat(spins[:1], pad, axis=0)])
    bits = (spins > 0).astype(np.uint8)  # b = (s + 1) / 2
    rows = np.arange(L)[:, None]
    k = np.arange(L // 2)[None, :]
    out = []
    for offset in (rows % 2, 1 - rows % 2):  # black, white columns
        sub = bits[:, rows, 2 * k + offset]  # (R_pad, L, L/2)
        packed = np.packbits(np.moveaxis(sub, 0, -1), axis=-1, bitorder="little")
        out.append(np.ascontiguousarray(packed).view(np.uint64))
    return out[0], out[1]


def unpack(black, white, n_replicas):
    """Inverse of `pack`: (n_replicas, L, L) int8 ±1 spins."""
    L = black.shape[0]
    spins = np.empty((n_replicas, L, L), np.int8)
    rows = np.arange(L)[:, None]
    k = np.arange(L // 2)[None, :]
    for words, offset in ((black, rows % 2), (white, 1 - rows % 2)):
        bits = np.unpackbits(
            np.ascontiguousarray(words).view(np.uint8), axis=-1, bitorder="little"
        )[..., :n_replicas]  # (L, L/2, R)
        spins[:, rows, 2 * k + offset] = 2 * np.moveaxis(bits, -1, 0).astype(np.int8) - 1
    return spins


class MultispinMetropolis:
    """Checkerboard Metropolis on R replicas, 64 per uint64 word (see module doc).

    Args:
        L: even lattice size >= 2.
        temperature: T > 0.
        n_replicas: number of independent replicas R.
        spins: initial (R, L, L) ±1 spins.
        seed: int, `None` or a `np.random.SeedSequence`.
        n_threads: threads that run the shards. Defaults to `None`:
            min(os.cpu_count(), number of shards).
        words_per_shard: words per shard (64 replicas each). Defaults to `16`.
    """

    def __init__(
        self, L, temperature, spins, seed=None, n_threads=None, words_per_shard=16
    ):
        self.L = lattice.check_lattice_size(L, even=True)
        self.temperature = lattice.check_temperature(temperature)
        spins = lattice.check_configurations(spins, L=self.L, name="spins")
        words_per_shard = check_positive_int("words_per_shard", words_per_shard)
        if n_threads is not None:
            n_threads = check_positive_int("n_threads", n_threads)
        self.n_replicas = spins.shape[0]
        beta = 1.0 / self.temperature
        self._d4 = _threshold_digits(math.exp(-4.0 * beta))
        self._d8 = _threshold_digits(math.exp(-8.0 * beta))
        black, white = pack(spins)
        n_words = black.shape[-1]
        bounds = list(range(0, n_words, words_per_shard)) + [n_words]
        seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        children = seq.spawn(len(bounds) - 1)
        self.shards = [
            _Shard(
                np.ascontiguousarray(black[..., a:b]),
                np.ascontiguousarray(white[..., a:b]),
                child,
            )
            for (a, b), child in zip(zip(bounds[:-1], bounds[1:]), children)
        ]
        if n_threads is None:
            n_threads = min(os.cpu_count() or 1, len(self.shards))
        self.n_threads = max(1, min(int(n_threads), len(self.shards)))
        self._pool = None
        self.track_acceptance = True
        self.proposed = 0

    def _map(self, fn):
        if self.n_threads == 1:
            for shard in self.shards:
                fn(shard)
            return
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(self.n_threads)
        list(self._pool.map(fn, self.shards))

    def sweep(self, n=1):
        """`n` sweeps: every site of every replica is proposed once per sweep."""
        d4, d8, count = self._d4, self._d8, self.track_acceptance
        self._map(lambda shard: shard.sweep(n, d4, d8, count))
        if count:
            self.proposed += n * self.L * self.L * 64 * sum(
                s.black.shape[-1] for s in self.shards
            )

    @property
    def acceptance_rate(self):
        accepted = sum(s.accepted for s in self.shards)
        return accepted / self.proposed if self.proposed else float("nan")

    def spins(self, n=None):
        """The first `n` (default all R) replicas as (n, L, L) int8 ±1 spins."""
        n = self.n_replicas if n is None else min(n, self.n_replicas)
        parts, left = [], n
        for shard in self.shards:
            if left <= 0:
                break
            take = min(left, 64 * shard.black.shape[-1])
            parts.append(unpack(shard.black, shard.white, take))
            left -= take
        return np.concatenate(parts)

    def close(self):
        if getattr(self, "_pool", None) is not None:  # None also when __init__ failed
            self._pool.shutdown()
            self._pool = None

    def __del__(self):
        self.close()
