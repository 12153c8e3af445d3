"""Variants of the AIS loop that were tried and left, timed against the shipped loop.

    python bench/experiments/ais_loop_variants.py          # ~5 minutes; use a quiet machine

Trains the model of `bench/rbm_vs_sklearn.py` (as `bench/experiments/ais_log_weight.py`;
`--epochs 5`) or loads `--model FILE`, then:

1. Wall clock, µs per temperature, of `--steps` temperatures from beta 0.9 to 1
   (where 10,000 of the default schedule's 14,500 steps lie), 100 chains,
   each loop compiled by XLA, `--repeats` interleaved timings (order reversed
   every other round), medians:
   - "shipped": one sweep per iteration of the loop, as `log_partition_ais`
     runs it (series form of the log weight; the loop body is rebuilt here
     from the same model methods and `partition` functions);
   - "2 sweeps / iteration", "4 sweeps / iteration": the loop unrolled;
   - "uniforms for 10 / 50 temperatures": the uniforms of a block of
     temperatures drawn at once, outside an inner loop over the block;
   - "the two matmuls only": v W and h W^T with a threshold, nothing else:
     what the matmuls alone cost in the same loop (the AIS's floor);
   and, for each, the seconds to trace the loop and to compile it with XLA,
   which every call of `log_partition_ais` pays on top of its loop.
2. How many units flip per Gibbs sweep in the AIS chains (a NumPy AIS of the
   same model on the default schedule), by range of beta: the fraction of
   visible and hidden units that change, and the fraction of units that
   change in at least one of the 100 chains. An incremental update of v W and
   h W^T from the flipped units only pays off if these are small.
"""

import argparse
import functools
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # bench/, for rbm_vs_sklearn

from ais_log_weight import bench_model
from rbm_vs_sklearn import DEFAULT_DIR

N_CHAINS = 100


