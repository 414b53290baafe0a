"""Scale-out: run specimens on a Dask cluster, and process point clouds larger than memory.

Two independent tools for labs with hundreds of specimens and files of 10^9 ions:

- :func:`dask_map` is a context manager yielding a ``map(func, items)`` function that runs
  ``func`` on a dask.distributed cluster (a local one with ``n_workers`` processes, or an
  existing one at ``scheduler``) and returns the results *in input order*. Because each
  specimen's analysis is a pure function of its inputs, the results are identical to the
  serial run (:func:`serial_map`); pass the yielded function as ``map_specimens`` to
  :func:`liprobe.workflow.pipeline.run_study`.
- :func:`chunked_composition` and :func:`chunked_profile` stream a POS or EPOS file in
  chunks of ``chunk_ions`` ions with ordinary file reads (no memory map, whose touched pages
  would count as resident memory), so peak memory is bounded by the chunk size, not the
  file size. They give exactly the counts of the in-memory functions
  (:func:`liprobe.apt.ranging.count_ions`, :func:`liprobe.apt.profiles.concentration_profile`
  with ``bin_nm``).

Examples
--------
>>> from liprobe.workflow.scaleout import dask_map
>>> with dask_map(n_workers=2) as pmap:  # doctest: +SKIP
...     squares = pmap(pow, [1, 2, 3], [2, 2, 2])
>>> squares  # doctest: +SKIP
[1, 4, 9]
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liprobe.data import RangeTable
from liprobe.errors import (
    DependencyError,
    LiprobeError,
    ParameterError,
    SpecimenError,
)
from liprobe.io.chunks import DEFAULT_CHUNK_IONS, iter_ion_chunks, record_bytes

__all__ = [
    "MapFunction", "serial_map", "dask_map", "ChunkedComposition",
    "chunked_composition", "chunked_profile", "DEFAULT_CHUNK_IONS",
]

#: A map function: ``map(func, *iterables) -> list`` of results in input order.
MapFunction = Callable[..., list]

#: Ions per chunk by default: 4 M ions = 64 MB of POS records (+ ~40 MB of work arrays).

#: Thread-pool sizes set in each local worker's environment (= threads per worker).
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "NUMBA_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

#: Bytes per ion record; the first 16 bytes are x, y, z, m/q big-endian float32 in both.


def serial_map(func: Callable[..., Any], *iterables: Iterable[Any], progress: Callable[[int, int],
               None] | None = None) -> list:
    """``list(map(func, *iterables))``, with an optional ``progress(done, total)`` callback."""
    items = list(zip(*iterables))
    results = []
    for done, args in enumerate(items, start=1):
        results.append(func(*args))
        if progress is not None:
            progress(done, len(items))
    return results


@contextlib.contextmanager
def dask_map(n_workers: int | None = None, scheduler: str | None = None, *,
             threads_per_worker: int = 1,
             progress: Callable[[int, int], None] | None = None,
             connect_timeout_s: float = 30.0) -> Iterator[MapFunction]:
    """Context manager yielding a map function that runs on a dask.distributed cluster.

    Parameters
    ----------
    n_workers : int, optional
        Worker processes of a local cluster started for the ``with`` block (default: one
        per CPU core). Ignored when ``scheduler`` is given.
    scheduler : str, optional
        Address of an existing scheduler (``"tcp://host:8786"``); the cluster is used, not
        started or stopped. Its workers must have liprobe installed.
    threads_per_worker : int, optional
        Threads per local worker (default 1: the analysis kernels release the GIL but one
        specimen per process keeps memory predictable). The worker processes' BLAS, OpenMP
        and numba thread pools are set to the same number (``OMP_NUM_THREADS``,
        ``MKL_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``NUMBA_NUM_THREADS`` ...), so
        ``n_workers x threads_per_worker`` threads run at most.
    progress : callable, optional
        ``progress(done, total)`` called as tasks finish (in completion order).
    connect_timeout_s : float, optional
        How long to try reaching ``scheduler`` before a :class:`ParameterError`.

    Yields
    ------
    callable
        ``map(func, *iterables) -> list``: ``func`` applied to the zipped items, results in
        input order. ``func`` and the items must be picklable.

    Raises
    ------
    ParameterError
        ``n_workers`` below 1, or ``scheduler`` cannot be reached.
    SpecimenError
        A worker died (killed, out of memory) while running a task.
    DependencyError
        dask.distributed is not installed.

    Notes
    -----
    Tasks are submitted with ``pure=False`` so identical inputs are still computed (a
    specimen listed twice is analysed twice, as in the serial run). A task's exception is
    re-raised in the caller with its original type.

    Local workers are spawned with their thread pools limited (above) and without dask's
    ``MALLOC_TRIM_THRESHOLD_=65536``, which disables glibc's dynamic mmap threshold and
    makes every large numpy temporary a fresh mapping (page faults, system time). Workers
    of an existing ``scheduler`` keep the environment they were started with: start them
    with ``OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1`` and ``--nthreads 1``.

    What to expect: the map part (each specimen, each ``[[haadf]]`` image) scales with the
    free cores up to memory bandwidth; tables, fits and figures after it stay serial, so
    the whole run obeys Amdahl's law (``benchmarks/bench_scaleout.py`` prints both).
    """
    if n_workers is not None and int(n_workers) < 1:
        raise ParameterError(f"--workers must be at least 1, got {n_workers}")
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a declared dependency
        raise DependencyError("running on a cluster needs dask.distributed: "
                              "pip install 'dask[distributed]'") from exc
    cluster = None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{float(connect_timeout_s)}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ParameterError(f"--scheduler {scheduler}: cannot reach the dask scheduler "
                                 f"({exc}); check the address, or run without --scheduler"
                                 ) from None
    else:
        import dask

        threads = str(int(threads_per_worker))
        # Set in the environment the worker processes are spawned with (dask's
        # "pre-spawn-environ": read before numpy/numba load in the worker):
        # - every thread pool (BLAS/OpenMP of numpy and scipy, numba) sized to the worker's
        #   threads: N workers x (all cores) threads would oversubscribe the machine;
        # - MALLOC_TRIM_THRESHOLD_ unset: dask's default (65536) switches off glibc's dynamic
        #   mmap threshold, so every large numpy temporary becomes a fresh mmap + page faults;
        #   measured here: +1 s of system time per 70 specimens (+20 % wall) in one process.
        environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}),
                   **{name: threads for name in _THREAD_ENV}, "MALLOC_TRIM_THRESHOLD_": None}
        # distributed applies the pre-spawn environment to this process's os.environ too
        # and leaves it there: the caller's own numba/BLAS pools would then be sized to one
        # thread (and numba refuses a later change). Put the caller's values back.
        saved = {name: os.environ.get(name) for name in environ}
        try:
            with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
                cluster = LocalCluster(n_workers=None if n_workers is None else int(n_workers),
                                       threads_per_worker=int(threads_per_worker),
                                       processes=True, dashboard_address=":0",
                                       silence_logs=40)
        finally:
            _restore_environ(saved)
        client = Client(cluster)

    def pmap(func: Callable[..., Any], *iterables: Iterable[Any]) -> list:
        items = [list(it) for it in iterables]
        if not items or not items[0]:
            return []
        futures = client.map(func, *items, pure=False)
        if progress is not None:
            for done, _ in enumerate(as_completed(futures), start=1):
                progress(done, len(futures))
        try:
            return client.gather(futures)
        except LiprobeError:
            raise
        except Exception as exc:  # noqa: BLE001 - a worker failure comes back as one error
            from distributed.scheduler import KilledWorker

            if isinstance(exc, KilledWorker):
                raise SpecimenError(f"a dask worker died while running a task ({exc}); "
                                    "it may have run out of memory: use fewer workers or "
                                    "lower max_in_memory_ions") from None
            raise

    try:
        yield pmap
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _restore_environ(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@dataclass(frozen=True, eq=False)
class ChunkedComposition:
    """Atom counts of a whole file, with ratios to the metal sum and their uncertainty.

    Attributes
    ----------
    elements : tuple of str
        Element order of ``atom_counts``.
    atom_counts : (n_elements,) int64
        Atoms per element (molecular ions decomposed).
    ion_counts : (n_species,) int64
        Ions per ion species of the range table.
    n_ions, n_unranged : int
        All ions read; ions in no range.
    denominator : tuple of str
        Elements of the ratio denominator (Ni + Co + Mn, as in the paper).
    atom_covariance : (n_elements, n_elements) float64 or None
        Counting covariance of the atoms (:func:`liprobe.counting.atom_covariance`); None
        treats atoms as independent Poisson counts.
    """

    elements: tuple[str, ...]
    atom_counts: np.ndarray
    ion_counts: np.ndarray
    n_ions: int
    n_unranged: int
    denominator: tuple[str, ...]
    atom_covariance: np.ndarray | None = None

    def ratios(self) -> dict[str, tuple[float, float]]:
        """``{element: (ratio, sigma)}``: N_X / N_denominator with counting σ."""
        from liprobe.counting import ratios_with_sigma

        cov = None if self.atom_covariance is None else self.atom_covariance[None]
        ratio, sigma = ratios_with_sigma(self.atom_counts[None, :], self.elements,
                                         self.denominator, cov)
        return {e: (float(ratio[0, i]), float(sigma[0, i])) for i, e in enumerate(self.elements)}


def chunked_composition(path: str | os.PathLike, ranges: RangeTable, *,
                        chunk_ions: int = DEFAULT_CHUNK_IONS,
                        normalize_to: tuple[str, ...] | None = None,
                        overlap: str = "error") -> ChunkedComposition:
    """Composition of a whole POS/EPOS file read chunk by chunk (bounded memory).

    Equals :func:`liprobe.apt.ranging.count_ions` on the whole file (integer counts,
    summed per chunk); atoms per ion species from the range table's ion definitions.
    Ratios r_X = N_X / (N_Ni + N_Co + N_Mn) follow Chae et al. (Nat. Commun.).

    Examples
    --------
    >>> comp = chunked_composition("big.pos", ranges, chunk_ions=1 << 22)  # doctest: +SKIP
    >>> comp.ratios()["Li"]  # doctest: +SKIP
    (1.03, 0.0004)
    """
    from liprobe.apt.ranging import count_ions
    from liprobe.apt.species import atoms_per_species
    from liprobe.counting import atom_covariance
    from liprobe.counting import denominator_for as default_denominator

    elements, atoms = atoms_per_species(ranges)
    denominator = default_denominator(elements, normalize_to)
    ion_counts = np.zeros(ranges.n_ions, dtype=np.int64)
    n_ions = n_unranged = 0
    for chunk in iter_ion_chunks(path, chunk_ions=chunk_ions):
        counts = count_ions(chunk.mass_to_charge_da, ranges, overlap=overlap)
        ion_counts += counts.counts
        n_ions += counts.n_ions
        n_unranged += counts.n_unranged
    atom_counts = ion_counts @ atoms
    ion_counts.flags.writeable = False
    atom_counts.flags.writeable = False
    return ChunkedComposition(elements, atom_counts, ion_counts, n_ions, n_unranged, denominator,
                              atom_covariance(ion_counts, atoms))


_AXIS_COLUMN = {"x": 0, "y": 1, "z": 2}


def _axis_extent(path: Path, chunk_ions: int, column: int
                 ) -> tuple[float, float, float, float, float, int]:
    """Pass 1 over one coordinate column: first ion's value, min, max, mean of the first and
    last tenth of the ions (evaporation order), ion count."""
    n_ions = path.stat().st_size // record_bytes(path)
    tenth = max(1, n_ions // 10)
    first, low, high = np.nan, np.inf, -np.inf
    head_sum = tail_sum = 0.0
    position = 0
    for chunk in iter_ion_chunks(path, chunk_ions=chunk_ions):
        coord = chunk.xyz_nm[:, column]
        n = coord.shape[0]
        if position == 0:
            first = float(coord[0])
        low = min(low, float(coord.min()))
        high = max(high, float(coord.max()))
        head = coord[: max(0, min(n, tenth - position))]
        tail = coord[max(0, n_ions - tenth - position):]
        head_sum += float(head.sum(dtype=np.float64))
        tail_sum += float(tail.sum(dtype=np.float64))
        position += n
    return first, low, high, head_sum / tenth, tail_sum / tenth, n_ions


def chunked_profile(path: str | os.PathLike, ranges: RangeTable, *, bin_nm: float = 1.0,
                    axis: str = "z", chunk_ions: int = DEFAULT_CHUNK_IONS,
                    normalize_to: tuple[str, ...] | None = None, overlap: str = "error"):
    """Concentration profile along an axis of a file larger than memory.

    Two passes over the file: the first finds the coordinate's extent (for ``axis="z"``
    also the first ion's z and the evaporation direction: mean z of the last tenth of the
    ions against the first tenth, as :func:`liprobe.apt.profiles.concentration_profile`),
    the second counts ions per (bin, species) chunk by chunk. Peak memory is
    O(chunk_ions), independent of the file.

    Parameters
    ----------
    path : path-like
        POS or EPOS file.
    ranges : RangeTable
        Mass ranges.
    bin_nm : float, optional
        Bin width in nm (default 1).
    axis : {"z", "x", "y"}, optional
        ``"z"`` (default): the analysis direction, distance from the first ion growing with
        evaporation order; ``"x"``/``"y"``: the coordinate minus its minimum.
    chunk_ions : int, optional
        Ions per chunk (memory ~ 26 B x chunk_ions for POS).
    normalize_to : tuple of str, optional
        Ratio denominator (default Ni + Co + Mn present).
    overlap : {"error", "first", "narrowest"}
        Overlap rule of the ranging step.

    Returns
    -------
    liprobe.apt.profiles.Profile
        The same counts as ``concentration_profile(read_ions(path), ranges, axis=axis,
        bin_nm=bin_nm)``.
    """
    from liprobe.apt import profile_kernels as kernels
    from liprobe.apt.axis import axis_coordinate
    from liprobe.apt.profiles import Profile
    from liprobe.apt.species import atoms_per_species, species_per_ion
    from liprobe.counting import atom_covariance
    from liprobe.counting import denominator_for as default_denominator

    if not (np.isfinite(bin_nm) and bin_nm > 0):
        raise ParameterError(f"bin_nm must be a positive number of nm, got {bin_nm}")
    if axis not in _AXIS_COLUMN:
        raise ParameterError(f"axis must be 'x', 'y' or 'z' for chunked profiles, got {axis!r}")
    path = Path(path)
    column = _AXIS_COLUMN[axis]
    first, low, high, head_mean, tail_mean, n_ions = _axis_extent(path, chunk_ions, column)
    if n_ions == 0:
        raise ParameterError(f"{path}: the file holds no ions: nothing to profile")
    if axis == "z":
        # the conventions of liprobe.apt.profiles: distance grows with evaporation order,
        # 0 at the first ion, sign from the mean z of the last tenth against the first
        sign = -1.0 if (n_ions >= 2 and tail_mean < head_mean) else 1.0
        origin = first
        label = axis_coordinate(np.array([[0, 0, 0], [0, 0, sign]], np.float32), "z")[3]
    else:
        sign, origin = 1.0, low
        label = axis_coordinate(np.zeros((1, 3), np.float32), axis)[3]
    far = high if sign > 0 else low
    span = max(sign * (far - origin), 0.0)
    n_bins = max(1, int(np.floor(span / bin_nm)) + 1)
    elements, atoms = atoms_per_species(ranges)
    denominator = default_denominator(elements, normalize_to)
    ion_species = np.zeros((n_bins, ranges.n_ions), dtype=np.int64)
    for chunk in iter_ion_chunks(path, chunk_ions=chunk_ions):
        species = species_per_ion(chunk.mass_to_charge_da, ranges, overlap=overlap)
        coord = chunk.xyz_nm[:, column].astype(np.float32)
        ion_species += kernels.count_fixed_width(coord, species, origin, sign, float(bin_nm),
                                                 n_bins, ranges.n_ions)
    edges = np.arange(n_bins + 1) * float(bin_nm)
    return Profile(start_nm=edges[:-1].astype(np.float64), end_nm=edges[1:].astype(np.float64),
                   elements=elements, atom_counts=ion_species @ atoms,
                   ion_counts=ion_species.sum(axis=1), denominator=denominator, axis=label,
                   atom_covariance=atom_covariance(ion_species, atoms))
