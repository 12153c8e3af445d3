"""Figures of the physics subpackage (matplotlib).

Units: J = k_B = 1, so temperatures are in J / k_B, energies in J, heat
capacities in k_B and susceptibilities in 1 / J (all per spin). With a `path`
each function writes a PNG and returns the path; without one it returns the
open matplotlib Figure (shown inline in Jupyter), as in `keras_genmodels.plotting`.
"""

import numpy as np

from keras_genmodels.physics import lattice
from keras_genmodels.plotting import finish_figure, new_figure

LABELS = {
    "energy": "energy per spin <e> (J)",
    "abs_magnetization": "<|m|> (m = M / N)",
    "heat_capacity": "heat capacity per spin c (k_B)",
    "susceptibility": "susceptibility per spin χ (1 / J)",
    "binder_cumulant": "Binder cumulant U_4",
}
SYMBOLS = {
    "energy": "<e>",
    "abs_magnetization": "<|m|>",
    "heat_capacity": "c",
    "susceptibility": "χ",
    "binder_cumulant": "U_4",
}
TEMPERATURE = "temperature T (J / k_B)"


def observables_vs_temperature(curves, path=None, names=None, title=None):
    """One panel per observable, each curve against T, with error bars.

    Args:
        curves: list of dicts with `label`, `temperature` (array) and
            `values`: name -> array of values, or name -> (values, errors);
            optional `style` (a matplotlib format string such as "k-").
        path: the PNG to write. Defaults to `None`: return the open Figure.
        names: observables to draw. Defaults to `None`: e, <|m|>, c and chi.
        title: figure title. Defaults to `None`.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    names = names or ("energy", "abs_magnetization", "heat_capacity", "susceptibility")
    fig, axes = new_figure(path, 1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        for curve in curves:
            if name not in curve["values"]:
                continue
            v = curve["values"][name]
            t = np.asarray(curve["temperature"])
            style = curve.get("style", "o")
            if isinstance(v, tuple):
                ax.errorbar(t, v[0], yerr=v[1], fmt=style, label=curve["label"], capsize=2, ms=4)
            else:
                ax.plot(t, v, style, label=curve["label"])
        ax.axvline(lattice.T_C, color="grey", lw=0.8, ls=":", label="T_c")
        ax.set_xlabel(TEMPERATURE)
        ax.set_ylabel(LABELS.get(name, name))
    axes[0][0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return finish_figure(fig, path)


def latent_vs_magnetization(latent, temperatures, path=None):
    """Scatter of each latent mean against m, coloured by temperature.

    Args:
        latent: the dict of `analysis.vae_latent_vs_magnetization`.
        temperatures: the temperature of each configuration.
        path: the PNG to write. Defaults to `None`: return the open Figure.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    z, m = latent["z_mean"], latent["magnetization"]
    k = z.shape[1]
    fig, axes = new_figure(path, 1, k, figsize=(4.5 * k, 3.8), squeeze=False)
    for j, ax in enumerate(axes[0]):
        sc = ax.scatter(m, z[:, j], c=temperatures, cmap="coolwarm", s=3)
        ax.set_xlabel("magnetisation per spin m = M / N")
        ax.set_ylabel(f"latent mean μ_{j}")
        ax.set_title(f"corr(μ_{j}, m) = {latent['correlation'][j]:.3f}")
    fig.colorbar(sc, ax=axes[0][-1], label=TEMPERATURE)
    fig.tight_layout()
    return finish_figure(fig, path)


def reconstruction_vs_temperature(rec, path=None, n_sites=None):
    """The VAE's mean reconstruction loss -E_Q[log p(x|h)] (per spin if `n_sites`) against T.

    Args:
        rec: the dict of `analysis.vae_reconstruction_vs_temperature`.
        path: the PNG to write. Defaults to `None`: return the open Figure.
        n_sites: divide by the number of spins. Defaults to `None`: per configuration.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    scale = 1.0 / n_sites if n_sites else 1.0
    fig, ax = new_figure(path, figsize=(5, 3.6))
    ax.errorbar(
        rec["temperature"], rec["reconstruction_loss"] * scale, yerr=rec["error"] * scale,
        fmt="o-", capsize=2, ms=4,
    )
    ax.axvline(lattice.T_C, color="grey", lw=0.8, ls=":", label="T_c")
    ax.set_xlabel(TEMPERATURE)
    ax.set_ylabel("-E_Q[log p(x|h)] " + ("(nats per spin)" if n_sites else "(nats per configuration)"))
    ax.set_title("VAE reconstruction loss")
    ax.legend()
    fig.tight_layout()
    return finish_figure(fig, path)


def kl_vs_hidden_units(scan, path=None):
    """Exact KL(p_T || q) against the number of hidden units, one line per T.

    Args:
        scan: the dict of `studies.hidden_units_scan`.
        path: the PNG to write. Defaults to `None`: return the open Figure.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    fig, ax = new_figure(path, figsize=(5, 3.8))
    for T, row in zip(scan["temperatures"], scan["kl"]):
        ax.plot(scan["hidden_sizes"], row, "o-", label=f"T = {T:.3g}")
    ax.axhline(scan["kl_threshold"], color="grey", ls=":", lw=0.8, label=f"KL = {scan['kl_threshold']:g}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("number of hidden units")
    ax.set_ylabel("KL(p_T || q_RBM) (nats per configuration)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return finish_figure(fig, path)


def accuracy_vs_hidden_units(scan, path=None, names=("energy", "heat_capacity")):
    """|relative error| of sampled observables and KL per spin against hidden units.

    Args:
        scan: the dict of `studies.hidden_units_scan_sampled`.
        path: the PNG to write. Defaults to `None`: return the open Figure.
        names: observables drawn, one panel each, before the KL panel.
            Defaults to energy and heat capacity.

    Returns:
        The PNG's path if `path` is given, else the Figure.
    """
    panels = len(names) + 1
    fig, axes = new_figure(path, 1, panels, figsize=(4.2 * panels, 3.6), squeeze=False)
    hs = scan["hidden_sizes"]
    for i, T in enumerate(scan["temperatures"]):
        label = f"T = {T:.3g}"
        for ax, name in zip(axes[0], names):
            ax.errorbar(hs, np.abs(scan["relative_error"][name][i]), yerr=scan["error_bar"][name][i],
                        fmt="o-", ms=4, capsize=2, label=label)
        axes[0][-1].errorbar(hs, scan["kl_per_spin"][i], yerr=scan["kl_per_spin_error"][i],
                             fmt="o-", ms=4, capsize=2, label=label)
    for ax, name in zip(axes[0], names):
        ax.set_ylabel(f"relative error |RBM / Monte Carlo - 1| of {SYMBOLS.get(name, name)}", fontsize=8)
        ax.set_title(f"{SYMBOLS.get(name, name)}: RBM samples vs Monte Carlo", fontsize=9)
    axes[0][-1].set_ylabel("KL(p_T || q_RBM) (nats per spin)")
    axes[0][-1].set_title("KL per spin (Kaufman log Z_T, AIS log Z_q)", fontsize=9)
    for ax in axes[0]:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("number of hidden units")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return finish_figure(fig, path)
