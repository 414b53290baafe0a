"""Figures of the within-specimen APT analyses (matplotlib object API; no pyplot state).

Each function takes a result object (or an ion table with its ranges) and returns a
:class:`matplotlib.figure.Figure`; :func:`save_figure` writes it. Nothing here computes
analysis results; the atom maps only subsample and project the ion positions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from liprobe.report.canvas import element_color, new_figures, save_figure
from liprobe.report.canvas import new_figure as _figure

__all__ = ["plot_spectrum", "plot_profile", "plot_fda", "plot_fda_all", "plot_mu_scan",
           "plot_proxigram", "plot_atom_maps", "save_figure"]


def _ion_color(ranges, k: int) -> str:
    ion = ranges.ions[int(k)]
    return element_color(ion.atoms[0][0]) if ion.atoms else "#17becf"


def plot_spectrum(spectrum, *, background=None, ranges=None, log: bool = True,
                  range_da: tuple[float, float] | None = None) -> Figure:
    """Mass spectrum (counts per bin), optional background model and ranges shaded in the
    colour of their ion's first element, each ion labelled once above its tallest range."""
    fig, ax = _figure((9.0, 4.0))
    centres = spectrum.centers_da
    counts = spectrum.counts.astype(float)
    ax.step(centres, np.where(counts > 0, counts, np.nan) if log else counts, where="mid",
            lw=0.7, color="k", label="counts")
    if background is not None:
        bg = background.counts_in(spectrum.edges_da[:-1], spectrum.edges_da[1:])
        ax.plot(centres, bg, color="tab:orange", lw=1.0, label="background (constant TOF)")
    if ranges is not None and ranges.n_ranges:
        heights = np.array([counts[(centres >= lo) & (centres < hi)].max(initial=0.0)
                            for lo, hi in zip(ranges.low_da, ranges.high_da)])
        labelled: set[int] = set()
        order = np.argsort(-heights)
        for r in order:
            lo, hi, k = ranges.low_da[r], ranges.high_da[r], int(ranges.ion_index[r])
            ax.axvspan(lo, hi, color=_ion_color(ranges, k), alpha=0.3, lw=0)
            if k not in labelled and heights[r] > 0:
                labelled.add(k)
                ax.annotate(ranges.ions[k].name, (0.5 * (lo + hi), heights[r]),
                            xytext=(0, 3), textcoords="offset points", rotation=90,
                            fontsize=7, ha="center", va="bottom", color=_ion_color(ranges, k))
    if log:
        ax.set_yscale("log")
        top = np.nanmax(np.where(counts > 0, counts, np.nan)) if (counts > 0).any() else 10
        ax.set_ylim(0.5, top * 20)
    if range_da is not None:
        ax.set_xlim(*range_da)
    ax.set_xlabel("mass-to-charge (Da)")
    ax.set_ylabel(f"counts / {spectrum.bin_width_da:g} Da")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def plot_profile(profile, *, elements: Sequence[str] | None = None,
                 quantity: str = "ratio", ax=None) -> Figure:
    """Profile as steps over each bin's true extent with a 1σ band: a partial end bin
    shows its own (shorter) width. ``quantity="ratio"`` (to the denominator) or
    ``"fraction"``."""
    if ax is None:
        fig, ax = _figure()
    else:
        fig = ax.figure
    values = profile.ratios if quantity == "ratio" else profile.fractions
    sigmas = profile.ratio_sigmas if quantity == "ratio" else profile.sigmas
    names = profile.elements if elements is None else tuple(elements)
    full = partial_bins(profile)
    for name in names:
        i = profile.elements.index(name)
        colour = element_color(name)
        sel = np.flatnonzero(full)
        if sel.size:
            lo, hi = sel[0], sel[-1] + 1
            edges = np.append(profile.start_nm[lo:hi], profile.end_nm[hi - 1])
            v, s = values[lo:hi, i], sigmas[lo:hi, i]
            ax.stairs(v, edges, color=colour, lw=1.4, label=name, baseline=None)
            ax.stairs(v + s, edges, baseline=v - s, fill=True, color=colour, alpha=0.2, lw=0)
        for b in np.flatnonzero(~full):
            # an end bin holding under half the atoms of a typical bin: the needle's cap or
            # its last partial slice; drawn dotted over its extent, not as a full bin
            ax.plot([profile.start_nm[b], profile.end_nm[b]], [values[b, i]] * 2, ls=":",
                    color=colour, lw=1.2, label=f"{name}, partial bin (few atoms)"
                    if b == np.flatnonzero(~full)[-1] else None)
    ax.set_xlabel(f"distance (nm): {profile.axis}")
    ax.set_ylabel("ratio to " + "+".join(profile.denominator) if quantity == "ratio"
                  else "atom fraction")
    ax.legend(fontsize=8)
    return fig


def partial_bins(profile) -> np.ndarray:
    """True for the bins drawn as full bins: all but the end bins holding fewer than half
    the median atoms per bin (the cap or a partial last slice of the needle)."""
    atoms = np.asarray(profile.n_atoms, dtype=np.float64)
    full = np.ones(atoms.shape, dtype=bool)
    if atoms.size < 2:
        return full
    typical = float(np.median(atoms[atoms > 0])) if (atoms > 0).any() else 0.0
    sparse = atoms < 0.5 * typical
    for order in (range(atoms.size), range(atoms.size - 1, -1, -1)):
        for b in order:
            if not sparse[b]:
                break
            full[b] = False
    return full


