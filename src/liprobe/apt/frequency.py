"""Frequency distribution analysis (FDA): observed block compositions against the binomial.

Blocks hold a fixed number ``block_ions`` (n_b) of ranged ions. Per element, k counts the
ions of a block that contain it (a molecular ion such as LiO+ counts once for Li and once
for O), so for a random solid solution k is exactly binomial; counting atoms instead would
make O (O2+, O2 2+) over-dispersed even in a random specimen. Two constructions:

``method="spatial"`` (default)
    An x-y grid of columns with cell edge L = (n_b V / N)^(1/3), where V is the *occupied*
    volume (sum over z slabs of the convex-hull area of the x-y positions times the slab
    thickness, not the bounding box, so conical tips keep their blocks) and N the number
    of ranged ions. Ions stream in z order (counting sort into thin slices) into their
    column; a block closes every n_b ions. Blocks taller than ``max_aspect`` x L (cells
    only partly inside the specimen) are dropped.
``method="evaporation"``
    Consecutive detection events: a block closes every n_b ranged ions in ion order.

Per element with k solute ions per block and N_b blocks: p = sum(k) / (N_b n_b),
E(k) = N_b Binom(k; n_b, p); χ² = sum (O - E)^2 / E over pooled bins; p-value from the χ²
distribution with ν degrees of freedom; Pearson coefficient μ = sqrt(χ² / (N + χ²)).
Conventions are explicit fields of the result:

- ``pooling="expected>=5"`` (default; textbook: adjacent bins merged until E >= 5) or
  ``"observed>=5"`` (3Depict: only bins with O >= 5 enter χ²).
- ``dof="bins-2"`` (default; p is estimated from the data) or ``"bins-1"`` (3Depict).
- ``mu_n="solute"`` (default; N = solute ions counted in the blocks, as 3Depict) or
  ``"blocks"`` (N = number of blocks, the number of observations).

Both conventions of μ are reported (``mu_solute`` with N = solute ions, ``mu_blocks`` with
N = blocks: the paper's "μ > 0.9" is not comparable across them), each with its μ_max (the
μ of a completely segregated specimen with the same blocks and mean composition) and the
normalised μ/μ_max; :func:`scan_block_sizes` gives μ(n_b). Two diagnostics guard against
reading something else as segregation:

- a **gradient along the analysis direction** (blocks binned by depth into slabs, a
  homogeneity χ² across slabs): a gradient alone makes μ large. The *detrended* FDA takes a
  binomial per slab as the null (expected = Σ_slabs N_s Binom(k; n_b, p_s)), and a warning
  names the gradient;
- **closure**: blocks hold a fixed number of ions, so where one element is strongly
  segregated (Li lines) the others are pushed down in the same blocks and look segregated
  too. For each significant element the FDA is redone on the ions that do *not* contain the
  most segregated element (k of X among n_b - k_S ions); if that is random, the element is
  flagged as segregated by closure only.

References: M. P. Moody, L. T. Stephenson, A. V. Ceguerra, S. P. Ringer, "Quantitative
binomial distribution analyses of nanoscale like-solute atom clustering and segregation in
atom probe tomography data", Microsc. Res. Tech. 71 (2008) 542-550; D. Haley, 3Depict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from liprobe.apt import _fda_kernels as _k
from liprobe.apt import _fda_stats as _s
from liprobe.apt._guards import finite_position_bounds, require_bins
from liprobe.apt.species import (
    atoms_per_species,
    element_index,
    ions_per_species,
    species_per_ion,
)
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError
from liprobe.tabular import FrameView

__all__ = ["FdaSpecies", "FdaResult", "MuScan", "frequency_distribution", "scan_block_sizes",
           "occupied_volume_nm3"]

_POOLING = ("expected>=5", "observed>=5")
_DOF = ("bins-2", "bins-1")
_MU_N = ("solute", "blocks")


@dataclass(frozen=True, eq=False)
class FdaSpecies:
    """FDA of one element.

    ``k`` are solute counts per block (0..n_b), ``observed``/``expected`` the frequencies;
    ``groups`` the pooled bins entering χ² as (first k, last k) pairs.
    """

    element: str
    chi2: float
    dof: int
    p_value: float
    mu: float
    n_blocks: int
    block_ions: int
    mean_fraction: float
    k: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    groups: tuple[tuple[int, int], ...]
    mu_solute: float = float("nan")
    mu_blocks: float = float("nan")
    mu_max_solute: float = float("nan")
    mu_max_blocks: float = float("nan")
    gradient_p_value: float = float("nan")
    detrended_chi2: float = float("nan")
    detrended_dof: int = 0
    detrended_p_value: float = float("nan")
    detrended_mu: float = float("nan")
    closure_with: str = ""
    closure_p_value: float = float("nan")
    closure_mu: float = float("nan")
    warnings: tuple[str, ...] = ()

    @property
    def mu_normalised(self) -> float:
        """μ / μ_max under the result's convention for N (0 random, 1 fully segregated)."""
        same = self.mu == self.mu_solute
        top = self.mu_max_solute if same else self.mu_max_blocks
        return float(self.mu / top) if top > 0 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no histograms)."""
        return {"chi2": self.chi2, "dof": self.dof, "p_value": self.p_value, "mu": self.mu,
                "n_blocks": self.n_blocks, "block_ions": self.block_ions,
                "mean_fraction": self.mean_fraction,
                "mu_solute": self.mu_solute, "mu_blocks": self.mu_blocks,
                "mu_max_solute": self.mu_max_solute, "mu_max_blocks": self.mu_max_blocks,
                "mu_over_max_solute": _ratio(self.mu_solute, self.mu_max_solute),
                "mu_over_max_blocks": _ratio(self.mu_blocks, self.mu_max_blocks),
                "gradient_p_value": self.gradient_p_value,
                "detrended_chi2": self.detrended_chi2, "detrended_dof": self.detrended_dof,
                "detrended_p_value": self.detrended_p_value,
                "detrended_mu": self.detrended_mu, "closure_with": self.closure_with,
                "closure_p_value": self.closure_p_value, "closure_mu": self.closure_mu,
                "warnings": "; ".join(self.warnings)}


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


@dataclass(frozen=True, eq=False)
class FdaResult(FrameView):
    """FDA of several elements at one block size, with its conventions."""

    species: dict[str, FdaSpecies]
    block_ions: int
    method: str
    cell_nm: float | None
    n_blocks: int
    n_dropped: int
    pooling: str
    dof_convention: str
    mu_n_convention: str
    block_counts: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """``{"species": {El: {chi2, dof, p_value, mu, n_blocks, block_ions}}, ...}``."""
        return {
            "species": {el: r.to_dict() for el, r in self.species.items()},
            "block_ions": self.block_ions, "method": self.method, "cell_nm": self.cell_nm,
            "n_blocks": self.n_blocks, "n_dropped": self.n_dropped,
            "conventions": {"pooling": self.pooling, "dof": self.dof_convention,
                            "mu_n": self.mu_n_convention},
        }


    def to_frame(self) -> Any:
        """A pandas DataFrame: one row per element (chi2, dof, p_value, mu, n_blocks, ...)."""
        import pandas as pd

        return pd.DataFrame([{"element": el, **r.to_dict()} for el, r in self.species.items()])

    def _summary(self) -> str:
        return f"{self.n_blocks} blocks of {self.block_ions} ions ({self.method})"


@dataclass(frozen=True, eq=False)
class MuScan(FrameView):
    """μ (and χ², p) against block size, per element."""

    block_ions: np.ndarray
    mu: dict[str, np.ndarray]
    p_value: dict[str, np.ndarray]
    results: tuple[FdaResult, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"block_ions": self.block_ions.tolist(),
                "mu": {k: v.tolist() for k, v in self.mu.items()},
                "p_value": {k: v.tolist() for k, v in self.p_value.items()}}

    def to_frame(self) -> Any:
        """A pandas DataFrame: one row per block size, ``mu_<El>`` and ``p_<El>`` columns."""
        import pandas as pd

        data: dict[str, Any] = {"block_ions": self.block_ions}
        for el in self.mu:
            data[f"mu_{el}"], data[f"p_{el}"] = self.mu[el], self.p_value[el]
        return pd.DataFrame(data)


def occupied_volume_nm3(xyz_nm: np.ndarray, *, n_slabs: int | None = None,
                        max_points: int = 200_000) -> float:
    """Volume occupied by a point cloud: sum over z slabs of the x-y convex-hull area.

    A deterministic stride subsample of at most ``max_points`` points is used.
    """
    from scipy.spatial import ConvexHull, QhullError

    xyz = np.asarray(xyz_nm)
    n = xyz.shape[0]
    if n < 10:
        raise ParameterError("too few ions to estimate the occupied volume (need >= 10)")
    sub = xyz[:: max(1, n // max_points)].astype(np.float64)
    z = sub[:, 2]
    z0, z1 = float(z.min()), float(z.max())
    span = z1 - z0
    if n_slabs is None:
        n_slabs = int(np.clip(span / 1.0, 1, max(1, sub.shape[0] // 2000)))
    edges = np.linspace(z0, z1, n_slabs + 1)
    slab = np.clip(np.searchsorted(edges, z, side="right") - 1, 0, n_slabs - 1)
    volume = 0.0
    # the points of each slab in their original order, from one stable sort (not one mask
    # over every point per slab)
    by_slab = np.argsort(slab, kind="stable")
    first = np.searchsorted(slab[by_slab], np.arange(n_slabs + 1))
    for s in range(n_slabs):
        pts = sub[by_slab[first[s]:first[s + 1]], :2]
        if pts.shape[0] < 3:
            continue
        try:
            area = ConvexHull(pts).volume
        except QhullError:
            continue
        volume += area * (edges[s + 1] - edges[s])
    if volume <= 0:
        raise ParameterError("the point cloud occupies no volume (flat or degenerate)")
    return volume


#: Slabs of blocks along the analysis direction for the gradient test and detrending.
GRADIENT_SLABS = 10
#: p-value below which a gradient (or a closure-only segregation) is reported.
DIAGNOSTIC_P = 1e-3


def _analyse(element, k_per_block, n_b, pooling, dof_conv, mu_n, slab=None):
    from scipy import stats

    n_blocks = int(k_per_block.shape[0])
    k = np.arange(n_b + 1)
    observed = np.bincount(k_per_block, minlength=n_b + 1)[: n_b + 1].astype(np.float64)
    total = float(k_per_block.sum(dtype=np.int64))
    p = total / (n_blocks * n_b) if n_blocks else np.nan
    expected = n_blocks * stats.binom.pmf(k, n_b, p) if n_blocks else np.zeros(n_b + 1)
    fitted = 1 if dof_conv == "bins-2" else 0
    chi2, dof, p_value, groups = _s.chi2_test(observed, expected, pooling, fitted)
    mu_solute, mu_blocks = _s.mu_of(chi2, total), _s.mu_of(chi2, float(n_blocks))
    top = _s.chi2_max(n_blocks, n_b, p, pooling, fitted) if 0 < p < 1 else float("nan")
    extra: dict[str, Any] = {}
    if slab is not None and slab.max() > 0:
        n_s = np.bincount(slab)
        k_s = np.bincount(slab, weights=k_per_block)
        p_s = k_s / (n_s * n_b)
        with np.errstate(invalid="ignore", divide="ignore"):
            var = n_s * n_b * p * (1 - p)
            grad_chi2 = float(np.sum(np.where(var > 0, (k_s - n_s * n_b * p) ** 2 / var, 0)))
        extra["gradient_p_value"] = float(stats.chi2.sf(grad_chi2, n_s.size - 1))
        mix = _s.mixture_expected(np.full(n_s.size, n_b), p_s, n_b, weights=n_s)
        # the slab p's fix each slab's mean; the pooled histogram loses the same one degree
        # of freedom to them as to the global p (p-values uniform over seeds: tested)
        d_chi2, d_dof, d_p, _ = _s.chi2_test(observed, mix, pooling, fitted)
        extra.update(detrended_chi2=d_chi2, detrended_dof=int(d_dof), detrended_p_value=d_p,
                     detrended_mu=_s.mu_of(d_chi2, total if mu_n == "solute" else n_blocks))
    return FdaSpecies(
        element=element, chi2=chi2, dof=int(dof), p_value=p_value,
        mu=mu_solute if mu_n == "solute" else mu_blocks, n_blocks=n_blocks,
        block_ions=n_b, mean_fraction=float(p), k=k, observed=observed, expected=expected,
        groups=tuple(groups), mu_solute=mu_solute, mu_blocks=mu_blocks,
        mu_max_solute=_s.mu_of(top, total), mu_max_blocks=_s.mu_of(top, float(n_blocks)),
        **extra,
    )


def _slabs(middle_z: np.ndarray, n_blocks: int) -> np.ndarray:
    """Equal-count slabs of blocks by depth (block order when all z coincide)."""
    n_slabs = int(min(GRADIENT_SLABS, n_blocks // 20))
    if n_slabs < 2:
        return np.zeros(n_blocks, np.int64)
    depth = middle_z if np.ptp(middle_z) > 0 else np.arange(n_blocks, dtype=np.float64)
    rank = np.empty(n_blocks, np.int64)  # the inverse of the stable sort: each block's rank
    rank[np.argsort(depth, kind="stable")] = np.arange(n_blocks)
    return rank * n_slabs // n_blocks


def _diagnose(results: dict, pooling: str, dof_conv: str, mu_n: str, closure_counts) -> dict:
    """Gradient warnings, and the closure check against the most segregated element."""
    from dataclasses import replace

    out = dict(results)
    for el, r in results.items():
        if np.isfinite(r.gradient_p_value) and r.gradient_p_value < DIAGNOSTIC_P:
            out[el] = replace(r, warnings=r.warnings + (
                f"a {el} gradient along the analysis direction (p = {r.gradient_p_value:.1g}) "
                f"adds to μ by itself; detrended μ = {r.detrended_mu:.3f} "
                f"(p = {r.detrended_p_value:.2g})",))
    strong = [el for el, r in results.items() if r.p_value < DIAGNOSTIC_P]
    if len(strong) < 2 or closure_counts is None:
        return out
    lead = max(strong, key=lambda el: results[el].mu_normalised)
    k_lead = closure_counts(lead)
    for el in strong:
        if el == lead:
            continue
        r = out[el]
        k_x, trials = k_lead[el]
        p = k_x.sum() / max(trials.sum(), 1)
        mix = _s.mixture_expected(trials, np.full(trials.size, p), r.block_ions)
        observed = np.bincount(k_x, minlength=r.block_ions + 1)[: r.block_ions + 1]
        fitted = 1 if dof_conv == "bins-2" else 0
        chi2, _, p_cond, _ = _s.chi2_test(observed.astype(np.float64), mix, pooling, fitted)
        mu_cond = _s.mu_of(chi2, float(k_x.sum()) if mu_n == "solute" else k_x.size)
        warnings = r.warnings
        if not (p_cond < DIAGNOSTIC_P and mu_cond > 0.5 * r.mu):
            warnings += (f"{el} looks segregated only through closure with {lead}: among the "
                         f"ions of each block that carry no {lead}, {el} is "
                         f"{'random' if p_cond >= DIAGNOSTIC_P else 'far less segregated'} "
                         f"(μ = {mu_cond:.3f}, p = {p_cond:.2g})",)
        out[el] = replace(r, closure_with=lead, closure_p_value=p_cond, closure_mu=mu_cond,
                          warnings=warnings)
    return out


def frequency_distribution(
    ions: IonTable,
    ranges: RangeTable,
    *,
    block_ions: int = 100,
    elements: Sequence[str] | None = None,
    method: str = "spatial",
    max_aspect: float = 2.0,
    pooling: str = "expected>=5",
    dof: str = "bins-2",
    mu_n: str = "solute",
    overlap: str = "error",
    species: np.ndarray | None = None,
    volume_nm3: float | None = None,
) -> FdaResult:
    """Frequency distribution analysis at one block size (see the module docstring).

    Parameters
    ----------
    ions, ranges : IonTable, RangeTable
        Point cloud and mass ranges; analyse a homogeneous region (an ROI), since across
        an interface the FDA measures the interface.
    block_ions : int
        Ranged ions per block n_b (typically 100).
    elements : sequence of str, optional
        Elements to analyse (default every element of the range table).
    method : {"spatial", "evaporation"}
    max_aspect : float
        Spatial method: drop blocks taller than ``max_aspect`` x cell edge.
    pooling, dof, mu_n : str
        Conventions (module docstring); echoed in the result.
    species : (N,) int array, optional
        Precomputed species index per ion.
    volume_nm3 : float, optional
        Occupied volume, to skip its estimate (:func:`occupied_volume_nm3`).

    Returns
    -------
    FdaResult

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.data import Ion, IonTable, RangeTable
    >>> rng = np.random.default_rng(0)
    >>> xyz = rng.uniform(0, 20, (50_000, 3)).astype(np.float32)
    >>> mass = np.where(rng.random(50_000) < 0.3, 7.0, 29.0).astype(np.float32)
    >>> rt = RangeTable((Ion("Li", (("Li", 1),)), Ion("Ni", (("Ni", 1),))),
    ...                 [6.5, 28.5], [7.5, 29.5], [0, 1])
    >>> res = frequency_distribution(IonTable(xyz, mass), rt, block_ions=100)
    >>> res.species["Li"].mu < 0.05
    True
    """
    n_b = int(block_ions)
    if n_b < 2:
        raise ParameterError(f"block_ions must be at least 2, got {block_ions}")
    for name, value, allowed in (("method", method, ("spatial", "evaporation")),
                                 ("pooling", pooling, _POOLING), ("dof", dof, _DOF),
                                 ("mu_n", mu_n, _MU_N)):
        if value not in allowed:
            raise ParameterError(f"{name} must be one of {allowed}, got {value!r}")
    all_elements, atoms = atoms_per_species(ranges)
    wanted = tuple(all_elements if elements is None else elements)
    idx = element_index(all_elements, wanted, what="FDA elements")
    if method == "spatial":
        # one pass over the records: finite check and grid bounds, no N-sized mask
        low, high = finite_position_bounds(ions, what="frequency distribution analysis")
    species = species_per_ion(ions, ranges, overlap=overlap, known=species)
    xyz = ions.xyz_nm
    # read in place (a big-endian memory map is byte-swapped inside the kernels, not copied)
    x, y, z = (_k.column_view(xyz[:, a]) for a in range(3))
    contains = (atoms > 0).astype(np.int32)
    total_ions = int(ions_per_species(species, ranges.n_ions).sum())
    if total_ions < 2 * n_b:
        raise ParameterError(
            f"only {total_ions} ranged ions: too few for blocks of {n_b}; lower block_ions"
        )
    max_blocks = total_ions // n_b + 1
    if method == "spatial":
        volume = occupied_volume_nm3(xyz) if volume_nm3 is None else float(volume_nm3)
        cell = float((n_b * volume / total_ions) ** (1.0 / 3.0))
        x0, y0, z0 = float(low[0]), float(low[1]), float(low[2])
        dz = cell / 20.0
        fix = "crop outlying ions or use method='evaporation'"
        nx = require_bins((float(high[0]) - x0) // cell + 1, what="FDA block columns", fix=fix)
        ny = require_bins((float(high[1]) - y0) // cell + 1, what="FDA block columns", fix=fix)
        require_bins(float(nx) * ny, what="FDA block columns", fix=fix)
        n_slices = require_bins((float(high[2]) - z0) // dz + 1, what="FDA z slices", fix=fix)

        def run(table):
            # z order by groups of slices: a bounded index buffer, the blocks of one order
            return _k.spatial_blocks(x, y, z, species, table, x0=x0, y0=y0, z0=z0,
                                     cell_nm=cell, dz=dz, nx=nx, ny=ny, n_slices=n_slices,
                                     block_ions=n_b, max_blocks=max_blocks)

        counts, height, middle = run(contains)
        keep = height <= max_aspect * cell
        n_dropped = int((~keep).sum())
        counts, middle = counts[keep], middle[keep]
    else:
        cell = None

        def run(table):
            return _k.evaporation_blocks(x, y, z, species, table, block_ions=n_b,
                                         max_blocks=max_blocks)

        counts, _, middle = run(contains)
        keep = np.ones(counts.shape[0], bool)
        n_dropped = 0
    if counts.shape[0] < 2:
        raise ParameterError(
            f"only {counts.shape[0]} blocks of {n_b} ions kept; lower block_ions, raise "
            "max_aspect or use method='evaporation'"
        )
    slab = _slabs(middle, counts.shape[0])
    results = {el: _analyse(el, counts[:, i], n_b, pooling, dof, mu_n, slab)
               for el, i in zip(wanted, idx)}

    def closure_counts(lead: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        # k of each element among the ions of a block that do not contain `lead`
        j = all_elements.index(lead)
        without = (contains * (contains[:, [j]] == 0)).astype(np.int32)
        k_without = run(without)[0][keep]
        trials = n_b - counts[:, j]
        return {el: (k_without[:, i], trials) for el, i in zip(wanted, idx)}

    results = _diagnose(results, pooling, dof, mu_n, closure_counts)
    return FdaResult(
        species=results, block_ions=n_b, method=method, cell_nm=cell,
        n_blocks=int(counts.shape[0]), n_dropped=n_dropped, pooling=pooling,
        dof_convention=dof, mu_n_convention=mu_n, block_counts=counts,
    )


def scan_block_sizes(
    ions: IonTable,
    ranges: RangeTable,
    *,
    block_ions: Sequence[int] = (25, 50, 100, 200, 400),
    elements: Sequence[str] | None = None,
    overlap: str = "error",
    **options: Any,
) -> MuScan:
    """μ as a function of block size (μ depends on n_b: report the whole curve).

    ``options`` are passed to :func:`frequency_distribution`; ranging and the occupied
    volume are computed once.
    """
    sizes = np.asarray(sorted({int(b) for b in block_ions}), dtype=np.int64)
    if sizes.size == 0:
        raise ParameterError("block_ions must list at least one block size")
    species = species_per_ion(ions, ranges, overlap=overlap, known=options.pop("species", None))
    if options.get("method", "spatial") == "spatial" and "volume_nm3" not in options:
        options["volume_nm3"] = occupied_volume_nm3(ions.xyz_nm)
    results = tuple(
        frequency_distribution(ions, ranges, block_ions=int(b), elements=elements,
                               species=species, **options)
        for b in sizes
    )
    names = tuple(results[0].species)
    mu = {el: np.array([r.species[el].mu for r in results]) for el in names}
    pv = {el: np.array([r.species[el].p_value for r in results]) for el in names}
    return MuScan(block_ions=sizes, mu=mu, p_value=pv, results=results)
