"""The declaration of every table and summary key a study run writes (:data:`RESULTS_SCHEMA`).

Registering a new table, column or summary key is one entry here: a :class:`TableSpec`
in :func:`_tables`, a :class:`ColumnSpec` in its table, a :class:`SummaryKeySpec` in
:data:`_SUMMARY`. The run refuses to write anything not declared (naming it and this
file); ``docs/results.md`` is generated from it (``liprobe study schema --results -o
docs/results.md``). The machinery is :mod:`liprobe.workflow.results_schema`.
"""

from __future__ import annotations

from liprobe.workflow.results_schema import (
    SCHEMA_VERSION,
    ColumnSpec,
    ResultsSchema,
    SummaryKeySpec,
    TableSpec,
)

__all__ = ["RESULTS_SCHEMA", "PAPER_RESULTS_SCHEMA", "SECTIONS"]

#: The report's sections (id, title), in page order.
SECTIONS = (
    ("key-results", "Key results"),
    ("depth-profiles", "Li and every element vs depth"),
    ("capacity", "Capacity fade and bulk composition"),
    ("growth", "Gradient depth and growth law"),
    ("haadf", "HAADF: cation disorder and phase per image"),
    ("li-vs-disorder", "Li vs structural disorder"),
    ("specimens", "Specimens"),
    ("qc", "Quality control"),
    ("provenance", "Provenance"),
)

C = ColumnSpec


def _opt(name: str, unit: str, dtype: str, description: str) -> ColumnSpec:
    return ColumnSpec(name, unit, dtype, description, required=False)


def _estimate(prefix: str, unit: str, what: str, *, required: bool = True
              ) -> tuple[ColumnSpec, ...]:
    """An estimate with its SE and 95 % interval (``Estimate.as_dict(prefix)``)."""
    return (C(prefix, unit, "float", what, required),
            C(f"{prefix}_se", unit, "float", f"standard error of {prefix}", required),
            C(f"{prefix}_ci_low", unit, "float", f"lower end of the 95 % interval of {prefix}",
              required),
            C(f"{prefix}_ci_high", unit, "float", f"upper end of the 95 % interval of {prefix}",
              required))


def _shape_columns() -> tuple[ColumnSpec, ...]:
    """The parameters of every profile shape and the gradient depths, from their owners."""
    from liprobe.study.shapes import DEPTH_DEFINITIONS, SHAPES

    params: dict[str, list[str]] = {}
    for shape in SHAPES.values():
        for p in shape.params:
            params.setdefault(p, []).append(shape.name)
    out = []
    for p, shapes in params.items():
        unit = "nm" if p.endswith("_nm") else "1"
        every = len(shapes) == len(SHAPES)
        make = C if every else _opt
        where = "every shape" if every else ", ".join(shapes)
        out += [make(p, unit, "float", f"fitted parameter {p} ({where})"),
                make(f"{p}_se", unit, "float", f"standard error of {p}")]
    for definition, meaning in DEPTH_DEFINITIONS.items():
        out += [C(f"{definition}_depth_nm", "nm", "float", f"gradient depth: {meaning}"),
                C(f"{definition}_depth_nm_se", "nm", "float",
                  f"standard error of {definition}_depth_nm (delta method)")]
    return tuple(out)


_ICP = (C("sample", "", "str", "sample name (joined to the manifest's [[samples]])"),
        C("cycles", "cycle", "int", "cycles of the sample"),
        C("{element}_wt_pct", "wt%", "float", "ICP-AES weight percent"),
        C("{element}", "1", "float", "atomic ratio to the denominator (normalize_to)"))
