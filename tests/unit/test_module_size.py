"""The module-size check of `make lint` counts lines per file and names each file over."""

from __future__ import annotations

from pathlib import Path

from tests.tools import module_size


def test_only_files_over_the_limit_are_named(tmp_path: Path) -> None:
    (tmp_path / "room").mkdir()
    (tmp_path / "room" / "short.py").write_text("x = 1\n" * module_size.LIMIT)
    (tmp_path / "room" / "long.py").write_text("x = 1\n" * (module_size.LIMIT + 1))
    (tmp_path / "notes.txt").write_text("x\n" * 2000)

    found = module_size.too_long([tmp_path])

    assert found == [(tmp_path / "room" / "long.py", module_size.LIMIT + 1)]
    assert module_size.main([str(tmp_path)]) == 1
    assert module_size.main([str(tmp_path / "room" / "short.py")]) == 0
