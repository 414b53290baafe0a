"""The study manifest: one TOML file naming every sample, specimen and bulk measurement.

Schema (every key not listed is an error; relative paths resolve against the manifest's
folder)::

    [study]
    name = "chae2021-like"            # required, used in summary.json
    description = "..."               # optional

    [settings]                        # all optional, defaults shown
    normalize_to = ["Ni", "Co", "Mn"] # denominator of every ratio (metal-normalised)
    elements = ["Li", "Ni", "Co", "Mn", "O"]
    profile_bin_nm = 2.0              # bin width of per-specimen concentration profiles
    profile_axis = "z"                # axis of the per-specimen profile
    fda_block_ions = 100              # block size of the frequency distribution analysis
    particle_radius_um = 5.0          # sphere radius of the particle integral
    gradient_models = ["exponential", "erf", "two_scale", "logistic"]
    depth_definition = "half_recovery"  # growth-law depth: half_recovery | recovery_95 | deficit
    bound_depth = "midpoint"          # depth used for a bound "< 100 nm": midpoint | bound
    bulk_depth_nm = nan               # depth given to "bulk"/"surface to centre" specimens;
                                      # nan: left out of depth fits (they set the pristine
                                      # reference and appear as bulk lines in figures)
    seed = 0                          # for any resampling
    overlap_correction = "isotopes"   # "isotopes": ranges holding peaks of several species
                                      # (O+ / O2 2+ at 16 Da, O2+ / 64Ni2+ at 32 Da) are
                                      # re-attributed by isotope-fitted shares
                                      # (liprobe.apt.overlap_correction); "none": as ranged
    max_in_memory_ions = 200_000_000  # files with more ions are streamed in chunks:
                                      # composition and profile from every ion, FDA and
                                      # quality checks on a contiguous slab of this many
                                      # ions from the middle of the evaporation sequence
                                      # (POS/EPOS; an APT file above it is an error)
    missing_elements = "error"        # an element of `elements`/`normalize_to` absent from
                                      # a specimen's range file: "error" (naming the
                                      # specimen and the range file) or "nan" (its ratio is
                                      # NaN, with a note in the QC table)
    haadf_reference = "simulate"      # R0 source of every HAADF image that names none:
                                      # "simulate" or an image of the ordered material
                                      # recorded under the images' conditions

    [[samples]]                       # one per cycling state
    name = "NCM-100"                  # required, unique
    cycles = 100                      # required, integer >= 0

    [[specimens]]                     # one per APT specimen (several replicates per depth)
    sample = "NCM-100"                # required, must name a [[samples]] entry
    depth_nm = 200                    # either depth_nm (number >= 0) ...
    depth = "< 100 nm"                # ... or depth: "< 100 nm", "~2 um", "300 nm", "surface",
                                      #     "bulk" / "surface to centre" (bulk, no depth)
    replicate = 1                     # required, unique per (sample, depth)
    apt = "apt/ncm100_r1_1.pos"       # required: POS / EPOS / APT file
    ranges = "ranges/ncm.rrng"        # required: RRNG / RNG / ENV file
    haadf = ["haadf/ncm100_r1.tif"]   # optional HAADF images of the same site
    haadf_reference = "haadf/ref.tif" # optional R0 source of those images (needs haadf):
                                      # "simulate" or an ordered-crystal image
    name = "ncm100-R1-1"              # optional, default "<sample>-<depth>-<replicate>"
    acquisition = { laser_pulse_energy_pj = 30, base_temperature_k = 50 }  # optional run
                                      # conditions (keys: liprobe.data.ACQUISITION_METADATA)

    [icp]                             # optional bulk ICP-AES table
    file = "icp.csv"                  # columns: specimen, cycles, <El>_wt_pct ... (or li_wt_pct)

    [[cycling]]                       # optional cycler files, one per cell
    file = "cells/cell300.mpr"        # required
    format = "biologic"               # csv | biologic | neware | arbin (default: from suffix)
    sample = "NCM-300"                # optional: which sample's cell
    active_mass_g = 0.0125            # optional, needed for specific capacity
    columns = { cycle = "Cycle", discharge_capacity_mah = "Q_dis" }   # csv column mapping

    [[haadf]]                         # optional HAADF images not tied to one specimen
    image = "haadf/ncm300_surface.tif"  # required
    sample = "NCM-300"                # required
    depth_offset_nm = 0.0             # depth of the image's surface edge
    pixel_size_nm = 0.02              # optional, overrides the file's calibration
    reference = "simulate"            # R0 source: "simulate" or an image of the ordered
                                      # material under the same conditions

    [analysis.surface_layer]          # optional 3-D analyses per specimen: the surface
    [analysis.clusters]               # layer (on by default), clusters and nearest
    [analysis.nn]                     # neighbours (off by default); keys and defaults in
                                      # liprobe.study.manifest_analysis

HAADF reference (R0) of an image: its entry's own key (``[[haadf]] reference``,
``[[specimens]] haadf_reference``), else ``[settings] haadf_reference``, else
``"simulate"``. The simulated reference has no detector background: an image without
vacuum that keeps its background reads f too high against it (~+0.1 at f = 0.2), so name
an ordered-crystal image recorded under the same conditions (DOMAIN.md section 4).

Errors are :class:`~liprobe.errors.ManifestError` with one line naming the file, the
line and the key, e.g. ``study.toml, line 14: [[specimens]] #2: unknown key 'dept_nm';
did you mean 'depth_nm'?``.

Examples
--------
>>> from liprobe.study.manifest import parse_depth
>>> parse_depth("< 100 nm").depth_nm
50.0
"""

