"""Figures of the within-specimen APT analyses (matplotlib, Agg; no pyplot state).

Each function takes a result object and returns a :class:`matplotlib.figure.Figure`;
:func:`save_figure` writes it. Nothing here computes analysis results.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from liprobe.report._canvas import new_figure as _figure
from liprobe.report._canvas import save_figure

__all__ = ["plot_spectrum", "plot_profile", "plot_fda", "plot_mu_scan", "plot_proxigram",
           "save_figure"]


def plot_spectrum(spectrum, *, background=None, ranges=None, log: bool = True,
                  range_da: tuple[float, float] | None = None) -> Figure:
    """Mass spectrum (counts per bin), optional background model and shaded ranges."""
    fig, ax = _figure((9.0, 4.0))
    centres = spectrum.centers_da
    counts = spectrum.counts.astype(float)
    ax.step(centres, np.where(counts > 0, counts, np.nan) if log else counts, where="mid",
            lw=0.7, color="k", label="counts")
    if background is not None:
        bg = background.counts_in(spectrum.edges_da[:-1], spectrum.edges_da[1:])
        ax.plot(centres, bg, color="tab:orange", lw=1.0, label="background (constant TOF)")
    if ranges is not None:
        for lo, hi, k in zip(ranges.low_da, ranges.high_da, ranges.ion_index):
            ax.axvspan(lo, hi, color=ranges.colors[0] or "tab:blue", alpha=0.25, lw=0)
            ax.text(0.5 * (lo + hi), 1.0, ranges.ions[k].name, rotation=90, fontsize=6,
                    ha="center", va="bottom", transform=ax.get_xaxis_transform())
    if log:
        ax.set_yscale("log")
    if range_da is not None:
        ax.set_xlim(*range_da)
    ax.set_xlabel("mass-to-charge (Da)")
    ax.set_ylabel(f"counts / {spectrum.bin_width_da:g} Da")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def plot_profile(profile, *, elements: Sequence[str] | None = None,
                 quantity: str = "ratio") -> Figure:
    """Profile with 1σ bands: ``quantity="ratio"`` (to the denominator) or ``"fraction"``."""
    fig, ax = _figure()
    values = profile.ratios if quantity == "ratio" else profile.fractions
    sigmas = profile.ratio_sigmas if quantity == "ratio" else profile.sigmas
    names = profile.elements if elements is None else tuple(elements)
    x = profile.center_nm
    for name in names:
        i = profile.elements.index(name)
        ax.errorbar(x, values[:, i], yerr=sigmas[:, i], marker="o", ms=3, lw=1, capsize=2,
                    label=name)
    ax.set_xlabel(f"distance (nm): {profile.axis}")
    ax.set_ylabel("ratio to " + "+".join(profile.denominator) if quantity == "ratio"
                  else "atom fraction")
    ax.legend(fontsize=8)
    return fig


def plot_proxigram(profile, *, elements: Sequence[str] | None = ("Li",)) -> Figure:
    """Line proxigram: ratio against distance from the feature axes."""
    fig = plot_profile(profile, elements=elements)
    fig.axes[0].set_xlabel("distance from line feature axis (nm)")
    return fig


def plot_fda(result, element: str) -> Figure:
    """Observed block frequencies against the binomial expectation for ``element``."""
    fig, ax = _figure()
    r = result.species[element]
    ax.bar(r.k, r.observed, width=1.0, color="tab:blue", alpha=0.6, label="observed")
    ax.plot(r.k, r.expected, "k-", lw=1.2, label="binomial")
    hi = int(np.max(np.flatnonzero((r.observed > 0) | (r.expected > 0.5)), initial=1)) + 2
    ax.set_xlim(-0.5, min(hi, r.k[-1]) + 0.5)
    ax.set_xlabel(f"{element} ions per block of {r.block_ions}")
    ax.set_ylabel("blocks")
    ax.set_title(f"{element}: χ² = {r.chi2:.1f}, ν = {r.dof}, p = {r.p_value:.2g}, "
                 f"μ = {r.mu:.3f}", fontsize=9)
    ax.legend(fontsize=8)
    return fig


def plot_mu_scan(scan) -> Figure:
    """Pearson μ against block size, per element."""
    fig, ax = _figure()
    for name, mu in scan.mu.items():
        ax.plot(scan.block_ions, mu, marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("block size n_b (ions)")
    ax.set_ylabel("Pearson μ")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    return fig
