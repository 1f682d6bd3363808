"""The indicators room's back-office paths: the dashboard (the menu's INDICATORS, its
territory, cohort and period in the query) and the same figures as CSV."""

from __future__ import annotations

from rdv_spie.web.paths import INDICATORS

__all__ = ["INDICATORS", "INDICATORS_CSV"]

INDICATORS_CSV = f"{INDICATORS}.csv"
