"""The feature networks of the image scores, registered for the preset machinery.

Not a generative family: no command line (`keras-genmodels train` lists no
"features"), no TF Serving signatures; registered so that
`scripts/train_presets.py feature_network_fashion_mnist` trains, cards and
ships the network like every other preset, and `load_pretrained` loads it.
"""

from keras_genmodels import families

FAMILY = families.register(
    families.Family(
        name="features",
        summary="Feature networks of the image scores (FD, KD, precision/recall); no command line",
        models=("keras_genmodels.features.network:FeatureNetwork",),
        presets="keras_genmodels.features.presets",
    )
)
