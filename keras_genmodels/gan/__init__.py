"""Generative adversarial networks: a generator and a discriminator (critic) trained by `fit`.

- `DCGAN` (Radford et al. 2015) and `WGANGP` (Gulrajani et al. 2017): `keras.Model`s
  (`GenerativeModel`s) with their own `train_step`, two optimizers, `d_steps`
  discriminator updates per generator update; optionally conditioned on class labels
  or on a temperature; `sample(n, seed=None, labels=None, temperature=None)`.
- `gradient_penalty`, and the per-example losses: `losses`.
- Networks: `wgan_gp_generator`, `wgan_gp_critic` (keras-io's Fashion-MNIST pair),
  `dcgan_generator`, `dcgan_discriminator`, `lattice_generator`, `lattice_critic`
  (L x L spins, periodic padding): `networks`.
- `data`: images and Ising configurations as the models see them; `plots`.

The names are imported when first used (`keras_genmodels._lazy`).
"""

from keras_genmodels._lazy import lazy_attributes

__all__ = [
    "DCGAN",
    "WGANGP",
    "dcgan_discriminator",
    "dcgan_generator",
    "gradient_penalty",
    "lattice_critic",
    "lattice_generator",
    "wgan_gp_critic",
    "wgan_gp_generator",
]

__getattr__, __dir__ = lazy_attributes(__name__, {
    "DCGAN": "model",
    "WGANGP": "model",
    "gradient_penalty": "losses",
    "dcgan_discriminator": "networks",
    "dcgan_generator": "networks",
    "lattice_critic": "networks",
    "lattice_generator": "networks",
    "wgan_gp_critic": "networks",
    "wgan_gp_generator": "networks",
})
