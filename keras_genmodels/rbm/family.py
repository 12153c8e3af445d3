"""The RBM family's registration: its models, command line, signatures and presets."""

from keras_genmodels import families

FAMILY = families.register(
    families.Family(
        name="rbm",
        summary="Restricted Boltzmann machine (binary or Gaussian visible units) trained by CD-k or PCD-k; deep belief networks and deep Boltzmann machines built on it",
        models=(
            "keras_genmodels.rbm.rbm_base:RestrictedBoltzmannMachine",
            "keras_genmodels.rbm.bernoulli_rbm:BernoulliRBM",
            "keras_genmodels.rbm.gaussian_bernoulli_rbm:GaussianBernoulliRBM",
            "keras_genmodels.rbm.tempering:TemperedBernoulliRBM",
            "keras_genmodels.rbm.deep_belief:DeepBeliefNetwork",
            "keras_genmodels.rbm.deep_boltzmann:DeepBoltzmannMachine",
        ),
        cli="keras_genmodels.rbm.cli",
        signatures="keras_genmodels.rbm.export:signatures",
        presets="keras_genmodels.rbm.presets",
        default_dataset="fashion_mnist",
    )
)
