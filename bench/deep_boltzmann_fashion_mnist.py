"""Deep belief networks and deep Boltzmann machines on binarised Fashion-MNIST: bounds in nats.

    python bench/deep_boltzmann_fashion_mnist.py dbn_greedy --out /tmp/deep          # A: 784-500-500 from scratch
    python bench/deep_boltzmann_fashion_mnist.py dbn_on_preset --out /tmp/deep       # C: 784-500-784 on the RBM preset
    python bench/deep_boltzmann_fashion_mnist.py dbm_on_preset --out /tmp/deep       # E: 784-500-500 DBM from the preset
    python bench/deep_boltzmann_fashion_mnist.py rbm_control --out /tmp/deep         # the preset, E's negative phase
    python bench/deep_boltzmann_fashion_mnist.py dbm_on_preset --out /tmp/deep --epochs 10 --learning-rate 0.001 --chains 100 --gibbs-steps 1   # D

Data: Fashion-MNIST binarised as pixel > 127 (the `rbm_fashion_mnist_500`
preset's data, where that RBM scores -157.8 nats by AIS); every stack uses
its recipe (centred BernoulliRBMs, PCD-1, 100 chains, SGD 0.001 with
momentum 0.9, weight decay 1e-4, batch 100). Each run prints one JSON line
of figures (bounds in nats per image on the 10,000 test images, log Z by the
library's AIS: 100 chains, Salakhutdinov & Murray's 14,501 temperatures) and
writes it to OUT/VARIANT_seedS.json with the model (`--seed S`, default 0:
the new layers' weights, the chains and the data's draws).

- dbn_greedy: `DeepBeliefNetwork([784, 500, 500]).fit(x, epochs=[30, 30])`;
  the first RBM's log-likelihood and the DBN's Monte Carlo bound (20 draws
  of Q(h1 | v) per image).
- dbn_on_preset: the preset RBM as the first layer, a second RBM of 784
  hidden units started as its transpose (the bound then equals the RBM's
  log-likelihood; measured before training, on 2,000 test images) and
  trained for 30 epochs on Q(h1 | v).
- dbm_on_preset: `DeepBoltzmannMachine.from_rbm(preset, 500)` (centred as the
  preset), trained by PCD with mean field for `--epochs` epochs (default 4)
  with `--chains` persistent chains (500), `--gibbs-steps` sweeps per update
  (5) and SGD `--learning-rate` (0.0001) with momentum 0.9; the mean-field
  bound before, after the first epoch and at the end. The preset's own
  PCD settings (100 chains, 1 sweep, 0.001) lose likelihood from the first
  epoch (docs/deep_boltzmann.md).
- dbn_transpose_top: the preset RBM as the first layer and a 784-unit top
  started as its transpose (the stack is then the RBM: same p(v)), the top
  trained for `--epochs` (4) with the DBM's negative phase (`--chains` 500,
  `--gibbs-steps` 5, SGD `--learning-rate` 0.0001): Hinton et al.'s greedy
  step, where training the top can only raise the bound as far as it is a
  maximum-likelihood fit. log Z_top by AIS on the top's transposed view
  (784 visible units, base rates from the images, as the preset's AIS:
  checked at the start, where it must equal the preset's log Z); AIS on the
  top itself (base rates from its biases) is reported beside it.
- rbm_control: the preset RBM itself continued for `--epochs` epochs with
  dbm_on_preset's negative phase (k = `--gibbs-steps`, `--chains` chains,
  `--learning-rate`): what the DBM's second layer adds is the difference.
"""

import argparse
import json
import os
import time

import keras
import numpy as np

from keras_genmodels import datasets, load_pretrained
from keras_genmodels.rbm import BernoulliRBM, DeepBeliefNetwork, DeepBoltzmannMachine

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


def transposed_view(rbm):
    """A `BernoulliRBM` with the units of `rbm` swapped (W^T, biases swapped): the same Z."""
    view = BernoulliRBM(rbm.n_hidden, rbm.n_visible)
    view.kernel.assign(np.asarray(rbm.kernel).T)
    view.visible_bias.assign(np.asarray(rbm.hidden_bias))
    view.hidden_bias.assign(np.asarray(rbm.visible_bias))
    return view


def top_log_z(dbn, x, args, tag, out):
    """log Z of the DBN's top RBM by AIS on its transposed view (base rates from the images `x`,
    as the preset's AIS) and, for comparison, on the RBM itself (base rates from its visible biases)."""
    top = dbn.rbms[-1]
    ais = transposed_view(top).log_partition_ais(data=x, seed=args.seed)
    direct = top.log_partition_ais(seed=args.seed)
    out.update({f"{tag}_log_z_top": ais.log_z, f"{tag}_log_z_top_std": ais.std,
                f"{tag}_log_z_top_direct": direct.log_z, f"{tag}_log_z_top_direct_std": direct.std})
    return ais


