"""Deep energy-based models, p(x) = exp(−E_θ(x)) / Z, trained with Langevin chains.

- `EnergyBasedModel`: the `keras.Model` (a `GenerativeModel`): any energy
  network (Foster's convolutional one for images by default), negative
  samples from Langevin chains started from a replay buffer saved with the
  model (Du & Mordatch 2019), trained with `fit`.
- `conv_energy_network`, `mlp_energy_network`: the default energy networks.
- `toy`: 2-D toy data sets (two moons, rings, a Gaussian mixture with its
  exact density) and the exact normalisation of a 2-D energy by grid
  quadrature (`toy.grid_density`: log Z, test log-likelihood, KL).
- `data`: images as the model sees them (32 x 32 in [−1, 1]) and back.
- `plots`: energy landscapes, chains.

The Langevin and MALA samplers are shared: `keras_genmodels.sampling.langevin`.
The names are imported when first used (`keras_genmodels._lazy`).
"""

from keras_genmodels._lazy import lazy_attributes

__all__ = [
    "EnergyBasedModel",
    "conv_energy_network",
    "data",
    "mlp_energy_network",
    "plots",
    "toy",
]

__getattr__, __dir__ = lazy_attributes(__name__, {
    "EnergyBasedModel": "model",
    "conv_energy_network": "networks",
    "mlp_energy_network": "networks",
})
