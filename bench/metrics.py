"""Time of the sample-quality metrics on random features: FD, KD and precision/recall.

    python bench/metrics.py                                   # 10,000 x 10,000, width 128
    OPENBLAS_NUM_THREADS=1 python bench/metrics.py --n 5000

Two sets of Gaussian features (the second scaled by 1.1 and shifted by 0.05);
KD with `--subsets` subsets of `--subset-size`, precision/recall with k = 3.
The load average is printed before and after: the machine is shared, and a
loaded machine gives lower numbers. On an oversubscribed machine a single
BLAS thread (OPENBLAS_NUM_THREADS=1) can be several times faster.
"""

import argparse
import os
import resource
import time

import numpy as np

from keras_genmodels.metrics.distances import (
    frechet_distance,
    kernel_distance,
    precision_recall,
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000, help="samples in each set")
    parser.add_argument("--width", type=int, default=128, help="features per sample")
    parser.add_argument("--subsets", type=int, default=100)
    parser.add_argument("--subset-size", type=int, default=1000)
    args = parser.parse_args(argv)
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    rng = np.random.default_rng(0)
    a = rng.normal(size=(args.n, args.width)).astype(np.float32)
    b = (rng.normal(size=(args.n, args.width)) * 1.1 + 0.05).astype(np.float32)
    runs = [
        ("FD", lambda: frechet_distance(a, b)),
        (
            f"KD {args.subsets} x {args.subset_size}",
            lambda: kernel_distance(a, b, subsets=args.subsets, subset_size=args.subset_size),
        ),
        ("precision/recall k=3", lambda: precision_recall(a, b)),
    ]
    total = 0.0
    for name, run in runs:
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
        total += seconds
        print(f"{name}: {seconds:.1f} s  {result!r}", flush=True)
    print(f"total {total:.1f} s, peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
