"""The `tovholder` command.

  tovholder up                      start everything locally (what `make run` calls)
  tovholder serve SERVICE           run one service (HTTP + consumers + outbox relay)
  tovholder migrate SERVICE|all     apply Alembic migrations
  tovholder revision SERVICE -m MSG autogenerate a migration against a throwaway database
  tovholder token --role ROLE [--sub ID] [--org ORG] [--botilbud ID] [--scope 'system/*.read']
  tovholder demo [--json]           the demo data
  tovholder replay --service S [--since T] republish outbox events after a broker loss
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from contracts.topics import SERVICES
from tovholder.settings import DEFAULT_PORTS, PROCESSES, Settings

LOCAL_PG_PORT = int(os.environ.get("TOVHOLDER_PG_PORT", "54329"))
LOCAL_KAFKA_PORT = int(os.environ.get("TOVHOLDER_KAFKA_PORT", "19092"))


def service_port(service: str) -> int:
    return int(os.environ.get(f"TOVHOLDER_{service.upper()}_PORT", DEFAULT_PORTS[service]))


def local_database_url(service: str, pg_port: int = LOCAL_PG_PORT) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:{pg_port}/{service}"


def _database_url_for(service: str) -> str:
    """TOVHOLDER_DATABASE_URL when set (a deployed service), else the local embedded database."""
    return os.environ.get("TOVHOLDER_DATABASE_URL") or local_database_url(service)


# ---------------------------------------------------------------- serve / migrate


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    os.environ["TOVHOLDER_SERVICE"] = args.service
    settings = Settings(service=args.service)
    port = args.port or settings.http_port
    host = args.host or ("0.0.0.0" if settings.is_production else settings.host)
    profile_dir = os.environ.get("TOVHOLDER_PROFILE_DIR")  # bench/pipeline.py --profile: where CPU time goes
    profiler = _cpu_profiler() if profile_dir else None
    try:
        uvicorn.run(f"services.{args.service}.main:create_app", factory=True, host=host, port=port,
                    log_config=None, access_log=False, timeout_graceful_shutdown=10,
                    loop="uvloop", http="httptools")
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(Path(profile_dir) / f"{args.service}.prof"))
    return 0


def _cpu_profiler():
    """cProfile on CPU time, not wall time: on a shared 2-core machine waiting for a core is not cost."""
    import cProfile
    import signal
    import time

    # uvicorn re-raises the SIGTERM it caught once it has shut down; with the default handler that ends
    # the process before the profile is written, so make it an orderly exit instead.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    return profiler


def cmd_migrate(args: argparse.Namespace) -> int:
    from tovholder.migrations import upgrade

    services = PROCESSES if args.service == "all" else (args.service,)
    for service in services:
        upgrade(service, _database_url_for(service))
        print(f"{service}: migrated to head")
    return 0


def cmd_revision(args: argparse.Namespace) -> int:
    from tovholder.infra import EmbeddedPostgres
    from tovholder.migrations import make_revision

    with tempfile.TemporaryDirectory(prefix="tovholder-revision-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pgdata")
        pg.start()
        try:
            pg.ensure_database(args.service)
            make_revision(args.service, pg.url(args.service), args.message)
        finally:
            pg.stop()
    return 0


# ---------------------------------------------------------------- token / demo / replay


def cmd_token(args: argparse.Namespace) -> int:
    from tovholder.auth import issue_dev_token
    from tovholder.demo import demo_data, staff_member

    data = demo_data()
    sub, org, botilbud, municipality, name = args.sub, args.org, args.botilbud, args.municipality, None
    if sub is None:
        if args.role == "citizen":
            sub = data["citizens"][0]["citizen_id"]
        elif args.role == "partner":
            sub = "partner-system"
        else:
            sub = next((s["sub"] for s in data["staff"] if s["role"] == args.role), f"{args.role}-1")
    member = staff_member(sub)
    if member:
        botilbud = botilbud or member.get("botilbud")
        municipality = municipality or member.get("municipality")
        name = member["name"]
    if args.role == "partner" and org is None:
        org = data["partners"][0]["org"]
    print(issue_dev_token(Settings(), role=args.role, sub=sub, org=org, botilbud=botilbud,
                          municipality=municipality, name=name, scope=args.scope))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from tovholder.demo import demo_data

    data = demo_data()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    for home in data["botilbud"]:
        citizens = [c for c in data["citizens"] if c["botilbud"] == home["id"]]
        staff = [s for s in data["staff"] if s["botilbud"] == home["id"]]
        print(f"{home['name']:<14} {home['legal_basis']:<20} {len(citizens):>3} citizens  "
              + ", ".join(f"{s['sub']} ({s['role']})" for s in staff))
    print("Visitation staff: " + ", ".join(s["sub"] for s in data["staff"] if s["role"] == "visitation"))
    print("Partners: " + ", ".join(f"{p['org']} {p['name']}" for p in data["partners"]))
    print("`tovholder demo --json` prints everything, CPR numbers included.")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Mark a service's published outbox events for publishing again — only once the broker has
    the topics they go to (a restarted Tansu acknowledges writes to topics it does not have, so a
    replay before the topics exist would "succeed" and recover nothing)."""
    import logging

    from aiokafka.errors import KafkaError

    from tovholder.broker_view import service_topics, unusable_topics

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # its connection errors: said once, below
    from tovholder.launcher import replay_since_default
    from tovholder.outbox import replay, replay_topics

    settings = Settings(service=args.service)
    if args.since:
        since = datetime.fromisoformat(args.since.replace("Z", "+00:00"))
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        origin = ""
    else:
        since = replay_since_default(settings.state_dir)
        if since is None:
            print(f"tovholder replay: no broker start recorded in {settings.state_dir} (`tovholder up` records it); "
                  "pass --since", file=sys.stderr)
            return 1
        origin = " (the broker's last start that may have lost data, recorded by `tovholder up`)"
    database_url = _database_url_for(args.service)
    bootstrap = os.environ.get("TOVHOLDER_KAFKA_BOOTSTRAP") or f"127.0.0.1:{LOCAL_KAFKA_PORT}"
    try:
        topics = sorted({*asyncio.run(replay_topics(database_url, since)), *service_topics(args.service)})
    except (OSError, asyncio.TimeoutError) as exc:
        print(f"tovholder replay: cannot reach the {args.service} database ({type(exc).__name__}); nothing was marked",
              file=sys.stderr)
        return 1
    try:
        problems, _ = asyncio.run(unusable_topics(bootstrap, topics))
    except (KafkaError, asyncio.TimeoutError, OSError) as exc:
        print(f"tovholder replay: cannot reach the broker at {bootstrap} ({type(exc).__name__}); nothing was marked",
              file=sys.stderr)
        return 1
    if problems:
        print(f"tovholder replay: nothing was marked: on the broker at {bootstrap}, "
              + "; ".join(f"topic {name} {why}" for name, why in problems.items())
              + " (create the topics — `tovholder up` does — and replay again)", file=sys.stderr)
        return 1
    count = asyncio.run(replay(database_url, since))
    print(f"{args.service}: {count} events published since {since.isoformat()}{origin} marked for republishing; "
          "the relay sends them now")
    return 0