def _loops(model, seed_generator):
    """{name: loop(v, log_w, betas, first, stop)} of the variants, not yet compiled."""
    from keras import ops

    from keras_genmodels.rbm import partition
    from keras_genmodels.sampling import backend

    base = model.ais_base(None)
    n_hidden, n_visible = model.n_hidden, model.n_visible

    def sweep(v, log_w, beta_prev, beta, u=None):
        noise = None if u is None else (u[:, :n_hidden], u[:, n_hidden:])
        return partition.ais_sweep(
            model, base, v, log_w, beta_prev, beta, seed_generator, True, True, noise
        )

    def unrolled(v, log_w, betas, first, stop, sweeps):
        def body(i, state):
            for j in range(sweeps):
                k = first + sweeps * i + j
                state = sweep(*state, betas[k - 1], betas[k])
            return state

        return ops.fori_loop(0, (stop - first) // sweeps, body, (v, log_w))

    def blocked(v, log_w, betas, first, stop, block):
        def outer(i, state):
            u = backend.uniform((block, N_CHAINS, n_hidden + n_visible), "float32", seed_generator)
            k0 = first + block * i

            def inner(j, state):
                k = k0 + j
                return sweep(*state, betas[k - 1], betas[k], u[j])

            return ops.fori_loop(0, block, inner, state)

        return ops.fori_loop(0, (stop - first) // block, outer, (v, log_w))

    def matmuls_only(v, log_w, betas, first, stop):
        def body(k, state):
            v, log_w = state
            h = ops.cast(ops.matmul(v, model.kernel) > 0.0, v.dtype)
            return ops.cast(ops.matmul(h, base["kernel_t"]) > 0.0, v.dtype), log_w

        return ops.fori_loop(first, stop, body, (v, log_w))

    return base, {
        "shipped": functools.partial(unrolled, sweeps=1),
        "2 sweeps / iteration": functools.partial(unrolled, sweeps=2),
        "4 sweeps / iteration": functools.partial(unrolled, sweeps=4),
        "uniforms for 10 temperatures": functools.partial(blocked, block=10),
        "uniforms for 50 temperatures": functools.partial(blocked, block=50),
        "the two matmuls only": matmuls_only,
    }


def _flip_fractions(model, seed=0):
    """Rows (beta, visible flipped, visible flipped in some chain, hidden ..., hidden ...)."""
    from keras import ops

    from keras_genmodels.rbm import default_ais_schedule

    w = ops.convert_to_numpy(model.kernel)
    b = ops.convert_to_numpy(model.visible_bias)
    c = ops.convert_to_numpy(model.hidden_bias)
    b_base = ops.convert_to_numpy(model.ais_base(None)["logits"])
    rng = np.random.default_rng(seed)

    def sigmoid(x):
        return 1.0 / (1.0 + np.exp(-x))

    v = (rng.random((N_CHAINS, w.shape[0])) < sigmoid(b_base)).astype(np.float32)
    h_prev = None
    rows = []
    for beta in default_ais_schedule()[1:]:
        h = (rng.random((N_CHAINS, w.shape[1])) < sigmoid(beta * (v @ w + c))).astype(np.float32)
        p_v = sigmoid(beta * (h @ w.T) + (1.0 - beta) * b_base + beta * b)
        v_next = (rng.random(v.shape) < p_v).astype(np.float32)
        dv = v_next != v
        dh = (h != h_prev) if h_prev is not None else None
        rows.append([
            beta, dv.mean(), dv.any(0).mean(),
            np.nan if dh is None else dh.mean(), np.nan if dh is None else dh.any(0).mean(),
        ])
        v, h_prev = v_next, h
    return np.array(rows)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--repeats", type=int, default=4)
    p.add_argument("--model", default=None, help="a saved BernoulliRBM (.keras) instead of training")
    p.add_argument("--no-flips", action="store_true", help="skip part 2")
    p.add_argument("--local-dir", default=DEFAULT_DIR)
    args = p.parse_args(argv)
    if args.steps <= 0 or args.steps % 100:
        p.error(f"--steps must be a positive multiple of 100 (the largest block). Received: {args.steps}")

    import keras
    from keras import ops

    from keras_genmodels.sampling import backend

    model = bench_model(args.model, args.local_dir, args.epochs)

    seed_generator = keras.random.SeedGenerator(0)
    base, loops = _loops(model, seed_generator)
    compiled = {name: backend.compile_function(loop) for name, loop in loops.items()}
    betas = ops.convert_to_tensor(np.linspace(0.9, 1.0, args.steps + 1), model.compute_dtype)
    v0 = model.ais_draw_base(N_CHAINS, base, seed_generator)
    log_w0 = ops.zeros((N_CHAINS,), "float64")
    first, stop = ops.convert_to_tensor(1), ops.convert_to_tensor(args.steps + 1)

    def run(fn):
        start = time.perf_counter()
        ops.convert_to_numpy(fn(v0, log_w0, betas, first, stop)[1])
        return (time.perf_counter() - start) / args.steps * 1e6

    # What a call of `log_partition_ais` adds to its loop: tracing it and compiling it
    # with XLA (a call with no temperatures compiles the same executable).
    setup = {}
    for name, fn in compiled.items():
        start = time.perf_counter()
        fn.get_concrete_function(v0, log_w0, betas, first, first)
        traced = time.perf_counter()
        ops.convert_to_numpy(fn(v0, log_w0, betas, first, first)[1])
        setup[name] = (traced - start, time.perf_counter() - traced)
    for fn in compiled.values():
        run(fn)  # run once untimed
    micros = {name: [] for name in compiled}
    for repeat in range(args.repeats):
        order = list(compiled) if repeat % 2 == 0 else list(compiled)[::-1]
        for name in order:
            micros[name].append(run(compiled[name]))
    print(f"1. µs per temperature, {args.steps} temperatures at beta 0.9-1, {N_CHAINS} chains, "
          f"{args.repeats} interleaved timings (median, then each):")
    shipped = np.median(micros["shipped"])
    for name, values in micros.items():
        median = np.median(values)
        print(f"  {name:30s} {median:6.0f}  ({median / shipped:.2f}x shipped)   "
              + " ".join(f"{t:.0f}" for t in values), flush=True)
    print("   seconds to trace, then to XLA-compile, each loop (in this order):")
    for name, (trace, compile_) in setup.items():
        print(f"  {name:30s} {trace:5.2f}  {compile_:5.2f}")

    if not args.no_flips:
        rows = _flip_fractions(model)
        print("2. units flipped per sweep in the AIS chains (NumPy AIS, default schedule):")
        print("  beta range        steps  visible  (in some chain)  hidden  (in some chain)")
        for low, high in [(0.0, 0.5), (0.5, 0.9), (0.9, 0.99), (0.99, 1.0)]:
            rows_in = rows[(rows[:, 0] > low) & (rows[:, 0] <= high)]
            means = np.nanmean(rows_in[:, 1:], axis=0)
            print(f"  ({low:.2f}, {high:.2f}]  {len(rows_in):10d}  {means[0]:7.1%}  {means[1]:15.1%}  "
                  f"{means[2]:6.1%}  {means[3]:15.1%}")


if __name__ == "__main__":
    main()
