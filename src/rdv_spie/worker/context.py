"""What jobs need, built once per process: the worker's ``on_startup`` or the web lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from rdv_spie.clock import Clock
from rdv_spie.db.engine import create_engine
from rdv_spie.db.uow import Database
from rdv_spie.messages import MESSAGES
from rdv_spie.notifications import tokens
from rdv_spie.notifications.deliver import Deliverer
from rdv_spie.notifications.transports.factory import Transports, build_transports
from rdv_spie.settings import Settings
from rdv_spie.templating.render import Renderer


@dataclass(slots=True)
class JobContext:
    """The typed context every job reads (arq's ``ctx["jobs"]``)."""

    settings: Settings
    clock: Clock
    db: Database
    deliverer: Deliverer
    owns_db: bool

    @property
    def secret_key(self) -> bytes:
        """The key invitation tokens are derived from."""
        return self.deliverer.secret_key

    async def aclose(self) -> None:
        """Release transports, and the database when this context created it."""
        await self.deliverer.transports.aclose()
        if self.owns_db:
            await self.db.dispose()


def build_context(
    settings: Settings,
    clock: Clock,
    *,
    db: Database | None = None,
    transports: Transports | None = None,
) -> JobContext:
    """Build the job context; ``db`` and ``transports`` may come from the caller (tests, web)."""
    owns_db = db is None
    database = db or Database(create_engine(settings))
    secret_key = tokens.load_secret_key(
        settings.secret_key, settings.outbox_dir.parent / "secret-key"
    )
    deliverer = Deliverer(
        db=database,
        clock=clock,
        settings=settings,
        transports=transports or build_transports(settings),
        renderer=Renderer(settings.templates_dir),
        secret_key=secret_key,
        messages=MESSAGES,
    )
    return JobContext(settings, clock, database, deliverer, owns_db)
