"""The diffusion family's registration: its models (the command line, signatures and presets come later)."""

from keras_genmodels import families

FAMILY = families.register(
    families.Family(
        name="diffusion",
        summary="Denoising diffusion models (DDPM training; DDPM and DDIM sampling; the bound on log p(x))",
        models=("keras_genmodels.diffusion.model:DiffusionModel",),
        cli=None,
        signatures=None,
        presets=None,
    )
)
