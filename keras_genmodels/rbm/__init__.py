"""Restricted Boltzmann machines trained by CD-k / PCD-k, with exact and AIS likelihoods.

- `BernoulliRBM`: binary visible and hidden units.
- `GaussianBernoulliRBM`: real-valued visible units of variance sigma^2.
- `log_partition_exact`, `log_partition_ais`, `log_likelihood`: the
  partition function and the log-likelihood in nats (also model methods).
- `FreeEnergyGap`: the overfitting monitor added by `fit(validation_data=...)`.
- `TemperedBernoulliRBM`, `parallel_tempering_sample`: parallel tempering for
  the negative phase and for sampling (Desjardins et al. 2010).
- `keras_genmodels.rbm.plots`: filters, Gibbs chains and samples as PNGs.
"""

from keras_genmodels.rbm.bernoulli_rbm import BernoulliRBM
from keras_genmodels.rbm.callbacks import FreeEnergyGap
from keras_genmodels.rbm.gaussian_bernoulli_rbm import GaussianBernoulliRBM
from keras_genmodels.rbm.ising import fit_rbm_exact_likelihood, fit_rbm_ising
from keras_genmodels.rbm.partition import (
    AISEstimate,
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
    "check_schedule",
    "default_ais_schedule",
    "log_likelihood",
    "log_partition_ais",
    "log_partition_exact",
    "parallel_tempering_sample",
]
