"""The manifest reference is generated from the code and cannot drift from the parser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from liprobe.errors import ManifestError
from liprobe.study.manifest import StudySettings, parse_manifest
from liprobe.study.manifest_schema import MANIFEST_SCHEMA, schema_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs" / "manifest.md"

_BASE = """[study]
name = "x"
[[samples]]
name = "A"
cycles = 0
[[specimens]]
sample = "A"
depth = "bulk"
replicate = 1
apt = "a.pos"
ranges = "a.rrng"
"""


def _allowed_keys(tmp_path: Path, table: str) -> set[str]:
    """The keys the parser accepts in ``table``, read from its own error message."""
    (tmp_path / "a.pos").write_bytes(b"\0" * 16)
    (tmp_path / "a.rrng").write_text("x")
    (tmp_path / "c.csv").write_text("cycle\n1\n")
    (tmp_path / "i.tif").write_bytes(b"II*\0")
    extra = {"study": None, "settings": "[settings]\nzzqqxx = 1\n",
             "samples": None, "specimens": None,
             "icp": '[icp]\nfile = "c.csv"\nzzqqxx = 1\n',
             "cycling": '[[cycling]]\nfile = "c.csv"\nzzqqxx = 1\n',
             "haadf": '[[haadf]]\nimage = "i.tif"\nsample = "A"\nzzqqxx = 1\n',
             **{t: f"[{t}]\nzzqqxx = 1\n" for t in ("analysis.surface_layer",
                                                    "analysis.clusters", "analysis.nn")}}[table]
    text = _BASE + (extra or "")
    if table == "study":
        text = text.replace('name = "x"\n', 'name = "x"\nzzqqxx = 1\n', 1)
    if table == "samples":
        text = text.replace("cycles = 0\n", "cycles = 0\nzzqqxx = 1\n", 1)
    if table == "specimens":
        text = text.replace('ranges = "a.rrng"\n', 'ranges = "a.rrng"\nzzqqxx = 1\n', 1)
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, tmp_path / "study.toml")
    match = re.search(r"unknown key 'zzqqxx'; allowed: (.*)$", str(info.value))
    assert match, str(info.value)
    return {k.strip() for k in match[1].split(",")}


@pytest.mark.parametrize("table", [t.name for t in MANIFEST_SCHEMA])
def test_schema_keys_are_the_parser_keys(tmp_path, table):
    documented = {k.name for t in MANIFEST_SCHEMA if t.name == table for k in t.keys}
    assert documented == _allowed_keys(tmp_path, table)


def test_settings_defaults_come_from_the_dataclass():
    table = next(t for t in MANIFEST_SCHEMA if t.name == "settings")
    shown = {k.name: k.default for k in table.keys}
    assert shown["profile_bin_nm"] == repr(StudySettings().profile_bin_nm)
    assert shown["normalize_to"] == '["Ni", "Co", "Mn"]'
    assert all(k.meaning for k in table.keys), "every setting needs a meaning"


def test_docs_page_is_the_generated_reference():
    """docs/manifest.md is what 'liprobe study schema -o docs/manifest.md' writes."""
    assert DOCS.is_file(), "run: liprobe study schema -o docs/manifest.md"
    assert DOCS.read_text(encoding="utf-8") == schema_markdown() + "\n", (
        "docs/manifest.md drifted from the code; regenerate it with "
        "'liprobe study schema -o docs/manifest.md'")
