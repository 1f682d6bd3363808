"""The ``rdv-spie`` command: db upgrade, demo seed, serve, create-api-key."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import timedelta

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
    from rdv_spie.clock import SystemClock
    from rdv_spie.db.engine import create_engine
    from rdv_spie.db.uow import Database

    async def run() -> int:
        db = Database(create_engine(settings))
        try:
            async with db.unit_of_work(clock=SystemClock(timedelta(0))) as uow:
                agent_id = await uow.session.scalar(
                    select(Agent.id).where(func.lower(Agent.email) == args.email.lower())
                )
                if agent_id is None:
                    print(f"no agent with e-mail {args.email!r}", file=sys.stderr)
                    return 1
                issued = await api_keys.create_api_key(uow=uow, agent_id=agent_id, label=args.label)
        finally:
            await db.dispose()
        print(issued.secret)
        print("Keep this key secret: it is shown only once.", file=sys.stderr)
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

    args = parser.parse_args(argv)
    settings = Settings()
    result: int = args.run(args, settings)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