def dbn_transpose_top(x, xt, args):
    rbm = load_pretrained("rbm_fashion_mnist_500")
    top = DeepBeliefNetwork([500, 784], seed=args.seed + 7, **STACK).rbms[0]
    dbn = DeepBeliefNetwork.from_rbms([rbm, top], seed=args.seed, k=args.gibbs_steps, n_chains=args.chains)
    dbn.initialize_as_transpose(1)
    out = {"preset_log_z": rbm.log_partition_ais(data=x, seed=args.seed).log_z}
    ais = top_log_z(dbn, x, args, "initial", out)  # = the preset's log Z: the stack is the RBM
    out.update(bound_figures("initial", dbn.log_likelihood_bound(xt, log_z=ais, n_samples=20, seed=args.seed)))
    start = time.perf_counter()
    dbn.fit(x, epochs=[0, args.epochs], batch_size=FIT["batch_size"], learning_rate=args.learning_rate,
            momentum=FIT["momentum"], verbose=2)
    out["train_seconds"] = time.perf_counter() - start
    ais = top_log_z(dbn, x, args, "final", out)
    out.update(bound_figures("dbn", dbn.log_likelihood_bound(xt, log_z=ais, n_samples=20, seed=args.seed)))
    out["dbn_bound_direct_ais"] = dbn.log_likelihood_bound(
        xt, log_z=out["final_log_z_top_direct"], n_samples=20, seed=args.seed).mean
    return dbn, out


def dbm_on_preset(x, xt, args):
    rbm = load_pretrained("rbm_fashion_mnist_500")
    dbm = DeepBoltzmannMachine.from_rbm(rbm, 500, n_chains=args.chains, gibbs_steps=args.gibbs_steps,
                                        weight_decay=1e-4, seed=args.seed)
    dbm.compile(optimizer=keras.optimizers.SGD(args.learning_rate, momentum=FIT["momentum"]),
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


def rbm_control(x, xt, args):
    preset = load_pretrained("rbm_fashion_mnist_500")
    rbm = BernoulliRBM(784, 500, k=args.gibbs_steps, persistent=True, n_chains=args.chains, weight_decay=1e-4,
                       centering=True, seed=args.seed)
    for name in ("kernel", "visible_bias", "hidden_bias", "data_mean", "data_count", "hidden_offset"):
        getattr(rbm, name).assign(getattr(preset, name).numpy())
    rbm.compile(optimizer=keras.optimizers.SGD(args.learning_rate, momentum=FIT["momentum"]), steps_per_execution=50)
    start = time.perf_counter()
    rbm.fit(x, epochs=args.epochs, batch_size=FIT["batch_size"], verbose=2)
    out = {"train_seconds": time.perf_counter() - start}
    ais = rbm.log_partition_ais(seed=args.seed)
    log_p = -np.asarray(rbm.free_energy(xt), dtype="float64") - ais.log_z  # per image
    out.update(rbm_log_likelihood=float(log_p.mean()), rbm_log_likelihood_stderr=float(log_p.std(ddof=1) / np.sqrt(len(log_p))),
               rbm_log_z=ais.log_z, rbm_log_z_std=ais.std)
    return rbm, out


VARIANTS = {"dbn_greedy": dbn_greedy, "rbm_control": rbm_control, "dbn_on_preset": dbn_on_preset,
            "dbm_on_preset": dbm_on_preset, "dbn_transpose_top": dbn_transpose_top}
TUNED = ("dbm_on_preset", "rbm_control", "dbn_transpose_top")  # --learning-rate, --chains, --gibbs-steps


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("variant", choices=sorted(VARIANTS))
    p.add_argument("--out", required=True, help="folder of VARIANT.json and VARIANT.keras")
    p.add_argument("--epochs", type=int, default=None, help="default: 30 for the DBNs' layers, 4 for the DBM")
    p.add_argument("--learning-rate", type=float, default=0.0001, help="dbm_on_preset: SGD's step (momentum 0.9)")
    p.add_argument("--chains", type=int, default=500, help="dbm_on_preset: persistent chains")
    p.add_argument("--gibbs-steps", type=int, default=5, help="dbm_on_preset: Gibbs sweeps per update")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--local-dir", default=None, help="folder of the Fashion-MNIST IDX files (offline)")
    args = p.parse_args(argv)
    if args.epochs is None:
        args.epochs = 4 if args.variant in TUNED else 30
    common = {"binarize": "fixed", "flatten": True, "local_dir": args.local_dir}
    x = datasets.load_unit_images("fashion_mnist", "train", **common)
    xt = datasets.load_unit_images("fashion_mnist", "test", **common)
    keras.utils.set_random_seed(args.seed)
    start = time.perf_counter()
    model, out = VARIANTS[args.variant](x, xt, args)
    settings = {"learning_rate": args.learning_rate, "chains": args.chains, "gibbs_steps": args.gibbs_steps} \
        if args.variant in TUNED else {}
    out = {"variant": args.variant, "epochs": args.epochs, "seed": args.seed, "date": time.strftime("%Y-%m-%d"), **settings,
           "seconds": time.perf_counter() - start, **out}
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, f"{args.variant}_seed{args.seed}.keras"))
    with open(os.path.join(args.out, f"{args.variant}_seed{args.seed}.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
