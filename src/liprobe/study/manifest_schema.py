"""The study manifest's schema as data: every table and key, its type, default and meaning.

The reference page (``liprobe study schema``, ``docs/manifest.md``) is generated from
:data:`MANIFEST_SCHEMA` by :func:`schema_markdown`; the defaults of ``[settings]`` are read
from :class:`liprobe.study.manifest.StudySettings` itself, and a test checks that the keys
here are exactly the keys :func:`liprobe.study.manifest.parse_manifest` accepts, so the
reference cannot drift from the code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

__all__ = ["SchemaKey", "SchemaTable", "MANIFEST_SCHEMA", "schema_markdown", "schema_dict"]


@dataclass(frozen=True)
class SchemaKey:
    """One key of a manifest table."""

    name: str
    type: str
    meaning: str
    required: bool = False
    default: str = ""


@dataclass(frozen=True)
class SchemaTable:
    """One table (``[name]``) or array of tables (``[[name]]``) of the manifest."""

    name: str
    array: bool
    meaning: str
    keys: tuple[SchemaKey, ...]
    required: bool = False


_SETTINGS_MEANING = {
    "normalize_to": ("list of element symbols", "denominator of every ratio (metal-normalised)"),
    "elements": ("list of element symbols", "elements whose ratios are reported"),
    "profile_bin_nm": ("number > 0 (nm)", "bin width of the within-specimen profiles"),
    "profile_axis": ('"x", "y" or "z"', "axis of the within-specimen profile (z: analysis "
                     "direction)"),
    "fda_block_ions": ("integer >= 2", "block size of the frequency distribution analysis"),
    "particle_radius_um": ("number > 0 (um)", "sphere radius of the particle integral"),
    "gradient_models": ("list of exponential, erf, two_scale, logistic",
                        "depth-profile shapes fitted per cycle count"),
    "depth_definition": ("half_recovery, recovery_95 or deficit",
                         "which gradient depth the growth law uses"),
    "bound_depth": ('"midpoint" or "bound"', 'depth used for a bound such as "< 100 nm"'),
    "bulk_depth_nm": ("number > 0 (nm) or nan", "depth given to bulk specimens; nan leaves "
                      "them out of depth fits (they set the reference and bulk lines)"),
    "seed": ("integer >= 0", "seed of any resampling"),
    "overlap_correction": ('"isotopes" or "none"', "re-attribute overlapping peaks (O+ / "
                           "O2 2+, O2+ / 64Ni2+) by isotope-fitted shares, or count as ranged"),
    "max_in_memory_ions": ("integer >= 1000", "files with more ions are streamed in chunks "
                           "(composition, profile from every ion; FDA and QC on a slab)"),
    "missing_elements": ('"error" or "nan"', "an element of elements/normalize_to that a "
                         "specimen's range file lacks: an error naming both, or NaN with a note"),
    "haadf_reference": ('"simulate" or an image path', "R0 source of every HAADF image "
                        "naming none: an ordered-crystal image under the same conditions"),
}


def _settings_keys() -> tuple[SchemaKey, ...]:
    from liprobe.study.manifest import StudySettings

    keys = []
    for f in fields(StudySettings):
        kind, meaning = _SETTINGS_MEANING.get(f.name, ("", ""))
        default = f.default
        if isinstance(default, tuple):
            shown = "[" + ", ".join(f'"{v}"' for v in default) + "]"
        elif isinstance(default, float) and math.isnan(default):
            shown = "nan"
        elif isinstance(default, str):
            shown = f'"{default}"'
        else:
            shown = repr(default)
        keys.append(SchemaKey(f.name, kind, meaning, default=shown))
    return tuple(keys)


_ANALYSIS_MEANING = {
    "enabled": ("true or false", "measure the surface layer (false: not at all)", "true"),
    "specimens": ("list of [[specimens]] names", "only these specimens", "every specimen"),
    "element": ("element symbol", "the element analysed (solute of clusters and NN)", None),
    "voxel_nm": ("number 0.1-20 (nm)", "voxel of the delocalised concentration field", None),
    "delocalization_nm": ("number 0-20 (nm)", "Gaussian delocalisation of the field", None),
    "bin_nm": ("number > 0 (nm)", "bin of the 1-D profile and the proxigram (NN: of the "
               "distance histogram)", None),
    "min_contrast_sigma": ("number >= 0", "no layer unless the top and bulk fractions differ "
                           "by this many σ (counting)", None),
    "min_relative_contrast": ("number 0-1", "... and by this fraction of the bulk value",
                              None),
    "method": ("", "cluster method (liprobe.apt.clusters)", None),
    "dmax_nm": ("number 0.01-10 (nm)", "maxsep: linking distance between solute ions", None),
    "order": ("integer >= 1", "maxsep: solute neighbours within dmax_nm of a core ion", None),
    "nmin": ("integer >= 1", "smallest cluster (solute ions)", None),
    "eps_nm": ("number 0.01-10 (nm)", "dbscan: neighbourhood radius", None),
    "min_samples": ("integer >= 1", "dbscan: ions (itself included) within eps_nm of a core",
                    None),
    "envelope_nm": ("number 0-10 (nm)", "envelope distance", "dmax_nm (maxsep), 0 (dbscan)"),
    "erosion_nm": ("number 0-10 (nm)", "erosion distance", "envelope_nm (maxsep), 0 (dbscan)"),
    "baseline_repeats": ("integer 0-100", "random-labelling repeats of the baseline", None),
    "k": ("integer >= 1", "neighbour order (1: nearest)", None),
    "target": ("", "neighbours among the solute ions or every ion", None),
    "max_distance_nm": ("number > bin_nm (nm)", "histogram range and edge exclusion", None),
    "n_random": ("integer >= 1", "random-labelling repeats (envelope)", None),
}


def _shown(default: object) -> str:
    if isinstance(default, tuple):
        return "[" + ", ".join(f'"{v}"' for v in default) + "]"
    if isinstance(default, float) and math.isnan(default):
        return "nan"
    if isinstance(default, str):
        return f'"{default}"'
    return repr(default)


def _analysis_tables() -> tuple[SchemaTable, ...]:
    from liprobe.apt.clusters import CLUSTER_METHODS
    from liprobe.apt.neighbours import NEIGHBOUR_TARGETS
    from liprobe.study.manifest_analysis import ANALYSIS_TABLES, EXTRA_KEYS

    owned = {"method": " or ".join(CLUSTER_METHODS), "target": " or ".join(NEIGHBOUR_TARGETS)}

    meaning = {"surface_layer": "Thickness of the depleted surface layer from a proxigram at "
               "each specimen's top, beside the 1-D value (on by default).",
               "clusters": "Solute clusters and their random-labelling baseline (off unless "
               "given).",
               "nn": "k-th nearest-neighbour distances against random labelling (off unless "
               "given)."}
    out = []
    for name, cls in ANALYSIS_TABLES.items():
        keys = []
        for f in (*fields(cls), *EXTRA_KEYS[name]):
            key = f if isinstance(f, str) else f.name
            kind, text, default = _ANALYSIS_MEANING[key]
            kind = owned.get(key, kind)
            if default is None:
                default = _shown(f.default)
            keys.append(SchemaKey(key, kind, text, default=default))
        out.append(SchemaTable(f"analysis.{name}", False, meaning[name], tuple(keys)))
    return tuple(out)


_DEPTH_TEXT = ('text: "30 nm", "< 100 nm", "~2 um", "surface", "bulk", "surface to centre"')


def _tables() -> tuple[SchemaTable, ...]:
    return (
        SchemaTable("study", False, "What the study is.", (
            SchemaKey("name", "text", "name of the study (in summary.json and the report)",
                      required=True),
            SchemaKey("description", "text", "one line on the study"),
        ), required=True),
        SchemaTable("settings", False, "Analysis settings; every key optional.",
                    _settings_keys()),
        SchemaTable("samples", True, "One per cycling state (at least one).", (
            SchemaKey("name", "text, unique", "sample name the other tables refer to",
                      required=True),
            SchemaKey("cycles", "integer >= 0", "charge-discharge cycles (0 = pristine)",
                      required=True),
        ), required=True),
        SchemaTable("specimens", True, "One per APT specimen (at least one; several "
                    "replicates per depth).", (
            SchemaKey("sample", "text", "a [[samples]] name", required=True),
            SchemaKey("depth_nm", "number >= 0 (nm)", "depth below the secondary-particle "
                      "surface; give depth_nm or depth"),
            SchemaKey("depth", _DEPTH_TEXT, "depth as written in a lab book or paper; "
                      "give depth_nm or depth"),
            SchemaKey("replicate", "integer or text", "unique per (sample, depth)",
                      required=True),
            SchemaKey("apt", "file path", "POS, EPOS or APT ion file", required=True),
            SchemaKey("ranges", "file path", "RRNG, RNG or ENV range file", required=True),
            SchemaKey("haadf", "list of file paths", "HAADF images of the same site"),
            SchemaKey("haadf_reference", '"simulate" or an image path', "R0 source of those "
                      "images (needs haadf)"),
            SchemaKey("name", "text, unique", "specimen name",
                      default='"<sample>-<depth>-<replicate>"'),
            SchemaKey("depth_sigma_nm", "number >= 0 (nm)", "standard uncertainty of the depth "
                      "(measured on the FIB image); an error in x in the gradient and growth "
                      "fits", default="0"),
            SchemaKey("acquisition", "table", "run conditions the file does not carry: "
                      "laser_pulse_energy_pj, base_temperature_k, detection_rate_ions_per_pulse, "
                      "pulse_frequency_khz, instrument (the manifest wins over the file)"),
        )),
        SchemaTable("icp", False, "Bulk ICP-AES table (optional).", (
            SchemaKey("file", "file path", "CSV with specimen (or sample), cycles and "
                      "<el>_wt_pct columns", required=True),
        )),
        SchemaTable("cycling", True, "Cycler files, one per cell (optional).", (
            SchemaKey("file", "file path", "cycler export", required=True),
            SchemaKey("format", "csv, biologic, neware or arbin", "file format",
                      default="from the suffix"),
            SchemaKey("sample", "text", "which [[samples]] entry's cell"),
            SchemaKey("active_mass_g", "number > 0 (g)", "active mass, for specific "
                      "capacity in mAh/g"),
            SchemaKey("columns", "table of name = \"header\"", "CSV column mapping, e.g. "
                      '{ cycle = "Cycle", discharge_capacity_mah = "Q_dis" }'),
        )),
        SchemaTable("haadf", True, "HAADF images not tied to one APT specimen (optional).", (
            SchemaKey("image", "file path", "TIFF, DM3/DM4, EMD or NPY image", required=True),
            SchemaKey("sample", "text", "a [[samples]] name", required=True),
            SchemaKey("depth_offset_nm", "number >= 0 (nm)", "depth of the image's surface "
                      "edge below the particle surface", default="0.0"),
            SchemaKey("pixel_size_nm", "number > 0 (nm)", "overrides the file's calibration"),
            SchemaKey("reference", '"simulate" or an image path', "R0 source: an ordered-"
                      "crystal image under the same conditions",
                      default="[settings] haadf_reference"),
        )),
        *_analysis_tables(),
    )


#: Every table of the manifest, in the order they are usually written.
MANIFEST_SCHEMA: tuple[SchemaTable, ...] = _tables()


def schema_dict() -> dict[str, dict[str, object]]:
    """The schema as plain data (for ``--json``)."""
    return {t.name: {"array": t.array, "required": t.required, "meaning": t.meaning,
                     "keys": {k.name: {"type": k.type, "meaning": k.meaning,
                                       "required": k.required, "default": k.default}
                              for k in t.keys}}
            for t in MANIFEST_SCHEMA}


def schema_markdown() -> str:
    """The manifest reference page (Markdown), generated from :data:`MANIFEST_SCHEMA`."""
    out = ["# Study manifest reference", "",
           "<!-- generated by `liprobe study schema` from liprobe.study.manifest_schema; "
           "do not edit by hand (tests/study/test_manifest_schema.py fails on drift) -->", "",
           "A study is one TOML file (`study.toml`). Relative paths resolve against the "
           "manifest's folder; a key not listed here is an error naming its line. "
           "`liprobe study init FOLDER` writes a manifest for the files of a folder, "
           "`liprobe study check study.toml` validates it.", ""]
    for table in MANIFEST_SCHEMA:
        head = f"[[{table.name}]]" if table.array else f"[{table.name}]"
        need = " (required)" if table.required else ""
        out += [f"## `{head}`{need}", "", table.meaning, "",
                "| key | type | default | meaning |", "|---|---|---|---|"]
        for key in table.keys:
            default = "**required**" if key.required else (f"`{key.default}`" if key.default
                                                           else "")
            out.append(f"| `{key.name}` | {key.type} | {default} | {key.meaning} |")
        out.append("")
    return "\n".join(out)
