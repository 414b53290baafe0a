import os
import stat

import pytest

from liprobe.errors import OverwriteError
from liprobe.io.atomic import atomic_path


def test_file_appears_only_on_success_with_the_usual_mode(tmp_path):
    out = tmp_path / "sub" / "out.txt"
    with atomic_path(out) as tmp:
        tmp.write_text("done")
        assert not out.exists()
    assert out.read_text() == "done"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in out.parent.iterdir()] == ["out.txt"]


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(out) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer failed")
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_refuses_to_overwrite_an_input(tmp_path):
    src = tmp_path / "in.pos"
    src.write_bytes(b"")
    link = tmp_path / "same.pos"
    os.link(src, link)
    for target in (src, link):
        with pytest.raises(OverwriteError, match="input"), atomic_path(target, inputs=(src,)):
            pass
