"""Training throughput at scale: XLA against none, two devices against one.

    python bench/scale.py                 # full run (a few minutes; use a quiet machine)
    python bench/scale.py --quick         # smoke run on tiny models (~1-2 min)
    python bench/scale.py --models rbm --epochs 5

Samples per second of the `model.fit` training step of
- the VAE (the keras.io convolutional VAE, latent 2, batch 128, Adam), and
- the RBM (`BernoulliRBM` 784 x 500, PCD-1 with 100 chains, batch 100, SGD),
on synthetic 28 x 28 data (random grey levels for the VAE, random bits for the
RBM: the speed does not depend on the values), in five settings:

    one device, jit_compile=False, steps_per_execution=S
    one device, jit_compile=True,  steps_per_execution=S     (XLA)
    one device, jit_compile=False, steps_per_execution=1
    MirroredStrategy over 2 devices, jit_compile=False       (steps_per_execution=1*)
    MirroredStrategy over 2 devices, jit_compile=True        (XLA requested**)

The default, `jit_compile="auto"`, is the first setting for the VAE on a CPU
(Keras's "auto": no XLA without a GPU) and the second for the RBM, whose
`fit` on NumPy data runs chunks of S mini-batches in one XLA loop.
(* Keras cannot run several steps per call under a strategy with several
replicas, keras-team/keras#19246, so those runs use one; the "2 devices / 1
device" ratio compares them with one device at steps_per_execution=1 too.
** Keras compiles the whole multi-replica step as one XLA cluster, which
cannot reach the other device's variables; the models' `compile` falls back to
jit_compile=False there, with a warning, and the table says so.)

Without GPUs the two devices are two logical devices of the one CPU
(`tf.config.set_logical_device_configuration`): they share its cores, so the
ratio measures the strategy's overhead (splitting batches, all-reducing
gradients and statistics), not a speed-up; on a machine with two GPUs pass
`--gpus` to mirror over them instead. TensorFlow fixes its devices when it
starts, so each setting runs in a fresh process. The first epoch (tracing and
compilation) is excluded; the figure is the median over the other epochs.

Prints a table of samples/s and the ratios XLA / no XLA and 2 devices / 1 device.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SETTINGS = [
    # name, devices, jit, steps_per_execution (None: the model's S)
    ("1 device", 1, False, None),
    ("1 device, XLA", 1, True, None),
    ("1 device, spe=1", 1, False, 1),
    ("2 devices", 2, False, 1),
    ("2 devices, XLA", 2, True, 1),
]

FULL = {
    "vae": dict(examples=12_800, batch=128, spe=32),
    "rbm": dict(examples=20_000, batch=100, spe=100, hidden=500),
}
QUICK = {
    "vae": dict(examples=1_024, batch=64, spe=8),
    "rbm": dict(examples=2_000, batch=100, spe=10, hidden=64),
}


def child(model_name, devices, jit, spe, sizes, epochs, gpus):
    """Run one setting in this (fresh) process; print one JSON line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, REPO)
    from keras_genmodels import distribute

    if devices > 1 and not gpus:
        names = distribute.split_cpu(devices)
    else:
        names = None
    import keras
    import numpy as np
    import tensorflow as tf

    if devices > 1:
        strategy = distribute.get_strategy("mirrored", devices=names)
        if strategy.num_replicas_in_sync != devices:
            raise RuntimeError(f"Expected {devices} replicas. Received: {strategy.num_replicas_in_sync}")
    else:
        strategy = tf.distribute.get_strategy()
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    with strategy.scope():
        if model_name == "vae":
            from keras_genmodels.vae import VAE

            x = rng.random((sizes["examples"], 28, 28, 1), dtype="float32")
            model = VAE(latent_dim=2, seed=0)
            optimizer = keras.optimizers.Adam(1e-3)
        else:
            from keras_genmodels.rbm import BernoulliRBM

            x = (rng.random((sizes["examples"], 784)) < 0.3).astype("float32")
            model = BernoulliRBM(784, sizes["hidden"], persistent=True, n_chains=100, seed=0)
            optimizer = keras.optimizers.SGD(0.01, momentum=0.5)
        model.compile(optimizer, steps_per_execution=spe or sizes["spe"], jit_compile=jit)

    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(x, batch_size=sizes["batch"], epochs=epochs + 1, shuffle=False, verbose=0,
              callbacks=[Timer()])
    seconds = statistics.median(times[1:])
    print(json.dumps({"samples_per_second": sizes["examples"] / seconds,
                      "steps_per_execution": model.steps_per_execution,
                      "jit_compile": bool(model.jit_compile),
                      "replicas": strategy.num_replicas_in_sync}))


def run_setting(model_name, devices, jit, spe, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", model_name, str(devices),
           str(int(jit)), str(spe or 0), "--epochs", str(args.epochs)]
    cmd += ["--quick"] if args.quick else []
    cmd += ["--gpus"] if args.gpus else []
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": tail[:200]}
    return json.loads(lines[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="vae,rbm", help="comma-separated: vae, rbm")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (after a warm-up one)")
    parser.add_argument("--quick", action="store_true", help="tiny models and data (smoke run)")
    parser.add_argument("--gpus", action="store_true",
                        help="mirror over the machine's GPUs instead of logical CPU devices")
    parser.add_argument("--child", nargs=4, metavar=("MODEL", "DEVICES", "JIT", "SPE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    table = QUICK if args.quick else FULL
    if args.child:
        model_name, devices, jit, spe = args.child
        child(model_name, int(devices), bool(int(jit)), int(spe) or None, table[model_name],
              args.epochs, args.gpus)
        return

    print(f"# python bench/scale.py {' '.join(sys.argv[1:])}".rstrip())
    for model_name in args.models.split(","):
        sizes = table[model_name]
        print(f"\n{model_name}: {sizes}")
        results = {}
        for name, devices, jit, spe in SETTINGS:
            r = results[name] = run_setting(model_name, devices, jit, spe, args)
            if "error" in r:
                print(f"  {name:<18} failed: {r['error']}")
            else:
                print(f"  {name:<18} {r['samples_per_second']:>10.0f} samples/s "
                      f"(steps_per_execution={r['steps_per_execution']}, "
                      f"jit_compile={r['jit_compile']}, replicas={r['replicas']})")

        def ratio(a, b):
            ra, rb = results[a], results[b]
            if "error" in ra or "error" in rb:
                return "n/a"
            return f"{ra['samples_per_second'] / rb['samples_per_second']:.2f}x"

        print(f"  XLA / no XLA (1 device):           {ratio('1 device, XLA', '1 device')}")
        xla_two = results["2 devices, XLA"]
        if "error" not in xla_two and not xla_two["jit_compile"]:
            print("  XLA / no XLA (2 devices):          n/a (XLA is off under the strategy)")
        else:
            print(f"  XLA / no XLA (2 devices):          {ratio('2 devices, XLA', '2 devices')}")
        print(f"  2 devices / 1 device (spe=1):      {ratio('2 devices', '1 device, spe=1')}")
        print(f"  2 devices / 1 device (default S):  {ratio('2 devices', '1 device')}")


if __name__ == "__main__":
    main()
