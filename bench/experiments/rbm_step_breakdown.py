"""Where the time of a batch-100 PCD-1 step of the 784 x 500 RBM goes.

    python bench/experiments/rbm_step_breakdown.py            # ~2 minutes; use a quiet machine

Interleaved in one process, 300 steps per row, best of 4 repeats, milliseconds
per step, each row compiled by TensorFlow's graph executor and by XLA:

1. one 100 x 784 x 500 matmul (the unit of work; a step is ~5 of them);
2. the minimal PCD-1 step in raw TensorFlow without random numbers (the
   samples thresholded at 0.5) and 3. with them (128,400 uniforms: Philox in
   the graph, ThreeFry under XLA);
4. our `BernoulliRBM.train_step` (PCD-1, centred) in a compiled loop over
   slices of a constant tensor (no `tf.data`, no Keras loop);
0. one step's 128,400 U[0, 1) draws, from `keras.random.uniform` (the
   default "auto_select" generator) compiled both ways, and from ThreeFry
   under XLA;
then, once each,
5. `fit` on the NumPy array (`shuffle=False`, `steps_per_execution=100`): the
   chunked loop, XLA by default, and with `jit_compile=False`;
6. `fit` on a `tf.data` dataset of the same batches (Keras's loop).

Differences between rows are the costs of what each row adds: 3 - 2 the
random numbers, 4 - 3 what the model adds (biases, centring, statistics,
metrics, the Keras optimizer), 5 - 4 and 6 - 4 the cost of `fit` and its data
feeding.
"""

import argparse
import os
import time

import numpy as np

B, D, H = 100, 784, 500


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--repeats", type=int, default=4)
    args = p.parse_args(argv)

    import keras
    import tensorflow as tf

    from keras_genmodels.rbm import BernoulliRBM

    steps = args.steps
    x = (np.random.default_rng(0).random((steps * B, D)) < 0.3).astype("float32")
    xt = tf.constant(x)
    w = tf.Variable(tf.random.normal((D, H)) * 0.01)

    def slice_at(i):
        return tf.slice(xt, [tf.math.floormod(i, steps) * B, 0], [B, D])

    def compiled(body, jit):
        @tf.function(jit_compile=jit)
        def loop():
            return tf.while_loop(lambda i, a: i < steps, lambda i, a: (i + 1, a + body(i)), [0, 0.0])[1]

        return lambda: loop().numpy()

    def matmul(i):
        return tf.reduce_sum(tf.matmul(slice_at(i), w))

    def minimal(random, jit):
        chains = tf.Variable(tf.zeros((B, H)))
        momentum = tf.Variable(tf.zeros((D, H)))
        row_weight = tf.concat([-tf.ones((B, 1)), tf.ones((B, 1))], 0) / B
        alg = "threefry" if jit else "philox"

        def sample(p, i, j):
            if random:
                u = tf.random.stateless_uniform(tf.shape(p), tf.stack([i, j]), alg=alg)
                return tf.cast(u < p, tf.float32)
            return tf.cast(p > 0.5, tf.float32)

        def body(i):
            v_model = sample(tf.sigmoid(tf.matmul(chains, w, transpose_b=True)), i, 0)
            rows = tf.concat([slice_at(i), v_model], 0)
            ph = tf.sigmoid(tf.matmul(rows, w))
            chains.assign(sample(ph[B:], i, 1))
            grad = tf.matmul(rows, ph * row_weight, transpose_a=True)
            momentum.assign(0.5 * momentum - 0.01 * grad)
            w.assign_add(momentum)
            return grad[0, 0]

        return body

    def model(jit_compile="auto"):
        m = BernoulliRBM(D, H, persistent=True, n_chains=B, centering=True, seed=0)
        m.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.5), steps_per_execution=100,
                  jit_compile=jit_compile)
        m.build((None, D))
        m.optimizer.build(m.trainable_variables)
        return m

    def keras_uniforms():
        generator = keras.random.SeedGenerator(0)
        return lambda i: tf.reduce_sum(keras.random.uniform((B, H + D), seed=generator))

    def threefry_uniforms(i):
        return tf.reduce_sum(tf.random.stateless_uniform((B, H + D), tf.stack([i, 0]), alg="threefry"))

    rows = {}
    for name, jit in (("graph", False), ("XLA", True)):
        step_model = model()
        rows[f"one step's 128,400 uniforms, keras.random ({name})"] = compiled(keras_uniforms(), jit)
        if jit:  # TensorFlow's own kernels have no ThreeFry
            rows[f"the same, ThreeFry ({name})"] = compiled(threefry_uniforms, jit)
        rows[f"one 100x784x500 matmul ({name})"] = compiled(matmul, jit)
        rows[f"minimal PCD-1 step, no random numbers ({name})"] = compiled(minimal(False, jit), jit)
        rows[f"minimal PCD-1 step ({name})"] = compiled(minimal(True, jit), jit)
        rows[f"our train_step in a compiled loop ({name})"] = compiled(
            lambda i, m=step_model: m.train_step(slice_at(i))["free_energy"], jit
        )
    numpy_xla, numpy_graph, dataset_model = model(), model(False), model()
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(B).prefetch(2)
    rows["fit on NumPy (chunked, XLA: the default)"] = lambda: numpy_xla.fit(
        x, batch_size=B, epochs=1, shuffle=False, verbose=0)
    rows["fit on NumPy (chunked, jit_compile=False)"] = lambda: numpy_graph.fit(
        x, batch_size=B, epochs=1, shuffle=False, verbose=0)
    rows["fit on a tf.data dataset (Keras's loop)"] = lambda: dataset_model.fit(dataset, epochs=1, verbose=0)
    for fn in rows.values():
        fn()  # trace and compile
    times = {name: [] for name in rows}
    load_start = os.getloadavg()[0]
    for _ in range(args.repeats):
        for name, fn in rows.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    print(f"{steps} steps per row, best of {args.repeats}; load average {load_start:.1f} -> "
          f"{os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    for name in rows:
        print(f"  {name:52s} {1000 * min(times[name]) / steps:6.3f} ms/step")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
