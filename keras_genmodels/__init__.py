"""keras_genmodels: generative models for the physical sciences, in Keras 3.

Families, one subpackage each, registered in `keras_genmodels.families`:
- `keras_genmodels.vae`: variational autoencoders (Kingma & Welling 2013).
- `keras_genmodels.rbm`: restricted Boltzmann machines trained by CD-k / PCD-k.

Shared: `GenerativeModel` (the base class of the models), `sampling` (compiled
samplers: AIS, parallel tempering, Metropolis-Hastings), `physics` (the 2D
Ising model), `datasets` (MNIST, Fashion-MNIST through tensorflow-datasets,
online or from local IDX files), `load_model`/`save_model`, presets.
"""

__version__ = "0.2.0"

from keras_genmodels import families  # noqa: E402
from keras_genmodels.generative_model import GenerativeModel  # noqa: E402,F401

families.discover()  # imports every family, which registers its classes with Keras

from keras_genmodels import physics  # noqa: E402,F401
from keras_genmodels import sampling  # noqa: E402,F401
from keras_genmodels.presets import list_presets, load_pretrained  # noqa: E402,F401
from keras_genmodels.saving import load_model, save_model  # noqa: E402,F401
