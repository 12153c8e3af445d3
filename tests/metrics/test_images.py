"""The image scores: the feature network preset, its features, and FD/KD/precision/recall of images.

The statistics use a few thousand images and few KD subsets, so that each test
takes seconds; the features of the Fashion-MNIST test split are computed once
(per process, as `image_quality` caches them).
"""

import numpy as np
import pytest

from keras_genmodels import presets
from keras_genmodels.features import FeatureNetwork
from keras_genmodels.metrics import images
from keras_genmodels.metrics.distances import frechet_distance, kernel_distance

PRESET = images.DEFAULT_NETWORK
N = 2000  # images per set
QUICK = {"kd_subsets": 10, "n": N}


@pytest.fixture(scope="module")
def fmnist_test(fashion_mnist_arrays):
    return fashion_mnist_arrays["test"][0]


@pytest.fixture(scope="module")
def fmnist_labels(fashion_mnist_arrays):
    return fashion_mnist_arrays["test"][1]


@pytest.fixture(scope="module")
def network():
    return images.feature_network()


# ---------------------------------------------------------------------------
# The preset


def test_the_preset_is_a_feature_network_with_its_card(network):
    assert isinstance(network, FeatureNetwork)
    assert images.feature_network() is network  # loaded once per process
    card = presets.preset_card(PRESET)
    assert card["family"] == "features" and card["class"] == "FeatureNetwork"
    assert card["metrics"]["test_accuracy"] >= 0.92 and card["metrics"]["test_examples"] == 10000
    assert card["data"]["dataset"] == "fashion_mnist" and card["command"] == f"python scripts/train_presets.py {PRESET}"
    assert card["metrics"]["feature_dim"] == network.feature_dim == 128
    entry = presets.read_manifest()[PRESET]
    assert entry["bytes"] < 1_000_000


def test_the_preset_reproduces_its_test_accuracy_on_a_subset(network, fmnist_test, fmnist_labels):
    from keras_genmodels.features.presets import accuracy

    card = presets.preset_card(PRESET)
    value, stderr = accuracy(network, fmnist_test[:1000], fmnist_labels[:1000])
    # 1,000 of the 10,000 images: within 4 standard errors of the card's accuracy on all of them.
    assert abs(value - card["metrics"]["test_accuracy"]) <= 4 * stderr
    assert value >= 0.9


