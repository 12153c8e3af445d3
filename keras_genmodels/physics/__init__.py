"""The 2D Ising model: Monte Carlo data, exact thermodynamics, and models that learn it.

- `lattice`: E(s) = -sum_<ij> s_i s_j on the L x L torus, M(s), ΔE = 2 s_i h_i,
  the spin/bit map b = (s + 1) / 2, validation. `T_C = 2 / ln(1 + sqrt 2)`.
- `exact`: enumeration of the 2^(L*L) states for L <= 4: log Z, p(s),
  <E>, c, <|m|>, chi, Binder cumulant at any T; Kaufman's closed-form log Z.
- `symmetry`: the symmetry group of E (translations x D4 x global flip), as
  one table of site permutations; random symmetries for data augmentation.
- `sampler.sample_ising`: checkerboard Metropolis (multi-spin coded, or the
  general `keras_genmodels.sampling.MetropolisHastings` in NumPy) and Wolff
  clusters, run by `sampling.run_chains`, reporting τ, burn-in, thinning.
- `observables.estimate_observables`: energy, <|m|>, c, chi, U_4 ± jackknife errors.
- `data`: configurations on a temperature grid, seeded, cached, as `tf.data`.
- `analysis`: the analysis of generative models: exact KL and thermodynamics
  of RBMs on L <= 4, the (symmetrised) empirical distribution, the KL
  estimate for any L, model samples and their observables, the VAE's latent
  vs m and loss vs T. (Training RBMs on Ising data: `keras_genmodels.rbm.ising`.)
- `studies`: the scans behind `docs/physics.md` and the notebook, as functions
  and a command line.
- `IsingObservables`: a Keras callback logging the observables of model
  samples during `fit`.
"""

from keras_genmodels.physics import analysis, data, exact, lattice, observables, symmetry
from keras_genmodels.physics.callbacks import IsingObservables
from keras_genmodels.physics.exact import exact_observables
from keras_genmodels.physics.lattice import T_C, binary_to_spins, energy, magnetization, spins_to_binary
from keras_genmodels.physics.observables import Estimate, estimate_observables
from keras_genmodels.physics.sampler import IsingSamples, sample_ising
from keras_genmodels.sampling import MetropolisHastings, integrated_autocorrelation_time

__all__ = [
    "Estimate",
    "IsingObservables",
    "IsingSamples",
    "MetropolisHastings",
    "T_C",
    "analysis",
    "binary_to_spins",
    "data",
    "energy",
    "estimate_observables",
    "exact",
    "exact_observables",
    "integrated_autocorrelation_time",
    "lattice",
    "magnetization",
    "observables",
    "sample_ising",
    "spins_to_binary",
    "symmetry",
]
