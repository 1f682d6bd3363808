"""The ``rdv-spie`` command: db, demo seed, serve, worker, import, create-api-key, bootstrap,
set-password."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import BinaryIO, TextIO

from rdv_spie.settings import Settings


def _db(args: argparse.Namespace, settings: Settings) -> int:
    from rdv_spie.db import migrate

    if args.action == "upgrade":
        migrate.upgrade(settings, args.revision or "head")
    else:
        if not args.revision:
            print("db downgrade needs a revision (e.g. 'base')", file=sys.stderr)
            return 2
        migrate.downgrade(settings, args.revision)
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from rdv_spie import demo

    return demo.run(settings)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "rdv_spie.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        access_log=False,
        proxy_headers=True,
        log_level=settings.log_level.lower(),
    )
    return 0


def _create_api_key(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import func, select

    from rdv_spie.agents import api_keys
    from rdv_spie.agents.models import Agent
    from rdv_spie.db.uow import open_database

    async def run() -> int:
        async with open_database(settings) as (db, clock), db.unit_of_work(clock=clock) as uow:
            agent_id = await uow.session.scalar(
                select(Agent.id).where(func.lower(Agent.email) == args.email.lower())
            )
            if agent_id is None:
                print(f"no agent with e-mail {args.email!r}", file=sys.stderr)
                return 1
            issued = await api_keys.create_api_key(uow=uow, agent_id=agent_id, label=args.label)
        print(issued.secret)
        print("Keep this key secret: it is shown only once.", file=sys.stderr)
        return 0

    return asyncio.run(run())


def _bootstrap(args: argparse.Namespace, settings: Settings) -> int:
    from rdv_spie.db.uow import open_database
    from rdv_spie.errors import DomainError
    from rdv_spie.territories.bootstrap import bootstrap

    async def run() -> int:
        try:
            async with open_database(settings) as (db, clock), db.unit_of_work(clock=clock) as uow:
                done = await bootstrap(
                    uow=uow,
                    slug=args.slug,
                    name=args.name,
                    timezone=args.timezone,
                    holiday_zone=args.holiday_zone,
                    organisation=args.organisation,
                    kind=args.kind,
                    admin_email=args.admin_email,
                    admin_first_name=args.admin_first_name,
                    admin_last_name=args.admin_last_name,
                )
        except DomainError as exc:
            print(f"{exc.field}: {exc.detail}", file=sys.stderr)
            return 2
        print(
            f"territory {done.territory_id}\norganisation {done.organisation_id}\n"
            f"admin {done.admin_id}\nNext: rdv-spie create-api-key --email {args.admin_email}"
        )
        return 0

    return asyncio.run(run())


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from arq.worker import Worker, check_health

    from rdv_spie.worker.settings import worker_settings

    if not settings.redis_url:
        print(
            "RDV_REDIS_URL is not set: without Redis the web process sends messages itself",
            file=sys.stderr,
        )
        return 2
    options = worker_settings(settings)
    if args.check:
        return int(check_health(options))
    Worker(**options).run()
    return 0


def _import(args: argparse.Namespace, settings: Settings) -> int:
    import uuid

    from rdv_spie.db.uow import open_database
    from rdv_spie.errors import DomainError
    from rdv_spie.people import intake

    async def run(stream: BinaryIO) -> int:
        try:
            async with open_database(settings) as (db, clock):
                async with db.unit_of_work(clock=clock, write=False) as uow:
                    into = await intake.target(uow, uuid.UUID(args.cohort), actor=None)
                today = clock.now().astimezone(into.zone).date()
                rows = intake.parse_all(stream, region=into.region, today=today)
                report = await intake.import_rows(
                    db=db, clock=clock, into=into, rows=rows, progress=_progress
                )
        except DomainError as exc:
            print(f"\n{args.file}: {exc.detail}", file=sys.stderr)
            return 2
        print(
            f"\n{report.rows} rows: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.journeys_opened} journeys opened, "
            f"{report.rejected_rows} rejected"
        )
        for error in report.rejected:
            where = f"line {error.line}" + (f", column {error.column}" if error.column else "")
            header = f" ({error.header})" if error.header else ""
            print(f"  {where}{header}: {error.detail} [{error.code}]")
        return 1 if report.rejected_rows else 0

    try:
        uuid.UUID(args.cohort)
    except ValueError:
        print(f"--cohort: not a cohort id: {args.cohort!r}", file=sys.stderr)
        return 2
    with open(args.file, "rb") as stream:
        return asyncio.run(run(stream))


def _progress(rows: int) -> None:
    print(f"\r{rows:>9,} rows read".replace(",", " "), end="", file=sys.stderr, flush=True)


def _read_password(stdin: TextIO) -> str | None:
    """The new password: typed twice at a terminal (not echoed), else the first line of stdin."""
    if stdin.isatty():
        import getpass

        first = getpass.getpass("Nouveau mot de passe : ")
        if getpass.getpass("Le même, encore une fois : ") != first:
            print("the two passwords differ", file=sys.stderr)
            return None
        return first
    return stdin.readline().rstrip("\r\n")


def _set_password(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import func, select

    from rdv_spie.agents import passwords
    from rdv_spie.agents.models import Agent
    from rdv_spie.db.uow import open_database
    from rdv_spie.errors import Invalid
    from rdv_spie.web import sessions

    password = _read_password(sys.stdin)
    if password is None:
        return 2
    try:
        hashed = passwords.hash_password(password)
    except Invalid as exc:
        print(exc.detail, file=sys.stderr)
        return 2

    async def run() -> int:
        async with open_database(settings) as (db, clock), db.unit_of_work(clock=clock) as uow:
            agent = await uow.session.scalar(
                select(Agent).where(func.lower(Agent.email) == args.email.strip().lower())
            )
            if agent is None:
                print(f"no agent with e-mail {args.email!r}", file=sys.stderr)
                return 1
            agent.password_hash = hashed
            # Browsers logged in with the old password are logged out.
            await sessions.end_sessions_of(uow, agent_id=agent.id)
        print("password set; the agent can log in at /agent/connexion", file=sys.stderr)
        return 0

    return asyncio.run(run())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = argparse.ArgumentParser(prog="rdv-spie", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="schema migrations")
    db.add_argument("action", choices=["upgrade", "downgrade"])
    db.add_argument("revision", nargs="?")
    db.set_defaults(run=_db)

    demo = commands.add_parser("demo", help="demo data")
    demo.add_argument("action", choices=["seed"])
    demo.set_defaults(run=_demo)

    serve = commands.add_parser("serve", help="serve the web application")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=_serve)

    key = commands.add_parser("create-api-key", help="issue an API key for an agent")
    key.add_argument("--email", required=True)
    key.add_argument("--label", default="cli")
    key.set_defaults(run=_create_api_key)

    boot = commands.add_parser(
        "bootstrap", help="create a territory, its first organisation and admin (idempotent)"
    )
    boot.add_argument("--slug", required=True, help="e.g. aisne-laon")
    boot.add_argument("--name", required=True, help="e.g. 'Aisne — Laon'")
    boot.add_argument("--timezone", default="Europe/Paris", help="IANA zone, e.g. America/Cayenne")
    boot.add_argument(
        "--holiday-zone",
        default="metropole",
        help="metropole, alsace_moselle, guadeloupe, martinique, guyane, reunion, mayotte",
    )
    boot.add_argument("--organisation", required=True, help="e.g. 'Département de l'Aisne'")
    boot.add_argument("--kind", default="departement", help="departement, france_travail, …")
    boot.add_argument("--admin-email", required=True)
    boot.add_argument("--admin-first-name", required=True)
    boot.add_argument("--admin-last-name", required=True)
    boot.set_defaults(run=_bootstrap)

    worker = commands.add_parser("worker", help="run the arq worker (needs RDV_REDIS_URL)")
    worker.add_argument("--check", action="store_true", help="health check (exit 0 = alive)")
    worker.set_defaults(run=_worker)

    imp = commands.add_parser("import", help="import newly eligible people from a CSV file")
    imp.add_argument("file", help="CSV file (UTF-8 or Windows-1252, ';' or ',')")
    imp.add_argument("--cohort", required=True, help="cohort id")
    imp.set_defaults(run=_import)

    password = commands.add_parser(
        "set-password", help="set an agent's password (prompted, or the first line of stdin)"
    )
    password.add_argument("email")
    password.set_defaults(run=_set_password)

    args = parser.parse_args(argv)
    settings = Settings()
    result: int = args.run(args, settings)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
