"""The one backend-specific helper of the RBM family: compiling a loop.

Everything else in `keras_genmodels.rbm` is written in `keras.ops` /
`keras.random`. Long Gibbs chains and the ~14,500 steps of annealed importance
sampling are `keras.ops.fori_loop`s; run eagerly, a TensorFlow `while_loop`
would be a Python loop of eager ops, so the loop is wrapped in a graph function
here.
"""

import keras


def compile_function(fn):
    """Return `fn` compiled to a graph for the active Keras backend.

    On TensorFlow, a `tf.function` (graph mode, no XLA: on CPU, XLA's dot
    emitter is several times slower than TensorFlow's own matmul at the shapes
    of an RBM). On other backends `fn` is returned unchanged.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, reduce_retracing=True)
    return fn
