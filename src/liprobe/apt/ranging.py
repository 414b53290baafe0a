"""Assign ions to mass ranges, count them per ion species, and deal with overlapping ranges.

Interval convention (liprobe everywhere, see :class:`liprobe.data.RangeTable`): an ion of
mass-to-charge ``m`` belongs to range ``k`` when ``low_da[k] <= m < high_da[k]`` (closed
below, open above). Masses are float32 (as stored in POS/EPOS/APT files), so the bounds are
rounded to the nearest float32 before comparing: a mass stored as ``7.1`` is *not* in a
range ending at ``7.1``, as the decimal numbers suggest. Two ranges that only
touch (``high_da[i] == low_da[j]``) do not overlap. Exact duplicates (same bounds, same ion:
common in hand-edited RRNG files) are not overlaps; the first copy is used.

Overlap rules (``overlap=``):

``"error"`` (default)
    raise :class:`~liprobe.errors.RangeOverlapError` naming both ranges.
``"first"``
    where ranges overlap, the range listed first in the file wins.
``"narrowest"``
    where ranges overlap, the narrowest range (smallest ``high_da - low_da``) wins; equal
    widths fall back to the order in the file.

In both resolving rules the losing range keeps the part of its interval that no winner
covers (it may be split in two).

References
----------
Hudson, Smith, Gault, Moody & Haley, "Compositional accuracy in atom probe tomography",
Ultramicroscopy 111 (2011) 480 (ranging and its pitfalls); Larson et al., *Local Electrode
Atom Probe Tomography*, Springer (2013), ch. 6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liprobe.apt import _range_kernels as _k
from liprobe.data import IonTable, RangeTable
from liprobe.errors import ParameterError, RangeOverlapError

__all__ = [
    "OVERLAP_RULES",
    "IonCounts",
    "assign_ranges",
    "species_per_ion",
    "count_ions",
    "find_overlaps",
    "check_overlaps",
    "resolve_overlaps",
]

#: Accepted values of ``overlap=``.
OVERLAP_RULES = ("error", "first", "narrowest")


@dataclass(frozen=True, eq=False)
class IonCounts:
    """Number of ions per ion species of a range table.

    Attributes
    ----------
    ion_names : tuple of str
        Names of the ion species (``RangeTable.ion_names``).
    counts : (n_species,) int64 array
        Ions per species (all ranges of a species summed).
    range_counts : (n_ranges,) int64 array
        Ions per range of the original table (resolved overlaps counted for the winner).
    n_unranged : int
        Ions in no range (including NaN masses).
    n_ions : int
        All ions looked at.
    """

    ion_names: tuple[str, ...]
    counts: np.ndarray
    range_counts: np.ndarray
    n_unranged: int
    n_ions: int

    @property
    def n_ranged(self) -> int:
        """Ions that fell in a range."""
        return self.n_ions - self.n_unranged

    @property
    def unranged_fraction(self) -> float:
        """``n_unranged / n_ions`` (NaN for no ions)."""
        return self.n_unranged / self.n_ions if self.n_ions else float("nan")


@dataclass(frozen=True)
class _Segments:
    low: np.ndarray  # sorted, non-overlapping
    high: np.ndarray
    range_index: np.ndarray  # index of the original range each segment comes from
    cells: np.ndarray
    origin: float
    inv_width: float


def _describe(ranges: RangeTable, k: int) -> str:
    name = ranges.ions[int(ranges.ion_index[k])].name
    return f"range {k + 1} ({name} {ranges.low_da[k]:g}-{ranges.high_da[k]:g} Da)"


def _duplicates(ranges: RangeTable) -> np.ndarray:
    """Boolean mask of ranges that exactly repeat an earlier one (bounds and ion)."""
    n = ranges.n_ranges
    dup = np.zeros(n, dtype=bool)
    if n < 2:
        return dup
    order = np.lexsort((np.arange(n), ranges.ion_index, ranges.high_da, ranges.low_da))
    low, high, ion = (ranges.low_da[order], ranges.high_da[order], ranges.ion_index[order])
    same = (low[1:] == low[:-1]) & (high[1:] == high[:-1]) & (ion[1:] == ion[:-1])
    dup[order[1:][same]] = True  # within a group of copies, the first in file order is kept
    return dup


def _overlap_spans(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranges sorted by ``low`` (``order``) and, per sorted position ``a``, the end ``end[a]``
    of the run of later positions that overlap it: ``a`` overlaps exactly ``a+1 .. end[a]-1``.

    Sorted by low, ``b > a`` overlaps ``a`` iff ``low[b] < high[a]``: one binary search
    per range, O(n log n), no n x n matrix.
    """
    order = np.lexsort((np.arange(low.size), low))
    sorted_low = low[order]
    end = np.searchsorted(sorted_low, high[order], side="left")
    return order, np.maximum(end, np.arange(low.size) + 1)


