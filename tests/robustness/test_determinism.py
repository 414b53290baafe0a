"""Same seed, same bytes: synthetic specimens in every ion format, and figures (SVG with a
fixed hash salt and no date)."""

from __future__ import annotations

import hashlib

import pytest


@pytest.mark.parametrize("suffix", [".pos", ".epos", ".apt"])
def test_synth_specimen_is_byte_identical_for_one_seed(cli, tmp_path, suffix):
    digests = []
    for name in ("a", "b"):
        target = tmp_path / name / f"spec{suffix}"
        target.parent.mkdir()
        assert cli("synth", "specimen", "-o", target, "--n-ions", "3000", "--seed", "11",
                   "--truth").code == 0
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in sorted(target.parent.iterdir())})
    assert digests[0] == digests[1]
    assert len(digests[0]) == 4  # ions, ranges, truth json and npz


def test_svg_and_png_figures_are_deterministic(tmp_path):
    import numpy as np

    from liprobe.report.canvas import new_figure, save_figure

    out = {}
    for k in range(2):
        fig, ax = new_figure()
        ax.plot(np.arange(10), np.arange(10) ** 2, label="x²")
        ax.legend()
        for suffix in (".svg", ".png"):
            path = save_figure(fig, tmp_path / f"f{k}{suffix}")
            out.setdefault(suffix, []).append(hashlib.sha256(path.read_bytes()).hexdigest())
    for suffix, (first, second) in out.items():
        assert first == second, suffix
    assert b"<dc:date>" not in (tmp_path / "f0.svg").read_bytes()
