"""VAE speed and time-to-quality against the keras.io recipe, in one process.

    python bench/vae_speed.py            # full run (~25 min on 2 cores)
    python bench/vae_speed.py --quick    # smoke run on a subset (~2 min)

Part 1 (same recipe): seconds per epoch on the 70,000 Fashion-MNIST images
(train + test, as the example does), batch 128, Adam(1e-3), latent 2, for the
example's own model and training step (`bench/keras_io_vae.py`, fit on a NumPy
array as in the example) and for `keras_genmodels.vae.VAE` configured like it,
in several execution settings. Prints each and the speed-up ratios.

Part 2 (time to quality): the recipe trains 30 epochs on the 60,000 training
images; its held-out loss (negative ELBO, one posterior draw, on the 10,000
test images, the same function for both models) is the target. Our VAE then
trains with the recommended settings until its held-out loss reaches the
target. Prints both training times (evaluation time excluded) and the ratio.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_io_vae import recipe_model  # noqa: E402

from keras_genmodels import datasets  # noqa: E402
from keras_genmodels.vae import VAE  # noqa: E402


def heldout_loss(encoder_fn, probs_fn, x, eps, batch=1000):
    """Mean over x of BCE summed over pixels + KL, at h = μ + σ ε with fixed ε.

    The binary cross-entropy is Keras's (probabilities clipped to [1e-7, 1 − 1e-7]),
    the same for both models, so the figures compare like with like.
    """
    total = 0.0
    for s in range(0, len(x), batch):
        xb, eb = x[s : s + batch], eps[s : s + batch]
        mean, log_var = (np.asarray(t, "float64") for t in encoder_fn(xb))
        h = (mean + np.exp(0.5 * log_var) * eb).astype("float32")
        p = np.clip(np.asarray(probs_fn(h), "float64"), 1e-7, 1 - 1e-7)
        bce = -(xb * np.log(p) + (1 - xb) * np.log(1 - p)).reshape(len(xb), -1).sum(1)
        kl = -0.5 * (1 + log_var - mean**2 - np.exp(log_var)).sum(1)
        total += float((bce + kl).sum())
    return total / len(x)


def recipe_fns(model):
    return (lambda xb: model.encoder(xb)[:2]), (lambda h: model.decoder(h))


def ours_fns(model):
    return (lambda xb: model.encode(xb)), (lambda h: model.decode(h))


def make_ours(mixed_bf16=False, steps_per_execution=1, learning_rate=1e-3, schedule_steps=None,
              latent_dim=2):
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if mixed_bf16 else "float32")
    model = VAE(latent_dim=latent_dim, seed=1337)
    keras.mixed_precision.set_global_policy("float32")
    lr = learning_rate
    if schedule_steps:
        lr = keras.optimizers.schedules.CosineDecay(learning_rate, schedule_steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(lr), steps_per_execution=steps_per_execution)
    return model


def pipeline(x, batch_size, seed=0):
    return (
        tf.data.Dataset.from_tensor_slices(x)
        .cache()
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )


def seconds_per_epoch(model, data, epochs, **fit_kwargs):
    model.fit(data, epochs=1, verbose=0, **fit_kwargs)  # trace and warm up
    start = time.perf_counter()
    model.fit(data, epochs=epochs, verbose=0, **fit_kwargs)
    return (time.perf_counter() - start) / epochs


class EpochTimer(keras.callbacks.Callback):
    """Training seconds per epoch, and the held-out loss after each epoch."""

    def __init__(self, evaluate, target=None):
        super().__init__()
        self.evaluate, self.target = evaluate, target
        self.train_seconds, self.losses = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.train_seconds.append(time.perf_counter() - self._t)
        self.losses.append(self.evaluate())
        print(f"  epoch {epoch + 1}: {self.train_seconds[-1]:.1f} s, held-out loss "
              f"{self.losses[-1]:.2f}", flush=True)
        if self.target is not None and self.losses[-1] <= self.target:
            self.model.stop_training = True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small subset, few epochs (smoke run)")
    p.add_argument("--timed-epochs", type=int, default=2)
    p.add_argument("--recipe-epochs", type=int, default=30)
    p.add_argument("--max-epochs", type=int, default=24, help="cap for our runs in part 2")
    p.add_argument("--lr", type=float, default=3e-3, help="recommended peak learning rate")
    p.add_argument("--schedule-epochs", type=int, default=24, help="cosine decay length")
    p.add_argument("--batch-size", type=int, default=128, help="recommended batch size")
    p.add_argument("--skip-part1", action="store_true")
    p.add_argument("--skip-part2", action="store_true")
    args = p.parse_args(argv)

    x_tr, _ = datasets.load_arrays("fashion_mnist", "train")
    x_te, _ = datasets.load_arrays("fashion_mnist", "test")
    x_tr = x_tr.astype("float32") / 255.0
    x_te = x_te.astype("float32") / 255.0
    if args.quick:
        x_tr, x_te = x_tr[:6000], x_te[:1000]
        args.timed_epochs, args.recipe_epochs, args.max_epochs = 1, 3, 3
        args.schedule_epochs = 2
    x_all = np.concatenate([x_tr, x_te])
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
          f"{os.cpu_count()} CPU cores; {len(x_all)} images for part 1")

    if not args.skip_part1:
        print("\nPart 1: seconds per epoch, same recipe (batch 128, Adam 1e-3, latent 2)")
        rows = []
        keras.utils.set_random_seed(0)
        rows.append(("keras.io recipe (NumPy fit)", seconds_per_epoch(
            recipe_model(), x_all, args.timed_epochs, batch_size=128)))
        rows.append(("ours, NumPy fit", seconds_per_epoch(
            make_ours(), x_all, args.timed_epochs, batch_size=128)))
        rows.append(("ours, tf.data pipeline", seconds_per_epoch(
            make_ours(), pipeline(x_all, 128), args.timed_epochs)))
        rows.append(("ours, tf.data + steps_per_execution=32", seconds_per_epoch(
            make_ours(steps_per_execution=32), pipeline(x_all, 128), args.timed_epochs)))
        rows.append(("ours, tf.data + mixed_bfloat16", seconds_per_epoch(
            make_ours(mixed_bf16=True), pipeline(x_all, 128), args.timed_epochs)))
        rows.append(("ours, tf.data + bfloat16 + steps_per_exec=32", seconds_per_epoch(
            make_ours(mixed_bf16=True, steps_per_execution=32), pipeline(x_all, 128),
            args.timed_epochs)))
        rows.append(("keras.io recipe again (drift check)", seconds_per_epoch(
            recipe_model(), x_all, args.timed_epochs, batch_size=128)))
        base = 0.5 * (rows[0][1] + rows[-1][1])
        for name, sec in rows:
            print(f"  {name:42s} {sec:7.2f} s/epoch   speed-up vs recipe {base / sec:5.2f}x")

    if not args.skip_part2:
        print(f"\nPart 2: time to quality ({len(x_tr)} training, {len(x_te)} held-out images)")
        eps = np.random.default_rng(123).standard_normal((len(x_te), 2)).astype("float32")
        keras.utils.set_random_seed(0)
        recipe = recipe_model()
        rt = EpochTimer(lambda: heldout_loss(*recipe_fns(recipe), x_te, eps))
        print(f"  recipe: {args.recipe_epochs} epochs, batch 128, Adam(1e-3), NumPy fit")
        recipe.fit(x_tr, epochs=args.recipe_epochs, batch_size=128, verbose=0, callbacks=[rt])
        keras.mixed_precision.set_global_policy("float32")
        target = rt.losses[-1]
        recipe_time = sum(rt.train_seconds)
        print(f"  recipe: held-out loss {target:.2f} after {args.recipe_epochs} epochs, "
              f"{recipe_time:.1f} s of training")
        steps = args.schedule_epochs * int(np.ceil(len(x_tr) / args.batch_size))
        for label, latent_dim in (("same model (latent 2)", 2),):
            keras.utils.set_random_seed(0)
            ours = make_ours(mixed_bf16=True, steps_per_execution=32, learning_rate=args.lr,
                             schedule_steps=steps, latent_dim=latent_dim)
            eps_k = np.random.default_rng(123).standard_normal((len(x_te), latent_dim)).astype("float32")
            ot = EpochTimer(lambda: heldout_loss(*ours_fns(ours), x_te, eps_k), target=target)
            print(f"  ours, {label}: Adam({args.lr}) cosine over {args.schedule_epochs} epochs, "
                  f"batch {args.batch_size}, bfloat16, steps_per_execution=32; stop at <= {target:.2f}")
            ours.fit(pipeline(x_tr, args.batch_size), epochs=args.max_epochs, verbose=0,
                     callbacks=[ot], shuffle=False)
            reached = [i for i, l in enumerate(ot.losses) if l <= target]
            if reached:
                n = reached[0] + 1
                ours_time = sum(ot.train_seconds[:n])
                print(f"  ours, {label}: held-out loss {ot.losses[n - 1]:.2f} after {n} epochs, "
                      f"{ours_time:.1f} s of training -> {ours_time / recipe_time:.2f} of the "
                      f"recipe's time (target <= 0.33)")
            else:
                print(f"  ours, {label}: did NOT reach {target:.2f} in {len(ot.losses)} epochs "
                      f"(best {min(ot.losses):.2f}, {sum(ot.train_seconds):.1f} s = "
                      f"{sum(ot.train_seconds) / recipe_time:.2f} of the recipe's time)")

if __name__ == "__main__":
    main()
