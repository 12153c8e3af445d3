"""Scores of generated 28 x 28 grey-level images: FD, KD, precision and recall.

`image_features` maps images to the penultimate layer of the library's
feature network (`FeatureNetwork`, the preset `feature_network_fashion_mnist`
by default: a small classifier trained on the Fashion-MNIST training split,
see docs/quality.md), and `image_quality` compares the features of
generated images with those of a reference (a named split such as
`"fashion_mnist:test"`, or an array of images):

- FD, the Fréchet distance of the Gaussians fitted to the two sets of
  features (`distances.frechet_distance`; FID when the features are
  InceptionV3's);
- KD, the unbiased MMD² with the cubic kernel, mean ± std over random
  subsets (`distances.kernel_distance`; KID with InceptionV3's features);
- precision (fidelity) and recall (coverage) of k-NN manifolds
  (`distances.precision_recall`).

These scores compare models with each other, in this library's features:
they are not comparable with FID or KID figures of papers, which use
InceptionV3's features on 299 x 299 colour images.

The default network is loaded once per process, and the features of a named
reference are computed once per process (per network and reference).
"""

import time
import weakref

import numpy as np

from keras_genmodels import _validation as v
from keras_genmodels._validation import check_array, check_positive_int, check_seed
from keras_genmodels.metrics import distances

DEFAULT_NETWORK = "feature_network_fashion_mnist"
IMAGE_SHAPE = (28, 28, 1)
# Fewer images than this give no meaningful score (and FD's covariances need a few).
MIN_SAMPLES = 10
REFERENCE_SPLITS = ("train", "test")

_NETWORKS = {}  # preset name -> FeatureNetwork, loaded once per process
_FEATURE_FUNCTIONS = weakref.WeakKeyDictionary()  # network -> its compiled `features`
_REFERENCE_FEATURES = {}  # (id(network), reference, local_dir) -> features of its first images


def check_images(name, images):
    """`images` as float32 (n, 28, 28, 1) grey levels in [0, 1].

    Accepts (n, 28, 28, 1), (n, 28, 28) or (n, 784) arrays of finite values
    in [0, 1] (bool and integer arrays of 0/1 too).

    Raises:
        ValueError: naming the shapes and range expected and what was received.
    """
    arr = check_array(name, images)
    n = arr.shape[0] if arr.ndim else 0
    if arr.shape[1:] in ((28, 28, 1), (28, 28), (784,)):
        arr = arr.reshape((n,) + IMAGE_SHAPE)
    else:
        raise ValueError(
            f"`{name}` must be 28 x 28 grey-level images of shape (n, 28, 28, 1), (n, 28, 28) "
            f"or (n, 784). Received: shape={arr.shape}"
        )
    lo, hi = arr.min(), arr.max()
    if lo < 0 or hi > 1:
        raise ValueError(
            f"`{name}` must be grey levels in [0, 1]. Received values in [{lo}, {hi}]."
            + (" Pixels in 0..255 must be divided by 255 first." if hi > 1 else "")
        )
    return arr.astype(np.float32, copy=False)


def feature_network(network=None):
    """The feature network: `network` itself, or the preset of that name, loaded once per process.

    Args:
        network: `None` (the preset `DEFAULT_NETWORK`), a preset name, or a
            model with a `features(images)` method (e.g. a `FeatureNetwork`).
    """
    if network is None:
        network = DEFAULT_NETWORK
    if isinstance(network, str):
        if network not in _NETWORKS:
            from keras_genmodels.presets import load_pretrained

            _NETWORKS[network] = load_pretrained(network)
        return _NETWORKS[network]
    if not callable(getattr(network, "features", None)):
        raise ValueError(  # noqa: TRY004  (the package raises ValueError for every bad argument)
            "`network` must be None, a preset name or a model with a `features(images)` method "
            f"(a FeatureNetwork). Received: {type(network).__name__}"
        )
    return network


def network_name(network):
    """How a result names its features: the preset's name, else the network's."""
    for name, loaded in _NETWORKS.items():
        if loaded is network:
            return name
    return getattr(network, "name", type(network).__name__)


def _features_function(network):
    fn = _FEATURE_FUNCTIONS.get(network)
    if fn is None:
        from keras_genmodels.sampling.backend import compile_function

        # XLA is slower here on a CPU (2 cores, 20,000 images: ~11-15 s against ~9 s).
        fn = compile_function(lambda x: network.features(x, training=False), jit_compile=False)
        _FEATURE_FUNCTIONS[network] = fn
    return fn


