"""The feature network of the image scores: a small classifier of Fashion-MNIST.

FID and KID are computed in the pool features of InceptionV3, trained on
ImageNet; those weights cannot be downloaded here, and a 299 x 299 colour
network is a poor judge of 28 x 28 grey-level images anyway. The library
therefore ships its own feature network, trained on the Fashion-MNIST
training split (the preset `feature_network_fashion_mnist`, see
`keras_genmodels.features.presets`): its penultimate layer gives the
features in which `image_quality` computes FD, KD and precision/recall.
Scores in these features compare models with each other, never with papers
that use InceptionV3.
"""

import keras
from keras import layers, ops

from keras_genmodels._validation import check_positive_int

# The largest width, class count or image side accepted (a bound, not a recommendation).
MAX_WIDTH = 1024


def _check_fraction(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be a float in [0, 1). Received: {name}={value!r}")
    return float(value)


@keras.saving.register_keras_serializable(package="keras_genmodels")
class FeatureNetwork(keras.Model):
    """A small convolutional classifier whose penultimate layer gives image features.

    For each width f of `filters`: Conv2D(f, 3×3, same) → BatchNorm → ReLU →
    MaxPool(2×2); then global average pooling, Dense(`feature_dim`) → BatchNorm
    → ReLU (the features φ(x) ∈ ℝ^feature_dim, ≥ 0) and, after dropout, a
    Dense(`num_classes`) layer of logits:

        logits(x) = W φ(x) + b,   p(y | x) = softmax(logits(x)).

    `call` returns the logits (train it with
    `SparseCategoricalCrossentropy(from_logits=True)`); `features` returns
    φ(x), the inputs of the last layer, as Inception's pool features are for
    FID. Images are grey levels in [0, 1], shape (n,) + `image_shape`.

    Args:
        filters: widths of the convolutional stages. Defaults to `(32, 64, 128)`.
        feature_dim: width of the feature layer. Defaults to `128`.
        num_classes: number of classes. Defaults to `10`.
        dropout: dropout rate before the logits, in [0, 1). Defaults to `0.3`.
        image_shape: `(height, width, channels)` of the images. Defaults to
            `(28, 28, 1)`.
        **kwargs: `keras.Model` arguments (`name`, ...).

    Call arguments:
        images: float tensor (n, height, width, channels) in [0, 1].
        training: whether batch normalisation and dropout run in training mode.

    Example:
    ```python
    network = FeatureNetwork()
    network.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=["accuracy"])
    network.fit(x_train, y_train, epochs=15, batch_size=128)
    phi = network.features(x_test[:100])   # (100, 128)
    ```

    References:
        - Heusel et al. 2017, arXiv 1706.08500 (FID: features of a classifier).
        - Xiao et al. 2017, arXiv 1708.07747 (Fashion-MNIST).
    """

    def __init__(self, filters=(32, 64, 128), feature_dim=128, num_classes=10, dropout=0.3,
                 image_shape=(28, 28, 1), **kwargs):
        super().__init__(**kwargs)
        if isinstance(filters, (str, bytes, dict)) or not hasattr(filters, "__iter__") or not len(filters):
            raise ValueError(
                f"`filters` must be a non-empty sequence of positive ints. Received: filters={filters!r}"
            )
        self.filters = tuple(check_positive_int("filters[i]", f, max_value=MAX_WIDTH) for f in filters)
        self.feature_dim = check_positive_int("feature_dim", feature_dim, max_value=MAX_WIDTH)
        self.num_classes = check_positive_int("num_classes", num_classes, max_value=MAX_WIDTH)
        self.dropout = _check_fraction("dropout", dropout)
        if isinstance(image_shape, (str, bytes, dict)) or not hasattr(image_shape, "__len__") or len(image_shape) != 3:
            raise ValueError(
                "`image_shape` must be (height, width, channels). "
                f"Received: image_shape={image_shape!r}"
            )
        self.image_shape = tuple(check_positive_int("image_shape[i]", d, max_value=MAX_WIDTH) for d in image_shape)
        smallest = 2 ** len(self.filters)  # each stage halves the height and the width
        if min(self.image_shape[:2]) < smallest:
            raise ValueError(
                f"`image_shape` must be at least {smallest} x {smallest} for {len(self.filters)} pooling "
                f"stages (`filters`={list(self.filters)}). Received: image_shape={self.image_shape}"
            )
        self.stages = []
        for i, f in enumerate(self.filters):
            self.stages += [
                layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"conv_{i}"),
                layers.BatchNormalization(name=f"conv_{i}_norm"),
                layers.ReLU(name=f"conv_{i}_relu"),
                layers.MaxPooling2D(2, name=f"pool_{i}"),
            ]
        self.pooling = layers.GlobalAveragePooling2D(name="global_pool")
        self.feature_dense = layers.Dense(self.feature_dim, use_bias=False, name="features")
        self.feature_norm = layers.BatchNormalization(name="features_norm")
        self.feature_relu = layers.ReLU(name="features_relu")
        self.head_dropout = layers.Dropout(self.dropout, name="dropout")
        self.classifier = layers.Dense(self.num_classes, name="logits")
        self.build((None,) + self.image_shape)

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.stages:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        shape = self.pooling.compute_output_shape(shape)
        self.feature_dense.build(shape)
        shape = self.feature_dense.compute_output_shape(shape)
        self.feature_norm.build(shape)
        self.classifier.build(shape)
        self.built = True

    def features(self, images, training=False):
        """φ(x): the penultimate layer's activations, (n, feature_dim), ≥ 0."""
        x = ops.convert_to_tensor(images, dtype=self.compute_dtype)
        for layer in self.stages:
            x = layer(x, training=training)
        x = self.feature_dense(self.pooling(x))
        return self.feature_relu(self.feature_norm(x, training=training))

    def call(self, images, training=False):
        """The logits, (n, num_classes)."""
        return self.classifier(self.head_dropout(self.features(images, training=training), training=training))

    def get_config(self):
        return {
            **super().get_config(),
            "filters": list(self.filters),
            "feature_dim": self.feature_dim,
            "num_classes": self.num_classes,
            "dropout": self.dropout,
            "image_shape": list(self.image_shape),
        }
