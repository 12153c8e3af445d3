"""Time of the sample-quality metrics: on random features, and on images with the feature network.

    python bench/metrics.py                                   # both parts, 10,000 x 10,000, width 128
    python bench/metrics.py --part images                     # the image scores only
    OPENBLAS_NUM_THREADS=1 python bench/metrics.py --n 5000

Part "random": two sets of Gaussian features (the second scaled by 1.1 and
shifted by 0.05); KD with `--subsets` subsets of `--subset-size`,
precision/recall with k = 3.

Part "images": what `image_quality` does for `--n` generated images against
the first `--n` images of the Fashion-MNIST test split, from cold (the
feature network loaded and the reference's features not yet cached): the
features of both sets with the preset `feature_network_fashion_mnist`, FD,
KD, and then precision/recall. The generated images are samples of the
preset `vae_fashion_mnist_keras_io` (drawn before the clock starts). The
line "features + FD + KD" is the figure of docs/quality.md; the last line
times `image_quality` itself (precision/recall included) once the network
and the test split's features are cached, as in a second call in a process.

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


def _timed(name, run):
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    print(f"{name}: {seconds:.1f} s  {result!r}"[:160], flush=True)
    return result, seconds


def images_part(args):
    """Features of n + n images with the preset, FD and KD (then precision/recall), from cold."""
    import keras_genmodels
    from keras_genmodels import datasets
    from keras_genmodels.metrics import images

    vae = keras_genmodels.load_pretrained("vae_fashion_mnist_keras_io")
    generated = np.clip(np.asarray(vae.sample(args.n, seed=0)), 0.0, 1.0)
    test = datasets.load_unit_images("fashion_mnist", "test", limit=args.n)
    images.clear_caches()
    print(f"images: {len(generated):,} samples of vae_fashion_mnist_keras_io against {len(test):,} "
          "Fashion-MNIST test images", flush=True)
    network, t_load = _timed("load the feature network", images.feature_network)
    phi_r, t_ref = _timed("features of the test images", lambda: images.image_features(test, network))
    phi_g, t_gen = _timed("features of the samples", lambda: images.image_features(generated, network))
    _, t_fd = _timed("FD", lambda: frechet_distance(phi_g, phi_r))
    _, t_kd = _timed(f"KD {args.subsets} x {args.subset_size}",
                     lambda: kernel_distance(phi_g, phi_r, subsets=args.subsets, subset_size=args.subset_size))
    core = t_load + t_ref + t_gen + t_fd + t_kd
    print(f"features + FD + KD of {args.n:,} + {args.n:,} images: {core:.1f} s "
          f"(network loading {t_load:.1f} s included)", flush=True)
    _, t_pr = _timed("precision/recall k=3", lambda: precision_recall(phi_r, phi_g))
    print(f"with precision/recall: {core + t_pr:.1f} s", flush=True)
    # The API, once the network and the test split's features are cached in the process.
    _timed("image_quality(samples) again, the reference's features cached",
           lambda: images.image_quality(generated, "fashion_mnist:test", n=args.n, kd_subsets=args.subsets,
                                        kd_subset_size=args.subset_size))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("random", "images", "all"), default="all")
    parser.add_argument("--n", type=int, default=10000, help="samples in each set")
    parser.add_argument("--width", type=int, default=128, help="features per sample (random part)")
    parser.add_argument("--subsets", type=int, default=100)
    parser.add_argument("--subset-size", type=int, default=1000)
    args = parser.parse_args(argv)
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if args.part in ("random", "all"):
        random_part(args)
    if args.part in ("images", "all"):
        images_part(args)
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


def random_part(args):
    """FD, KD and precision/recall of two sets of random features."""
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
    print(f"random features: total {total:.1f} s")


if __name__ == "__main__":
    main()