from __future__ import annotations

import difflib
import math
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from liprobe.errors import ManifestError
from liprobe.study._depth import Depth, parse_depth
from liprobe.study._manifest_check import (
    CYCLES_MAX,
    DEPTH_MAX_NM,
    PIXEL_SIZE_RANGE_NM,
    SETTING_BOUNDS,
    Checker,
)
from liprobe.study.acquisition import parse_acquisition
from liprobe.study.manifest_analysis import SpatialAnalysis, parse_analysis

__all__ = [
    "Depth", "Sample", "SpecimenSpec", "IcpSpec", "CyclingSpec", "HaadfSpec", "StudySettings",
    "Manifest", "parse_depth", "parse_manifest",
]


@dataclass(frozen=True)
class Sample:
    """A cycling state: its name and cycle count."""

    name: str
    cycles: int


@dataclass(frozen=True)
class StudySettings:
    """Analysis settings of a study (see the module docstring for meanings)."""

    normalize_to: tuple[str, ...] = ("Ni", "Co", "Mn")
    elements: tuple[str, ...] = ("Li", "Ni", "Co", "Mn", "O")
    profile_bin_nm: float = 2.0
    profile_axis: str = "z"
    fda_block_ions: int = 100
    particle_radius_um: float = 5.0
    gradient_models: tuple[str, ...] = ("exponential", "erf", "two_scale", "logistic")
    depth_definition: str = "half_recovery"
    bound_depth: str = "midpoint"
    bulk_depth_nm: float = math.nan
    seed: int = 0
    overlap_correction: str = "isotopes"
    max_in_memory_ions: int = 200_000_000
    haadf_reference: str = "simulate"
    missing_elements: str = "error"


@dataclass(frozen=True)
class SpecimenSpec:
    """One APT specimen: picklable input of :func:`liprobe.workflow.pipeline.analyze_specimen`."""

    name: str
    sample: str
    cycles: int
    depth: Depth
    replicate: str
    apt: Path
    ranges: Path
    haadf: tuple[Path, ...] = ()
    haadf_reference: str | Path = "simulate"
    acquisition: tuple[tuple[str, Any], ...] = ()
    depth_sigma_nm: float = math.nan
    analysis: SpatialAnalysis = SpatialAnalysis()