_GRADIENT_FITS = (
    C("cycles", "cycle", "int", "cycle count of the fitted profile"),
    C("aicc_rank", "count", "int", "rank of the shape by AICc at this cycle count (1 = best)"),
    C("model", "", "str", "profile shape"),
    C("n_points", "count", "int", "depths fitted"),
    C("n_free_params", "count", "int", "free parameters of the shape"),
    C("rss", "1", "float", "(weighted) residual sum of squares"),
    C("aic", "1", "float", "Akaike information criterion"),
    C("aicc", "1", "float", "AIC with the small-sample correction"),
    C("bic", "1", "float", "Bayesian information criterion"),
    C("success", "", "bool", "whether the fit converged"),
    C("message", "", "str", "fit message, with chi2/dof"),
    *_shape_columns())
_GROWTH_LAW = (
    C("shape", "", "str", "profile shape whose depths the law is fitted to"),
    C("growth_model", "", "str", "growth model: alpha fixed at 1, at 0.5, or free"),
    C("alpha", "1", "float", "growth exponent, depth ∝ N^alpha"),
    C("n_free_params", "count", "int", "free parameters of the growth model"),
    C("rss", "1", "float", "(weighted) residual sum of squares"),
    C("aicc", "1", "float", "AICc of the growth model"),
    C("delta_aicc", "1", "float", "AICc minus the best AICc of this shape"),
    C("akaike_weight", "1", "float", "Akaike weight of the growth model"),
    C("test_statistic", "1", "float", "likelihood-ratio statistic against the free model"),
    C("p_value", "1", "float", "p-value of the test statistic"),
    *_estimate("alpha_free", "1", "alpha of the free model"),
    C("alpha_wald_se", "1", "float", "Wald standard error of the free alpha"),
    C("n_points", "count", "int", "gradient depths in the fit"),
    C("weighted", "", "bool", "whether the depths were weighted by their SEs"),
    C("chi2_dof", "1", "float", "chi-square per degree of freedom of the free model"),
    C("gof_p_value", "1", "float", "goodness-of-fit p-value"),
    C("self_similarity_p_value", "1", "float", "p-value of the self-similarity test"),
    C("self_similar_rejected", "", "bool", "whether self-similarity is rejected"),
    C("depth_sigma_used", "", "bool", "whether depth uncertainties entered the fit"),
    C("verdict", "", "str", "the growth-law verdict in words"))
_PARTICLE = (
    C("cycles", "cycle", "float", "cycle count"),
    C("model", "", "str", "profile shape integrated"),
    C("radius_nm", "nm", "float", "sphere radius of the particle"),
    *_estimate("predicted_li", "1", "Li ratio of the whole particle from the depth profile"),
    C("icp_li", "1", "float", "ICP-AES Li ratio of the sample"),
    C("difference", "1", "float", "predicted_li - icp_li"),
    C("z_score", "1", "float", "difference over its SE"),
    *_estimate("inventory_loss", "1", "fraction of the particle's Li lost"),
    C("icp_inventory_loss", "1", "float", "Li lost according to ICP-AES"),
    C("capacity_loss", "1", "float", "capacity lost at this cycle count (1 - retention)"))


