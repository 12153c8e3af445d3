"""Diffusion models: `DiffusionModel`, its denoising networks, the schedules and the math of the processes.

- `DiffusionModel` (`model`): a denoising diffusion model (Ho et al. 2020)
  trained by `fit` on the ε-prediction loss, with EMA weights, ancestral DDPM
  and DDIM sampling, and the variational bound on −log p(x) in nats
  (`log_likelihood_bound`).
- `networks`: `unet` (keras-io ddim.py's U-Net with a sinusoidal time
  embedding, `SinusoidalEmbedding`) and `lattice_network` (periodic, for
  L x L spins).

- `schedules`: β_t schedules as float64 NumPy constants (`linear_beta_schedule`,
  Ho et al. 2020; `cosine_beta_schedule`, Nichol & Dhariwal 2021),
  ᾱ_t = Π (1 − β_s) (`alphas_cumprod`), and keras-io DDIM's continuous
  `offset_cosine_rates`, in `keras.ops`.
- `process`, in `keras.ops` (traced in a `tf.function` as well): the forward
  marginal (`q_sample`), the posterior q(x_{t−1} | x_t, x_0)
  (`posterior_mean_variance`), `predict_x0_from_noise`, the losses
  (`noise_prediction_loss`, `normal_kl`, `discretized_gaussian_log_likelihood`,
  `bernoulli_log_likelihood`) and the samplers' steps (`ddpm_step`,
  `ddim_step`, `sampling_timesteps`, `check_eta`).

The names are imported when first used (`keras_genmodels._lazy`).
"""

from keras_genmodels._lazy import lazy_attributes

__all__ = [
    "DiffusionModel",
    "SinusoidalEmbedding",
    "alphas_cumprod",
    "bernoulli_log_likelihood",
    "check_eta",
    "cosine_beta_schedule",
    "ddim_step",
    "ddpm_step",
    "discretized_gaussian_log_likelihood",
    "lattice_network",
    "linear_beta_schedule",
    "noise_prediction_loss",
    "normal_kl",
    "offset_cosine_rates",
    "posterior_mean_variance",
    "predict_x0_from_noise",
    "q_sample",
    "sampling_timesteps",
    "unet",
]

__getattr__, __dir__ = lazy_attributes(__name__, {
    "DiffusionModel": "model",
    "SinusoidalEmbedding": "networks",
    "lattice_network": "networks",
    "unet": "networks",
    "alphas_cumprod": "schedules",
    "cosine_beta_schedule": "schedules",
    "linear_beta_schedule": "schedules",
    "offset_cosine_rates": "schedules",
    "bernoulli_log_likelihood": "process",
    "check_eta": "process",
    "ddim_step": "process",
    "ddpm_step": "process",
    "discretized_gaussian_log_likelihood": "process",
    "noise_prediction_loss": "process",
    "normal_kl": "process",
    "posterior_mean_variance": "process",
    "predict_x0_from_noise": "process",
    "q_sample": "process",
    "sampling_timesteps": "process",
})