def test_a_small_feature_network_learns_to_classify(fashion_mnist_arrays, fmnist_test, fmnist_labels):
    import keras

    x, y = fashion_mnist_arrays["train"]
    keras.utils.set_random_seed(0)
    net = FeatureNetwork(filters=(8, 16), feature_dim=16)
    net.compile(optimizer=keras.optimizers.Adam(1e-2),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def batch_statistics_accuracy():
        # The logits from the features with the test batch's own normalisation statistics (no
        # dropout): after 160 steps BatchNormalization's moving averages (momentum 0.99) are still
        # far from the data's, so inference mode would test the averages, not the learning.
        logits = np.asarray(net.classifier(net.features(fmnist_test[:1000], training=True)))
        return float(np.mean(logits.argmax(axis=1) == fmnist_labels[:1000]))

    before = batch_statistics_accuracy()
    net.fit(x[:4000], y[:4000], epochs=2, batch_size=50, verbose=0)
    after = batch_statistics_accuracy()
    assert before < 0.3 and after > 0.6, (before, after)  # chance: 0.1
    assert images.image_features(fmnist_test[:5], network=net).shape == (5, 16)


def test_features_are_the_penultimate_layer_in_every_input_shape(network, fmnist_test):
    x = fmnist_test[:37]
    phi = images.image_features(x, batch_size=16)  # two full batches and a padded one
    assert phi.shape == (37, 128) and phi.dtype == np.float32 and np.all(phi >= 0)
    np.testing.assert_allclose(phi, np.asarray(network.features(x)), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(images.image_features(x.reshape(37, 784), batch_size=16), phi)
    np.testing.assert_array_equal(images.image_features(x[..., 0], batch_size=16), phi)
    # The logits are the last layer of the features.
    logits = np.asarray(network(x))
    np.testing.assert_allclose(logits, phi @ np.asarray(network.classifier.kernel)
                               + np.asarray(network.classifier.bias), rtol=1e-4, atol=1e-4)


def test_reference_features_are_cached_per_process(fmnist_test):
    first = images.reference_features("fashion_mnist:test", 300)
    again = images.reference_features("fashion_mnist:test", 200)
    assert np.shares_memory(first, again) and again.shape == (200, 128)
    assert not first.flags.writeable
    np.testing.assert_allclose(first, images.image_features(fmnist_test[:300]), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------
# The scores behave


def _noisy(x, sigma, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(x + sigma * rng.standard_normal(x.shape).astype(np.float32), 0.0, 1.0)


def _blurred(x, passes=1):
    """A 3 x 3 box blur, `passes` times (edges replicated)."""
    for _ in range(passes):
        p = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
        x = sum(p[:, i:i + 28, j:j + 28] for i in range(3) for j in range(3)) / 9.0
    return x


@pytest.fixture(scope="module")
def scores(fmnist_test):
    """image_quality of the second half of the test split (clean, noisy, blurred) against the first."""
    held_out = fmnist_test[5000:5000 + N]
    out = {"clean": images.image_quality(held_out, **QUICK)}
    for sigma in (0.05, 0.1, 0.2):
        out[f"noise {sigma}"] = images.image_quality(_noisy(held_out, sigma), **QUICK)
    out["blur"] = images.image_quality(_blurred(held_out), **QUICK)
    return out


def test_disjoint_halves_of_the_test_split_are_close(fmnist_test):
    phi = images.image_features(fmnist_test)
    a, b = phi[:5000], phi[5000:]
    fd = frechet_distance(a, b)
    noisy = frechet_distance(a, images.image_features(_noisy(fmnist_test[5000:], 0.1)))
    assert fd < 0.1 * noisy
    kd = kernel_distance(a, b, subsets=10)
    assert abs(kd.mean) < 3 * kd.std + 1e-3


def test_scores_rise_with_noise_and_blur(scores):
    clean = scores["clean"]
    assert clean["n_samples"] == clean["n_reference"] == N and clean["reference"] == "fashion_mnist:test"
    assert clean["features"] == PRESET and clean["feature_dim"] == 128
    assert clean["kd_subset_size"] == 1000 and clean["kd_subsets"] == 10
    fds = [scores[k]["fd"] for k in ("clean", "noise 0.05", "noise 0.1", "noise 0.2")]
    kds = [scores[k]["kd_mean"] for k in ("clean", "noise 0.05", "noise 0.1", "noise 0.2")]
    assert fds == sorted(fds) and kds == sorted(kds), (fds, kds)
    assert fds[2] > 10 * fds[0] and kds[2] > 10 * max(kds[0], clean["kd_std"])
    assert scores["blur"]["fd"] > 5 * fds[0] and scores["blur"]["kd_mean"] > 5 * max(kds[0], clean["kd_std"])
    # Real images lie in each other's manifolds; heavy noise leaves the real one.
    assert clean["precision"] > 0.6 and clean["recall"] > 0.6
    assert scores["noise 0.2"]["precision"] < clean["precision"]


def test_an_array_reference_gives_the_scores_of_the_named_split(fmnist_test, scores):
    held_out = fmnist_test[5000:5000 + N]
    q = images.image_quality(held_out, reference=fmnist_test[:N], **QUICK)
    assert q["reference"] == "array"
    for key in ("fd", "kd_mean", "kd_std", "precision", "recall"):
        assert q[key] == pytest.approx(scores["clean"][key], rel=1e-4, abs=1e-6), key


def test_sample_sizes_and_options(fmnist_test):
    q = images.image_quality(fmnist_test[:100], n=60, kd_subsets=3, with_precision_recall=False)
    assert q["n_samples"] == q["n_reference"] == 60 and q["kd_subset_size"] == 30
    assert q["precision"] is None and q["recall"] is None and q["kd_subsets"] == 3
    text = images.format_quality(q)
    assert "not InceptionV3's" in text and "60 samples" in text


# ---------------------------------------------------------------------------
# Bad input: one table


IMAGES = np.random.default_rng(0).random((40, 28, 28, 1)).astype(np.float32)
WITH_NAN = IMAGES.copy()
WITH_NAN[1, 2, 3, 0] = np.nan

BAD = {
    "3-D rows": (lambda: images.image_quality(IMAGES[:, :27, :27, 0]),
                 (r"`images` must be 28 x 28 grey-level images of shape \(n, 28, 28, 1\), \(n, 28, 28\) or "
                  r"\(n, 784\)\. Received: shape=\(40, 27, 27\)")),
    "one image": (lambda: images.image_quality(IMAGES[0]),
                  r"`images` must be 28 x 28 .* Received: shape=\(28, 28, 1\)"),
    "colour": (lambda: images.image_features(np.repeat(IMAGES, 3, axis=-1)),
               r"Received: shape=\(40, 28, 28, 3\)"),
    "0..255": (lambda: images.image_quality(IMAGES * 255),
               r"`images` must be grey levels in \[0, 1\]\. Received values in .* divided by 255"),
    "negative": (lambda: images.image_quality(IMAGES - 0.5), r"grey levels in \[0, 1\]\. Received values in \[-0\.4"),
    "NaN": (lambda: images.image_quality(WITH_NAN), r"`images` must contain only finite values\. Received 1 NaN/Inf"),
    "strings": (lambda: images.image_quality(np.array([["a"]])), r"`images` must be a numeric array"),
    "unknown reference": (lambda: images.image_quality(IMAGES, reference="cifar10:test"),
                          (r"Unknown reference 'cifar10:test'\. Expected one of \['mnist:train', 'mnist:test', "
                           r"'fashion_mnist:train', 'fashion_mnist:test'\]")),
    "reference without split": (lambda: images.image_quality(IMAGES, reference="fashion_mnist"),
                                (r"`reference` must be an array of images or a split named 'dataset:split'.*"
                                 r"Received: reference='fashion_mnist'")),
    "reference split": (lambda: images.image_quality(IMAGES, reference="fashion_mnist:validation"),
                        r"Unknown reference 'fashion_mnist:validation'"),
    "reference shape": (lambda: images.image_quality(IMAGES, reference=IMAGES[:, :14]),
                        r"`reference` must be 28 x 28 .* Received: shape=\(40, 14, 28, 1\)"),
    "too few images": (lambda: images.image_quality(IMAGES[:9], reference=IMAGES),
                       r"needs at least 10 images in each set\. Received: 9 image\(s\), 9 reference"),
    "too few reference": (lambda: images.image_quality(IMAGES, reference=IMAGES[:5]),
                          r"needs at least 10 images in each set\. Received: 40 image\(s\), 5 reference"),
    "n": (lambda: images.image_quality(IMAGES, n=0), r"`n` must be a positive int\. Received: n=0"),
    "kd_subsets": (lambda: images.image_quality(IMAGES, kd_subsets=0), r"`kd_subsets` must be a positive int"),
    "k": (lambda: images.image_quality(IMAGES, k=1.5), r"`k` must be a positive int\. Received: k=1\.5"),
    "seed": (lambda: images.image_quality(IMAGES, seed=-1), r"`seed` must be .*Received: seed=-1"),
    "with_precision_recall": (lambda: images.image_quality(IMAGES, with_precision_recall="yes"),
                              r"`with_precision_recall` must be a bool\. Received: with_precision_recall='yes'"),
    "batch_size": (lambda: images.image_features(IMAGES, batch_size=0), r"`batch_size` must be a positive int"),
    "network name": (lambda: images.image_features(IMAGES, network="nope"), r"Unknown preset 'nope'\. Available"),
    "network object": (lambda: images.image_features(IMAGES, network=object()),
                       r"`network` must be None, a preset name or a model with a `features\(images\)` method"),
    "FeatureNetwork filters": (lambda: FeatureNetwork(filters=()), r"`filters` must be a non-empty sequence"),
    "FeatureNetwork dropout": (lambda: FeatureNetwork(dropout=1.0), r"`dropout` must be a float in \[0, 1\)"),
    "FeatureNetwork image_shape": (lambda: FeatureNetwork(image_shape=(28, 28)),
                                   (r"`image_shape` must be \(height, width, channels\)\. Received: "
                                    r"image_shape=\(28, 28\)")),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_with_a_clear_message(case):
    call, message = BAD[case]
    with pytest.raises(ValueError, match=message):
        call()