def find_overlaps(ranges: RangeTable) -> tuple[tuple[int, int], ...]:
    """All pairs ``(i, j)``, ``i < j``, of ranges that overlap (0-based range indices).

    Exact duplicates and ranges that merely touch are not overlaps. Found by a sort and
    one binary search per range (O(n log n) plus the number of pairs).

    Examples
    --------
    >>> from liprobe.data import Ion, RangeTable
    >>> r = RangeTable((Ion("O", (("O", 1),)), Ion("O2", (("O", 2),))),
    ...                [15.9, 15.95], [16.1, 16.05], [0, 1])
    >>> find_overlaps(r)
    ((0, 1),)
    """
    keep = np.flatnonzero(~_duplicates(ranges))
    order, end = _overlap_spans(ranges.low_da[keep], ranges.high_da[keep])
    width = end - np.arange(keep.size) - 1
    if not width.any():
        return ()
    a = np.repeat(np.arange(keep.size), width)
    b = a + 1 + (np.arange(a.size) - np.repeat(np.cumsum(width) - width, width))
    i, j = keep[order[a]], keep[order[b]]
    i, j = np.minimum(i, j), np.maximum(i, j)
    pairs = np.unique(np.stack([i, j], axis=1), axis=0)
    return tuple((int(x), int(y)) for x, y in pairs)


def check_overlaps(ranges: RangeTable) -> None:
    """Raise :class:`~liprobe.errors.RangeOverlapError` if any two ranges overlap.

    The message names the first overlapping pair (ion names and bounds) and the option
    that resolves it.
    """
    keep = np.flatnonzero(~_duplicates(ranges))
    order, end = _overlap_spans(ranges.low_da[keep], ranges.high_da[keep])
    n_pairs = int((end - np.arange(keep.size) - 1).sum())
    if n_pairs:
        pairs = find_overlaps(ranges) if n_pairs <= 100_000 else ()
        if pairs:
            i, j = pairs[0]
        else:  # too many pairs to list: name the first in mass order
            a = int(np.flatnonzero(end > np.arange(keep.size) + 1)[0])
            i, j = sorted((int(keep[order[a]]), int(keep[order[a + 1]])))
        more = f" (and {n_pairs - 1} more overlapping pairs)" if n_pairs > 1 else ""
        raise RangeOverlapError(
            f"{_describe(ranges, i)} and {_describe(ranges, j)} overlap{more}, so an ion "
            "could be counted twice; fix the range file or pass overlap='first' or "
            "overlap='narrowest' (CLI: --overlap first|narrowest)"
        )


def _check_rule(rule: str) -> None:
    if rule not in OVERLAP_RULES:
        raise ParameterError(
            f"overlap={rule!r} is not a known rule; use one of {', '.join(OVERLAP_RULES)}"
        )


