"""The `keras-genmodels` console script.

A module of its own, outside the `keras_genmodels` package, so that it can
ask for lazy imports (`KERAS_GENMODELS_LAZY_IMPORT=1`) before the package is
imported: `--help` and bad arguments are then answered without importing
TensorFlow, and a command imports only what it uses. TensorFlow's native
INFO lines are kept off stderr (`keras_genmodels._native_logs`;
`KERAS_GENMODELS_TF_LOGS=1` shows them). The command line itself is
`keras_genmodels.cli`.
"""

import os
import sys


def main(argv=None):
    """Run `keras-genmodels` (see `keras_genmodels.cli.main`); returns the exit status."""
    os.environ.setdefault("KERAS_GENMODELS_LAZY_IMPORT", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from keras_genmodels._native_logs import filtered_stderr
    from keras_genmodels.cli import main as cli_main

    with filtered_stderr():
        return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
