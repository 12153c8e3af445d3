"""keras_genmodels: generative models for the physical sciences, in Keras 3.

Families:
- `keras_genmodels.vae`: variational autoencoders (Kingma & Welling 2013).
- `keras_genmodels.rbm`: restricted Boltzmann machines trained by CD-k / PCD-k.

Data: `keras_genmodels.datasets` (MNIST, Fashion-MNIST through
tensorflow-datasets, online or from local IDX files).
"""

__version__ = "0.1.0"

from keras_genmodels import vae  # noqa: E402,F401  (registers the VAE classes)
from keras_genmodels import rbm  # noqa: F401
from keras_genmodels import physics  # noqa: F401
from keras_genmodels.saving import load_model, save_model  # noqa: E402,F401
from keras_genmodels.presets import list_presets, load_pretrained  # noqa: E402,F401
