"""Every message the service sends: each room's kinds, gathered into the one registry the
deliverer is given (``worker/context.py``). A new message is declared in its room's
``messages.py`` and listed here once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from rdv_spie.administration import messages as administration
from rdv_spie.committees import messages as committees
from rdv_spie.invitations import messages as invitations
from rdv_spie.invitations import paths as invitation_paths
from rdv_spie.journeys import paths as journeys
from rdv_spie.notifications import messages as notifications
from rdv_spie.notifications.links import Links, page_url
from rdv_spie.notifications.models import Notification
from rdv_spie.notifications.registry import Registry
from rdv_spie.people import paths as people
from rdv_spie.scheduling import messages as scheduling
from rdv_spie.web import paths as office

# The back-office pages each message to an agent links to (notifications/links.py): a page
# its recipient may open, never the API. The journeys' pages are the territory team's, so a
# referent is sent to the booking page of their person and to their agenda. Committee
# members are sent to the partners' portal and a request's referent to their fiche (both in
# committees/messages.py, whose room owns those pages). The committee's decision sends the
# person to their file (/rdv/mon-dossier) through their invitation link, when they have one:
# the link's session asks the identity check first, then leads there.


def _book(url: str, journey_id: Any) -> str:
    return page_url(url, office.BOOKING, {"parcours": journey_id})


def _deadline(n: Notification, context: Mapping[str, Any], url: str) -> dict[str, Any]:
    return {
        "journeys": [{**j, "book_url": _book(url, j["id"])} for j in context["journeys"]],
        "agenda_url": page_url(url, office.AGENDA),
    }


def _no_slots(n: Notification, context: Mapping[str, Any], url: str) -> dict[str, Any]:
    cohort_id = context["cohort"]["id"]
    return {
        "cohort_url": page_url(url, people.COHORT, cohort_id=cohort_id),
        "journeys_url": page_url(url, journeys.JOURNEYS, {"cohorte": cohort_id}),
    }


def _delivery(n: Notification, context: Mapping[str, Any], url: str) -> dict[str, Any]:
    return {
        "book_url": _book(url, n.journey_id) if n.journey_id else page_url(url, office.BOOKING),
        "agenda_url": page_url(url, office.AGENDA),
    }


def _person_file(n: Notification, context: Mapping[str, Any], url: str) -> dict[str, Any]:
    link = str(context.get("link") or "")
    has_invitation = link.startswith(page_url(url, "/i/"))
    query = urlencode({invitation_paths.NEXT: invitation_paths.NEXT_FILE})
    return {"file_url": f"{link}?{query}" if has_invitation else None}


LINKS: dict[str, Links] = {
    invitations.REFERENT_DEADLINE_ALERT: _deadline,
    invitations.ANIMATOR_NO_SLOTS_ALERT: _no_slots,
    notifications.DELIVERY_FAILED_ALERT: _delivery,
    committees.DECISION: _person_file,
}

MESSAGES = Registry(
    [
        *invitations.KINDS,
        *scheduling.KINDS,
        *committees.KINDS,
        *notifications.KINDS,
        *administration.KINDS,
    ],
    links=LINKS,
)
