"""Samplers shared by the model families, and the statistics of their chains.

- `autocorrelation`: ρ(t), the integrated autocorrelation time
  τ_int = 1 + 2 sum_t ρ(t) (Sokal's window), the effective sample size
  ESS = n_chains * n_steps / τ_int, and `run_chains`, the driver that picks
  burn-in and thinning from the measured τ (`ChainInfo` reports them).
- `metropolis`: `MetropolisHastings`, single-site-flip Metropolis-Hastings
  over binary vectors for any energy E(x), p(x) ∝ exp(-E(x) / T).

`keras_genmodels.physics` runs its Ising samplers (multi-spin Metropolis,
Wolff) through `run_chains`.
"""

from keras_genmodels.sampling.autocorrelation import (
    SCHEDULE_OPTIONS,
    ChainInfo,
    autocorrelation,
    check_schedule_options,
    effective_sample_size,
    integrated_autocorrelation_time,
    run_chains,
)
from keras_genmodels.sampling.metropolis import MCMCSamples, MetropolisHastings

__all__ = [
    "SCHEDULE_OPTIONS",
    "ChainInfo",
    "MCMCSamples",
    "MetropolisHastings",
    "autocorrelation",
    "check_schedule_options",
    "effective_sample_size",
    "integrated_autocorrelation_time",
    "run_chains",
]
