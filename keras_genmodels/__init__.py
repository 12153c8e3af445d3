"""keras_genmodels: generative models for the physical sciences, in Keras 3.

Families, one subpackage each, registered in `keras_genmodels.families`:
- `keras_genmodels.vae`: variational autoencoders (Kingma & Welling 2013).
- `keras_genmodels.rbm`: restricted Boltzmann machines trained by CD-k / PCD-k.

Shared: `GenerativeModel` (the base class of the models), `sampling` (compiled
samplers: AIS, parallel tempering, Metropolis-Hastings), `physics` (the 2D
Ising model), `datasets` (MNIST, Fashion-MNIST through tensorflow-datasets,
online or from local IDX files), `load_model`/`save_model`, presets.

`import keras_genmodels` imports every family's model classes, which
registers them with Keras, so that `keras.saving.load_model` finds them too.
With `KERAS_GENMODELS_LAZY_IMPORT=1` (which the `keras-genmodels` command
sets) nothing heavy is imported until it is used: the command line answers
`--help` and bad arguments without importing TensorFlow.
"""

import os

from keras_genmodels._lazy import lazy_attributes

__version__ = "0.2.0"

__getattr__, __dir__ = lazy_attributes(__name__, {
    "GenerativeModel": "generative_model",
    "list_presets": "presets",
    "load_pretrained": "presets",
    "load_model": "saving",
    "save_model": "saving",
})

if os.environ.get("KERAS_GENMODELS_LAZY_IMPORT") != "1":
    from keras_genmodels import families as _families

    _families.import_models()  # every family's classes, registered with Keras
    from keras_genmodels import physics, sampling  # noqa: F401
    from keras_genmodels.generative_model import GenerativeModel  # noqa: F401
    from keras_genmodels.presets import list_presets, load_pretrained  # noqa: F401
    from keras_genmodels.saving import load_model, save_model  # noqa: F401
