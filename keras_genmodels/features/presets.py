"""The preset of the feature network, trained by `scripts/train_presets.py`.

    python scripts/train_presets.py feature_network_fashion_mnist

trains `FeatureNetwork` on the 60,000 images of the Fashion-MNIST training
split with the recipe below (fixed in advance; no selection on the test
split), and the card reports its accuracy on the 10,000 test images. The
card's check, recomputed from the committed file by `tests/test_presets.py`,
is the accuracy on the first `check_examples` test images.

Hooks of `keras_genmodels.preset_training` (see `keras_genmodels.families`):
`RECIPES`, `HEADLINE`, `train`, `compute_check`.
"""

import math
import time

import numpy as np

from keras_genmodels import preset_training as pt

RECIPES = {
    "feature_network_fashion_mnist": {
        "kind": "image",
        "description": (
            "Feature network of the image scores (FD, KD, precision/recall): a small CNN classifier "
            "of Fashion-MNIST whose 128-wide penultimate layer gives the features"
        ),
        "units": "fraction correct",
        "data": {
            "dataset": "fashion_mnist",
            "train_split": "train (60,000 images, all used for training)",
            "test_split": "test (10,000 images, only for the card)",
            "preprocessing": "x = pixel / 255 in [0, 1], no augmentation",
        },
        "model": {"filters": [32, 64, 128], "feature_dim": 128, "num_classes": 10, "dropout": 0.3},
        "train": {"epochs": 12, "batch_size": 128, "learning_rate": 2e-3, "lr_schedule": "cosine decay to 0",
                  "optimizer": "Adam", "loss": "softmax cross-entropy", "seed": 0,
                  "validation": ("the recipe, trained once on train[:50000] before this run, classified "
                                 "train[50000:] with accuracy 0.9266 after 12 epochs (training accuracy 0.979)")},
        "evaluate": {"check_examples": 2000},
    },
}

# The card's headline metric for each kind of check.
HEADLINE = {"test_accuracy": "test_accuracy"}


def accuracy(model, x, y, batch_size=500):
    """The fraction of `x` that `model` classifies as `y`, and its binomial standard error."""
    logits = np.concatenate([
        np.asarray(model(x[i:i + batch_size], training=False)) for i in range(0, len(x), batch_size)
    ])
    correct = (logits.argmax(axis=1) == y).astype("float64")
    p = float(correct.mean())
    return p, math.sqrt(p * (1.0 - p) / len(correct))


def _split(split, limit, local_dir):
    from keras_genmodels import datasets

    x = datasets.load_unit_images("fashion_mnist", split, limit=limit, local_dir=local_dir)
    y = datasets.load_arrays("fashion_mnist", split, local_dir=local_dir)[1][: len(x)].astype("int64")
    return x, y


def compute_check(model, check, local_dir=None):
    """Recompute the card's `check` of the feature network: `(value, stderr)`.

    Kind (`check["metric"]`): `test_accuracy`, the accuracy on the first `n`
    images of the test split (deterministic: the network in inference mode),
    with its binomial standard error sqrt(p (1 − p) / n).
    """
    if check["metric"] != "test_accuracy":
        raise ValueError(
            f"Unknown check metric of a feature network preset {check['metric']!r}. "
            f"Expected one of {sorted(HEADLINE)}."
        )
    x, y = _split(check["split"], check["n"], local_dir)
    return accuracy(model, x, y)


def train(r, local_dir, verbose):
    """Train and evaluate the feature network of recipe `r`: a `preset_training.Trained`."""
    import keras
    import tensorflow as tf

    from keras_genmodels._arrays import data_options
    from keras_genmodels.features.network import FeatureNetwork

    d, m, t = r["data"], r["model"], r["train"]
    x_train, y_train = _split("train", d.get("train_limit"), local_dir)
    x_test, y_test = _split("test", d.get("test_limit"), local_dir)
    keras.utils.set_random_seed(t["seed"])
    model = FeatureNetwork(filters=tuple(m["filters"]), feature_dim=m["feature_dim"],
                           num_classes=m["num_classes"], dropout=m["dropout"])
    steps = t["epochs"] * math.ceil(len(x_train) / t["batch_size"])
    schedule = keras.optimizers.schedules.CosineDecay(t["learning_rate"], steps, alpha=0.0)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    data = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train.astype("int32")))
        .shuffle(len(x_train), seed=t["seed"], reshuffle_each_iteration=True)
        .batch(t["batch_size"]).prefetch(2).with_options(data_options())
    )
    start = time.perf_counter()
    history = model.fit(data, epochs=t["epochs"], verbose=verbose, shuffle=False)  # the dataset shuffles
    seconds = time.perf_counter() - start
    model = pt.strip_optimizer(model)
    start = time.perf_counter()
    acc, se = accuracy(model, x_test, y_test)
    metrics = {"test_examples": len(x_test), "test_accuracy": acc, "test_accuracy_stderr": se,
               "test_error": 1.0 - acc, "feature_dim": m["feature_dim"]}
    check = {"metric": "test_accuracy", "split": "test", "n": min(r["evaluate"]["check_examples"], len(x_test)),
             "tolerance": 0.002}
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    return pt.Trained(model, seconds, hist, metrics, check, time.perf_counter() - start)
