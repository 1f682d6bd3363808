"""The delivery's own message: the referent told that a message to their person will not
arrive (``outbox.alert_referent``). Gathered with the rooms' kinds in ``rdv_spie/messages.py``."""

from __future__ import annotations

import uuid

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.notifications.models import Notification
from rdv_spie.notifications.registry import Extra, MessageKind, Recipient
from rdv_spie.people.models import Person

DELIVERY_FAILED_ALERT = "delivery_failed_alert"


async def _delivery_failed(uow: UnitOfWork, n: Notification, public_url: str) -> Extra:
    person = await uow.session.get(Person, uuid.UUID(n.params["person_id"]))
    return Extra(
        {
            "person": {
                "first_name": person.first_name if person else "",
                "last_name": person.last_name if person else "",
            },
            "channel": n.params.get("channel", ""),
            "reason_code": n.params.get("reason_code", ""),
            "message_name": n.params.get("message_name", ""),
        }
    )


KINDS = (MessageKind(DELIVERY_FAILED_ALERT, Recipient.AGENT, ("email",), build=_delivery_failed),)
