"""One list of messages: every kind a room declares has its templates, every template belongs
to a kind, names are constants, and the registry refuses what cannot be sent."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rdv_spie.messages import MESSAGES
from rdv_spie.notifications.registry import MessageKind, Recipient, Registry, UnknownMessage

ROOT = Path(__file__).resolve().parents[3]
MESSAGES_DIR = ROOT / "templates" / "messages"
SRC = ROOT / "src" / "rdv_spie"


def test_every_kind_has_its_templates_and_every_template_its_kind() -> None:
    declared = {t for kind in MESSAGES for t in kind.templates()}
    on_disk = {p.name for p in MESSAGES_DIR.iterdir() if not p.name.startswith("_")}
    assert sorted(declared - on_disk) == [], "declared messages without templates"
    assert sorted(on_disk - declared) == [], "templates of no declared message (or channel)"


def test_the_rooms_declare_the_messages_the_service_sends() -> None:
    assert {"invitation", "booking_confirmation", "cto_agenda"} <= MESSAGES.names()
    assert MESSAGES["booking_confirmation"].ics == "REQUEST"
    assert MESSAGES["appointment_cancelled"].ics == "CANCEL"
    assert MESSAGES["cto_session_cancelled"].ics == "CANCEL"
    assert MESSAGES["appointment_cancelled"].follows_appointment is False
    assert MESSAGES["appointment_reminder"].follows_appointment is True
    assert {k.name for k in MESSAGES if k.recipient is Recipient.AGENT} >= {
        "referent_deadline_alert",
        "delivery_failed_alert",
        "cto_request_acknowledged",
    }


def test_an_unknown_name_fails_loudly() -> None:
    with pytest.raises(UnknownMessage, match="'newsletter'"):
        MESSAGES["newsletter"]


def test_a_name_is_declared_once_and_agents_get_e_mail_only() -> None:
    kind = MessageKind("x", Recipient.PERSON, ("sms",))
    with pytest.raises(ValueError, match="twice"):
        Registry([kind, kind])
    with pytest.raises(ValueError, match="e-mail"):
        Registry([MessageKind("y", Recipient.AGENT, ("sms", "email"))])


def _bare_names(tree: ast.AST, names: frozenset[str]) -> list[int]:
    """Lines where a message is named by a string: ``name="…"`` or ``x.name == "…"``."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in ("name", "names"):
            values = [node.value, *getattr(node.value, "elts", [])]
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute):
            values = [c for c in node.comparators if node.left.attr == "name"]
            values += [e for c in values for e in getattr(c, "elts", [])]
        else:
            continue
        if any(isinstance(v, ast.Constant) and v.value in names for v in values):
            lines.append(node.value.lineno if isinstance(node, ast.keyword) else node.lineno)
    return lines


def test_message_names_are_constants_never_bare_strings() -> None:
    """A bare "invitation" written where a message is named would drift from its kind."""
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted(SRC.rglob("*.py"))
        for line in _bare_names(ast.parse(path.read_text(encoding="utf-8")), MESSAGES.names())
    ]
    assert found == []
    # The check sees a bare name where one is written.
    sample = ast.parse('add(name="invitation")\nif n.name == "cto_agenda": pass\n')
    assert sorted(_bare_names(sample, MESSAGES.names())) == [1, 2]
