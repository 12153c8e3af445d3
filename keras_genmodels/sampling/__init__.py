"""Samplers shared by the model families, and the statistics of their chains.

- `backend`: `compile_function` (a `keras.ops` loop as one compiled graph,
  XLA by default), `uniform` / `normal` / `bernoulli` draws (ThreeFry
  under XLA) from a `keras.random.SeedGenerator`, and
  `energy_and_gradient` (E(x) and ∇_x Σ E, in float32).
- `ais`: annealed importance sampling for any model (`anneal`, the
  `AISEstimate` of log Z with its error bar, `default_ais_schedule`,
  `check_schedule`).
- `tempering`: parallel tempering (replica exchange) for any tempered
  density (`exchange`, `sweeps`, `default_betas`, `check_betas`).
- `autocorrelation`: ρ(t), the integrated autocorrelation time
  τ_int = 1 + 2 sum_t ρ(t) (Sokal's window), the effective sample size
  ESS = n_chains * n_steps / τ_int, and `run_chains`, the driver that picks
  burn-in and thinning from the measured τ (`ChainInfo` reports them).
- `metropolis`: `MetropolisHastings`, single-site-flip Metropolis-Hastings
  over binary vectors for any energy E(x), p(x) ∝ exp(-E(x) / T).
- `langevin`: Langevin dynamics for any differentiable energy over real x,
  p(x) ∝ exp(-E(x)): unadjusted (ULA, x <- x - ε ∇E + √(2ε) ξ, biased by
  O(ε)) or Metropolis-adjusted (MALA, exact), with gradient clipping and a
  box (`langevin`, the eager entry point; `langevin_steps`, the traced core
  a `train_step` calls; `check_bounds`).

The RBMs (`keras_genmodels.rbm`: AIS, parallel tempering) and the Ising
samplers of `keras_genmodels.physics` (multi-spin Metropolis, Wolff, through
`run_chains`) are built on them.
"""

from keras_genmodels.sampling import ais, backend, tempering
from keras_genmodels.sampling.ais import AISEstimate, anneal, check_schedule, default_ais_schedule
from keras_genmodels.sampling.autocorrelation import (
    SCHEDULE_OPTIONS,
    ChainInfo,
    autocorrelation,
    check_schedule_options,
    effective_sample_size,
    integrated_autocorrelation_time,
    run_chains,
)
from keras_genmodels.sampling.langevin import check_bounds, langevin, langevin_steps
from keras_genmodels.sampling.metropolis import MCMCSamples, MetropolisHastings

__all__ = [
    "AISEstimate",
    "SCHEDULE_OPTIONS",
    "ChainInfo",
    "MCMCSamples",
    "MetropolisHastings",
    "ais",
    "anneal",
    "autocorrelation",
    "backend",
    "check_bounds",
    "check_schedule",
    "check_schedule_options",
    "default_ais_schedule",
    "effective_sample_size",
    "integrated_autocorrelation_time",
    "langevin",
    "langevin_steps",
    "run_chains",
    "tempering",
]
