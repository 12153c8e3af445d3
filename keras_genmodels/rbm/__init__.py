"""Restricted Boltzmann machines trained by CD-k / PCD-k, with exact and AIS likelihoods.

- `BernoulliRBM`: binary visible and hidden units.
- `GaussianBernoulliRBM`: real-valued visible units of variance sigma^2.
- `log_partition_exact`, `log_partition_ais`, `log_likelihood`: the
  partition function and the log-likelihood in nats (also model methods).
- `FreeEnergyGap`: the overfitting monitor added by `fit(validation_data=...)`.
- `TemperedBernoulliRBM`, `parallel_tempering_sample`: parallel tempering for
  the negative phase and for sampling (Desjardins et al. 2010).
- `fit_rbm_ising`, `fit_rbm_exact_likelihood`: RBMs trained on Ising
  configurations (CD-k with symmetry augmentation; exact likelihood, L <= 4).
- `keras_genmodels.rbm.plots`: filters, Gibbs chains and samples as PNGs.

The class `RestrictedBoltzmannMachine` is assembled from one module per part:
`energy` (energy, free energy, conditionals), `contrastive` (the CD/PCD step),
`chunked` (`fit` in compiled chunks), `eager` (the user methods); `partition`
holds log Z; `cli`, `export`, `presets` and `family` are what the family
registers (see `keras_genmodels.families`).
"""

from keras_genmodels.rbm.bernoulli_rbm import BernoulliRBM
from keras_genmodels.rbm.callbacks import FreeEnergyGap
from keras_genmodels.rbm.gaussian_bernoulli_rbm import GaussianBernoulliRBM
from keras_genmodels.rbm.ising import fit_rbm_exact_likelihood, fit_rbm_ising
from keras_genmodels.rbm.partition import (
    AISEstimate,
    auto_method,
    check_schedule,
    default_ais_schedule,
    log_likelihood,
    log_partition_ais,
    log_partition_exact,
)
from keras_genmodels.rbm.rbm_base import RestrictedBoltzmannMachine
from keras_genmodels.rbm.tempering import TemperedBernoulliRBM, parallel_tempering_sample

__all__ = [
    "AISEstimate",
    "BernoulliRBM",
    "FreeEnergyGap",
    "GaussianBernoulliRBM",
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