def image_features(images, network=None, batch_size=500):
    """φ(x) of each image: the feature network's penultimate layer, float32 (n, d).

    Args:
        images: grey levels in [0, 1], shape (n, 28, 28, 1), (n, 28, 28) or (n, 784).
        network: `None` (the preset `feature_network_fashion_mnist`, loaded
            once per process), a preset name, or a `FeatureNetwork`.
            Defaults to `None`.
        batch_size: images per compiled call (the last batch is padded, so
            that one trace serves all). Defaults to `500`.

    Returns:
        NumPy float32 array (n, d), d = 128 for the default network.

    Example:
    ```python
    phi = image_features(vae.sample(1000, seed=0))   # (1000, 128)
    ```
    """
    x = check_images("images", images)
    batch_size = check_positive_int("batch_size", batch_size)
    network = feature_network(network)
    fn = _features_function(network)
    out = []
    for start in range(0, x.shape[0], batch_size):
        batch = x[start:start + batch_size]
        rows = batch.shape[0]
        if rows < batch_size and x.shape[0] > batch_size:
            batch = np.concatenate([batch, np.zeros((batch_size - rows,) + batch.shape[1:], batch.dtype)])
        out.append(np.asarray(fn(batch))[:rows])
    return np.concatenate(out).astype(np.float32, copy=False)


def parse_reference(reference):
    """`(dataset, split)` of a reference named "dataset:split"; a `ValueError` lists the valid names."""
    from keras_genmodels.datasets import DATASETS

    valid = [f"{d}:{s}" for d in DATASETS for s in REFERENCE_SPLITS]
    if not isinstance(reference, str) or reference.count(":") != 1:
        raise ValueError(
            f"`reference` must be an array of images or a split named 'dataset:split', one of "
            f"{valid}. Received: reference={reference!r}"
        )
    dataset, split = reference.split(":")
    if dataset not in DATASETS or split not in REFERENCE_SPLITS:
        raise ValueError(f"Unknown reference {reference!r}. Expected one of {valid}, or an array of images.")
    return dataset, split


def reference_features(reference="fashion_mnist:test", n=10000, network=None, local_dir=None, batch_size=500):
    """The features of the first `n` images of a named split, computed once per process.

    Args:
        reference: "dataset:split", e.g. "fashion_mnist:test" or "mnist:test".
            Defaults to "fashion_mnist:test".
        n: the number of images (fewer if the split is smaller). Defaults to `10000`.
        network: as in `image_features`. Defaults to `None`.
        local_dir: folder of the data set's IDX files (see
            `datasets.load_arrays`). Defaults to `None`.
        batch_size: as in `image_features`. Defaults to `500`.

    Returns:
        NumPy float32 array (min(n, split size), d). Do not modify it: it is the cached copy.
    """
    from keras_genmodels import datasets

    dataset, split = parse_reference(reference)
    n = check_positive_int("n", n)
    network = feature_network(network)
    key = (id(network), reference, local_dir)
    cached = _REFERENCE_FEATURES.get(key)
    if cached is None or (cached[0] is not network) or (cached[1].shape[0] < n and not cached[2]):
        images = datasets.load_unit_images(dataset, split, local_dir=local_dir)
        complete = n >= images.shape[0]
        phi = image_features(images[:n], network, batch_size=batch_size)
        phi.setflags(write=False)
        cached = (network, phi, complete)
        _REFERENCE_FEATURES[key] = cached
    return cached[1][:n]


def clear_caches():
    """Forget the loaded preset networks and the reference features of this process."""
    _NETWORKS.clear()
    _REFERENCE_FEATURES.clear()
    _FEATURE_FUNCTIONS.clear()


