"""The `keras-genmodels` command line.

    keras-genmodels train vae --dataset fashion_mnist --epochs 30 --out saved_models/vae
    keras-genmodels train vae --epochs 30 --out saved_models/vae --strategy mirrored --resume
    keras-genmodels evaluate saved_models/vae/model.keras --dataset fashion_mnist --split test
    keras-genmodels sample saved_models/vae/model.keras --n 64 --out samples.png
    keras-genmodels export saved_models/vae/model.keras serving --name vae --version 1

Each model family contributes a module ``keras_genmodels.<family>.cli`` with:

- ``add_train_arguments(parser)`` and ``train(args) -> int`` for ``train <family>``;
- ``add_evaluate_arguments(parser)`` (optional; family-specific flags of
  ``evaluate``, which must not clash with other families' flags);
- ``handles(model) -> bool``, ``evaluate(model, args) -> int`` and
  ``sample(model, args) -> int`` for the commands that take a model file.

A family's ``add_train_arguments`` calls ``add_training_arguments(parser)``
for the flags every ``train`` takes: ``--strategy none|mirrored|multiworker``
and ``--resume`` (see docs/training.md). Exit
status: 0 on success, 2 for bad arguments or files, 3 when training stopped on
a NaN or Inf (the previous model file and the last backup are left intact).
"""

import argparse
import importlib
import sys

# family name -> module implementing its command-line hooks.
FAMILIES = {
    "vae": "keras_genmodels.vae.cli",
    "rbm": "keras_genmodels.rbm.cli",
}


def add_training_arguments(parser):
    """Add the `--strategy` and `--resume` flags shared by every `train` command."""
    parser.add_argument(
        "--strategy", default="none",
        help="none (one device), mirrored (every GPU of this machine) or multiworker "
             "(the machines listed in TF_CONFIG). Defaults to none",
    )
    parser.add_argument(
        "--resume", action="store_true",
        help="continue an interrupted run from its backup in OUT/backup "
             "(without it, a leftover backup is discarded)",
    )


def _family_modules():
    modules = {}
    for name, path in FAMILIES.items():
        try:
            modules[name] = importlib.import_module(path)
        except ModuleNotFoundError as e:
            if e.name != path:
                raise
    return modules


def build_parser():
    """Return the `argparse` parser of the `keras-genmodels` command."""
    families = _family_modules()
    parser = argparse.ArgumentParser(
        prog="keras-genmodels",
        description="Train, evaluate and sample generative models for the physical sciences.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a model and write it, its history and plots")
    train_sub = train.add_subparsers(dest="family", required=True)
    for name, module in families.items():
        p = train_sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0])
        module.add_train_arguments(p)

    ev = sub.add_parser("evaluate", help="held-out metrics of a saved model, in nats")
    ev.add_argument("model", help="path of a .keras file")
    ev.add_argument("--dataset", default=None, help="data set name (default: the one in the model's history)")
    ev.add_argument("--split", default="test", help="data split. Defaults to test")
    ev.add_argument("--limit", type=int, default=None, help="evaluate on the first N examples only")
    ev.add_argument("--batch-size", type=int, default=100)
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--local-dir", default=None, help="folder of the data set's IDX .gz files (offline)")
    ev.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    for module in families.values():
        if hasattr(module, "add_evaluate_arguments"):
            module.add_evaluate_arguments(ev)

    sa = sub.add_parser("sample", help="draw samples from a saved model and save a grid image")
    sa.add_argument("model", help="path of a .keras file")
    sa.add_argument("--n", type=int, default=64, help="number of samples. Defaults to 64")
    sa.add_argument("--seed", type=int, default=0)
    sa.add_argument("--out", default="samples.png", help="output image path. Defaults to samples.png")
    for module in families.values():
        if hasattr(module, "add_sample_arguments"):
            module.add_sample_arguments(sa)

    ex = sub.add_parser(
        "export", help="write a TF Serving SavedModel in OUT_DIR/<model_name>/<version>/"
    )
    ex.add_argument("model", help="path of a .keras file")
    ex.add_argument("out_dir", help="TF Serving model base folder")
    ex.add_argument("--version", type=int, default=None,
                    help="version folder (default: one more than the largest existing, 1 at first)")
    ex.add_argument("--name", default=None, help="model name (default: the file's stem)")
    ex.add_argument("--overwrite", action="store_true",
                    help="replace an existing non-empty version folder")
    return parser, families


def _export(args):
    from keras_genmodels.export import export_model

    path = export_model(
        args.model, args.out_dir, version=args.version, model_name=args.name,
        overwrite=args.overwrite,
    )
    print(f"Wrote the SavedModel {path}; inspect it with: saved_model_cli show --dir {path} --all")
    return 0


def _load(path):
    from keras_genmodels.saving import load_model

    return load_model(path, safe_mode=True)


def _family_of(model, families):
    for module in families.values():
        if module.handles(model):
            return module
    raise ValueError(
        "Expected a keras_genmodels model "
        f"({', '.join(families)}). Received a {type(model).__name__}."
    )


def main(argv=None):
    """Entry point of the `keras-genmodels` command. Returns the exit status."""
    parser, families = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return families[args.family].train(args) or 0
        if args.command == "export":
            return _export(args)
        model = _load(args.model)
        module = _family_of(model, families)
        if args.command == "evaluate":
            return module.evaluate(model, args) or 0
        if args.command == "sample":
            if args.n < 1:
                raise ValueError(f"`--n` must be a positive int. Received: --n={args.n}")
            return module.sample(model, args) or 0
    except FloatingPointError as e:  # training.NonFiniteLossError: NaN/Inf in training
        print(f"keras-genmodels: error: {e}", file=sys.stderr)
        return 3
    except (ValueError, FileNotFoundError, FileExistsError) as e:
        print(f"keras-genmodels: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
