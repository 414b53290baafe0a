"""Ion species per ion and atoms per species: the bridge from ranging to atom counting.

Profiles, frequency distribution analysis, line features and the quality checks all count
*atoms*: a molecular ion decomposes into its atoms, which sit at the ion's position. Two
functions answer the two questions: :func:`species_per_ion` (which species is each ion,
defined in :mod:`liprobe.apt.ranging`) and :func:`atoms_per_species` (which atoms make each
species, defined in :mod:`liprobe.apt.composition`); this module gathers them with the
element lookup the analyses share.
"""

from __future__ import annotations

import numpy as np

from liprobe.apt._range_kernels import COMPILED_MIN_IONS
from liprobe.apt.composition import NCM_METALS, atoms_per_species
from liprobe.apt.ranging import species_per_ion
from liprobe.errors import ParameterError

__all__ = ["species_per_ion", "atoms_per_species", "ions_per_species", "element_index",
           "METALS"]

#: Transition metals of NCM: the paper normalises to their sum.
METALS: tuple[str, ...] = NCM_METALS


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




def ions_per_species(species: np.ndarray, n_species: int) -> np.ndarray:
    """Ions of each species (int64, ``n_species`` entries) from :func:`species_per_ion`'s
    index; ``-1`` (unranged) is skipped. One pass without a mask or a copy of the ranged."""
    species = np.asarray(species)
    if species.shape[0] >= COMPILED_MIN_IONS:
        from liprobe.apt.profile_kernels import count_species

        return count_species(species, int(n_species))
    ranged = species[species >= 0]
    return np.bincount(ranged, minlength=int(n_species)).astype(np.int64)[: int(n_species)]
