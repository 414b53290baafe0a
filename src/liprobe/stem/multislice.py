"""Frozen-phonon multislice calibration of HAADF site ratios (abTEM, optional).

For a layered oxide viewed along [100]hex this computes, at several thicknesses and for
given optics (kV, convergence semi-angle, annular detectors), the quantities that the
inversion R -> f of :mod:`liprobe.stem.calibration` needs:

- ``R0`` = I(Li site) / I(TM site) of the perfectly ordered crystal;
- ``k`` = sensitivity of the Li-site intensity to TM atoms on Li sites, relative to the
  linear-incoherent expectation: I_Li(f) / I_TM,0 = R0 + k f (1 - R0);
- ``k_tm`` = the same for Li atoms on TM sites: I_TM(f) / I_TM,0 = 1 - k_tm f (1 - R0).

With k = k_tm = 1 the exchange formula f = (R - R0) / ((1 - R0)(1 + R)) of DOMAIN.md §4
is recovered. Site intensities are HAADF intensities averaged over a Gaussian kernel of
``kernel_sigma_nm`` around each site (the source size combined with the analysis'
integration disk), by a 7-point Gauss-Radau rule (centre weight 1/2, six points at
2 sigma, weight 1/12 each; exact for intensities quadratic in r^2 and angular harmonics
below 6). Each frozen-phonon configuration draws new thermal displacements, a new Ni/Co/Mn
arrangement and new antisite positions: every ``1/f_cal``-th atom of every Li column is a
TM atom and every ``1/f_cal``-th atom of every TM column is Li, so the calibration averages
over the depth of the antisites. The exact antisite count above each exit plane enters k.

Variance reduction (the estimate's scatter is frozen-phonon sampling noise, and CPU time
is what limits the number of configurations): the ordered crystal and its disordered twin
share one configuration's displacements and Ni/Co/Mn arrangement (common random numbers),
so k and k_tm come from each site's paired difference, in which the phonon noise of the
site's own column largely cancels; the scanned columns of a type take consecutive antisite
phases (stratified: with ``sites_per_type = 1/f_cal`` every depth phase is sampled once per
configuration); every thickness is an exit plane of one pass; the potential is built once
per structure. Standard errors are delete-one jackknife over configurations. With 5 sites
per type the standard error of k per configuration is about 9 % at 5 nm and 6 % at 11 nm
(200 kV, 20 mrad, 70-160 mrad), against 20 % for one unpaired site.

abTEM (J. Madsen & T. Susi, Open Research Europe 1 (2021) 24) does the multislice; it is
imported here only (``pip install liprobe[simulate]``). It runs on a GPU when CuPy and a
device are present, on the CPU otherwise. References: E. J. Kirkland, *Advanced Computing
in Electron Microscopy*, 3rd ed. (2020), ch. 6-7 (multislice, frozen phonons).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from liprobe.errors import DependencyError, ParameterError

__all__ = ["LayeredMaterial", "NCM811", "MultisliceSettings", "calibrate_multislice",
           "electron_wavelength_nm"]


@dataclass(frozen=True)
class LayeredMaterial:
    """A layered R-3m oxide LiMO2: lattice, TM composition, O z and thermal displacements.

    ``u_rms_nm`` are isotropic root-mean-square displacements per axis (Li, TM, O).
    """

    name: str = "Li(Ni0.80Co0.15Mn0.05)O2"
    a_nm: float = 0.287
    c_nm: float = 1.419
    tm_composition: tuple[tuple[str, float], ...] = (("Ni", 0.80), ("Co", 0.15), ("Mn", 0.05))
    oxygen_z: float = 0.2586
    u_rms_nm: tuple[float, float, float] = (0.012, 0.007, 0.009)

    def to_dict(self) -> dict[str, object]:
        """Plain-Python dict (JSON-ready)."""
        return {"name": self.name, "a_nm": self.a_nm, "c_nm": self.c_nm,
                "tm_composition": [list(x) for x in self.tm_composition],
                "oxygen_z": self.oxygen_z, "u_rms_nm": list(self.u_rms_nm)}


#: Ni-rich layered NCM811 (DOMAIN.md §2; u_rms from typical refined B factors).
NCM811 = LayeredMaterial()


@dataclass(frozen=True)
class MultisliceSettings:
    """Numerical settings of the calibration (all recorded in the table's provenance).

    ``sampling_nm`` None: chosen so the anti-aliased angular range reaches 5 mrad past the
    outermost detector angle. ``cells`` tiles the orthogonal projected cell (sqrt(3)a x c)
    laterally. One slice per a-repeat along the beam.
    """

    n_configs: int = 2
    f_cal: float = 0.2
    kernel_sigma_nm: float = 0.03
    cells: tuple[int, int] = (2, 1)
    sampling_nm: float | None = None
    sites_per_type: int = 5
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.n_configs < 1:
            raise ParameterError("n_configs must be at least 1")
        if not 0 < self.f_cal <= 0.5:
            raise ParameterError(f"f_cal must lie in (0, 0.5], got {self.f_cal}")
        if not self.kernel_sigma_nm > 0:
            raise ParameterError("kernel_sigma_nm must be positive")


def electron_wavelength_nm(kv: float) -> float:
    """Relativistic electron wavelength at ``kv`` kilovolts, nm."""
    e0 = kv * 1e3
    return 1.22642584 / math.sqrt(e0 * (1.0 + 0.97846e-6 * e0))


def _abtem():
    try:
        import abtem
        import ase
    except ImportError as exc:
        raise DependencyError(
            "the multislice calibration needs abTEM; install it with "
            "`pip install liprobe[simulate]` (or `pip install abtem`)"
        ) from exc
    return abtem, ase


def _device(requested: str) -> str:
    if requested in ("cpu", "gpu"):
        return requested
    try:
        import cupy

        return "gpu" if cupy.cuda.runtime.getDeviceCount() > 0 else "cpu"
    except Exception:  # no CuPy, no driver or no device: the CPU it is
        return "cpu"


def _unit_cell(material: LayeredMaterial, ase):
    """Orthogonal cell (sqrt(3)a, c, a) in Å with x in-plane, y along c, z along the beam."""
    from ase.build import make_supercell
    from ase.spacegroup import crystal

    a, c = material.a_nm * 10.0, material.c_nm * 10.0
    hexa = crystal(["Li", "Ni", "O"], basis=[(0, 0, 0.5), (0, 0, 0), (0, 0, material.oxygen_z)],
                   spacegroup=166, cellpar=[a, a, c, 90, 90, 120])
    ortho = make_supercell(hexa, [[1, 0, 0], [1, 2, 0], [0, 0, 1]])
    pos = ortho.get_positions()
    cell = np.diag([math.sqrt(3.0) * a, c, a])
    new = ase.Atoms(ortho.get_chemical_symbols(), positions=pos[:, [1, 2, 0]], cell=cell,
                    pbc=True)
    new.wrap()
    return new


def _columns(atoms):
    """Column id of every atom (atoms sharing the projected x, y) and column centres."""
    xy = atoms.get_positions()[:, :2]
    key = np.round(xy / 0.05).astype(np.int64)
    _, col, = np.unique(key[:, 0] * 100003 + key[:, 1], return_inverse=True)[:2]
    centres = np.array([xy[col == j].mean(axis=0) for j in range(col.max() + 1)])
    return col, centres


def _configuration(base, col, material, settings, rng, *, stratified, ase):
    """One frozen-phonon configuration: the ordered crystal and its disordered twin.

    Both share the thermal displacements and the Ni/Co/Mn arrangement (common random
    numbers): the disordered twin differs only by its antisites, so a site's intensity
    difference between the two isolates the antisites' effect and k, k_tm come from
    paired differences. ``stratified`` maps a column id to its antisite phase (the
    scanned columns of a type take consecutive phases, so the depth positions of the
    antisites are sampled evenly rather than at random); other columns draw theirs.
    """
    symbols = np.array(base.get_chemical_symbols(), dtype=object)
    pos = base.get_positions().copy()
    names = [s for s, _ in material.tm_composition]
    weights = np.array([w for _, w in material.tm_composition], float)
    weights /= weights.sum()
    is_tm_site = symbols == "Ni"
    is_li_site = symbols == "Li"
    new = symbols.copy()
    # every TM column gets the composition as exactly as its length allows, at random
    # depths (column-to-column composition noise would only add scatter to R0 and k_tm)
    for j in np.unique(col[is_tm_site]):
        members = np.flatnonzero(col == j)
        counts = np.floor(weights * members.size + rng.uniform(size=weights.size)).astype(int)
        while counts[1:].sum() > members.size:
            counts[1 + int(np.argmax(counts[1:]))] -= 1
        counts[0] = members.size - counts[1:].sum()
        new[rng.permutation(members)] = np.repeat(names, counts)
    ordered_symbols = new.copy()
    antisite = np.zeros(len(symbols), bool)
    step = int(round(1.0 / settings.f_cal))
    for j in np.unique(col):
        members = np.flatnonzero(col == j)
        if not (is_li_site[members[0]] or is_tm_site[members[0]]):
            continue
        members = members[np.argsort(pos[members, 2])]
        phase = stratified.get(int(j))
        phase = int(rng.integers(step)) if phase is None else phase
        chosen = members[phase::step]
        antisite[chosen] = True
        if is_li_site[members[0]]:
            new[chosen] = rng.choice(names, size=chosen.size, p=weights)
        else:
            new[chosen] = "Li"
    u_li, u_tm, u_o = (u * 10.0 for u in material.u_rms_nm)
    u = np.where(is_li_site, u_li, np.where(is_tm_site, u_tm, u_o))
    pos += rng.normal(size=pos.shape) * u[:, None]
    ordered = ase.Atoms(list(ordered_symbols), positions=pos, cell=base.cell, pbc=True)
    disordered = ase.Atoms(list(new), positions=pos, cell=base.cell, pbc=True)
    return ordered, disordered, antisite


def _stratified_phases(sites, step, rng) -> dict[int, int]:
    """Antisite phase per scanned column: consecutive phases from a random start per type."""
    out: dict[int, int] = {}
    for cols in (sites.tm, sites.li):
        start = int(rng.integers(step))
        out.update({int(j): (start + i) % step for i, j in enumerate(cols)})
    return out


def _kernel_offsets(sigma_a: float) -> tuple[np.ndarray, np.ndarray]:
    """7-point Gauss-Radau rule for a 2-D Gaussian weight of ``sigma_a``."""
    angles = np.arange(6) * (np.pi / 3.0)
    ring = 2.0 * sigma_a * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    offsets = np.vstack([[0.0, 0.0], ring])
    weights = np.concatenate([[0.5], np.full(6, 1.0 / 12.0)])
    return offsets, weights


@dataclass(frozen=True)
class _Sites:
    tm: np.ndarray  # column ids scanned
    li: np.ndarray


def _pick_sites(base_symbols, col, centres, n_per_type, cell_xy) -> _Sites:
    middle = 0.5 * np.asarray(cell_xy)
    order = np.argsort(np.hypot(*(centres - middle).T))
    first = {j: base_symbols[np.flatnonzero(col == j)[0]] for j in range(len(centres))}
    tm = [j for j in order if first[j] == "Ni"][:n_per_type]
    li = [j for j in order if first[j] == "Li"][:n_per_type]
    return _Sites(np.array(tm), np.array(li))


def calibrate_multislice(
    *,
    kv: float,
    convergence_mrad: float,
    detectors_mrad: tuple[tuple[float, float], ...],
    thickness_nm: tuple[float, ...],
    material: LayeredMaterial = NCM811,
    settings: MultisliceSettings = MultisliceSettings(),
    progress=None,
) -> list[dict[str, float]]:
    """R0, k and k_tm against thickness for one kV and convergence, every detector.

    Parameters
    ----------
    kv : float
        Accelerating voltage (kV).
    convergence_mrad : float
        Probe convergence semi-angle (mrad); aberration-free probe at zero defocus.
    detectors_mrad : tuple of (inner, outer)
        Annular detectors (mrad), computed in the same pass.
    thickness_nm : tuple of float
        Thicknesses; each is rounded to a whole number of a-repeats (the table records
        the thickness actually simulated).
    material : LayeredMaterial
        The crystal.
    settings : MultisliceSettings
        Frozen-phonon configurations, f_cal, kernel, cell, sampling, seed, device.
    progress : callable, optional
        Called with a line of text after each configuration.

    Returns
    -------
    list of dict
        One row per (detector, thickness): ``kv, convergence_mrad, detector_inner_mrad,
        detector_outer_mrad, thickness_nm, R0, R0_se, k, k_se, k_tm, k_tm_se, n_sites``.
        Standard errors: delete-one jackknife over the configurations (phonons,
        composition and antisite depths all vary between them).
    """
    abtem, ase = _abtem()
    import dask

    if not thickness_nm:
        raise ParameterError("give at least one thickness")
    rng = np.random.default_rng(settings.seed)
    a_nm = material.a_nm
    n_slices = sorted({max(1, int(round(t / a_nm))) for t in thickness_nm})
    unit = _unit_cell(material, ase)
    base = unit * (settings.cells[0], settings.cells[1], n_slices[-1])
    col, centres = _columns(base)
    base_symbols = np.array(base.get_chemical_symbols(), dtype=object)
    cell_xy = np.diag(base.cell)[:2]
    sites = _pick_sites(base_symbols, col, centres, settings.sites_per_type, cell_xy)
    offsets, weights = _kernel_offsets(settings.kernel_sigma_nm * 10.0)
    scanned = np.concatenate([sites.tm, sites.li])
    positions = (centres[scanned][:, None, :] + offsets[None]).reshape(-1, 2) % cell_xy
    outer = max(o for _, o in detectors_mrad)
    lam_a = electron_wavelength_nm(kv) * 10.0
    sampling_a = (settings.sampling_nm * 10.0 if settings.sampling_nm is not None
                  else lam_a / (3.0 * (outer + 5.0) * 1e-3))
    device = _device(settings.device)
    detectors = [abtem.AnnularDetector(inner=float(i), outer=float(o)) for i, o in detectors_mrad]
    # site intensity [structure][config] -> (detectors, exit planes, sites)
    results: dict[bool, list[np.ndarray]] = {False: [], True: []}
    antisite_counts: list[np.ndarray] = []
    step = int(round(1.0 / settings.f_cal))
    for ic in range(settings.n_configs):
        t0 = time.time()
        phases = _stratified_phases(sites, step, rng)
        structures = _configuration(base, col, material, settings, rng, stratified=phases,
                                    ase=ase)
        for disordered, atoms in zip((False, True), structures[:2]):
            potential = abtem.Potential(atoms, sampling=sampling_a, slice_thickness=a_nm * 10.0,
                                        exit_planes=tuple(n - 1 for n in n_slices),
                                        device=device)
            probe = abtem.Probe(energy=kv * 1e3, semiangle_cutoff=convergence_mrad,
                                device=device)
            probe.grid.match(potential)
            with dask.config.set(scheduler="synchronous"):
                # built once, the potential serves every probe position (half the time)
                potential = potential.build(lazy=False)
                out = probe.scan(potential, scan=abtem.CustomScan(positions),
                                 detectors=detectors, lazy=False)
            out = out if isinstance(out, list) else [out]
            arr = np.stack([np.asarray(_to_host(m.array), np.float64).reshape(len(n_slices), -1)
                            for m in out])
            arr = arr.reshape(len(detectors), len(n_slices), len(scanned), len(weights))
            results[disordered].append(arr @ weights)
        antisite_counts.append(_antisite_fraction(structures[1], structures[2], col, scanned,
                                                  n_slices))
        if progress is not None:
            progress(f"{kv:g} kV {convergence_mrad:g} mrad config {ic + 1}/"
                     f"{settings.n_configs} (ordered and disordered): {time.time() - t0:.0f} s")
    ordered = np.stack(results[False], axis=2)  # (det, planes, configs, sites)
    disorder = np.stack(results[True], axis=2)
    f_site = np.stack(antisite_counts, axis=1)  # (planes, configs, sites)
    n_tm = len(sites.tm)
    rows = []
    for idet, (inner, outer_d) in enumerate(detectors_mrad):
        for ip, ns in enumerate(n_slices):
            est = _estimate(ordered[idet, ip], disorder[idet, ip], f_site[ip], n_tm)
            rows.append({"kv": float(kv), "convergence_mrad": float(convergence_mrad),
                         "detector_inner_mrad": float(inner),
                         "detector_outer_mrad": float(outer_d),
                         "thickness_nm": round(ns * a_nm, 4), **est})
    return rows


def _antisite_fraction(atoms, antisite, col, scanned, n_slices) -> np.ndarray:
    """Fraction of antisite atoms above each exit plane, per scanned column."""
    z = atoms.get_positions()[:, 2]
    out = np.empty((len(n_slices), len(scanned)))
    for js, j in enumerate(scanned):
        members = np.flatnonzero(col == j)
        flags = antisite[members[np.argsort(z[members])]]
        for ip, ns in enumerate(n_slices):
            out[ip, js] = flags[:ns].mean()
    return out


def _to_host(array):
    return array.get() if hasattr(array, "get") else array


def _estimate(ordered, disordered, f_site, n_tm) -> dict[str, float]:
    """R0, k, k_tm and jackknife standard errors from per-site intensities.

    Arrays are (configs, sites) with the TM sites first. With m_TM0 the mean ordered TM
    intensity: R0 = mean ordered Li / m_TM0; k = sum over Li sites of the paired
    difference (disordered - ordered, same phonons) / (m_TM0 (1 - R0) sum f); k_tm the
    same for TM sites (ordered - disordered). Standard errors: delete-one jackknife over
    configurations (three or more; the sites of one configuration share its draw), over
    sites otherwise.
    """
    tm0, li0 = ordered[:, :n_tm], ordered[:, n_tm:]
    d_li = disordered[:, n_tm:] - li0
    d_tm = tm0 - disordered[:, :n_tm]
    f_li, f_tm = f_site[:, n_tm:], f_site[:, :n_tm]
    if tm0.shape[0] >= 3:
        groups = [np.arange(tm0.shape[0]) == g for g in range(tm0.shape[0])]
        parts = [(tm0[g], li0[g], d_li[g], d_tm[g], f_li[g], f_tm[g]) for g in groups]
        sums = [np.array([p.sum() for p in part]) for part in parts]
        counts = [np.array([p.size for p in part]) for part in parts]
    else:
        n = min(tm0.size, li0.size)
        cols = [a.reshape(-1)[:n] for a in (tm0, li0, d_li, d_tm, f_li, f_tm)]
        sums = [np.array([c[i] for c in cols]) for i in range(n)]
        counts = [np.ones(6) for _ in range(n)]

    def values(total, count):
        m_tm0, m_li0 = total[0] / count[0], total[1] / count[1]
        r0 = m_li0 / m_tm0
        k = total[2] / (m_tm0 * (1.0 - r0) * total[4])
        k_tm = total[3] / (m_tm0 * (1.0 - r0) * total[5])
        return np.array([r0, k, k_tm])

    total, count = np.sum(sums, axis=0), np.sum(counts, axis=0)
    full = values(total, count)
    g = len(sums)
    if g > 1:
        loo = np.array([values(total - s, count - c) for s, c in zip(sums, counts)])
        se = np.sqrt((g - 1) / g * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0))
    else:
        se = np.full(3, math.nan)
    return {"R0": float(full[0]), "R0_se": float(se[0]), "k": float(full[1]),
            "k_se": float(se[1]), "k_tm": float(full[2]), "k_tm_se": float(se[2]),
            "n_sites": int(tm0.size)}
