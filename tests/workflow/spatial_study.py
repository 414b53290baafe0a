"""A small synthetic study for the 3-D analyses (test helper; files under tmp_path).

Three NCM needles with a Li-depleted top layer of known thickness (:data:`LAYER_NM`), one
uniform needle (no layer) and a box of spherical Li clusters (:data:`N_CLUSTERS`), one
sample; ``analysis`` is appended to the manifest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: Li-depleted top layer of the synthetic needles (Li/TM 0.3 above, 1.03 below).
LAYER_NM = 6.0
LAYER_SEEDS = (31, 32, 33)
N_CLUSTERS = 6


def write_spatial_study(root: Path, analysis: str) -> Path:
    from liprobe.synth import DepthProfile, generate_specimen, get_preset, ncm_ranges
    from liprobe.synth.features3d import feature_ranges, generate_clusters
    from liprobe.synth.write import write_specimen

    root.mkdir(parents=True, exist_ok=True)
    profile = DepthProfile(depth_nm=(0, LAYER_NM - 0.1, LAYER_NM + 0.1), li=(0.3, 0.3, 1.03))
    specimens = []
    for i, seed in enumerate(LAYER_SEEDS):
        params = get_preset("ncm-homogeneous", profile=profile, apex_radius_nm=8.0,
                            n_ions=120_000)
        ions, _ = generate_specimen(params, rng=np.random.default_rng(seed))
        write_specimen(root / f"layer{i}.pos", ions, ncm_ranges(params))
        specimens.append((f"layer-{i}", f"layer{i}", "surface", i + 1))
    uniform = get_preset("ncm-homogeneous", apex_radius_nm=8.0, n_ions=60_000)
    ions, _ = generate_specimen(uniform, rng=np.random.default_rng(34))
    write_specimen(root / "uniform.pos", ions, ncm_ranges(uniform))
    specimens.append(("uniform", "uniform", "bulk", 1))
    ions, _ = generate_clusters(rng=np.random.default_rng(35), box_nm=(20, 20, 20),
                                n_clusters=N_CLUSTERS, radius_nm=1.5,
                                matrix_composition={"Li": 0.03, "Ni": 0.47, "O": 0.5})
    # in evaporation order (top first), as a reconstruction is: the QC trend bins need it
    write_specimen(root / "clusters.pos", ions.take(np.argsort(ions.xyz_nm[:, 2])),
                   feature_ranges())
    specimens.append(("clustered", "clusters", "bulk", 2))
    text = ('[study]\nname = "spatial"\n[settings]\nnormalize_to = ["Ni"]\n'
            'elements = ["Li", "Ni", "O"]\nmissing_elements = "nan"\n'
            '[[samples]]\nname = "A"\ncycles = 0\n')
    for name, stem, depth, replicate in specimens:
        text += (f'[[specimens]]\nname = "{name}"\nsample = "A"\ndepth = "{depth}"\n'
                 f'replicate = {replicate}\napt = "{stem}.pos"\nranges = "{stem}.rrng"\n')
    path = root / "study.toml"
    path.write_text(text + analysis, encoding="utf-8")
    return path


#: Clusters and nearest neighbours on the clustered box only.
ANALYSIS = ('[analysis.clusters]\nelement = "Li"\nmethod = "maxsep"\ndmax_nm = 0.5\n'
            'order = 1\nnmin = 20\nspecimens = ["clustered"]\n'
            '[analysis.nn]\nelement = "Li"\nk = 1\nspecimens = ["clustered"]\n')
