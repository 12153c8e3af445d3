"""Pictures of the GANs: sample grids during training, spin configurations, the losses.

- `SampleGrids`: a callback that draws the same z (and conditions) at the end
  of every epoch and writes the grid, so that the epochs' pictures show one
  generator learning, not new noise.
- `spin_grid`: generated Ising configurations (black −1, white +1), a row per
  temperature for a temperature-conditional model.
- `losses`: the discriminator's and the generator's losses per epoch, and the
  critic's Wasserstein estimate for a WGAN (`plotting.training_curves`).
"""


import numpy as np

from keras_genmodels import _validation as v
from keras_genmodels import plotting, training


class SampleGrids(training.EpochSampleGrids):
    """Write `folder/epoch_{k:03d}.png`, a grid of n samples from fixed z, after each epoch.

    The samples come from `model.sample(n, seed=seed, ...)`: the same z every
    epoch. A class-conditional model shows the labels 0, 1, 2, ... in turn, a
    temperature-conditional one the middle of its range; spin models a grid of
    configurations.

    Args:
        folder: where the PNG files go (created).
        n: samples per grid. Defaults to `36`.
        seed: the seed of z. Defaults to `0`.
        every: write every `every` epochs (and after the last). Defaults to `1`.
    """

    def grid(self, epoch):
        from keras_genmodels.gan import cli, data

        samples = self.model.sample(self.n, seed=self.seed, **cli.default_conditions(self.model, self.n))
        # spins: black −1, white +1
        return data.to_unit_images(samples), f"{type(self.model).__name__} samples after epoch {epoch + 1}"


def spin_grid(model, temperatures=None, n_per_row=8, path=None, seed=0):
    """Generated configurations: a row of `n_per_row` per temperature (conditional) or 4 rows.

    Args:
        model: a GAN of spins.
        temperatures: the rows' temperatures (a conditional model); `None` for
            5 points across its range. Defaults to `None`.
        n_per_row: configurations per row. Defaults to `8`.
        path: PNG path, or `None` to show the figure.
        seed: the samples' seed. Defaults to `0`.
    """
    n_per_row = v.check_positive_int("n_per_row", n_per_row)
    if model.temperature_range is not None:
        lo, hi = model.temperature_range
        temperatures = np.linspace(lo, hi, 5) if temperatures is None else np.asarray(temperatures, float)
        rows = [model.sample(n_per_row, seed=seed, temperature=float(T)) for T in temperatures]
        labels = [f"T = {T:.3g}" for T in temperatures]
    else:
        rows = list(model.sample(4 * n_per_row, seed=seed).reshape((4, n_per_row) + tuple(model.data_shape)))
        labels = [""] * 4
    fig, axes = plotting.new_figure(path, nrows=len(rows), ncols=n_per_row, figsize=(1.1 * n_per_row, 1.2 * len(rows)),
                                    squeeze=False)
    for r, (row, label) in enumerate(zip(rows, labels)):
        for c in range(n_per_row):
            ax = axes[r][c]
            ax.imshow(row[c, :, :, 0], cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0 and label:
                ax.set_ylabel(label)
    fig.suptitle(f"{type(model).__name__}: generated configurations (black -1, white +1)")
    return plotting.finish_figure(fig, path)


def losses(history, path=None):
    """The losses per epoch (and the Wasserstein estimate and gradient penalty of a WGAN-GP)."""
    return plotting.training_curves(history, path, title="GAN training")
