"""The energy-based family's registration: its model, command line, signatures and presets."""

from keras_genmodels import families

FAMILY = families.register(
    families.Family(
        name="ebm",
        summary="Deep energy-based model p(x) ∝ exp(-E(x)) trained with Langevin chains (Foster ch. 7)",
        models=("keras_genmodels.ebm.model:EnergyBasedModel",),
        cli="keras_genmodels.ebm.cli",
        signatures="keras_genmodels.ebm.export:signatures",
        presets="keras_genmodels.ebm.presets",
        default_dataset="fashion_mnist",
    )
)
