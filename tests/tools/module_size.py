"""Fails when a source module is longer than 500 lines (`make lint`): a longer file holds
more than one job; split it by job, not by line count."""

from __future__ import annotations

import sys
from pathlib import Path

LIMIT = 500


def too_long(paths: list[Path]) -> list[tuple[Path, int]]:
    """Each Python file under ``paths`` with more than LIMIT lines, with its count."""
    files = [f for p in paths for f in ([p] if p.is_file() else sorted(p.rglob("*.py")))]
    counts = ((f, len(f.read_text(encoding="utf-8").splitlines())) for f in files)
    return [(f, n) for f, n in counts if n > LIMIT]


def main(argv: list[str]) -> int:
    found = too_long([Path(a) for a in argv])
    for path, lines in found:
        print(f"{path}: {lines} lines (at most {LIMIT}): split it by job", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