@dataclass(frozen=True)
class IcpSpec:
    """The bulk ICP-AES table."""

    file: Path


@dataclass(frozen=True)
class CyclingSpec:
    """One cycler file."""

    file: Path
    format: str | None = None
    sample: str | None = None
    active_mass_g: float | None = None
    columns: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HaadfSpec:
    """A HAADF image not tied to one APT specimen."""

    image: Path
    sample: str
    depth_offset_nm: float = 0.0
    pixel_size_nm: float | None = None
    reference: str | Path = "simulate"


@dataclass(frozen=True)
class Manifest:
    """A validated study manifest."""

    path: Path
    name: str
    description: str
    settings: StudySettings
    samples: tuple[Sample, ...]
    specimens: tuple[SpecimenSpec, ...]
    icp: IcpSpec | None = None
    cycling: tuple[CyclingSpec, ...] = ()
    haadf: tuple[HaadfSpec, ...] = ()
    source_text: str = field(default="", repr=False)

    def input_files(self) -> tuple[Path, ...]:
        """Every input file the study reads, sorted and without duplicates."""
        files = {self.path}
        for spec in self.specimens:
            files.update((spec.apt, spec.ranges, *spec.haadf))
            if isinstance(spec.haadf_reference, Path):
                files.add(spec.haadf_reference)
        if self.icp is not None:
            files.add(self.icp.file)
        files.update(c.file for c in self.cycling)
        files.update(h.image for h in self.haadf)
        files.update(h.reference for h in self.haadf if isinstance(h.reference, Path))
        return tuple(sorted(files))

    def sample_cycles(self) -> dict[str, int]:
        """``{sample name: cycle count}``."""
        return {s.name: s.cycles for s in self.samples}


#: Largest manifest read (16 MiB: some 100 000 specimens).
MANIFEST_MAX_BYTES = 16 << 20

_TOP = ("study", "settings", "samples", "specimens", "icp", "cycling", "haadf", "analysis")
_DEPTH_DEFS = ("half_recovery", "recovery_95", "deficit")
_MODELS = ("exponential", "erf", "two_scale", "logistic")
_OVERLAP_CORRECTIONS = ("isotopes", "none")
_FORMATS = ("csv", "biologic", "biologic_mpt", "neware", "neware_csv", "maccor", "arbin",
            "arbin_res")


def _settings(chk: Checker, raw: dict[str, Any], base: Path) -> StudySettings:
    defaults = StudySettings()
    allowed = tuple(StudySettings.__dataclass_fields__)
    chk.keys(raw, allowed, (), "settings")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("normalize_to", "elements"):
            from liprobe.formula import is_element

            values[key] = chk.strings(value, "settings", key)
            unknown = [el for el in values[key] if not is_element(el)]
            if unknown:
                raise chk.fail(f"{unknown[0]!r} in {key!r} is not an element symbol (write "
                               "them like \"Li\", \"Ni\")", "settings", None, key)
            if len(set(values[key])) != len(values[key]):
                raise chk.fail(f"{key!r} names an element twice", "settings", None, key)
        elif key == "gradient_models":
            names = chk.strings(value, "settings", key)
            for name in names:
                if name not in _MODELS:
                    raise chk.fail(f"unknown gradient model {name!r}; choose from "
                                   f"{', '.join(_MODELS)}", "settings", None, key)
            values[key] = names
        elif key == "depth_definition":
            if value not in _DEPTH_DEFS:
                raise chk.fail(f"'depth_definition' must be one of {', '.join(_DEPTH_DEFS)}, "
                               f"got {value!r}", "settings", None, key)
            values[key] = value
        elif key == "bound_depth":
            if value not in ("midpoint", "bound"):
                raise chk.fail("'bound_depth' must be 'midpoint' or 'bound'", "settings", None, key)
            values[key] = value
        elif key == "overlap_correction":
            if value not in _OVERLAP_CORRECTIONS:
                raise chk.fail(f"'overlap_correction' must be one of "
                               f"{', '.join(_OVERLAP_CORRECTIONS)}, got {value!r}",
                               "settings", None, key)
            values[key] = value
        elif key == "profile_axis":
            if value not in ("x", "y", "z"):
                raise chk.fail("'profile_axis' must be 'x', 'y' or 'z'", "settings", None, key)
            values[key] = value
        elif key == "missing_elements":
            if value not in ("error", "nan"):
                raise chk.fail("'missing_elements' must be 'error' or 'nan'", "settings", None,
                               key)
            values[key] = value
        elif key in SETTING_BOUNDS:
            if key == "bulk_depth_nm" and isinstance(value, float) and math.isnan(value):
                values[key] = value
                continue
            low, high, integer = SETTING_BOUNDS[key]
            number = chk.number(value, "settings", None, key, integer=integer)
            chk.bounded(number, low, high, "settings", None, key)
            values[key] = number if integer else float(number)
        elif key == "haadf_reference":
            values[key] = str(chk.reference(base, value, "settings", None, key))
    return StudySettings(**{**defaults.__dict__, **values})


