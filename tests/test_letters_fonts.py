"""Prepared fonts: static Caveat plus one copy per stylistic set, cached and built atomically."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from hundred.rendering.handwriting import fonts


def test_stylistic_set_copies_map_real_code_points_to_alternate_glyphs(tmp_path):
    start = time.perf_counter()
    regular, ss01, ss02 = fonts.prepare_caveat(directory=tmp_path)
    elapsed = time.perf_counter() - start
    assert elapsed < 15, f"font preparation took {elapsed:.1f} s"
    maps = [TTFont(p).getBestCmap() for p in (regular, ss01, ss02)]
    for ch in "aeoAE":
        assert (maps[0][ord(ch)], maps[1][ord(ch)], maps[2][ord(ch)]) == (ch, f"{ch}.ss01", f"{ch}.ss02")
    assert maps[1][ord("1")] == maps[0][ord("1")]  # no alternate: the default glyph stays
    assert set(maps[1]) == set(maps[2]) == set(maps[0])  # same code points: no private-use extras
    names = [TTFont(p)["name"].getDebugName(6) for p in (regular, ss01, ss02)]
    assert len(set(names)) == 3  # reportlab keys embedded faces by PostScript name
    assert "fvar" not in TTFont(regular)  # a static instance, not the variable font


def test_prepared_fonts_are_cached_by_source_hash_and_built_once(tmp_path):
    first = fonts.prepare_caveat(directory=tmp_path)
    stamps = [p.stat().st_mtime_ns for p in first]
    start = time.perf_counter()
    again = fonts.prepare_caveat(directory=tmp_path)
    assert again == first and [p.stat().st_mtime_ns for p in again] == stamps
    assert time.perf_counter() - start < 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in first)  # no temp files
    # the key is the font's content, not its path: a changed font gets new files
    source = fonts.fontpkg_caveat.ROOT / "files" / "Caveat[wght].ttf"
    changed = tmp_path / "src" / "Caveat.ttf"
    changed.parent.mkdir()
    changed.write_bytes(source.read_bytes() + b"\0\0\0\0")
    other = fonts.prepare_caveat(changed, directory=tmp_path / "out")
    assert {p.name for p in other}.isdisjoint({p.name for p in first})


def test_cache_directory_follows_hundred_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HUNDRED_HOME", str(tmp_path / "home"))
    assert fonts.cache_dir() == tmp_path / "home" / "fonts"
    monkeypatch.delenv("HUNDRED_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert fonts.cache_dir() == tmp_path / "user" / ".cache" / "hundred" / "fonts"


def _prepare(directory: str) -> list[str]:
    return [str(p) for p in fonts.prepare_caveat(directory=Path(directory))]


@pytest.mark.slow  # a pool of spawned processes
def test_parallel_workers_never_see_half_written_fonts(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.map(_prepare, [str(tmp_path)] * 4)
    assert all(r == results[0] for r in results)
    for path in results[0]:
        assert TTFont(path).getBestCmap()  # complete, parseable font
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_unwritable_cache_falls_back_to_a_temp_directory(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "cache_dir", lambda: Path("/proc/no-such-dir/fonts"))
    monkeypatch.setattr(fonts.tempfile, "tempdir", str(tmp_path))
    paths = fonts.prepare_caveat()
    assert all(p.parent.parent == tmp_path and p.exists() for p in paths)
