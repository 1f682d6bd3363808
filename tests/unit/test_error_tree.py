"""The error tree drawn in errors.py's docstring is the tree the code defines: every
DomainError subclass of every module, under its parent, with its HTTP status."""

from __future__ import annotations

import importlib
import pkgutil
import re
import textwrap

import rdv_spie
from rdv_spie import errors
from rdv_spie.errors import DomainError

# One line of the drawing: the tree's prefix (4 characters a level), a name, a status.
_LINE = re.compile(r"^(?P<prefix>(?:│   |    |├── |└── )*)(?P<name>[\w.]+)\s+(?P<status>\d{3})\b")


def _drawing(doc: str) -> list[str]:
    """The literal block after the docstring's ``::`` line, dedented."""
    lines = doc.splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith("::")) + 1
    while not lines[start].strip():
        start += 1
    end = start
    while end < len(lines) and lines[end].strip():
        end += 1
    return textwrap.dedent("\n".join(lines[start:end])).splitlines()


def _drawn(doc: str) -> dict[str, tuple[str | None, int]]:
    """Each drawn name with its parent (None for the root) and its status."""
    drawn: dict[str, tuple[str | None, int]] = {}
    path: list[str] = []
    for line in _drawing(doc):
        match = _LINE.match(line)
        assert match, f"not a line of the error tree: {line!r}"
        depth = len(match["prefix"]) // 4
        assert depth <= len(path), f"a level skipped at {line!r}"
        del path[depth:]
        name = match["name"]
        assert name not in drawn, f"{name} drawn twice"
        drawn[name] = (path[-1] if path else None, int(match["status"]))
        path.append(name)
    return drawn


def _name(cls: type) -> str:
    """How the drawing names a class: bare in errors.py, else by its module under rdv_spie."""
    if cls.__module__ == errors.__name__:
        return cls.__qualname__
    return f"{cls.__module__.removeprefix('rdv_spie.')}.{cls.__qualname__}"


def _defined() -> dict[str, tuple[str | None, int]]:
    """Every DomainError subclass, once every module of rdv_spie is imported."""
    for module in pkgutil.walk_packages(rdv_spie.__path__, "rdv_spie."):
        importlib.import_module(module.name)
    found: dict[str, tuple[str | None, int]] = {_name(DomainError): (None, DomainError.status)}
    todo = [DomainError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            parent = next(b for b in sub.__mro__[1:] if issubclass(b, DomainError))
            found[_name(sub)] = (_name(parent), sub.status)
            todo.append(sub)
    return found


def test_the_drawing_lists_every_domain_error_under_its_parent_with_its_status() -> None:
    assert errors.__doc__ is not None
    drawn, defined = _drawn(errors.__doc__), _defined()
    assert sorted(set(defined) - set(drawn)) == [], "defined but not drawn in errors.py"
    assert sorted(set(drawn) - set(defined)) == [], "drawn in errors.py but not defined"
    assert drawn == defined