def image_quality(
    images,
    reference="fashion_mnist:test",
    n=10000,
    *,
    network=None,
    kd_subsets=100,
    kd_subset_size=1000,
    k=3,
    with_precision_recall=True,
    seed=0,
    local_dir=None,
    batch_size=500,
):
    """FD, KD, precision and recall of generated images against reference images.

    Both sets are mapped to the feature network's penultimate layer φ
    (`image_features`), and with m = min(n, len(images), len(reference))
    images of each (the first m):

        FD = ‖μ_g − μ_r‖² + tr(Σ_g + Σ_r − 2 (Σ_g Σ_r)^{1/2})

    (`distances.frechet_distance`), KD = the unbiased MMD² with
    k(x, y) = (xᵀy / d + 1)³, mean ± std over `kd_subsets` random subsets of
    min(kd_subset_size, m // 2) features of each set (`distances.kernel_distance`;
    subsets of at most half the samples, so that they differ), and the k-NN
    precision (the fraction of generated images inside the reference
    manifold) and recall (the fraction of reference images inside the
    generated manifold; `distances.precision_recall`).

    FD and KD are 0 for identical distributions and grow as the generated
    images move away from the reference; both are biased by the sample
    size, so compare scores at the same m, reference and network. They are
    not FID or KID: the features are the library's own network's, trained on
    Fashion-MNIST, not InceptionV3's (docs/quality.md).

    Args:
        images: generated grey levels in [0, 1], (n, 28, 28, 1), (n, 28, 28)
            or (n, 784), at least `MIN_SAMPLES`.
        reference: a split named "dataset:split" ("fashion_mnist:test",
            "fashion_mnist:train", "mnist:test", ...; its features are cached
            per process) or an array of images like `images`. Defaults to
            "fashion_mnist:test".
        n: the most images of each set to use. Defaults to `10000`.
        network: `None` (the preset `feature_network_fashion_mnist`), a
            preset name, or a `FeatureNetwork`. Defaults to `None`.
        kd_subsets: number of KD subsets. Defaults to `100`.
        kd_subset_size: the most features of each set per KD subset.
            Defaults to `1000`.
        k: the neighbour of the precision/recall radii. Defaults to `3`.
        with_precision_recall: whether to compute precision and recall (the
            slowest part for 10,000 images). Defaults to `True`.
        seed: int >= 0, the seed of the KD subsets. Defaults to `0`.
        local_dir: folder of the reference data set's IDX files. Defaults to `None`.
        batch_size: images per compiled call of the network. Defaults to `500`.

    Returns:
        A dict: "fd", "kd_mean", "kd_std", "precision", "recall" (floats;
        precision and recall `None` without `with_precision_recall`), and how
        they were computed: "n_samples", "n_reference", "reference" (its name,
        or "array"), "features" (the network's preset name), "feature_dim",
        "kd_subsets", "kd_subset_size", "k", "seconds".

    Raises:
        ValueError: images of another shape, outside [0, 1] or not finite;
            an unknown reference; fewer than `MIN_SAMPLES` images in either set.

    Example:
    ```python
    q = image_quality(vae.sample(10000, seed=0))   # against the Fashion-MNIST test split
    q["fd"], q["kd_mean"], q["kd_std"], q["precision"], q["recall"]
    ```

    References:
        - Heusel et al. 2017, arXiv 1706.08500 (FID).
        - Bińkowski et al. 2018, arXiv 1801.01401 (KID).
        - Kynkäänniemi et al. 2019, arXiv 1904.06991 (precision and recall).
    """
    start = time.perf_counter()
    x = check_images("images", images)
    n = check_positive_int("n", n)
    kd_subsets = check_positive_int("kd_subsets", kd_subsets)
    kd_subset_size = check_positive_int("kd_subset_size", kd_subset_size)
    k = check_positive_int("k", k)
    seed = check_seed("seed", seed, allow_none=False, non_negative=True)
    v.check_bool("with_precision_recall", with_precision_recall)
    min_samples = max(MIN_SAMPLES, k + 1)
    if isinstance(reference, str):
        parse_reference(reference)
    else:
        reference_images = check_images("reference", reference)
    net = feature_network(network)
    m = min(n, x.shape[0])
    if isinstance(reference, str):
        phi_r = reference_features(reference, m, net, local_dir=local_dir, batch_size=batch_size)
        reference_name = reference
    else:
        phi_r = image_features(reference_images[:m], net, batch_size=batch_size)
        reference_name = "array"
    m = min(m, phi_r.shape[0])
    if m < min_samples:
        raise ValueError(
            f"image_quality needs at least {min_samples} images in each set. Received: "
            f"{x.shape[0]} image(s), {phi_r.shape[0]} reference image(s) and n={n}."
        )
    phi_g = image_features(x[:m], net, batch_size=batch_size)
    phi_r = phi_r[:m]
    subset_size = min(kd_subset_size, m // 2)
    kd = distances.kernel_distance(phi_g, phi_r, subsets=kd_subsets, subset_size=subset_size, seed=seed)
    result = {
        "fd": distances.frechet_distance(phi_g, phi_r),
        "kd_mean": kd.mean,
        "kd_std": kd.std,
        "precision": None,
        "recall": None,
    }
    if with_precision_recall:
        pr = distances.precision_recall(phi_r, phi_g, k=k)
        result.update(precision=pr.precision, recall=pr.recall)
    result.update(
        n_samples=m, n_reference=m, reference=reference_name, features=network_name(net),
        feature_dim=int(phi_g.shape[1]), kd_subsets=kd_subsets, kd_subset_size=subset_size, k=k,
        seconds=time.perf_counter() - start,
    )
    return result


def format_quality(q):
    """One line of `image_quality`'s result, for people."""
    pr = (f", precision {q['precision']:.3f}, recall {q['recall']:.3f} (k={q['k']})"
          if q.get("precision") is not None else "")
    return (
        f"FD {q['fd']:.4g}, KD {q['kd_mean']:.4g} ± {q['kd_std']:.2g}{pr}: {q['n_samples']:,} samples "
        f"against {q['n_reference']:,} images of {q['reference']}, in the features of {q['features']} "
        f"(d={q['feature_dim']}; not InceptionV3's: for comparing models here, not with papers)"
    )
