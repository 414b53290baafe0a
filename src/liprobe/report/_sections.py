"""The sections of the HTML report and which study outputs belong to each (by file name)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

__all__ = ["ReportSection", "REPORT_SECTIONS", "assign_to_sections"]


@dataclass(frozen=True)
class ReportSection:
    """One section of the report and the study outputs that belong to it.

    ``tables`` and ``figures`` are shell patterns matched against file stems; a file goes
    to the first section whose pattern matches it.
    """

    id: str
    title: str
    intro: str
    tables: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()


#: The sections in report order (the order of the issue and of the paper's argument).
#: Patterns cover the names written by :func:`liprobe.study.pipeline.run_study` (tables
#: specimens, table2, table2_layout, icp, cycling, gradient_fits, growth_law,
#: particle_integral, haadf_windows, li_vs_disorder, qc, fda, profiles) and the study
#: figures, plus generic names for folders written by other tools.
REPORT_SECTIONS: tuple[ReportSection, ...] = (
    ReportSection(
        "capacity-fade", "Capacity fade",
        "Discharge capacity and retention vs cycle number (retention = capacity / first-cycle "
        "capacity at the same rate).",
        tables=("*capacity*", "cycling*", "*retention*", "*fade*"),
        figures=("*capacity*", "cycling*", "*retention*", "*fade*"),
    ),
    ReportSection(
        "icp", "Bulk composition (ICP-AES)",
        "Atomic ratios normalised to total transition metal = 1 (paper Table 1 analogue).",
        tables=("*icp*",), figures=("*icp*",),
    ),
    ReportSection(
        "table2", "Site-specific APT composition (Table 2 analogue)",
        "Atomic ratios r_X = N_X / (N_Ni + N_Co + N_Mn) per sample and depth: mean ± SD over "
        "the n specimens at that depth (SE = SD / sqrt(n)); for a synthetic study, its "
        "recovery of the generating truth (z = (mean - truth) / SE); then one row per "
        "specimen.",
        tables=("table2_layout*", "table2*", "truth_recovery*", "*by_depth*", "*depth_summary*",
                "specimens*", "*composition_summary*"),
        figures=("*table2*",),
    ),
    ReportSection(
        "depth-profiles", "Li and each element vs depth",
        "Ratios vs depth below the secondary-particle surface per cycle count, error bars one "
        "SD over specimens (paper Fig. 1c-d analogue).",
        tables=("*vs_depth*",),
        figures=("*vs_depth*", "*depth_profile*", "*elements*", "*ratios*"),
    ),
    ReportSection(
        "within-specimen", "Within-specimen profiles",
        "Composition along the analysis direction inside each specimen.",
        tables=("*within*", "*specimen_profile*", "profiles*", "*composition*"),
        figures=("*within*", "*specimen_profile*", "*profile*"),
    ),
    ReportSection(
        "fda", "Frequency distribution analysis",
        "Binomial test per species and block size (Moody et al. 2008); Pearson mu near 0 for "
        "random, towards 1 for segregation.",
        tables=("*fda*", "*frequency*", "*pearson*"),
        figures=("*fda*", "*frequency*", "*pearson*"),
    ),
    ReportSection(
        "haadf", "HAADF disorder and phase vs depth",
        "Antisite fraction f from the Li/TM column intensity ratio, and the phase "
        "(layered, spinel-like, rock-salt) per depth.",
        tables=("*haadf*", "*disorder*", "*phase*", "*mixing*"),
        figures=("*haadf*", "*disorder*", "*phase*", "*mixing*"),
    ),
    ReportSection(
        "li-vs-f", "Li vs structural disorder",
        "APT Li ratio against the HAADF antisite fraction at matching depths.",
        tables=("li_vs_f*", "li_vs_disorder*", "*correlation*"),
        figures=("li_vs_f*", "li_vs_disorder*", "*correlation*"),
    ),
    ReportSection(
        "growth-law", "Gradient fits and growth law",
        "Depth profile model fitted per cycle count, and the growth of the depleted depth with "
        "cycle number N (linear, square root, power law N^alpha) with uncertainty; the "
        "particle integral links the profiles to ICP-AES and to the lost capacity.",
        tables=("*gradient*", "*growth*", "*fit*", "*model*", "*integral*", "*inventory*"),
        figures=("*gradient*", "*growth*", "*fit*", "*model*", "*integral*", "*inventory*"),
    ),
    ReportSection(
        "other-results", "Other results", "Study outputs not placed in a section above.",
        tables=("*",), figures=("*",),
    ),
    ReportSection("qc", "Quality-control warnings", "Checks that failed or need a look.",
                  tables=("qc*", "*quality*"), figures=("qc*", "*quality*")),
    ReportSection("provenance", "Provenance",
                  "Input files with their hashes, software versions and every parameter."),
)

#: Sections whose patterns are tried first (more specific names), then report order.
_PRIORITY = ("li-vs-f", "qc", "growth-law", "table2", "capacity-fade", "icp")


def assign_to_sections(names: list[str], kind: str) -> dict[str, list[str]]:
    """Map each section id to the stems (of tables or figures) that belong to it."""
    order = sorted(REPORT_SECTIONS, key=lambda s: (
        s.id == "other-results", _PRIORITY.index(s.id) if s.id in _PRIORITY else len(_PRIORITY)))
    placed: dict[str, list[tuple[int, str]]] = {s.id: [] for s in REPORT_SECTIONS}
    for name in names:
        for section in order:
            patterns = getattr(section, kind)
            rank = next((i for i, p in enumerate(patterns) if fnmatch.fnmatch(name.lower(), p)),
                        None)
            if rank is not None:
                placed[section.id].append((rank, name))
                break
    # within a section: the order of its patterns, then by name
    return {sid: [name for _, name in sorted(items)] for sid, items in placed.items()}


