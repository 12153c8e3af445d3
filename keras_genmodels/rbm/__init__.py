"""Restricted Boltzmann machines trained by CD-k / PCD-k, with exact and AIS likelihoods.

- `BernoulliRBM`: binary visible and hidden units.
- `GaussianBernoulliRBM`: real-valued visible units of variance sigma^2.
- `log_partition_exact`, `log_partition_ais`, `log_likelihood`: the
  partition function and the log-likelihood in nats (also model methods).
- `FreeEnergyGap`: the overfitting monitor added by `fit(validation_data=...)`.
- `DeepBeliefNetwork`: BernoulliRBMs stacked, trained greedily (and by
  up-down), with the variational bound on log p(v) of Salakhutdinov &
  Murray (2008) (`rbm.deep_belief`, `rbm.deep_belief_bound`, `rbm.wake_sleep`).
- `DeepBoltzmannMachine`: two hidden layers, mean-field and PCD training,
  log Z by AIS on its bipartite RBM view and the mean-field bound
  (Salakhutdinov & Hinton 2009) (`rbm.deep_boltzmann`, `rbm.deep_boltzmann_likelihood`, `rbm.deep_boltzmann_init`).
- `LikelihoodBound`: the bounds' mean, error bar and per-example values
  (`rbm.bounds`).
- `TemperedBernoulliRBM`, `parallel_tempering_sample`: parallel tempering for
  the negative phase and for sampling (Desjardins et al. 2010).
- `fit_rbm_ising`, `fit_rbm_exact_likelihood`: RBMs trained on Ising
  configurations (CD-k with symmetry augmentation; exact likelihood, L <= 4).
- `keras_genmodels.rbm.plots`: filters, Gibbs chains and samples (a PNG, or a Figure shown inline).

The class `RestrictedBoltzmannMachine` is assembled from one module per part:
`energy` (energy, free energy, conditionals), `contrastive` (the CD/PCD step),
`chunked` (`fit` in compiled chunks), `eager` (the user methods); `partition`
holds log Z; `cli`, `export`, `presets` and `family` are what the family
registers (see `keras_genmodels.families`).

The names are imported when first used (`keras_genmodels._lazy`), so that the
command line reads the family's flags without importing TensorFlow.
"""

from keras_genmodels._lazy import lazy_attributes

__all__ = [
    "AISEstimate",
    "BernoulliRBM",
    "DeepBeliefNetwork",
    "DeepBoltzmannMachine",
    "FreeEnergyGap",
    "GaussianBernoulliRBM",
    "LikelihoodBound",
    "RestrictedBoltzmannMachine",
    "TemperedBernoulliRBM",
    "auto_method",
    "check_schedule",
    "default_ais_schedule",
    "fit_rbm_exact_likelihood",
    "fit_rbm_ising",
    "log_likelihood",
    "log_partition_ais",
    "log_partition_exact",
    "parallel_tempering_sample",
]

__getattr__, __dir__ = lazy_attributes(__name__, {
    "AISEstimate": "partition",
    "BernoulliRBM": "bernoulli_rbm",
    "DeepBeliefNetwork": "deep_belief",
    "DeepBoltzmannMachine": "deep_boltzmann",
    "FreeEnergyGap": "callbacks",
    "GaussianBernoulliRBM": "gaussian_bernoulli_rbm",
    "LikelihoodBound": "bounds",
    "RestrictedBoltzmannMachine": "rbm_base",
    "TemperedBernoulliRBM": "tempering",
    "auto_method": "partition",
    "check_schedule": "partition",
    "default_ais_schedule": "partition",
    "fit_rbm_exact_likelihood": "ising",
    "fit_rbm_ising": "ising",
    "log_likelihood": "partition",
    "log_partition_ais": "partition",
    "log_partition_exact": "partition",
    "parallel_tempering_sample": "tempering",
})
