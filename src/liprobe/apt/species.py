"""Ion species per ion and atoms per species: the bridge from ranging to atom counting.

Profiles, frequency distribution analysis, line features and the quality checks all count
*atoms*: a molecular ion decomposes into its atoms, which sit at the ion's position. The
work is done by :func:`liprobe.apt.ranging.assign_ions` and
:func:`liprobe.apt.composition.atoms_per_ion`.
"""

from __future__ import annotations

import numpy as np

from liprobe.apt.composition import NCM_METALS, atoms_per_ion
from liprobe.apt.ranging import assign_ions
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError

__all__ = ["assign_species", "species_of", "species_atoms", "element_index", "METALS"]

#: Transition metals of NCM: the paper normalises to their sum.
METALS: tuple[str, ...] = NCM_METALS


def assign_species(
    mass_to_charge_da: np.ndarray, ranges: RangeTable, *, overlap: str = "error"
) -> np.ndarray:
    """Ion-species index per ion (int32, -1 for unranged ions)."""
    return np.asarray(assign_ions(mass_to_charge_da, ranges, overlap=overlap), dtype=np.int32)


def species_of(
    ions: IonTable, ranges: RangeTable, species: np.ndarray | None = None, *,
    overlap: str = "error",
) -> np.ndarray:
    """Species index per ion: ``species`` when given (checked), else ranged now.

    Lets analyses share one ranging pass: a caller that already ranged the ions passes
    the result of :func:`liprobe.apt.ranging.assign_ions` on.
    """
    if species is None:
        return assign_species(ions.mass_to_charge_da, ranges, overlap=overlap)
    species = np.asarray(species)
    if (species.shape != (ions.n_ions,) or species.dtype.kind not in "iu"
            or (species.size and (species.max() >= ranges.n_ions or species.min() < -1))):
        raise ParameterError(f"species must hold one index below {ranges.n_ions} (or -1) per "
                             f"ion ({ions.n_ions} ions); compute it with assign_ions")
    return species


def species_atoms(ranges: RangeTable) -> tuple[tuple[str, ...], np.ndarray]:
    """Elements and the ``(n_species, n_elements)`` int64 matrix of atoms per ion species."""
    elements, matrix = atoms_per_ion(ranges)
    return tuple(elements), np.ascontiguousarray(matrix, dtype=np.int64)


def element_index(elements: tuple[str, ...], names, *, what: str) -> list[int]:
    """Indices of ``names`` in ``elements``; a clear error naming what is available."""
    out = []
    for name in names:
        if name not in elements:
            raise ParameterError(
                f"{what}: element {name!r} is not in the range table; available: "
                + ", ".join(elements)
            )
        out.append(elements.index(name))
    return out