def _resolved(ranges: RangeTable, rule: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted non-overlapping ``(low, high, range_index)`` pieces of the ranges."""
    _check_rule(rule)
    keep = np.flatnonzero(~_duplicates(ranges))
    if rule == "error":
        check_overlaps(ranges)
    low = ranges.low_da[keep]
    high = ranges.high_da[keep]
    if keep.size == 0:
        empty = np.empty(0)
        return empty, empty, np.empty(0, np.int64)
    if rule == "narrowest":
        priority = np.lexsort((keep, high - low))  # narrowest first, then file order
    else:
        priority = np.arange(keep.size)
    order, end = _overlap_spans(low, high)
    if np.all(end == np.arange(keep.size) + 1):
        # no overlaps (the common case): the pieces are the ranges in mass order
        return low[order], high[order], keep[order].astype(np.int64)
    rank = np.empty(keep.size, np.int64)
    rank[priority] = np.arange(keep.size)
    e_low, e_high, winner = _sweep_winners(low, high, rank)
    winner = np.where(winner >= 0, keep[np.maximum(winner, 0)], -1)
    any_cover = winner >= 0
    # merge neighbouring elementary intervals with the same winner
    e_low, e_high, winner = e_low[any_cover], e_high[any_cover], winner[any_cover]
    start = np.ones(winner.size, dtype=bool)
    start[1:] = (winner[1:] != winner[:-1]) | (e_low[1:] != e_high[:-1])
    first = np.flatnonzero(start)
    last = np.append(first[1:], winner.size) - 1
    return e_low[first], e_high[last], winner[first].astype(np.int64)


def _sweep_winners(low: np.ndarray, high: np.ndarray, rank: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Elementary intervals between all bounds and the covering range of lowest ``rank``
    (-1 where none covers), by a sweep with a heap: O(n log n), no dense cover matrix."""
    import heapq

    bounds = np.unique(np.concatenate([low, high]))
    start = np.searchsorted(bounds, low)
    stop = np.searchsorted(bounds, high)
    by_start = np.argsort(start, kind="stable")
    n_el = bounds.size - 1
    winner = np.full(n_el, -1, np.int64)
    heap: list[tuple[int, int, int]] = []
    k = 0
    starts, stops, ranks = start[by_start].tolist(), stop.tolist(), rank.tolist()
    order = by_start.tolist()
    for e in range(n_el):
        while k < len(order) and starts[k] == e:
            r = order[k]
            heapq.heappush(heap, (ranks[r], r, stops[r]))
            k += 1
        while heap and heap[0][2] <= e:
            heapq.heappop(heap)
        if heap:
            winner[e] = heap[0][1]
    return bounds[:-1], bounds[1:], winner


def resolve_overlaps(ranges: RangeTable, rule: str = "first") -> RangeTable:
    """A range table without overlaps, resolved by ``rule`` (``"first"``, ``"narrowest"``).

    Pieces are sorted by ``low_da``; each keeps the ion, volume and colour of the range it
    comes from. A range partly covered by a winner keeps the uncovered part (possibly two
    pieces). ``rule="error"`` raises if there is an overlap and otherwise returns the
    ranges sorted, without exact duplicates.

    Examples
    --------
    >>> from liprobe.data import Ion, RangeTable
    >>> r = RangeTable((Ion("O", (("O", 1),)), Ion("O2", (("O", 2),))),
    ...                [15.9, 15.95], [16.1, 16.05], [0, 1])
    >>> fixed = resolve_overlaps(r, "narrowest")
    >>> [(float(a), float(b)) for a, b in zip(fixed.low_da, fixed.high_da)]
    [(15.9, 15.95), (15.95, 16.05), (16.05, 16.1)]
    """
    low, high, origin = _resolved(ranges, rule)
    return RangeTable(
        ranges.ions,
        low,
        high,
        ranges.ion_index[origin],
        volume_nm3=ranges.volume_nm3[origin],
        colors=tuple(ranges.colors[k] for k in origin),
    )


def _segments(ranges: RangeTable, overlap: str) -> _Segments:
    if not isinstance(ranges, RangeTable):
        raise ParameterError(f"ranges must be a RangeTable, got {type(ranges).__name__}")
    low, high, origin = _resolved(ranges, overlap)
    # masses are float32: compare with the bounds rounded to float32 (rounding is monotonic,
    # so the pieces stay sorted and disjoint; a piece narrower than float32 resolution drops)
    low = low.astype(np.float32).astype(np.float64)
    high = high.astype(np.float32).astype(np.float64)
    nonempty = low < high
    low, high, origin = low[nonempty], high[nonempty], origin[nonempty]
    cells, cell_origin, inv_width = _k.build_lookup(low, high)
    return _Segments(low, high, origin, cells, cell_origin, inv_width)


def _mass_array(mass_to_charge_da: object) -> np.ndarray:
    if isinstance(mass_to_charge_da, IonTable):
        mass = mass_to_charge_da.mass_to_charge_da
    else:
        mass = np.asarray(mass_to_charge_da)
    if mass.ndim != 1:
        raise ParameterError(f"mass_to_charge_da must be 1-D, got shape {mass.shape}")
    if mass.dtype.kind not in "fiu":
        raise ParameterError(f"mass_to_charge_da must be numeric, got dtype {mass.dtype}")
    return mass


def _native_chunks(mass: np.ndarray):
    """Yield ``(start, native float32 chunk)``; no copy when already native float32."""
    if mass.dtype == np.float32 and mass.dtype.isnative:
        yield 0, mass
        return
    buffer = np.empty(min(_k.CHUNK, mass.shape[0]), dtype=np.float32)
    for start in range(0, mass.shape[0], _k.CHUNK):
        part = mass[start : start + _k.CHUNK]
        out = buffer[: part.shape[0]]
        np.copyto(out, part, casting="unsafe")  # byte-swaps big-endian memmaps
        yield start, out


def _kernel_table(seg: _Segments, n_ions: int) -> tuple[np.ndarray, bool]:
    """The lookup table for ``n_ions`` ions and whether the compiled kernels use it."""
    compiled = n_ions >= _k.COMPILED_MIN_IONS
    if compiled:
        return seg.cells, True
    return _k.numpy_cells(seg.cells, seg.low.shape[0]), False


def _index_dtype(n_values: int) -> type:
    """The smallest signed integer dtype holding ``-1 .. n_values - 1``."""
    if n_values <= np.iinfo(np.int8).max:
        return np.int8
    if n_values <= np.iinfo(np.int16).max:
        return np.int16
    return np.int32


def _label(mass_to_charge_da: object, ranges: RangeTable, overlap: str, by_ion: bool) -> np.ndarray:
    mass = _mass_array(mass_to_charge_da)
    seg = _segments(ranges, overlap)
    table, compiled = _kernel_table(seg, mass.shape[0])
    value = seg.range_index
    if by_ion:
        value = ranges.ion_index[value] if value.size else value
    # species: the smallest signed integer that holds every index (int8 for up to 127
    # species, 1 byte per ion); range windows: int32 as documented
    dtype = _index_dtype(ranges.n_ions) if by_ion else np.int32
    value = np.ascontiguousarray(value, dtype=dtype)
    out = np.empty(mass.shape[0], dtype=dtype)
    for start, chunk in _native_chunks(mass):
        _k.label_segments(
            chunk, table, seg.origin, seg.inv_width, seg.low, seg.high, value,
            out[start : start + chunk.shape[0]], compiled=compiled,
        )
    return out


def assign_ranges(
    mass_to_charge_da: np.ndarray | IonTable, ranges: RangeTable, *, overlap: str = "error"
) -> np.ndarray:
    """Index of the range each ion belongs to (``-1``: unranged).

    Parameters
    ----------
    mass_to_charge_da : (N,) array or IonTable
        Mass-to-charge ratios in Da; any float dtype and byte order, strided views welcome
        (e.g. the m/q column of a memory-mapped POS file). Values are taken as float32.
    ranges : RangeTable
        The mass ranges; ``low_da <= m < high_da``.
    overlap : {"error", "first", "narrowest"}
        What to do with overlapping ranges (see the module documentation).

    Returns
    -------
    (N,) int32 array
        Index into ``ranges.low_da`` per ion, ``-1`` where no range holds the ion (NaN too).

    Notes
    -----
    A uniform lookup table of 1/64-Da cells resolves almost every ion in one step; cells
    that contain a range bound fall back to a binary search over the sorted bounds.

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.data import Ion, RangeTable
    >>> r = RangeTable((Ion("Li", (("Li", 1),)),), [6.9], [7.1], [0])
    >>> assign_ranges(np.array([7.0, 7.1, 6.9], np.float32), r).tolist()
    [0, -1, 0]
    """
    return _label(mass_to_charge_da, ranges, overlap, by_ion=False)


def species_per_ion(
    mass_to_charge_da: np.ndarray | IonTable, ranges: RangeTable, *, overlap: str = "error",
    known: np.ndarray | None = None,
) -> np.ndarray:
    """Which ion species each ion is: an index into ``ranges.ions`` (``-1`` unranged).

    The one function for "which species is each ion"; :func:`assign_ranges` answers "which
    range window", :func:`liprobe.apt.composition.atoms_per_species` "which atoms make
    each species".

    Parameters
    ----------
    mass_to_charge_da : (N,) array or IonTable
        Mass-to-charge ratios in Da (any float dtype and byte order).
    ranges : RangeTable
        The mass ranges; ``low_da <= m < high_da``.
    overlap : {"error", "first", "narrowest"}
        What to do with overlapping ranges (see the module documentation).
    known : (N,) integer array, optional
        The result of an earlier call on the same ions: checked (shape, range of values)
        and returned as is, so that several analyses share one ranging pass.

    Returns
    -------
    (N,) signed integer array
        The smallest signed dtype that holds every index: int8 up to 127 species (one byte
        per ion: 100 M ions take 100 MB), int16 up to 32767, else int32.

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.data import Ion, RangeTable
    >>> r = RangeTable((Ion("Li", (("Li", 1),)),), [5.9, 6.9], [6.1, 7.1], [0, 0])
    >>> species_per_ion(np.array([6.0, 7.0, 8.0], np.float32), r).tolist()
    [0, 0, -1]
    """
    if known is None:
        return _label(mass_to_charge_da, ranges, overlap, by_ion=True)
    n_ions = (mass_to_charge_da.n_ions if isinstance(mass_to_charge_da, IonTable)
              else int(np.shape(mass_to_charge_da)[0]))
    known = np.asarray(known)
    if (known.shape != (n_ions,) or known.dtype.kind not in "iu"
            or (known.size and (known.max() >= ranges.n_ions or known.min() < -1))):
        raise ParameterError(
            f"known species must hold one index below {ranges.n_ions} (or -1) per ion "
            f"({n_ions} ions); compute it with species_per_ion(ions, ranges)")
    return known


def count_ions(
    mass_to_charge_da: np.ndarray | IonTable, ranges: RangeTable, *, overlap: str = "error"
) -> IonCounts:
    """Count ions per ion species without building a per-ion index (fused, one pass).

    Parameters
    ----------
    mass_to_charge_da : (N,) array or IonTable
        Mass-to-charge ratios in Da (any float dtype and byte order).
    ranges : RangeTable
        The mass ranges; ``low_da <= m < high_da``.
    overlap : {"error", "first", "narrowest"}
        What to do with overlapping ranges (see the module documentation).

    Returns
    -------
    IonCounts
        Counts per species and per range, the unranged count and the total.

    Examples
    --------
    >>> import numpy as np
    >>> from liprobe.data import Ion, RangeTable
    >>> r = RangeTable((Ion("Li", (("Li", 1),)),), [6.9], [7.1], [0])
    >>> c = count_ions(np.array([7.0, 7.05, 9.0], np.float32), r)
    >>> c.counts.tolist(), c.n_unranged, c.n_ions
    ([2], 1, 3)
    """
    mass = _mass_array(mass_to_charge_da)
    seg = _segments(ranges, overlap)
    table, compiled = _kernel_table(seg, mass.shape[0])
    per_segment = np.zeros(seg.low.shape[0] + 1, dtype=np.int64)
    for _, chunk in _native_chunks(mass):
        _k.count_segments(chunk, table, seg.origin, seg.inv_width, seg.low, seg.high,
                          per_segment, compiled=compiled)
    range_counts = np.zeros(ranges.n_ranges, dtype=np.int64)
    np.add.at(range_counts, seg.range_index, per_segment[:-1])
    counts = np.zeros(ranges.n_ions, dtype=np.int64)
    np.add.at(counts, ranges.ion_index, range_counts)
    counts.flags.writeable = False
    range_counts.flags.writeable = False
    return IonCounts(
        ion_names=ranges.ion_names,
        counts=counts,
        range_counts=range_counts,
        n_unranged=int(per_segment[-1]),
        n_ions=int(mass.shape[0]),
    )
