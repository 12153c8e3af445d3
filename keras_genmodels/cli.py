"""The `keras-genmodels` command line.

    keras-genmodels train vae --dataset fashion_mnist --epochs 30 --out saved_models/vae
    keras-genmodels train vae --epochs 30 --out saved_models/vae --strategy mirrored --resume
    keras-genmodels evaluate saved_models/vae/model.keras --split test
    keras-genmodels evaluate saved_models/vae/model.keras --quality --quality-samples 10000
    keras-genmodels sample saved_models/vae/model.keras --n 64 --out samples.png
    keras-genmodels export saved_models/vae/model.keras serving --name vae --version 1

Every family registered in `keras_genmodels.families` gets `train <family>`;
`evaluate` and `sample` find the family of the saved model. A family's `cli`
hooks (see `keras_genmodels.families.Family`):

- `add_train_arguments(parser)`: its `train` flags; the runner adds `--out`,
  `--seed`, `--verbose`, `--strategy` and `--resume` (`runner.add_common_train_arguments`);
- `training(args, strategy) -> runner.TrainingPlan`: the compiled model and
  its data; `keras_genmodels.runner` does the rest;
- `add_evaluate_arguments(parser)` (optional; flags of `evaluate`, which must
  not clash with other families' flags) and `evaluate(model, args) -> dict`;
- `add_sample_arguments(parser)` (optional) and
  `sample(model, args) -> runner.Samples`.

Exit status: 0 on success, 2 for bad arguments or files, 3 when training
stopped on a NaN or Inf (the previous model file and the last backup are left
intact).
"""

import argparse
import sys


def build_parser():
    """Return the `argparse` parser of the `keras-genmodels` command and the families.

    Building it, and refusing bad arguments, imports no TensorFlow: the flags'
    types and choices check every value as it is parsed.
    """
    import keras_genmodels
    from keras_genmodels import _validation as v
    from keras_genmodels import families, runner

    registered = families.all_families()
    formatter = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(
        prog="keras-genmodels",
        description="Train, evaluate and sample generative models for the physical sciences.",
    )
    parser.add_argument("--version", action="version", version=f"keras-genmodels {keras_genmodels.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a model and write it, its history and plots")
    train_sub = train.add_subparsers(dest="family", required=True)
    for name, family in registered.items():
        hooks = family.hooks("cli")
        if hooks is None:
            continue
        p = train_sub.add_parser(name, help=family.summary, description=family.summary, formatter_class=formatter)
        hooks.add_train_arguments(p)
        runner.add_common_train_arguments(p, name)

    ev = sub.add_parser("evaluate", help="held-out metrics of a saved model, in nats", formatter_class=formatter)
    ev.add_argument("model", help="path of a .keras file")
    ev.add_argument("--dataset", default=None,
                    help="data set name (None: the one in the model's history.json, else the family's)")
    ev.add_argument("--split", default="test", help="data split")
    ev.add_argument("--limit", type=v.positive_int_flag, default=None, help="evaluate on the first N examples only")
    ev.add_argument("--batch-size", type=v.positive_int_flag, default=100, help="examples per batch")
    ev.add_argument("--seed", type=v.seed_flag, default=0, help="seed of the noise, of AIS and of --quality's samples")
    ev.add_argument("--local-dir", default=None, help="folder of the data set's IDX .gz files (offline)")
    ev.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    ev.add_argument("--quality", action="store_true",
                    help="also score samples of the model against the images of --dataset's --split: FD, "
                         "KD, precision and recall in the library's feature network (28 x 28 images; "
                         "not InceptionV3's, see docs/quality.md)")
    ev.add_argument("--quality-samples", type=v.positive_int_flag, default=10000,
                    help="samples scored by --quality (fewer is faster, and biases FD and KD upwards)")

    sa = sub.add_parser("sample", help="draw samples from a saved model and save a grid image",
                        formatter_class=formatter)
    sa.add_argument("model", help="path of a .keras file")
    sa.add_argument("--n", type=v.positive_int_flag, default=64, help="number of samples")
    sa.add_argument("--seed", type=v.seed_flag, default=0, help="seed of the samples")
    sa.add_argument("--out", default="samples.png",
                    help="output image path (samples that are not images go to a .npy file of "
                         "the same stem)")
    for family in registered.values():
        hooks = family.hooks("cli")
        if hooks is None:
            continue
        if hasattr(hooks, "add_evaluate_arguments"):
            hooks.add_evaluate_arguments(ev)
        if hasattr(hooks, "add_sample_arguments"):
            hooks.add_sample_arguments(sa)

    ex = sub.add_parser("export", help="write a TF Serving SavedModel in OUT_DIR/<model_name>/<version>/",
                        formatter_class=formatter)
    ex.add_argument("model", help="path of a .keras file")
    ex.add_argument("out_dir", help="TF Serving model base folder")
    ex.add_argument("--version", type=v.positive_int_flag, default=None,
                    help="version folder (default: one more than the largest existing, 1 at first)")
    ex.add_argument("--name", default=None, help="model name (default: the file's stem)")
    ex.add_argument("--overwrite", action="store_true", help="replace an existing non-empty version folder")
    return parser, registered


def _export(args):
    from keras_genmodels.export import export_model

    path = export_model(
        args.model, args.out_dir, version=args.version, model_name=args.name, overwrite=args.overwrite
    )
    print(f"Wrote the SavedModel {path}; inspect it with: saved_model_cli show --dir {path} --all")
    return 0


def _family_with_cli(model):
    from keras_genmodels import families

    family = families.require_family_of(model)
    if family.hooks("cli") is None:
        raise ValueError(
            f"Expected a model whose family has a command line. Received a {type(model).__name__} "
            f"of the family {family.name!r}, which has none."
        )
    return family


def main(argv=None):
    """Entry point of the `keras-genmodels` command. Returns the exit status."""
    parser, registered = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a bad argument (argparse printed why)
        return e.code
    try:
        from keras_genmodels import runner

        if args.command == "train":
            return runner.train(registered[args.family], args)
        if args.command == "export":
            return _export(args)
        from keras_genmodels.saving import load_model

        model = load_model(args.model, safe_mode=True)
        family = _family_with_cli(model)
        if args.command == "evaluate":
            return runner.evaluate(model, family, args)
        return runner.sample(model, family, args)
    except FloatingPointError as e:  # training.NonFiniteLossError: NaN/Inf in training
        print(f"keras-genmodels: error: {e}", file=sys.stderr)
        return 3
    except (ValueError, FileNotFoundError, FileExistsError) as e:
        print(f"keras-genmodels: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