def _tables() -> tuple[TableSpec, ...]:
    return (
        TableSpec("specimens", "specimens", "One row per specimen: counts, ratios and sigmas.", (
            C("specimen", "", "str", "specimen name (manifest)"),
            C("sample", "", "str", "sample name"),
            C("cycles", "cycle", "int", "cycles of the sample"),
            C("depth_nm", "nm", "float", "depth below the particle surface (NaN: bulk)"),
            C("depth_sigma_nm", "nm", "float", "uncertainty of depth_nm (NaN: not given)"),
            C("depth_label", "", "str", "depth as written in the manifest"),
            C("replicate", "", "str", "replicate label"),
            C("n_ions", "count", "int", "ions in the file"),
            C("n_ranged", "count", "int", "ions inside a range"),
            C("{element}_count", "count", "float", "atoms of the element (NaN: not ranged)"),
            C("{element}", "1", "float", "atomic ratio to the denominator (normalize_to)"),
            C("{element}_sigma", "1", "float", "counting standard error of the ratio"),
            # the _sigma family first: a species name may hold underscores
            _opt("share_{centre_da}da_{species}_sigma", "1", "float",
                 "standard error of the share"),
            _opt("share_{centre_da}da_{species}", "1", "float",
                 "share of an overlapping peak moved to the species (overlap_correction)"),
            # [analysis.surface_layer] (liprobe.workflow.spatial)
            _opt("surface_layer_element", "", "str", "element whose depletion defines the layer"),
            _opt("surface_layer_nm", "nm", "float",
                 "depleted surface-layer thickness from the proxigram at the top surface"),
            _opt("surface_layer_sigma_nm", "nm", "float",
                 "counting standard error of surface_layer_nm"),
            _opt("surface_layer_1d_nm", "nm", "float",
                 "the same thickness from the 1-D profile along the needle axis"),
            _opt("surface_layer_threshold", "1", "float", "isosurface threshold (atom fraction)"),
            _opt("surface_layer_contrast_sigma", "1", "float",
                 "layer-to-bulk contrast in counting sigmas (NaN: no layer found)"))),
        TableSpec("clusters", "specimens", "Per specimen asked for ([analysis.clusters]): "
                  "solute clusters against the random-labelling baseline.", (
                      C("specimen", "", "str", "specimen name"),
                      C("element", "", "str", "solute element(s)"),
                      C("method", "", "str", "maxsep or dbscan (and the scope)"),
                      C("parameters", "", "str", "the method's parameters"),
                      C("n_solute", "count", "int", "solute ions analysed"),
                      C("n_clusters", "count", "int", "clusters found"),
                      C("baseline_n_clusters", "count", "float",
                        "clusters found with the solute labels shuffled"),
                      C("baseline_largest_n_solute", "count", "float",
                        "solute ions of the largest baseline cluster"),
                      C("mean_radius_of_gyration_nm", "nm", "float",
                        "mean radius of gyration of the clusters"),
                      C("sd_radius_of_gyration_nm", "nm", "float",
                        "standard deviation of the radii of gyration"),
                      C("median_cluster_solute", "count", "float",
                        "median solute ions per cluster"),
                      C("solute_in_clusters_fraction", "1", "float",
                        "fraction of the solute ions inside clusters"),
                      C("mean_cluster_solute_fraction", "1", "float",
                        "mean solute atom fraction inside the clusters"))),
        TableSpec("nearest_neighbours", "specimens", "Per specimen asked for ([analysis.nn]): "
                  "kth nearest-neighbour distances against random labelling.", (
                      C("specimen", "", "str", "specimen name"),
                      C("element", "", "str", "query element(s)"),
                      C("k", "count", "int", "neighbour order"),
                      C("target", "", "str", "neighbours among the solute or all ions"),
                      C("mean_distance_nm", "nm", "float", "mean kth-NN distance"),
                      C("random_mean_distance_nm", "nm", "float",
                        "the same with the labels shuffled"),
                      C("relative_shift", "1", "float", "mean / random mean - 1"),
                      C("n_query", "count", "int", "query ions used"),
                      C("n_excluded_edge", "count", "int",
                        "query ions excluded near the reconstruction's boundary"),
                      C("edge_exclusion_nm", "nm", "float", "edge exclusion distance"),
                      C("n_random", "count", "int", "random labellings"))),
        TableSpec("table2", "depth-profiles", "Per sample and depth: the statistics over the "
                  "specimens (the paper's Table 2, every number).", (
                      C("sample", "", "str", "sample name"),
                      C("cycles", "cycle", "int", "cycles of the sample"),
                      C("depth_label", "", "str", "depth as written in the manifest"),
                      C("depth_nm", "nm", "float", "depth below the surface (NaN: bulk)"),
                      C("n", "count", "int", "specimens at this depth"),
                      C("{element}_mean", "1", "float", "mean ratio over the specimens"),
                      C("{element}_sd", "1", "float", "standard deviation (ddof = 1)"),
                      C("{element}_se", "1", "float", "standard error over the specimens"),
                      C("{element}_counting_se", "1", "float", "counting standard error"),
                      C("{element}_pooled", "1", "float", "ratio of the pooled counts"),
                      C("{element}_pooled_sigma", "1", "float", "its counting sigma"))),
        TableSpec("table2_layout", "depth-profiles", "The paper's Table 2 layout: "
                  "\"mean ± SD\" per region.", (
                      C("specimen", "", "str", "sample name (the paper's column title)"),
                      C("cycles", "cycle", "int", "cycles of the sample"),
                      C("region", "", "str", "region label R0, R1, ... by depth (R: bulk)"),
                      C("depth_as_reported", "", "str", "depth as written in the manifest"),
                      C("n", "count", "int", "specimens in the region"),
                      C("{element_lower}", "", "str", "ratio as \"mean ± SD\""))),
        TableSpec("profiles", "depth-profiles", "Per specimen and bin: the within-specimen "
                  "profile along the analysis axis.", (
                      C("specimen", "", "str", "specimen name"),
                      C("start_nm", "nm", "float", "bin start along the profile axis"),
                      C("end_nm", "nm", "float", "bin end"),
                      C("n_atoms", "count", "float", "atoms in the bin"),
                      C("{element}_ratio", "1", "float", "ratio to the denominator in the bin"),
                      C("sigma_{element}_ratio", "1", "float", "its counting sigma"))),
        TableSpec("truth_recovery", "depth-profiles", "Synthetic study only (written by "
                  "'liprobe demo'): the measured Table 2 against the generating truth.", (
                      C("sample", "", "str", "sample name"),
                      C("cycles", "cycle", "int", "cycles of the sample"),
                      C("depth_label", "", "str", "depth as written in the manifest"),
                      C("element", "", "str", "element"),
                      C("n", "count", "float", "specimens at this depth (NaN: none)"),
                      C("measured_mean", "1", "float", "mean measured ratio"),
                      C("se", "1", "float", "its standard error"),
                      C("truth", "1", "float", "generating ratio"),
                      C("z", "1", "float", "(measured_mean - truth) / se"),
                      C("within", "", "bool", "whether the truth lies within 2 SE")),
                  required=False),
        TableSpec("icp", "capacity", "ICP-AES weight % and atomic ratios per sample.", _ICP),
        TableSpec("cycling", "capacity", "Per cell and cycle: discharge capacity and "
                  "retention.", (
                      C("file", "", "str", "cycler file"),
                      C("sample", "", "str", "sample of the cell ('' if not named)"),
                      C("cycle", "cycle", "int", "cycle number"),
                      C("discharge_capacity_mah", "mAh", "float", "discharge capacity"),
                      C("specific_capacity_mah_g", "mAh/g", "float", "per gram of active "
                        "material (NaN without active_mass_g)"),
                      C("retention", "1", "float", "capacity over the first cycle's"))),
        TableSpec("gradient_fits", "growth", "Per cycle count and shape: the fitted depth "
                  "profile, its information criteria and gradient depths (weights: SE over "
                  "replicates floored at the counting SE).", _GRADIENT_FITS),
        TableSpec("growth_law", "growth", "Per shape and growth model: depth ∝ N^alpha, "
                  "goodness of fit, self-similarity.", _GROWTH_LAW),
        TableSpec("growth_levels", "growth", "Depth at fixed Li levels per cycle count, "
                  "alpha per level (bootstrap intervals).", (
                      C("li_level", "1", "float", "Li ratio level"),
                      C("cycles", "cycle", "float", "cycle count"),
                      C("depth_nm", "nm", "float", "depth where the profile reaches the level"),
                      C("depth_nm_ci_low", "nm", "float", "lower end of its 95 % interval"),
                      C("depth_nm_ci_high", "nm", "float", "upper end of its 95 % interval"),
                      *_estimate("alpha", "1", "growth exponent of this level"))),
        TableSpec("particle_integral", "growth", "Predicted bulk Li of the particle vs "
                  "ICP-AES, Li inventory vs capacity.", _PARTICLE),
        TableSpec("haadf_windows", "haadf", "HAADF depth windows: disorder f and phase.", (
            C("sample", "", "str", "sample name"),
            C("specimen", "", "str", "specimen of the image ('' for a [[haadf]] image)"),
            C("cycles", "cycle", "int", "cycles of the sample"),
            C("image", "", "str", "image file"),
            C("depth_nm", "nm", "float", "window depth below the surface"),
            C("f", "1", "float", "fraction of TM on Li sites"),
            C("f_ci_low", "1", "float", "lower end of the 95 % interval of f"),
            C("f_ci_high", "1", "float", "upper end of the 95 % interval of f"),
            C("phase", "", "str", "phase label of the window"))),
        TableSpec("li_vs_disorder", "li-vs-disorder", "Li = Li0 (1 - k f) and the site-loss "
                  "model, errors in both variables (one row).", (
                      C("n_points", "count", "int", "joined (f, Li) points"),
                      *_estimate("intercept", "1", "intercept of Li against f"),
                      *_estimate("slope", "1", "slope of Li against f"),
                      C("pearson_r", "1", "float", "Pearson correlation of f and Li"),
                      *_estimate("li0", "1", "Li of the ordered structure"),
                      *_estimate("k", "1", "Li displaced per TM on a Li site"),
                      *_estimate("k_bootstrap", "1", "k with bootstrap interval"),
                      C("intrinsic_scatter", "1", "float", "scatter beyond the errors"),
                      C("chi2_dof", "1", "float", "chi-square per degree of freedom"),
                      C("errors_in_f", "", "bool", "whether f's errors entered the fit"),
                      *_estimate("site_loss_li0", "1", "Li0 of the site-loss model"),
                      *_estimate("site_loss_phi", "1", "phi of the site-loss model"),
                      C("aicc_linear", "1", "float", "AICc of the linear model"),
                      C("aicc_site_loss", "1", "float", "AICc of the site-loss model"),
                      C("preferred_model", "", "str", "model preferred by AICc"),
                      C("success", "", "bool", "whether the fit succeeded"),
                      C("message", "", "str", "fit message"))),
        TableSpec("li_vs_disorder_points", "li-vs-disorder", "(f, Li) at the same location.", (
            C("sample", "", "str", "sample name"),
            C("specimen", "", "str", "specimen ('' when joined by depth)"),
            C("depth_nm", "nm", "float", "depth of the point"),
            C("f", "1", "float", "disorder"), C("f_sigma", "1", "float", "its sigma"),
            C("li", "1", "float", "Li ratio"), C("li_sigma", "1", "float", "its sigma"),
            C("join", "", "str", "how f and Li were joined (same site, depth)"))),
        TableSpec("qc", "qc", "Per specimen and check: verdict, value, message.", (
            C("specimen", "", "str", "specimen name"),
            C("check", "", "str", "quality check"),
            C("verdict", "", "str", "pass, warn, note or skipped"),
            C("value", "1", "float", "the check's statistic"),
            C("message", "", "str", "what the check found"),
            C("p_value", "1", "float", "p-value of the check (NaN: none)"),
            C("adjusted_p", "1", "float", "p-value after the study-wide correction"),
            C("exceeds_tolerance", "", "bool", "whether the effect exceeds the tolerance"),
            C("hint", "", "str", "what to do about a warning"))),
        TableSpec("fda", "qc", "Per specimen and element: frequency distribution analysis.", (
            C("specimen", "", "str", "specimen name"),
            C("element", "", "str", "element"),
            C("chi2", "1", "float", "chi-square against the binomial"),
            C("dof", "count", "int", "degrees of freedom"),
            C("p_value", "1", "float", "p-value of chi2"),
            C("mu", "1", "float", "Pearson coefficient mu"),
            C("n_blocks", "count", "int", "blocks"),
            C("block_ions", "count", "int", "ions per block"),
            C("mean_fraction", "1", "float", "mean fraction of the element"),
            C("mu_solute", "1", "float", "mu normalised by solute"),
            C("mu_blocks", "1", "float", "mu normalised by blocks"),
            C("mu_max_solute", "1", "float", "largest possible mu_solute"),
            C("mu_max_blocks", "1", "float", "largest possible mu_blocks"),
            C("mu_over_max_solute", "1", "float", "mu_solute / mu_max_solute"),
            C("mu_over_max_blocks", "1", "float", "mu_blocks / mu_max_blocks"),
            C("gradient_p_value", "1", "float", "p-value of a trend along the analysis"),
            C("detrended_chi2", "1", "float", "chi2 after removing the trend"),
            C("detrended_dof", "count", "int", "its degrees of freedom"),
            C("detrended_p_value", "1", "float", "its p-value"),
            C("detrended_mu", "1", "float", "mu after removing the trend"),
            C("closure_with", "", "str", "element the closure test pairs with"),
            C("closure_p_value", "1", "float", "p-value of the closure test"),
            C("closure_mu", "1", "float", "mu of the closure test"),
            C("warnings", "", "str", "warnings, '; '-separated"),
            C("method", "", "str", "method and the ions it used"))),
    )


