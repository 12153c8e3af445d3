"""Layers for fields on a torus, shared by the families' lattice networks.

`CircularPad2D` pads a batch of (H, W, C) fields periodically, so that a
"valid" convolution after it is a convolution on the torus: the periodic
boundary conditions of the 2D Ising model.
"""

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="keras_genmodels")
class CircularPad2D(layers.Layer):
    """Periodic padding of a (batch, H, W, C) batch by `pad` sites on each side (the torus).

    Row r of the output is row (r − pad) mod H of the input, and the same for
    columns, so that a "valid" convolution after it is a convolution on the
    torus.

    Args:
        pad: sites added on each side, a non-negative int. Defaults to `1`.
    """

    def __init__(self, pad=1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0:
            raise ValueError(f"`pad` must be a non-negative int. Received: pad={pad!r}")
        self.pad = pad

    def call(self, x):
        p = self.pad
        if p == 0:
            return x
        x = ops.concatenate([x[:, -p:], x, x[:, :p]], axis=1)
        return ops.concatenate([x[:, :, -p:], x, x[:, :, :p]], axis=2)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        grow = lambda d: None if d is None else d + 2 * self.pad
        return (b, grow(h), grow(w), c)

    def get_config(self):
        return {**super().get_config(), "pad": self.pad}
