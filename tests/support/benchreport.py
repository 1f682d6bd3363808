"""How ``make bench`` reports: every figure on one line, next to the ceiling measured in the same
run and the issue's target, and the same figures in ``var/bench/latest.json`` so two runs can be
compared (each bench module writes its own section; ``make bench`` empties the file first).

A figure is one of three kinds:
- a *target* (speed, from issue 17): printed ``ok`` or ``MISSED``; a miss does not fail the run
  unless ``BENCH_STRICT=1``, because a figure far from its target on a busy 2-core machine is
  something to read, not a broken build;
- a *guarantee* (no double booking, only 201/409, no error answer, memory flat, every message
  sent): printed ``ok`` or ``FAILED``; a failure makes the run exit 1;
- *information*: printed as is.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

LATEST = Path("var/bench/latest.json")


@dataclass(frozen=True)
class Figure:
    section: str
    name: str
    value: float
    unit: str
    ceiling: float | None = None  # the same measure of a trivial reference, this run
    target: str | None = None  # e.g. ">= 20 %" or "<= 80 ms"
    met: bool | None = None  # None: information
    guarantee: bool = False

    def line(self) -> str:
        value = _fmt(self.value, self.unit)
        ceiling = f"ceiling {_fmt(self.ceiling, self.unit)}" if self.ceiling is not None else ""
        target = f"target {self.target}" if self.target else ""
        verdict = ""
        if self.met is not None:
            verdict = "ok" if self.met else ("FAILED" if self.guarantee else "MISSED")
        return f"  {self.name:52} {value:>14} {ceiling:>22} {target:>18}  {verdict}"


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "%":
        return f"{value:.0%}"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f} {unit}"
    return f"{value:.1f} {unit}"


class Report:
    """The figures of one bench module."""

    def __init__(self, bench: str) -> None:
        self.bench = bench
        self.figures: list[Figure] = []
        self.section = ""

    def heading(self, section: str) -> None:
        self.section = section
        print(f"\n== {section}", flush=True)

    def info(self, name: str, value: float, unit: str, ceiling: float | None = None) -> None:
        self._add(Figure(self.section, name, value, unit, ceiling))

    def target(
        self,
        name: str,
        value: float,
        unit: str,
        *,
        at_least: float | None = None,
        at_most: float | None = None,
        ceiling: float | None = None,
    ) -> bool:
        """A speed figure against its target (one bound)."""
        if at_least is not None:
            met, target = value >= at_least, f">= {_fmt(at_least, unit)}"
        else:
            assert at_most is not None
            met, target = value <= at_most, f"<= {_fmt(at_most, unit)}"
        self._add(Figure(self.section, name, value, unit, ceiling, target, met))
        return met

    def guarantee(self, name: str, value: float, unit: str, *, holds: bool, rule: str) -> bool:
        """A correctness figure: the run fails when it does not hold."""
        self._add(Figure(self.section, name, value, unit, None, rule, holds, guarantee=True))
        return holds

    def _add(self, figure: Figure) -> None:
        self.figures.append(figure)
        print(figure.line(), flush=True)

    def failed(self) -> list[Figure]:
        return [f for f in self.figures if f.guarantee and not f.met]

    def missed(self) -> list[Figure]:
        return [f for f in self.figures if not f.guarantee and f.met is False]

    def finish(self) -> int:
        """Write this module's section of latest.json, print the summary, give the exit code."""
        LATEST.parent.mkdir(parents=True, exist_ok=True)
        try:
            whole = json.loads(LATEST.read_text())
        except (OSError, ValueError):
            whole = {}
        whole.setdefault("machine", {"cpus": os.cpu_count(), "python": platform.python_version()})
        whole[self.bench] = {
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "figures": [asdict(f) for f in self.figures],
        }
        LATEST.write_text(json.dumps(whole, indent=1, ensure_ascii=False) + "\n")
        failed, missed = self.failed(), self.missed()
        print(
            f"\n  {self.bench}: {len(self.figures)} figures, {len(missed)} targets missed, "
            f"{len(failed)} guarantees failed (written to {LATEST})",
            flush=True,
        )
        for f in missed:
            print(f"    missed: {f.section}: {f.name} {_fmt(f.value, f.unit)} ({f.target})")
        for f in failed:
            print(f"    FAILED: {f.section}: {f.name} {_fmt(f.value, f.unit)} ({f.target})")
        strict = os.environ.get("BENCH_STRICT") == "1"
        return 1 if failed or (strict and missed) else 0