_SUMMARY = (
    SummaryKeySpec("study", "object", "provenance", "name, description, specimens, samples",
                   keys=("name", "description", "n_specimens", "samples")),
    SummaryKeySpec("alpha", "object", "growth", "per shape: alpha with interval, verdict, note, "
                   "comparisons of the growth models"),
    SummaryKeySpec("best_growth_model", "string", "growth", "shape the growth law prefers",
                   nullable=True),
    SummaryKeySpec("growth_headline", "string", "key-results", "the growth law in one "
                   "sentence", nullable=True),
    SummaryKeySpec("two_step_alpha", "object", "growth", "alpha per depth definition from the "
                   "two-step fit"),
    SummaryKeySpec("particle_integral", "array", "growth", "rows of tables/particle_integral"),
    SummaryKeySpec("li_site_model", "object", "li-vs-disorder", "the row of "
                   "tables/li_vs_disorder (k with interval)", nullable=True),
    SummaryKeySpec("qc_warnings", "array", "qc", "\"specimen: check: message\" per warning"),
    SummaryKeySpec("acquisition", "object", "provenance", "per specimen: run conditions from "
                   "the file and the manifest"),
    SummaryKeySpec("qc_correction", "string", "qc", "the study-wide multiplicity correction "
                   "in words"),
    SummaryKeySpec("notes", "array", "qc", "analysis notes"),
    SummaryKeySpec("provenance", "object", "provenance", "input hashes, versions, settings, "
                   "manifest", keys=("inputs", "versions", "settings", "manifest")),
)

