"""Deep belief networks and deep Boltzmann machines on binarised Fashion-MNIST: bounds in nats.

    python bench/deep_boltzmann_fashion_mnist.py dbn_greedy --out /tmp/deep          # A: 784-500-500 from scratch
    python bench/deep_boltzmann_fashion_mnist.py dbn_on_preset --out /tmp/deep       # C: 784-500-784 on the RBM preset
    python bench/deep_boltzmann_fashion_mnist.py dbm_on_preset --out /tmp/deep       # D: 784-500-500 DBM from the preset

Data: Fashion-MNIST binarised as pixel > 127 (the `rbm_fashion_mnist_500`
preset's data, where that RBM scores -157.8 nats by AIS); every stack uses
its recipe (centred BernoulliRBMs, PCD-1, 100 chains, SGD 0.001 with
momentum 0.9, weight decay 1e-4, batch 100). Each run prints one JSON line
of figures (bounds in nats per image on the 10,000 test images, log Z by the
library's AIS: 100 chains, Salakhutdinov & Murray's 14,501 temperatures) and
writes it to OUT/VARIANT.json with the model.

- dbn_greedy: `DeepBeliefNetwork([784, 500, 500]).fit(x, epochs=[30, 30])`;
  the first RBM's log-likelihood and the DBN's Monte Carlo bound (20 draws
  of Q(h1 | v) per image).
- dbn_on_preset: the preset RBM as the first layer, a second RBM of 784
  hidden units started as its transpose (the bound then equals the RBM's
  log-likelihood; measured before training, on 2,000 test images) and
  trained for 30 epochs on Q(h1 | v).
- dbm_on_preset: `DeepBoltzmannMachine.from_rbm(preset, 500)` (centred as the
  preset), trained by PCD with mean field for `--epochs` epochs; the
  mean-field bound before, during and after.
"""

import argparse
import json
import os
import time

import keras

from keras_genmodels import datasets, load_pretrained
from keras_genmodels.rbm import DeepBeliefNetwork, DeepBoltzmannMachine

STACK = {"persistent": True, "n_chains": 100, "weight_decay": 1e-4, "centering": True}
FIT = {"batch_size": 100, "learning_rate": 0.001, "momentum": 0.9, "verbose": 2}


def bound_figures(prefix, bound):
    return {f"{prefix}_bound": bound.mean, f"{prefix}_bound_stderr": bound.stderr, f"{prefix}_log_z": bound.log_z}


def dbn_greedy(x, xt, args):
    dbn = DeepBeliefNetwork([784, 500, 500], seed=args.seed, **STACK)
    start = time.perf_counter()
    dbn.fit(x, epochs=[args.epochs, args.epochs], **FIT)
    out = {"train_seconds": time.perf_counter() - start}
    ais = dbn.rbms[0].log_partition_ais(seed=args.seed)
    out.update(first_rbm_log_likelihood=dbn.rbms[0].log_likelihood(xt, log_z=ais), first_rbm_ais_std=ais.std)
    out.update(bound_figures("dbn", dbn.log_likelihood_bound(xt, n_samples=20, seed=args.seed)))
    return dbn, out


def dbn_on_preset(x, xt, args):
    rbm = load_pretrained("rbm_fashion_mnist_500")
    top = DeepBeliefNetwork([500, 784], seed=args.seed + 7, **STACK).rbms[0]
    dbn = DeepBeliefNetwork.from_rbms([rbm, top], seed=args.seed)
    dbn.initialize_as_transpose(1)
    out = bound_figures("initial_first_2000", dbn.log_likelihood_bound(xt[:2000], n_samples=20, seed=args.seed))
    start = time.perf_counter()
    dbn.fit(x, epochs=[0, args.epochs], **FIT)
    out["train_seconds"] = time.perf_counter() - start
    out.update(bound_figures("dbn", dbn.log_likelihood_bound(xt, n_samples=20, seed=args.seed)))
    return dbn, out


def dbm_on_preset(x, xt, args):
    rbm = load_pretrained("rbm_fashion_mnist_500")
    dbm = DeepBoltzmannMachine.from_rbm(rbm, 500, n_chains=100, weight_decay=1e-4, seed=args.seed)
    dbm.compile(optimizer=keras.optimizers.SGD(FIT["learning_rate"], momentum=FIT["momentum"]),
                steps_per_execution=50)
    out = bound_figures("initial_first_2000", dbm.log_likelihood_bound(xt[:2000], seed=args.seed))
    start = time.perf_counter()
    for epoch in range(args.epochs):
        dbm.fit(x, epochs=epoch + 1, initial_epoch=epoch, batch_size=FIT["batch_size"], verbose=2)
        if epoch == 0:
            out.update(bound_figures("epoch_1_first_2000", dbm.log_likelihood_bound(xt[:2000], seed=args.seed)))
    out["train_seconds"] = time.perf_counter() - start
    out.update(bound_figures("dbm", dbm.log_likelihood_bound(xt, seed=args.seed)))
    return dbm, out


VARIANTS = {"dbn_greedy": dbn_greedy, "dbn_on_preset": dbn_on_preset, "dbm_on_preset": dbm_on_preset}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("variant", choices=sorted(VARIANTS))
    p.add_argument("--out", required=True, help="folder of VARIANT.json and VARIANT.keras")
    p.add_argument("--epochs", type=int, default=None, help="default: 30 for the DBNs' layers, 10 for the DBM")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--local-dir", default=None, help="folder of the Fashion-MNIST IDX files (offline)")
    args = p.parse_args(argv)
    if args.epochs is None:
        args.epochs = 10 if args.variant == "dbm_on_preset" else 30
    common = {"binarize": "fixed", "flatten": True, "local_dir": args.local_dir}
    x = datasets.load_unit_images("fashion_mnist", "train", **common)
    xt = datasets.load_unit_images("fashion_mnist", "test", **common)
    keras.utils.set_random_seed(args.seed)
    start = time.perf_counter()
    model, out = VARIANTS[args.variant](x, xt, args)
    out = {"variant": args.variant, "epochs": args.epochs, "seed": args.seed, "date": time.strftime("%Y-%m-%d"),
           "seconds": time.perf_counter() - start, **out}
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, f"{args.variant}.keras"))
    with open(os.path.join(args.out, f"{args.variant}.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
