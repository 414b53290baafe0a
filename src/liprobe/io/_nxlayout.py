"""Small helpers of the NeXus NXapm format: groups with their NX_class, the program
record NXapm asks for in every process, and element <-> nuclide encodings of NXatom."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from liprobe.errors import FormatError, LiprobeError, ParameterError

__all__ = ["EVENT", "MAX_ATOMS", "write_group", "nuclide_arrays", "atoms_of_nuclides",
           "text_of", "strings", "open_hdf5"]

#: The one event group liprobe writes (instrument state during the run).
EVENT = "measurement/event1"
#: NXapm's fixed length of the nuclide arrays of an ion (atoms per molecular ion).
MAX_ATOMS = 32


def text_of(value) -> str:
    """A stored string (bytes, numpy bytes or str) as str."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def strings(values) -> np.ndarray:
    """A list of str as an HDF5 variable-length UTF-8 string array."""
    import h5py

    return np.array(list(values), dtype=h5py.string_dtype())


def write_group(parent, name: str, nx_class: str, *, program: bool = False):
    """Create ``parent/name`` with its NX_class; with ``program`` also the ``program1``
    NXprogram record (liprobe and its version) that NXapm requires in a process."""
    group = parent.create_group(name)
    group.attrs["NX_class"] = nx_class
    if program:
        from liprobe import __version__

        record = group.create_group("program1")
        record.attrs["NX_class"] = "NXprogram"
        record["program"] = "liprobe"
        record["program"].attrs["version"] = __version__
    return group


def _symbols():
    import periodictable

    return {el.number: el.symbol for el in periodictable.elements if el.number > 0}


def nuclide_arrays(atoms, *, path) -> tuple[np.ndarray, np.ndarray]:
    """``nuclide_hash`` (32,) and ``nuclide_list`` (32, 2) of an ion's atoms: each atom an
    element (mass number 0), hash = Z, rows (0, Z), heaviest first, zero-padded."""
    numbers = {symbol: z for z, symbol in _symbols().items()}
    zs = []
    for symbol, count in atoms:
        if symbol not in numbers:
            raise ParameterError(f"cannot write ion atom {symbol!r} to NeXus: not an element")
        zs += [numbers[symbol]] * int(count)
    if len(zs) > MAX_ATOMS:
        raise ParameterError(f"an ion of {len(zs)} atoms exceeds NXapm's {MAX_ATOMS}")
    zs.sort(reverse=True)
    hashes = np.zeros(MAX_ATOMS, np.uint16)
    nuclides = np.zeros((MAX_ATOMS, 2), np.uint16)
    hashes[: len(zs)] = zs
    nuclides[: len(zs), 1] = zs
    return hashes, nuclides


def atoms_of_nuclides(nuclides: np.ndarray, *, path) -> list[tuple[str, int]]:
    """Atoms ``[(symbol, 1), ...]`` of an NXatom ``nuclide_list`` (rows mass number, Z)."""
    table = _symbols()
    nuclides = np.asarray(nuclides)
    if nuclides.ndim != 2 or nuclides.shape[1] != 2:
        raise FormatError(f"nuclide_list has shape {nuclides.shape}, expected (k, 2)",
                          path=path)
    atoms = []
    for z in nuclides[:, 1]:
        if int(z) == 0:
            continue
        if int(z) not in table:
            raise FormatError(f"nuclide_list names atomic number {int(z)}", path=path)
        atoms.append((table[int(z)], 1))
    return atoms


@contextmanager
def open_hdf5(path):
    """Open ``path`` read-only; anything h5py raises on a damaged or unexpected file
    (truncated, a dataset where a group should be ...) becomes a FormatError."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            yield f
    except LiprobeError:
        raise
    except (OSError, KeyError, ValueError, TypeError, IndexError, AttributeError,
            RuntimeError) as exc:
        raise FormatError(f"cannot read the HDF5 content ({type(exc).__name__}: {exc})",
                          path=path, hint="the file is damaged or not in the layout "
                                          "liprobe expects") from None
