"""Feature networks: the networks in whose features the image scores are computed.

- `FeatureNetwork`: a small convolutional classifier of 28 x 28 grey-level
  images; `features(images)` gives its penultimate layer (128 wide), `call`
  its logits. The preset `feature_network_fashion_mnist` (trained on the
  Fashion-MNIST training split; its card gives the test accuracy) is the
  default network of `keras_genmodels.metrics.image_quality`.

A family of the registry without a command line or signatures
(`features/family.py`): it is registered so that the preset machinery
(`scripts/train_presets.py`, `load_pretrained`) trains, cards and ships the
network like every other preset. The scores themselves are in
`keras_genmodels.metrics`.
"""

from keras_genmodels._lazy import lazy_attributes

__all__ = ["FeatureNetwork"]

__getattr__, __dir__ = lazy_attributes(__name__, {"FeatureNetwork": "network"})
