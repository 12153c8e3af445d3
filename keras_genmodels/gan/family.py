"""The GAN family's registration: its models, command line, signatures and presets."""

from keras_genmodels import families

FAMILY = families.register(
    families.Family(
        name="gan",
        summary="Generative adversarial networks: WGAN-GP (keras-io's recipe) and DCGAN, on images or Ising spins",
        models=("keras_genmodels.gan.model:DCGAN", "keras_genmodels.gan.model:WGANGP"),
        cli="keras_genmodels.gan.cli",
        signatures="keras_genmodels.gan.export:signatures",
        presets="keras_genmodels.gan.presets",
        default_dataset="fashion_mnist",
    )
)
