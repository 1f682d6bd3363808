"""A series' rule said in French, and the rule the series form builds from its choices."""

from __future__ import annotations

from datetime import time

import pytest

from rdv_spie.committees import recurrence, words


@pytest.mark.parametrize(
    ("rule", "start", "said"),
    [
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", time(8, 30), "un jeudi sur deux à 8 h 30"),
        ("FREQ=WEEKLY;BYDAY=MO", time(9), "chaque lundi à 9 h"),
        ("FREQ=WEEKLY;INTERVAL=1;BYDAY=FR", time(10, 5), "chaque vendredi à 10 h 05"),
        ("FREQ=WEEKLY;INTERVAL=3;BYDAY=WE", time(14), "un mercredi sur trois à 14 h"),
        ("FREQ=MONTHLY;BYDAY=1TU", time(14), "le premier mardi du mois à 14 h"),
        ("RRULE:FREQ=MONTHLY;BYDAY=-1FR", time(16), "le dernier vendredi du mois à 16 h"),
        ("freq=monthly;byday=3we", time(9, 15), "le troisième mercredi du mois à 9 h 15"),
    ],
)
def test_rules_the_team_uses_are_said_in_words(rule: str, start: time, said: str) -> None:
    assert words.rule_in_words(rule, start) == said


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY",
        "FREQ=WEEKLY;BYDAY=MO,TH",
        "FREQ=MONTHLY;BYMONTHDAY=15",
        "FREQ=WEEKLY;INTERVAL=9;BYDAY=TH",
        "FREQ=WEEKLY;BYDAY=TH;COUNT=4",
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=1TU",
        "FREQ=WEEKLY;INTERVAL=x;BYDAY=TH",
    ],
)
def test_other_shapes_get_the_generic_sentence(rule: str) -> None:
    assert words.rule_in_words(rule, time(8, 30)) == "selon un calendrier particulier, à 8 h 30"


def test_deadline_in_words() -> None:
    assert words.deadline_in_words(3, time(14)) == "3 jours avant, 14 h"
    assert words.deadline_in_words(1, time(12, 30)) == "la veille, 12 h 30"
    assert words.deadline_in_words(0, time(9)) == "le jour même, 9 h"


@pytest.mark.parametrize(
    ("choices", "rule"),
    [
        ((words.WEEKLY, "MO", 1), "FREQ=WEEKLY;BYDAY=MO"),
        ((words.FORTNIGHTLY, "TH", 1), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"),
        ((words.MONTHLY, "TU", 1), "FREQ=MONTHLY;BYDAY=1TU"),
        ((words.MONTHLY, "FR", -1), "FREQ=MONTHLY;BYDAY=-1FR"),
    ],
)
def test_built_rules_are_valid_and_read_back(choices: tuple[str, str, int], rule: str) -> None:
    built = words.build_rule(*choices)
    assert built == rule
    assert recurrence.check_rule(built) == rule
    assert words.read_rule(built) == choices


def test_a_rule_the_form_cannot_build_is_not_read() -> None:
    assert words.read_rule("FREQ=WEEKLY;BYDAY=MO,TH") is None
    assert words.read_rule("FREQ=WEEKLY;INTERVAL=3;BYDAY=MO") is None
    assert words.read_rule("FREQ=DAILY") is None
