"""`fit` on in-memory data in chunks of mini-batches, each chunk one compiled loop.

Keras's `fit` calls its compiled train function once per `steps_per_execution`
mini-batches, each fetched from a `tf.data` pipeline. For an RBM at batch 100
the step is a few matmuls, and the fetches and the per-call overhead cost as
much as the step. So for NumPy data `fit` feeds chunks instead: each element
is the indices of `steps_per_execution` consecutive mini-batches and the whole
data set, passed by reference (`keras_genmodels._arrays.row_chunks`), and the
train function runs `train_chunk`, a `fori_loop` that gathers each
mini-batch's rows and makes its CD/PCD update (`contrastive_step`): exactly
the updates, in the same order, that Keras's own loop would make, compiled
by XLA as one loop when `jit_compile="auto"`.

`ChunkedTraining` is that part of `RestrictedBoltzmannMachine`: it replaces
`GenerativeModel.fit_arrays` (how NumPy data is fed) and, while a chunked
`fit` runs, has Keras build its train function from `train_chunk` instead
of `train_step`.
"""

import contextlib

import keras
from keras import ops

from keras_genmodels import _arrays, distribute
from keras_genmodels.training import StepProgbar


class ChunkedTraining:
    """Chunked `fit` on NumPy data for `RestrictedBoltzmannMachine`."""

    # ((mini-batch size, steps per execution, XLA), Keras train function) of the
    # last chunked `fit`, reused by the next one with the same key.
    _chunk_train_function = None

    def forget_compiled_chunks(self):
        """Drop the train function of an earlier chunked `fit` (a new `compile` was made)."""
        self._chunk_train_function = None

    def uses_chunks(self):
        """Whether `fit` on NumPy data trains in chunks of `steps_per_execution` mini-batches.

        Yes where `GenerativeModel.fit` batches NumPy data itself (features
        alone, on one device outside any `tf.distribute` strategy, even of
        one replica: the optimizer's cross-replica update, a merge_call,
        cannot run inside the chunk's loop), when `steps_per_execution` > 1
        and not `run_eagerly`.
        """
        return self.steps_per_execution > 1 and not self.run_eagerly

    def fit_arrays(self, x, batch_size, shuffle, seed, **fit_args):
        """Feed the NumPy `x` in chunks (`uses_chunks`), else in mini-batches."""
        if not self.uses_chunks():
            return super().fit_arrays(x, batch_size, shuffle, seed, **fit_args)
        chunks = _arrays.row_chunks(x, batch_size * self.steps_per_execution, shuffle, seed)
        for callback in fit_args.get("callbacks") or []:
            if isinstance(callback, StepProgbar):  # count mini-batches, not chunks
                callback.count_minibatches(self.steps_per_execution, total=-(-x.shape[0] // batch_size))
        with self._chunked_training(batch_size):
            return keras.Model.fit(self, chunks, shuffle=False, **fit_args)

    @contextlib.contextmanager
    def _chunked_training(self, minibatch):
        """Keras runs one chunk of `steps_per_execution` mini-batches per call.

        Inside, Keras builds its train function from `train_chunk` (for
        mini-batches of `minibatch` rows), its own `steps_per_execution` is 1
        (one chunk per call, so callbacks and the progress bar see chunks),
        and XLA compiles the chunk when `jit_compile="auto"`. The compiled
        chunk function is kept for the next `fit` with the same settings;
        Keras's other functions are restored on the way out.
        """
        jit = self.jit_compile if self.jit_request != "auto" else (
            keras.backend.backend() == "tensorflow"
        )
        key = (minibatch, self.steps_per_execution, jit)
        saved = (self.steps_per_execution, self.jit_compile, self.train_function, self.test_function)
        cached_key, cached_function = self._chunk_train_function or (None, None)
        self.minibatch_size = minibatch
        self.steps_per_execution = 1
        self.jit_compile = jit
        self.train_function = cached_function if cached_key == key else None
        self.test_function = None
        # Keras builds its train function from `model.train_step`.
        self.train_step = self.train_chunk
        try:
            yield
        finally:
            del self.train_step
            self._chunk_train_function = (key, self.train_function)
            self.minibatch_size = None
            self.steps_per_execution, self.jit_compile, self.train_function, self.test_function = saved

    def train_chunk(self, data):
        """CD/PCD updates on consecutive mini-batches of one chunk, in one compiled loop.

        `data` is `(rows, x)`: the indices of the chunk's rows and the whole
        data set (see `_arrays.row_chunks`). The chunk's mini-batches of
        `minibatch_size` rows (a last, smaller one for the rows left over) are
        gathered and updated on in turn (`contrastive_step`). Every slice has a
        size known when XLA compiles the chunk, so under `jit_compile=True`
        the whole chunk is one XLA loop.
        """
        rows, x = data
        size = self.minibatch_size
        n = ops.shape(rows)[0]  # a Python int, or a tensor XLA knows when it compiles
        n_full = n // size
        # Mini-batches of min(size, n) rows: a chunk smaller than one mini-batch
        # makes no full update, but XLA still compiles the loop body.
        full = min(size, n) if isinstance(n, int) else ops.minimum(size, n)

        def update(start, length):
            batch = ops.take(x, ops.slice(rows, (start,), (length,)), axis=0)
            self.contrastive_step(self.checked_batch(batch))

        def one_update(i, carry):
            update(i * size, full)
            return carry + 1

        def last_update():
            update(n_full * size, n - n_full * size)
            return ops.zeros((), "int32")

        ops.fori_loop(0, n_full, one_update, ops.zeros((), "int32"))
        left = n - n_full * size
        if isinstance(left, int):
            if left:
                last_update()
        else:
            ops.cond(left > 0, last_update, lambda: ops.zeros((), "int32"))
        return distribute.step_outputs(self.metric_tracker.result())
