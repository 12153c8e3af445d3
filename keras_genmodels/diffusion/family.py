"""The diffusion family's registration: its model, command line, signatures and presets."""

from keras_genmodels import families

FAMILY = families.register(
    families.Family(
        name="diffusion",
        summary="Denoising diffusion models (DDPM training; DDPM and DDIM sampling; the bound on log p(x))",
        models=("keras_genmodels.diffusion.model:DiffusionModel",),
        cli="keras_genmodels.diffusion.cli",
        signatures="keras_genmodels.diffusion.export:signatures",
        presets="keras_genmodels.diffusion.presets",
        default_dataset="fashion_mnist",
    )
)