def plot_proxigram(profile, *, elements: Sequence[str] | None = ("Li",), ax=None) -> Figure:
    """Line proxigram: ratio against distance from the feature axes."""
    fig = plot_profile(profile, elements=elements, ax=ax)
    (ax or fig.axes[0]).set_xlabel("distance from line feature axis (nm)")
    return fig


def _draw_fda(ax, r, element: str) -> None:
    k = np.asarray(r.k, dtype=np.float64)
    ax.stairs(r.observed, np.append(k - 0.5, k[-1] + 0.5) if k.size else [0.0], fill=True,
              color=element_color(element), alpha=0.55, label="observed")
    ax.plot(r.k, r.expected, "k-", lw=1.2, label="binomial (random)")
    hi = int(np.max(np.flatnonzero((r.observed > 0) | (r.expected > 0.5)), initial=1)) + 2
    lo = int(np.min(np.flatnonzero((r.observed > 0) | (r.expected > 0.5)), initial=0))
    ax.set_xlim(max(lo - 1.5, -0.5), min(hi, r.k[-1]) + 0.5)
    ax.set_xlabel(f"{element} per block of {r.block_ions} ions")
    ax.set_ylabel("blocks")
    ax.set_title(f"{element}: χ² = {r.chi2:.1f}, ν = {r.dof}, p = {r.p_value:.2g}, "
                 f"μ = {r.mu:.3f}", fontsize=8)


def plot_fda(result, element: str) -> Figure:
    """Observed block frequencies against the binomial expectation for ``element``."""
    fig, ax = _figure()
    _draw_fda(ax, result.species[element], element)
    ax.legend(fontsize=8)
    return fig


def plot_fda_all(result, elements: Sequence[str] | None = None) -> Figure:
    """One panel per element of an FDA result: observed against binomial."""
    names = list(result.species) if elements is None else list(elements)
    ncols = min(len(names), 3) or 1
    nrows = -(-len(names) // ncols) or 1
    fig, axes = new_figures(ncols, nrows, size=(3.3 * ncols, 2.7 * nrows))
    for ax, name in zip(axes, names):
        _draw_fda(ax, result.species[name], name)
    for ax in axes[len(names):]:
        ax.set_axis_off()
    if names:
        axes[0].legend(fontsize=7)
    return fig


def plot_mu_scan(scan) -> Figure:
    """Pearson μ against block size, per element."""
    fig, ax = _figure()
    for name, mu in scan.mu.items():
        ax.plot(scan.block_ions, mu, marker="o", label=name, color=element_color(name))
    ax.set_xscale("log")
    ax.set_xlabel("block size n_b (ions)")
    ax.set_ylabel("Pearson μ")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    return fig


def plot_atom_maps(xyz_nm: np.ndarray, element_of_ion: np.ndarray, elements: Sequence[str],
                   *, projection: str = "xz", max_points: int = 20000,
                   slab_nm: float | None = None, rng: np.random.Generator | None = None,
                   depth_offset_nm: float = 0.0) -> Figure:
    """2-D atom maps: one panel per element, ions projected on ``projection`` ("xz": side
    view, z the analysis direction pointing down; "xy": top view).

    ``element_of_ion`` holds, per ion, the index into ``elements`` of its (first) element
    or -1 for unranged ions. At most ``max_points`` ions per panel are drawn (a seeded
    subsample when ``rng`` is given, else a stride); ``slab_nm`` keeps a slab of that
    thickness through the centre (side view: in y). ``depth_offset_nm`` is added to z in
    the side view so the axis reads depth below the particle surface.
    """
    xyz = np.asarray(xyz_nm, dtype=np.float32)
    species = np.asarray(element_of_ion)
    a, b = {"xz": (0, 2), "yz": (1, 2), "xy": (0, 1)}[projection]
    keep = np.ones(len(xyz), dtype=bool)
    if slab_nm is not None:
        c = 1 if projection == "xz" else (0 if projection == "yz" else 2)
        centre = float(np.median(xyz[:, c])) if len(xyz) else 0.0
        keep &= np.abs(xyz[:, c] - centre) <= slab_nm / 2
    ncols = len(elements)
    fig, axes = new_figures(ncols, 1, size=(2.1 * ncols + 0.6, 4.2 if a != 0 or b == 2 else 2.6))
    for j, (ax, name) in enumerate(zip(axes, elements)):
        idx = np.flatnonzero(keep & (species == j))
        if len(idx) > max_points:
            idx = (np.sort(rng.choice(idx, max_points, replace=False)) if rng is not None
                   else idx[:: -(-len(idx) // max_points)])
        u, v = xyz[idx, a], xyz[idx, b]
        if b == 2:
            v = v + depth_offset_nm
        ax.scatter(u, v, s=0.6, c=element_color(name), linewidths=0, rasterized=True)
        ax.set_title(f"{name} ({len(np.flatnonzero(keep & (species == j)))} ions)", fontsize=8)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel(f"{'xyz'[a]} (nm)", fontsize=8)
        ax.tick_params(labelsize=7)
        if b == 2:
            ax.invert_yaxis()
    axes[0].set_ylabel("depth below particle surface (nm)" if b == 2 and depth_offset_nm
                       else f"{'xyz'[b]} (nm)", fontsize=8)
    return fig
