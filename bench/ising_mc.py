"""Ising Monte Carlo throughput: Metropolis spin-flip attempts/s and Wolff cluster flips/s.

    python bench/ising_mc.py                      # defaults below
    python bench/ising_mc.py --L 64 --replicas 4096 --sweeps 20 --threads 2

Metropolis: the checkerboard update of `keras_genmodels.physics`, multi-spin
coded (64 replicas per uint64 word; `backend="multispin"`), and the plain
NumPy engine (`backend="numpy"`: the general
`keras_genmodels.sampling.MetropolisHastings` sampler with the Ising ΔE and
the checkerboard groups), at T = T_c. An attempt is one
proposed single-spin flip: L^2 x replicas x sweeps per run.

Wolff: cluster flips per second (one flip = one cluster grown and flipped in
one replica) at T_c, and the spins they flip per second.

The load average is printed before and after: the machine is shared, and a
loaded machine gives lower numbers.
"""

import argparse
import os
import platform
import time

import numpy as np

from keras_genmodels.physics import lattice, multispin, wolff
from keras_genmodels.sampling import MetropolisHastings


def _load():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:  # pragma: no cover
        return "n/a"


def _random_spins(n, L, seed):
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=(n, L, L))


def bench_multispin(L, replicas, sweeps, threads, repeats):
    engine = multispin.MultispinMetropolis(
        L, lattice.T_C, _random_spins(replicas, L, 0), seed=0, n_threads=threads
    )
    engine.track_acceptance = False
    engine.sweep(2)  # warm-up: thread pool, caches
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        engine.sweep(sweeps)
        best = min(best, time.perf_counter() - t)
    engine.close()
    return L * L * replicas * sweeps / best


def bench_numpy(L, replicas, sweeps, repeats):
    mh = MetropolisHastings(
        lattice.energy_binary_flat(L),
        L * L,
        temperature=lattice.T_C,
        delta_energy_fn=lattice.delta_energy_binary_flat(L),
        site_groups=lattice.checkerboard_groups(L),
    )
    x = np.random.default_rng(0).integers(0, 2, (replicas, L * L), dtype=np.int8)
    rng = np.random.default_rng(1)
    mh.sweep(x, rng)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(sweeps):
            mh.sweep(x, rng)
        best = min(best, time.perf_counter() - t)
    return L * L * replicas * sweeps / best


def bench_wolff(L, replicas, steps, repeats):
    w = wolff.Wolff(L, lattice.T_C, _random_spins(replicas, L, 0), seed=0)
    w.step(50)  # equilibrate: clusters reach their T_c size
    best, spins = float("inf"), 0.0
    for _ in range(repeats):
        spins0 = w.n_flipped_spins
        t = time.perf_counter()
        w.step(steps)
        dt = time.perf_counter() - t
        if dt < best:
            best = dt
            spins = (w.n_flipped_spins - spins0) / dt
    return replicas * steps / best, spins, w.mean_cluster_size


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--L", type=int, default=64, help="Metropolis lattice size. Defaults to 64")
    parser.add_argument("--replicas", type=int, default=4096, help="Metropolis replicas. Defaults to 4096")
    parser.add_argument("--sweeps", type=int, default=20, help="sweeps per timed run. Defaults to 20")
    parser.add_argument("--threads", type=int, default=None, help="multispin threads. Defaults to the CPU count")
    parser.add_argument("--numpy-replicas", type=int, default=256, help="replicas of the NumPy engine. Defaults to 256")
    parser.add_argument("--wolff-L", type=int, default=32, help="Wolff lattice size. Defaults to 32")
    parser.add_argument("--wolff-replicas", type=int, default=256, help="Wolff replicas. Defaults to 256")
    parser.add_argument("--wolff-steps", type=int, default=20, help="cluster flips per replica per run. Defaults to 20")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best is reported. Defaults to 3")
    args = parser.parse_args(argv)

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"numpy {np.__version__}, load average before: {_load()}")
    rate = bench_multispin(args.L, args.replicas, args.sweeps, args.threads, args.repeats)
    threads = args.threads or min(os.cpu_count() or 1, -(-args.replicas // (64 * 16)))
    print(f"Metropolis multispin  L={args.L} replicas={args.replicas} threads={threads}: "
          f"{rate / 1e6:8.1f} million spin-flip attempts/s")
    rate1 = bench_multispin(args.L, args.replicas, args.sweeps, 1, args.repeats)
    print(f"Metropolis multispin  L={args.L} replicas={args.replicas} threads=1: "
          f"{rate1 / 1e6:8.1f} million spin-flip attempts/s")
    rate_np = bench_numpy(args.L, args.numpy_replicas, max(1, args.sweeps // 4), args.repeats)
    print(f"Metropolis numpy      L={args.L} replicas={args.numpy_replicas}: "
          f"{rate_np / 1e6:8.1f} million spin-flip attempts/s")
    flips, spins, size = bench_wolff(args.wolff_L, args.wolff_replicas, args.wolff_steps, args.repeats)
    print(f"Wolff                 L={args.wolff_L} replicas={args.wolff_replicas}: "
          f"{flips:10.0f} cluster flips/s ({spins / 1e6:.2f} million spins flipped/s, "
          f"mean cluster {size:.0f} spins)")
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
