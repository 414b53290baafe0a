"""STEM-HAADF of layered cathodes: where the transition metals sit, against depth.

Modules: :mod:`~liprobe.stem.simulate` (linear-incoherent simulation with truth),
:mod:`~liprobe.stem.lattice` (FFT orientation and d(003)), :mod:`~liprobe.stem.columns`
(detection and batched refinement), :mod:`~liprobe.stem.layers` (TM/Li planes and sites,
profile across the planes), :mod:`~liprobe.stem.mixing` (R -> f), :mod:`~liprobe.stem.phases`
(phase labels), :mod:`~liprobe.stem.surface` (particle surface and depth) and
:mod:`~liprobe.stem.analyze` (``analyze_haadf``, the whole analysis).
"""
