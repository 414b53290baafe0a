"""Study science: many specimens, several cycle counts, bulk chemistry and cells.

Modules (import them directly; nothing heavy is imported here):

- :mod:`~liprobe.study.manifest`: the TOML study manifest (schema in its docstring);
- :mod:`~liprobe.study.aggregate`: mean, SD, SE and pooled counting error per sample/depth;
- :mod:`~liprobe.study.gradient`: Li(depth) shapes with standard errors and AICc;
- :mod:`~liprobe.study.growth`: depth ∝ N^α fitted jointly, α = 1 / 0.5 / free compared;
- :mod:`~liprobe.study.particle`: volume average over a sphere vs ICP-AES and capacity;
- :mod:`~liprobe.study.disorder`: Li vs HAADF disorder, Li = Li0 (1 - k f);
- :mod:`~liprobe.study.analysis`: the above on a set of profiles;
- :mod:`~liprobe.study.paper`: the published Tables 1 and 2 of Chae et al. (2021);
- :mod:`~liprobe.workflow.pipeline`: ``analyze_specimen`` and ``run_study`` (output layout).
"""
