#!/usr/bin/env python
"""Train, evaluate and register the pretrained presets of keras_genmodels.

    python scripts/train_presets.py --list                        # the recipes, one per preset
    python scripts/train_presets.py vae_fashion_mnist_keras_io    # -> keras_genmodels/presets/
    python scripts/train_presets.py all                           # every preset, one after another
    python scripts/train_presets.py rbm_ising_l4_tc --smoke --out /tmp/presets   # seconds
    python scripts/train_presets.py vae_fashion_mnist_keras_io --from-model saved_models/vae_fashion_mnist

The recipes live with their families (`keras_genmodels/<family>/presets.py`);
the machinery, shared by every family, in `keras_genmodels.preset_training`
(its docstring says what is written where). This script runs the package of
this checkout, the one whose `presets/` folder it writes, also when
`keras_genmodels` is not installed or an installed copy points elsewhere.
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from keras_genmodels.preset_training import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
