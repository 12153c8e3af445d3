"""The VAE family's registration: its models, command line, signatures and presets."""

from keras_genmodels import families

FAMILY = families.register(
    families.Family(
        name="vae",
        summary="Variational autoencoder (the keras.io convolutional VAE or the lecture's MLP VAE)",
        models=("keras_genmodels.vae.model:VAE",),
        cli="keras_genmodels.vae.cli",
        signatures="keras_genmodels.vae.export:signatures",
        presets="keras_genmodels.vae.presets",
        default_dataset="fashion_mnist",
    )
)
