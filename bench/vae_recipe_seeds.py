"""The keras.io VAE recipe's held-out loss over seeds: the other side of docs/vae.md's comparison.

    python bench/vae_recipe_seeds.py --seeds 0 1 2 3 4      # 30 epochs each, ~15 min a seed on 2 cores
    python bench/vae_recipe_seeds.py --summarize            # mean ± sd of the runs written so far
    python bench/vae_recipe_seeds.py --seeds 0 --quick      # smoke run (3 epochs on a subset)

Each seed trains the keras.io example's model and step (`bench/keras_io_vae.py`: Adam 1e-3,
batch 128, 30 epochs, NumPy fit) on the 60,000 Fashion-MNIST training images after
`keras.utils.set_random_seed(seed)` (the weights' initialisation and the batch order; the
example's Sampling layer keeps its own fixed seed, 1337, as printed). The held-out loss is
`vae_speed.heldout_loss`: −ELBO with one fixed posterior draw per image on the 10,000 test images
(Keras's clipped binary cross-entropy summed over the pixels + the closed-form KL), in nats.
`--ours MODEL.keras` also scores a saved VAE of the library by the same function (a check that
it agrees with the ELBO the library's `train` prints). One JSON per seed in `bench/results/`.
"""

import argparse
import json
import os
import pathlib
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_io_vae import recipe_model  # noqa: E402
from vae_speed import heldout_loss, ours_fns, recipe_fns  # noqa: E402

from keras_genmodels import datasets  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
EPS_SEED = 123  # the fixed posterior draws, the same for every model scored


def _test_images():
    x, _ = datasets.load_arrays("fashion_mnist", "test")
    return x.astype("float32") / 255.0


def run_seed(seed, epochs, quick=False):
    """Train the recipe from `seed`; returns `{seed, epochs, heldout_loss, train_seconds, ...}`."""
    x_tr, _ = datasets.load_arrays("fashion_mnist", "train")
    x_tr = x_tr.astype("float32") / 255.0
    x_te = _test_images()
    if quick:
        x_tr, x_te = x_tr[:6000], x_te[:1000]
    keras.utils.set_random_seed(seed)
    model = recipe_model()
    start = time.perf_counter()
    history = model.fit(x_tr, epochs=epochs, batch_size=128, verbose=0)
    seconds = time.perf_counter() - start
    eps = np.random.default_rng(EPS_SEED).standard_normal((len(x_te), 2)).astype("float32")
    loss = heldout_loss(*recipe_fns(model), x_te, eps)
    return {"seed": seed, "epochs": epochs, "quick": quick, "heldout_loss": loss, "train_seconds": seconds,
            "final_train_loss": float(history.history["total_loss"][-1]), "n_test": len(x_te),
            "keras": keras.__version__, "machine": platform.node(), "date": time.strftime("%Y-%m-%d")}


def score_ours(path):
    """The held-out loss of a saved library VAE (latent 2) by the recipe's function."""
    from keras_genmodels import saving

    model = saving.load_model(path)
    x_te = _test_images()
    eps = np.random.default_rng(EPS_SEED).standard_normal((len(x_te), model.latent_dim)).astype("float32")
    return heldout_loss(*ours_fns(model), x_te, eps)


def summarize(folder):
    paths = sorted(pathlib.Path(folder).glob("vae_recipe_seed*.json"))
    runs = [json.loads(p.read_text()) for p in paths]
    runs = sorted((r for r in runs if not r["quick"]), key=lambda r: r["seed"])
    if not runs:
        print("no full runs in", folder)
        return None
    losses = np.array([r["heldout_loss"] for r in runs])
    for r in runs:
        print(f"  seed {r['seed']}: held-out loss {r['heldout_loss']:.2f} after {r['epochs']} epochs "
              f"({r['train_seconds']:.0f} s, {r['date']})")
    sd = losses.std(ddof=1) if len(losses) > 1 else float("nan")
    print(f"  {len(runs)} seeds: {losses.mean():.2f} ± {sd:.2f} (mean ± sd); ELBO {-losses.mean():.2f}")
    return losses


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="*", default=[])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--quick", action="store_true", help="3 epochs on 6,000 / 1,000 images (smoke run)")
    p.add_argument("--summarize", action="store_true")
    p.add_argument("--ours", help="a saved library VAE to score by the same function")
    p.add_argument("--out", default=str(RESULTS), help="folder for the per-seed JSON files")
    args = p.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        result = run_seed(seed, 3 if args.quick else args.epochs, quick=args.quick)
        name = f"vae_recipe_seed{seed}{'_quick' if args.quick else ''}.json"
        (out / name).write_text(json.dumps(result, indent=1) + "\n")
        print(f"seed {seed}: held-out loss {result['heldout_loss']:.2f} "
              f"({result['train_seconds']:.0f} s of training)", flush=True)
    if args.ours:
        print(f"{args.ours}: held-out loss {score_ours(args.ours):.2f} by the recipe's function")
    if args.summarize:
        summarize(out)


if __name__ == "__main__":
    main()
