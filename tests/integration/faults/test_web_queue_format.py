"""The jobs a web process queues in Redis are jobs the arq worker can read: the web's pool
(``app._jobs`` with a Redis URL) and the worker share one format, JSON. Before, the web wrote
arq's default pickle, every such job failed to deserialize in the worker, and its message
waited for the sweeper."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
from arq.worker import Worker
from tests.integration.faults.outbox_support import import_people, rows, statuses
from tests.support.redis_server import RedisServer
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_server import TwilioServer

from rdv_spie import app as web
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.invitations import service as planner
from rdv_spie.settings import Settings
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.queue import ArqQueue
from rdv_spie.worker.settings import worker_settings


async def test_a_job_the_web_queues_is_one_the_worker_runs(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    flow_settings: Settings,
    smtp: SmtpServer,
    twilio: TwilioServer,
    tmp_path: Path,
) -> None:
    await import_people(client, db, clock, 3)
    with RedisServer(tmp_path) as redis:
        settings = flow_settings.model_copy(update={"redis_url": redis.url})
        async with web._jobs(settings, clock, db) as queue:  # what the web's lifespan runs
            assert isinstance(queue, ArqQueue)
            await planner.plan(db=db, clock=clock, secret_key=jobs.secret_key)
            queued = [k.decode() for k in await queue.redis.keys("arq:job:*")]
            assert len(queued) == 4  # one per message, queued by the web's pool
            job = json.loads(await queue.redis.get(queued[0]) or b"")
            assert job["f"] == "send_notification" and uuid.UUID(job["a"][0])
        db.on_due_notifications = None

        worker = Worker(
            **worker_settings(settings, clock=clock, db=db),
            burst=True,
            handle_signals=False,
            poll_delay=0.05,
        )
        try:
            await worker.async_run()
            # Each of the web's jobs ran (a job arq cannot read counts as failed).
            assert (worker.jobs_failed, worker.jobs_complete >= len(queued)) == (0, True)
        finally:
            await worker.close()
            db.on_due_notifications = None
    assert statuses(await rows(db, clock)) == {"sms:sent": 2, "email:sent": 2}
