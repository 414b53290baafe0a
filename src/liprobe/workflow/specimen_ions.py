"""Read and range one specimen's ions, in memory or chunk by chunk (private helper of
:func:`liprobe.workflow.pipeline.analyze_specimen`).

A file with at most ``max_in_memory_ions`` ions is read whole (memory map) and ranged into
one species array (int8 for up to 127 species): the exact in-memory path. A larger POS/EPOS
file is streamed (:func:`liprobe.workflow.scaleout.chunked_composition`,
:func:`~liprobe.workflow.scaleout.chunked_profile`): composition and profile still count
*every* ion, and the analyses that need ions in memory (frequency distribution analysis,
quality checks) run on one contiguous slab of ``max_in_memory_ions`` ions taken from the
middle of the evaporation sequence (a contiguous slab keeps the spatial neighbourhoods FDA
blocks need; the middle avoids the tip's first, surface-affected nanometres). Peak memory
is then the slab's mapped pages (16 or 44 B per ion) + 1 B per slab ion (the species) +
the bounded buffers of the chunks and of the FDA's z order, whatever the file size.

When asked (``with_overlap_statistics``), the streamed pass that counts the ions also sums
the isotope-overlap statistics of every chunk (:func:`liprobe.apt.overlap_statistics.
overlap_statistics`: isotope-window counts, coarse spectrum, range counts), so that the
peak-overlap correction of the whole file is the one the in-memory path applies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError

__all__ = ["SpecimenIons", "load_specimen_ions", "ion_count_of"]

#: Bytes per ion of the formats that can be streamed.
_STREAMABLE = {".pos": 16, ".epos": 44}


@dataclass(frozen=True, eq=False)
class SpecimenIons:
    """Ions of one specimen ready for analysis.

    Attributes
    ----------
    ions : IonTable
        Every ion (in-memory path) or the slab (chunked path).
    species : (ions.n_ions,) signed int (int8 for up to 127 species)
        Species index per ion of ``ions`` (-1 unranged).
    ion_counts : (n_species,) int64
        Ions per species over the *whole file*.
    n_ions, n_ranged : int
        Ions in the whole file; ranged ions in the whole file.
    profile : Profile or None
        Whole-file profile computed while streaming (chunked path); None in memory.
    slab : (int, int) or None
        ``(start, stop)`` ion indices of ``ions`` in the file (chunked path); None when
        ``ions`` is the whole file.
    overlap_statistics : OverlapStatistics or None
        Isotope-overlap statistics of the whole file, summed over the chunks (chunked path
        with ``with_overlap_statistics``); None otherwise.
    """

    ions: IonTable
    species: np.ndarray
    ion_counts: np.ndarray
    n_ions: int
    n_ranged: int
    profile: Any = None
    slab: tuple[int, int] | None = None
    overlap_statistics: Any = None

    def scope(self) -> str:
        """Suffix for a method name: ``", ions a-b of N"`` on the chunked path, else ''."""
        if self.slab is None:
            return ""
        return f", ions {self.slab[0]}-{self.slab[1] - 1} of {self.n_ions}"

    def slab_note(self) -> str:
        """One sentence saying which ions the in-memory analyses saw ('' when all)."""
        if self.slab is None:
            return ""
        start, stop = self.slab
        return (f"file of {self.n_ions:,} ions streamed in chunks: composition and profile "
                f"from every ion; FDA and quality checks on the contiguous slab of ions "
                f"{start:,} to {stop - 1:,} (middle of the evaporation sequence, "
                f"max_in_memory_ions = {stop - start:,})")


def ion_count_of(path: str | os.PathLike) -> int | None:
    """Ion count of a POS/EPOS file from its size (None for other formats)."""
    path = Path(path)
    record = _STREAMABLE.get(path.suffix.lower())
    if record is None:
        return None
    return path.stat().st_size // record


def load_specimen_ions(path: str | os.PathLike, ranges: RangeTable, *,
                       max_in_memory_ions: int, profile_axis: str = "z",
                       profile_bin_nm: float = 2.0,
                       normalize_to: tuple[str, ...] | None = None,
                       chunk_ions: int | None = None,
                       with_overlap_statistics: bool = False) -> SpecimenIons:
    """Read and range ``path``, streaming it when it holds more than ``max_in_memory_ions``.

    Parameters
    ----------
    path : path-like
        POS / EPOS / APT file.
    ranges : RangeTable
        Mass ranges.
    max_in_memory_ions : int
        Largest file read whole; above it a POS/EPOS file is streamed (see the module
        docstring) and an APT file is an error (convert it to POS/EPOS, or raise the limit).
    profile_axis, profile_bin_nm, normalize_to
        Profile options of the chunked path (the in-memory path leaves the profile to the
        caller).
    chunk_ions : int, optional
        Ions per streamed chunk (default :data:`liprobe.workflow.scaleout.DEFAULT_CHUNK_IONS`,
        capped at ``max_in_memory_ions``).
    with_overlap_statistics : bool
        On the chunked path, also sum the isotope-overlap statistics of every chunk (for
        :func:`~liprobe.apt.overlap_correction.correct_composition_from_statistics`), in
        the same pass as the ion counts; ignored when the range table names none of the
        overlap species (:func:`~liprobe.apt.overlap_statistics.overlap_species_for`). The
        in-memory path leaves the correction to the caller.

    Returns
    -------
    SpecimenIons
    """
    from liprobe.apt.species import ions_per_species, species_per_ion
    from liprobe.io import read_ions

    limit = int(max_in_memory_ions)
    if limit < 1:
        raise ParameterError(f"max_in_memory_ions must be at least 1, got {max_in_memory_ions}")
    n_file = ion_count_of(path)
    if n_file is None or n_file <= limit:
        ions = read_ions(path)
        if n_file is None and ions.n_ions > limit:
            raise ParameterError(
                f"{path}: {ions.n_ions:,} ions exceed max_in_memory_ions = {limit:,}, and only "
                "POS/EPOS files can be streamed in chunks; convert the file to POS or EPOS "
                "(liprobe convert), or raise max_in_memory_ions in [settings]")
        species = species_per_ion(ions, ranges)  # int8 for up to 127 species
        counts = ions_per_species(species, ranges.n_ions)  # no mask, no copy of the ranged
        return SpecimenIons(ions, species, counts, ions.n_ions, int(counts.sum()))
    return _streamed(Path(path), ranges, limit, n_file, profile_axis=profile_axis,
                     profile_bin_nm=profile_bin_nm, normalize_to=normalize_to,
                     chunk_ions=chunk_ions, with_overlap_statistics=with_overlap_statistics)


def _streamed(path: Path, ranges: RangeTable, limit: int, n_file: int, *, profile_axis: str,
              profile_bin_nm: float, normalize_to: tuple[str, ...] | None,
              chunk_ions: int | None, with_overlap_statistics: bool) -> SpecimenIons:
    from liprobe.apt.overlap_statistics import overlap_species_for
    from liprobe.apt.ranging import species_per_ion
    from liprobe.io import read_ions
    from liprobe.workflow.scaleout import DEFAULT_CHUNK_IONS, chunked_composition, chunked_profile

    chunk = min(int(chunk_ions or DEFAULT_CHUNK_IONS), limit)
    statistics = None
    if with_overlap_statistics and overlap_species_for(ranges):
        # one pass: the statistics carry the ion counts per species as well
        statistics = _summed_overlap_statistics(path, ranges, chunk)
        ion_counts, n_ions, n_unranged = (statistics.ion_counts, statistics.n_ions,
                                          statistics.n_unranged)
    else:
        comp = chunked_composition(path, ranges, chunk_ions=chunk, normalize_to=normalize_to)
        ion_counts, n_ions, n_unranged = comp.ion_counts, comp.n_ions, comp.n_unranged
    profile = chunked_profile(path, ranges, bin_nm=profile_bin_nm, axis=profile_axis,
                              chunk_ions=chunk, normalize_to=normalize_to)
    start = (n_file - limit) // 2
    stop = start + limit
    # the memory map is only touched inside the slab; basic slicing keeps views (EPOS
    # fields included), so the slab costs its pages plus the species array
    whole = read_ions(path)
    slab = whole.take(slice(start, stop))
    species = species_per_ion(slab, ranges)
    return SpecimenIons(slab, species, np.asarray(ion_counts, np.int64), n_ions,
                        n_ions - n_unranged, profile, (start, stop), statistics)


def _summed_overlap_statistics(path: Path, ranges: RangeTable, chunk: int):
    """Overlap statistics of every ion of ``path``: the sum of its chunks' statistics."""
    from liprobe.apt.overlap_statistics import overlap_statistics
    from liprobe.io.chunks import iter_ion_chunks

    total = None
    for part in iter_ion_chunks(path, chunk_ions=chunk):
        stats = overlap_statistics(part, ranges)
        total = stats if total is None else total + stats
    if total is None:  # an empty file: the statistics of no ions
        total = overlap_statistics(np.zeros(0, np.float32), ranges)
    return total