# ---------------------------------------------------------------- up


def cmd_up(args: argparse.Namespace) -> int:
    from tovholder.launcher import LocalStack

    # Ctrl-C stops everything, even when whoever started us left SIGINT ignored (an inherited SIG_IGN
    # keeps Python from installing its KeyboardInterrupt handler: Ctrl-C would do nothing).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    settings = Settings()
    broker = args.broker or settings.broker
    if broker == "kafka":
        from tovholder.apache_kafka import KafkaUnavailable, check_java

        try:
            check_java()
        except KafkaUnavailable as exc:
            print(f"tovholder up --broker kafka: {exc}", file=sys.stderr)
            return 1
    stack = LocalStack(state_dir=settings.state_dir, ports={s: service_port(s) for s in (*SERVICES, "portal")},
                       pg_port=LOCAL_PG_PORT, kafka_port=LOCAL_KAFKA_PORT, broker=broker)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run the finally-block on SIGTERM too
    # If whatever started us (make, a shell) is killed, stop too, rather than run on unattended.
    from tovholder.infra import die_with_parent

    parent = os.getppid()
    die_with_parent(signal.SIGTERM)()
    if os.getppid() != parent:  # the parent died before the request took effect
        return 1
    try:
        stack.start()
        print(f"\nTovholder is running (ready in {time.monotonic() - started:.1f}s).\n")
        for service in SERVICES:
            print(f"  {service:<14} {stack.url(service)}   (API docs: /docs, events: /asyncapi)")
        print(f"  {'portal':<14} {stack.url('portal')}/   (sign in as a demo staff member or citizen)")
        print(f"  {'PostgreSQL':<14} 127.0.0.1:{stack.pg.port} (databases: {', '.join(stack.processes)})")
        print(f"  {'Kafka':<14} {stack.kafka.bootstrap} ({stack.broker_name})")
        print(f"  {'logs':<14} {stack.logs}/")
        print("\n  A token:   .venv/bin/tovholder token --role visitation")
        print("  Demo data: .venv/bin/tovholder demo --json")
        print("\nA part that stops is restarted on its own. Ctrl-C stops everything.", flush=True)
        while True:
            stack.supervise()
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"tovholder up: {exc}", file=sys.stderr)
        return 1
    finally:
        print("\nStopping Tovholder …", flush=True)
        stack.stop()
        print(f"Stopped: services, {stack.broker_name} and PostgreSQL.", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tovholder", description="Tovholder: coordination around citizens in botilbud")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("up", help="start PostgreSQL, a broker, the four services and the portal locally, with demo data")
    p.add_argument("--broker", choices=("tansu", "kafka"),
                   help="tansu (default, embedded) or kafka (Apache Kafka, needs Java 17+); or TOVHOLDER_BROKER")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("serve", help="run one service (or the portal)")
    p.add_argument("service", choices=PROCESSES)
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="apply database migrations (TOVHOLDER_DATABASE_URL or the local database)")
    p.add_argument("service", choices=(*PROCESSES, "all"))
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("revision", help="autogenerate a migration for a service against a throwaway database")
    p.add_argument("service", choices=PROCESSES)
    p.add_argument("-m", "--message", required=True)
    p.set_defaults(func=cmd_revision)

    p = sub.add_parser("token", help="print a development bearer token")
    p.add_argument("--role", required=True, choices=("visitation", "coordinator", "nurse-consultant", "partner", "citizen", "admin"))
    p.add_argument("--sub")
    p.add_argument("--org")
    p.add_argument("--botilbud")
    p.add_argument("--municipality")
    p.add_argument("--scope", help="scopes, space-separated: SMART-style for the FHIR API (e.g. 'system/*.read'), 'scim:users' for the SCIM staff register")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("demo", help="show the demo data")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("replay", help="republish a service's outbox events since a time")
    p.add_argument("--service", required=True, choices=SERVICES)
    p.add_argument("--since", help="ISO time, e.g. 2026-11-22T09:00:00Z; default: when the local broker last "
                                   "started (its previous run, if an in-memory Tansu was restarted)")
    p.set_defaults(func=cmd_replay)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