def parse_manifest(text: str, path: str | os.PathLike = "study.toml") -> Manifest:
    """Validate manifest ``text``; relative paths resolve against ``path``'s folder.

    Raises
    ------
    ManifestError
        One line naming the file, the line and the key.
    """
    path = Path(path)
    base = path.resolve().parent
    chk = Checker(path, text)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ManifestError(f"{path}: tables or arrays nested too deeply for a study manifest; "
                            "see the schema in liprobe.study.manifest") from None
    for key in raw:
        if key not in _TOP:
            near = difflib.get_close_matches(key, _TOP, n=1)
            hint = f"; did you mean [{near[0]}]?" if near else f"; allowed: {', '.join(_TOP)}"
            line = chk.loc.line(None, None, key) or chk.loc.line(key) or chk.loc.line(key, 0)
            raise ManifestError(f"{path}" + (f", line {line}" if line else "")
                                + f": unknown table {key!r}{hint}")
    study = raw.get("study")
    if study is None:
        raise ManifestError(f"{path}: missing [study] table with name = \"...\"")
    chk.keys(study, ("name", "description"), ("name",), "study")
    chk.text(study["name"], "study", None, "name")
    settings = _settings(chk, raw.get("settings", {}), base)
    default_reference: str | Path = (settings.haadf_reference
                                     if settings.haadf_reference == "simulate"
                                     else Path(settings.haadf_reference))

    samples: list[Sample] = []
    raw_samples = raw.get("samples", [])
    if not isinstance(raw_samples, list) or not raw_samples:
        raise ManifestError(f"{path}: at least one [[samples]] entry (name, cycles) is required")
    for i, entry in enumerate(raw_samples):
        chk.keys(entry, ("name", "cycles"), ("name", "cycles"), "samples", i)
        chk.text(entry["name"], "samples", i, "name")
        cycles = chk.number(entry["cycles"], "samples", i, "cycles", integer=True, minimum=0)
        chk.bounded(cycles, 0, CYCLES_MAX, "samples", i, "cycles")
        if any(s.name == entry["name"] for s in samples):
            raise chk.fail(f"duplicate sample name {entry['name']!r}", "samples", i, "name")
        samples.append(Sample(str(entry["name"]), int(cycles)))
    cycles_of = {s.name: s.cycles for s in samples}

    specimens: list[SpecimenSpec] = []
    seen: set[tuple[str, str, str]] = set()
    files_seen: dict[Any, int] = {}
    depths_seen: dict[tuple[str, float, float, float], str] = {}
    spec_keys = ("sample", "depth_nm", "depth", "replicate", "apt", "ranges", "haadf",
                 "haadf_reference", "name", "acquisition", "depth_sigma_nm")
    for i, entry in enumerate(raw.get("specimens", [])):
        chk.keys(entry, spec_keys, ("sample", "replicate", "apt", "ranges"), "specimens", i)
        chk.text(entry["sample"], "specimens", i, "sample")
        if "name" in entry:
            chk.text(entry["name"], "specimens", i, "name")
        if entry["sample"] not in cycles_of:
            near = difflib.get_close_matches(str(entry["sample"]), list(cycles_of), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise chk.fail(f"sample {entry['sample']!r} is not a [[samples]] name{hint}",
                           "specimens", i, "sample")
        if ("depth_nm" in entry) == ("depth" in entry):
            raise chk.fail("give exactly one of 'depth_nm' (number) or 'depth' (text)",
                           "specimens", i, "depth_nm" if "depth_nm" in entry else None)
        key = "depth_nm" if "depth_nm" in entry else "depth"
        value = entry[key]
        if key == "depth_nm" and not isinstance(value, (int, float)):
            raise chk.fail(f"'depth_nm' must be a number of nm, got {value!r}; use depth = "
                           "\"...\" for text like '< 100 nm'", "specimens", i, key)
        try:
            depth = parse_depth(value, bound_depth=settings.bound_depth,
                                bulk_depth_nm=settings.bulk_depth_nm)
        except ManifestError as exc:
            raise chk.fail(str(exc), "specimens", i, key) from None
        replicate = entry["replicate"]
        if isinstance(replicate, bool) or not isinstance(replicate, (int, str)):
            raise chk.fail("'replicate' must be an integer or a string", "specimens", i,
                           "replicate")
        where = (entry["sample"], depth.depth_nm, depth.low_nm, depth.high_nm)
        if depths_seen.setdefault(where, depth.label) != depth.label:
            raise chk.fail(f"depth {depth.label!r} is the depth {depths_seen[where]!r} of another "
                           f"specimen of {entry['sample']!r} written differently; write it the "
                           "same way so that they form one group", "specimens", i, key)
        ident = (entry["sample"], depth.label, str(replicate))
        if ident in seen:
            raise chk.fail(f"duplicate replicate {replicate!r} for sample {entry['sample']!r} "
                           f"at depth {depth.label!r}", "specimens", i, "replicate")
        seen.add(ident)
        apt = chk.file(base, entry["apt"], "specimens", i, "apt")
        same = files_seen.setdefault(chk.identity(apt), i)
        if same != i:
            raise chk.fail(f"'apt' {os.fspath(apt)!r} is the file of [[specimens]] #{same + 1} "
                           "(same file after resolving links): one measurement cannot be two "
                           "replicates", "specimens", i, "apt")
        ranges = chk.file(base, entry["ranges"], "specimens", i, "ranges")
        haadf = chk.files(base, entry.get("haadf", []), "specimens", i, "haadf")
        reference = default_reference
        if "haadf_reference" in entry:
            if not haadf:
                raise chk.fail("'haadf_reference' needs HAADF images: add haadf = [...] or "
                               "remove the key", "specimens", i, "haadf_reference")
            reference = chk.reference(base, entry["haadf_reference"], "specimens", i,
                                      "haadf_reference")
        depth_sigma = entry.get("depth_sigma_nm", math.nan)
        if isinstance(depth_sigma, bool) or not isinstance(depth_sigma, (int, float)) \
                or not (math.isnan(depth_sigma) or depth_sigma >= 0):
            raise chk.fail(f"'depth_sigma_nm' must be a number of nm >= 0 (the depth's "
                           f"standard uncertainty), got {depth_sigma!r}", "specimens", i,
                           "depth_sigma_nm")
        name = entry.get("name") or f"{entry['sample']}-{depth.label}-{replicate}"
        if any(s.name == name for s in specimens):
            raise chk.fail(f"duplicate specimen name {name!r}", "specimens", i, "name")
        acquisition = (parse_acquisition(chk, entry["acquisition"], "specimens", i)
                       if "acquisition" in entry else ())
        specimens.append(SpecimenSpec(str(name), str(entry["sample"]),
                                      cycles_of[entry["sample"]], depth, str(replicate),
                                      apt, ranges, haadf, reference, acquisition,
                                      float(depth_sigma)))

    if not specimens:
        line = chk.loc.line("specimens", 0)
        raise ManifestError(f"{path}" + (f", line {line}" if line else "") + ": no "
                            "[[specimens]] entry: a study needs at least one APT specimen "
                            "(sample, depth, replicate, apt, ranges); 'liprobe study init "
                            "FOLDER' writes them for the files it finds")

    icp = None
    if "icp" in raw:
        chk.keys(raw["icp"], ("file",), ("file",), "icp")
        icp = IcpSpec(chk.file(base, raw["icp"]["file"], "icp", None, "file"))

    cycling: list[CyclingSpec] = []
    for i, entry in enumerate(raw.get("cycling", [])):
        chk.keys(entry, ("file", "format", "sample", "active_mass_g", "columns"), ("file",),
                 "cycling", i)
        file = chk.file(base, entry["file"], "cycling", i, "file")
        fmt = entry.get("format")
        if fmt is not None and fmt not in _FORMATS:
            raise chk.fail(f"'format' must be one of {', '.join(_FORMATS)}, got {fmt!r}",
                           "cycling", i, "format")
        if "sample" in entry:
            chk.text(entry["sample"], "cycling", i, "sample")
        if "sample" in entry and entry["sample"] not in cycles_of:
            raise chk.fail(f"sample {entry['sample']!r} is not a [[samples]] name",
                           "cycling", i, "sample")
        mass = entry.get("active_mass_g")
        if mass is not None:
            mass = float(chk.number(mass, "cycling", i, "active_mass_g", positive=True))
            chk.bounded(mass, 1e-9, 1e3, "cycling", i, "active_mass_g")
        columns = entry.get("columns", {})
        if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
            raise chk.fail("'columns' must be a table of name = \"column header\"",
                           "cycling", i, "columns")
        cycling.append(CyclingSpec(file, fmt, entry.get("sample"), mass,
                                   tuple(sorted(columns.items()))))

    haadf_specs: list[HaadfSpec] = []
    for i, entry in enumerate(raw.get("haadf", [])):
        chk.keys(entry, ("image", "sample", "depth_offset_nm", "pixel_size_nm", "reference"),
                 ("image", "sample"), "haadf", i)
        image = chk.file(base, entry["image"], "haadf", i, "image")
        chk.text(entry["sample"], "haadf", i, "sample")
        if entry["sample"] not in cycles_of:
            raise chk.fail(f"sample {entry['sample']!r} is not a [[samples]] name",
                           "haadf", i, "sample")
        offset = float(chk.number(entry.get("depth_offset_nm", 0.0), "haadf", i,
                                  "depth_offset_nm", minimum=0))
        chk.bounded(offset, 0, DEPTH_MAX_NM, "haadf", i, "depth_offset_nm")
        px = entry.get("pixel_size_nm")
        if px is not None:
            px = float(chk.number(px, "haadf", i, "pixel_size_nm", positive=True))
            chk.bounded(px, *PIXEL_SIZE_RANGE_NM, "haadf", i, "pixel_size_nm")
        reference = (chk.reference(base, entry["reference"], "haadf", i, "reference")
                     if "reference" in entry else default_reference)
        haadf_specs.append(HaadfSpec(image, str(entry["sample"]), offset, px, reference))

    # [analysis.*]: the 3-D analyses of each specimen (liprobe.study.manifest_analysis)
    chosen = parse_analysis(chk, raw.get("analysis"), tuple(s.name for s in specimens))
    specimens = [replace(s, analysis=chosen[s.name]) for s in specimens]
    return Manifest(path, str(study["name"]), str(study.get("description", "")), settings,
                    tuple(samples), tuple(specimens), icp, tuple(cycling), tuple(haadf_specs),
                    text)
