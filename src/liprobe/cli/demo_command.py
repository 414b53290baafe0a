"""``liprobe demo``: write a small synthetic NCM811 data set, read it back and range it.

Interim demo (to be replaced by the example study built on :mod:`liprobe.synth`): a
seeded LiNi0.80Co0.15Mn0.05O2 point cloud with laser-pulsed-like molecular ions
(Li+, LiO+, O+, O2+, Ni2+, Ni+, NiO+, Co2+, Co+, Mn2+, Mn+), natural isotopes from
``periodictable`` and a uniform background, written as EPOS + RRNG.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import typer

__all__ = ["register", "write_demo_specimen", "DEMO_STOICHIOMETRY"]

#: Atoms per formula unit of the demo specimen.
DEMO_STOICHIOMETRY = {"Li": 1.0, "Ni": 0.80, "Co": 0.15, "Mn": 0.05, "O": 2.0}

# (ion atoms, charge, share of the first element's atoms that evaporate as this ion)
_IONS = (
    ((("Li", 1),), 1, 0.95), ((("Li", 1), ("O", 1)), 1, 0.05),
    ((("Ni", 1),), 2, 0.75), ((("Ni", 1),), 1, 0.15), ((("Ni", 1), ("O", 1)), 1, 0.10),
    ((("Co", 1),), 2, 0.85), ((("Co", 1),), 1, 0.15),
    ((("Mn", 1),), 2, 0.85), ((("Mn", 1),), 1, 0.15),
)
_O_AS_O2 = 0.70  # share of the remaining oxygen atoms evaporating as O2+ (the rest O+)
_BACKGROUND = 0.03  # background ions per peak ion, uniform over 1-120 Da


def _isotopes(symbol: str) -> tuple[np.ndarray, np.ndarray]:
    import periodictable

    element = periodictable.elements.symbol(symbol)
    pairs = [(element[a].mass, element[a].abundance) for a in element.isotopes
             if element[a].abundance > 0]
    mass, abundance = np.array(pairs).T
    return mass, abundance / abundance.sum()


def _peaks(atoms: tuple[tuple[str, int], ...], charge: int) -> list[tuple[float, float]]:
    """Isotopic peaks ``(m/q, probability)`` of one ion species."""
    per_atom = [_isotopes(s) for s, n in atoms for _ in range(n)]
    peaks: dict[int, list[float]] = {}
    for combo in itertools.product(*(range(len(m)) for m, _ in per_atom)):
        mass = sum(per_atom[i][0][k] for i, k in enumerate(combo))
        prob = float(np.prod([per_atom[i][1][k] for i, k in enumerate(combo)]))
        entry = peaks.setdefault(round(mass), [0.0, 0.0])
        entry[0] += mass * prob
        entry[1] += prob
    return [(m / p / charge, p) for m, p in peaks.values()]


def _name(atoms: tuple[tuple[str, int], ...]) -> str:
    return "".join(s + (str(n) if n > 1 else "") for s, n in atoms)


def write_demo_specimen(out_dir: str | Path, *, n_formula_units: int = 60_000,
                        seed: int = 2021) -> dict[str, Any]:
    """Write ``ncm811_demo.epos`` and ``ncm811_demo.rrng`` into ``out_dir``.

    Returns the paths and the known truth: atoms generated per element and ions
    generated per species. Every formula unit becomes ions (ideal detection); 3 % extra
    background ions are uniform in 1-120 Da.
    """
    from liprobe.apt.ranging import find_overlaps
    from liprobe.data import Ion, IonTable, RangeTable
    from liprobe.io import write_ions, write_ranges

    rng = np.random.default_rng(seed)
    atoms = {el: int(round(x * n_formula_units)) for el, x in DEMO_STOICHIOMETRY.items()}
    species = [(a, z, int(round(share * atoms[a[0][0]]))) for a, z, share in _IONS]
    o_left = atoms["O"] - sum(n for a, _, n in species for s, c in a if s == "O")
    n_o2 = int(round(_O_AS_O2 * o_left / 2))
    species += [((("O", 2),), 1, n_o2), ((("O", 1),), 1, o_left - 2 * n_o2)]

    masses, low, high, index, weight = [], [], [], [], []
    names = list(dict.fromkeys(_name(a) for a, _, _ in species))  # Ni+ and Ni2+ are both Ni
    for ion_atoms, charge, count in species:
        k = names.index(_name(ion_atoms))
        peaks = _peaks(ion_atoms, charge)
        centre = np.array([m for m, _ in peaks])
        prob = np.array([p for _, p in peaks])
        pick = rng.choice(centre.size, size=count, p=prob / prob.sum())
        sigma = 0.02 / charge
        masses.append(centre[pick] + rng.normal(0.0, sigma, count))
        for m, p in peaks:
            if p >= 0.01:  # range the peaks holding at least 1 % of the species
                low.append(round(m - 10 * sigma, 3))
                high.append(round(m + 10 * sigma, 3))
                index.append(k)
                weight.append(p * count)
    n_peak = sum(m.size for m in masses)
    masses.append(rng.uniform(1.0, 120.0, int(round(_BACKGROUND * n_peak))))
    # where two species' peaks collide, keep the range of the stronger one
    ion_list = tuple(Ion(_name(a), a) for a in dict((_name(a), a) for a, _, _ in species).values())
    ranges = RangeTable(ion_list, low, high, index)
    drop = {min(pair, key=lambda r: weight[r]) for pair in find_overlaps(ranges)}
    keep = [r for r in range(len(low)) if r not in drop]
    ranges = RangeTable(ion_list, np.take(low, keep), np.take(high, keep),
                        np.take(index, keep))

    mass = np.concatenate(masses).astype(np.float32)
    n = mass.size
    order = rng.permutation(n)
    mass = mass[order]
    radius_nm, length_nm = 10.0, n / (119.0 * 0.37 * np.pi * 10.0**2)
    r = radius_nm * np.sqrt(rng.random(n))
    phi = rng.uniform(0.0, 2 * np.pi, n)
    z = np.sort(rng.uniform(0.0, length_nm, n))
    xyz = np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1).astype(np.float32)
    dc_kv = np.linspace(4.0, 6.0, n)
    tof_ns = 1e9 * 0.1 * np.sqrt(mass * 1.66054e-27 / (2 * 1.602177e-19 * dc_kv * 1e3))
    fields = {
        "tof_ns": tof_ns.astype(np.float32),
        "dc_voltage_kv": dc_kv.astype(np.float32),
        "pulse_voltage_kv": np.zeros(n, np.float32),
        "detector_x_mm": (xyz[:, 0] * 4.0).astype(np.float32),
        "detector_y_mm": (xyz[:, 1] * 4.0).astype(np.float32),
        "pulses_since_last": rng.geometric(0.01, n).astype(np.int32),
        "ions_per_pulse": np.ones(n, np.int32),
    }
    out = Path(out_dir)
    epos = write_ions(out / "ncm811_demo.epos", IonTable(xyz, mass, fields))
    rrng = write_ranges(out / "ncm811_demo.rrng", ranges)
    return {
        "epos": epos, "rrng": rrng, "n_ions": n, "atoms": atoms,
        "ions": {name: sum(c for a, _, c in species if _name(a) == name) for name in names},
    }


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""

    @app.command("demo")
    def demo(
        out: Path = typer.Option(Path("demo_output"), "--out", help="Folder to write into."),
        seed: int = typer.Option(2021, "--seed", help="Seed of the synthetic data."),
    ) -> None:
        """Write a synthetic NCM811 data set (EPOS + RRNG), read it back and range it."""
        from liprobe.apt.composition import compose
        from liprobe.io import read_ions, read_ranges

        made = write_demo_specimen(out, seed=seed)
        ions = read_ions(made["epos"])
        comp = compose(ions, read_ranges(made["rrng"]))
        metals = made["atoms"]["Ni"] + made["atoms"]["Co"] + made["atoms"]["Mn"]
        lines = [
            f"wrote {made['epos']} ({ions.n_ions} ions) and {made['rrng']}",
            f"ranged {comp.n_ranged} ions, unranged fraction {comp.unranged_fraction:.3f}",
            "",
            "element  ratio to Ni+Co+Mn  sigma    true",
        ]
        for element in ("Li", "Ni", "Co", "Mn", "O"):
            lines.append(f"{element:<7}  {comp.ratio(element):17.4f}  "
                         f"{comp.ratio_sigma(element):.4f}  "
                         f"{made['atoms'][element] / metals:.4f}")
        typer.echo("\n".join(lines))