#: The tables and summary keys of ``liprobe study run``.
RESULTS_SCHEMA = ResultsSchema(SCHEMA_VERSION, SECTIONS, _tables(), _SUMMARY)


def _paper_tables() -> tuple[TableSpec, ...]:
    shared = {t.name: t for t in RESULTS_SCHEMA.tables}
    return (
        TableSpec("icp", "capacity", "Published Table 1: ICP-AES per sample.", (
            *_ICP, C("li_ratio_printed", "1", "float", "Li ratio as printed in the paper"))),
        TableSpec("published_points", "depth-profiles", "Published Table 2 as depth points.", (
            C("sample", "", "str", "sample name"),
            C("cycles", "cycle", "int", "cycles of the sample"),
            C("region", "", "str", "region label of the paper"),
            C("depth_as_reported", "", "str", "depth as printed in the paper"),
            C("depth_nm", "nm", "float", "depth below the surface (bound_depth rule)"),
            C("{element_lower}", "1", "float", "ratio to Ni+Co+Mn"))),
        shared["gradient_fits"], shared["growth_law"], shared["particle_integral"])


#: The tables of ``liprobe study paper -o`` (the published data); no summary.json.
PAPER_RESULTS_SCHEMA = ResultsSchema(SCHEMA_VERSION, SECTIONS, _paper_tables(), ())
