"""The composition root every service uses: ``app = create_service(ServiceSpec(...))``.

It wires settings, database, Kafka (FastStream broker for consuming, a producer for the outbox
relay and dead letters), telemetry, logging, auth, error handling and the operational endpoints
(/healthz, /readyz, /metrics, /asyncapi, /docs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.specification import AsyncAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contracts.base import EVENT_REGISTRY, BaseEvent
from contracts.topics import consumer_group, dead_letter_topic
from tovholder import metrics
from tovholder.auth import PRINCIPAL_SCOPE_KEY, TokenVerifier, is_partner_path
from tovholder.broker_view import TopicsMissing, describe_broker, service_topics
from tovholder.consumer_recovery import ConsumerRecovery
from tovholder.cpr import CprVault
from tovholder.db import create_engine, session_factory
from tovholder.errors import TovholderError, Unauthorized, error_body
from tovholder.guards import install_guards
from tovholder.infra_errors import is_infrastructure_error
from tovholder.logs import setup_logging
from tovholder.messaging import EventConsumer, EventRouter
from tovholder.outbox import OutboxRelay, cancel_requested
from tovholder.receipts import receipt_body
from tovholder.responses import error_responses, fhir_error_responses
from tovholder.scim import scim_error_responses
from tovholder.secretbox import SecretBox
from tovholder.settings import Settings
from tovholder.telemetry import current_trace_id, setup_tracing
from tovholder.validation import problems
from tovholder.uow import UnitOfWork

log = logging.getLogger(__name__)

BackgroundJob = Callable[["ServiceContext"], Awaitable[None]]
READY_CHECK_TIMEOUT_S = 0.8  # per check of /readyz; the checks run concurrently
CONSUMER_METADATA_MAX_AGE_MS = 5000  # how soon a consumer sees topics created after it joined


@dataclass
class ServiceSpec:
    name: str
    title: str
    routers: Sequence[APIRouter] = ()
    events: EventRouter | None = None
    publishes: Sequence[type[BaseEvent]] = ()  # default: every event in contracts/ this service produces
    # Long-running jobs (schedulers, delivery workers); each gets the context and runs until cancelled.
    background: Sequence[BackgroundJob] = ()
    description: str = ""
    # Service-specific configuration objects, available to routes and jobs as ctx.extras[...].
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class ServiceContext:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    broker: KafkaBroker
    producer: AIOKafkaProducer
    verifier: TokenVerifier
    relay: OutboxRelay
    consumer: EventConsumer | None
    kafka_started: asyncio.Event = field(default_factory=asyncio.Event)
    extras: dict[str, Any] = field(default_factory=dict)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, service=self.settings.service)

    def cpr_vault(self) -> CprVault:
        """Keyed hashing and encryption of CPR numbers (created once; referrals and health use it)."""
        if "cpr_vault" not in self.extras:
            self.extras["cpr_vault"] = CprVault(self.settings)
        return self.extras["cpr_vault"]

    def secret_box(self) -> SecretBox:
        """Encryption at rest for secrets the service must read back (created once)."""
        if "secret_box" not in self.extras:
            self.extras["secret_box"] = SecretBox(self.settings)
        return self.extras["secret_box"]


def produced_by(service: str) -> list[type[BaseEvent]]:
    return [m for m in EVENT_REGISTRY.values() if m.topic.producer == service]


def kafka_client_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap, "security_protocol": settings.kafka_security_protocol}
    if settings.kafka_sasl_mechanism:
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else None
    if settings.kafka_ssl_cafile:
        from aiokafka.helpers import create_ssl_context

        options["ssl_context"] = create_ssl_context(cafile=settings.kafka_ssl_cafile)
    return options


def _broker_security(settings: Settings):
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    from faststream.security import SASLScram256, SASLScram512, BaseSecurity

    ssl_context = kafka_client_options(settings).get("ssl_context")
    password = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    if settings.kafka_sasl_mechanism == "SCRAM-SHA-512":
        return SASLScram512(username=settings.kafka_sasl_username or "", password=password, ssl_context=ssl_context)
    if settings.kafka_sasl_mechanism == "SCRAM-SHA-256":
        return SASLScram256(username=settings.kafka_sasl_username or "", password=password, ssl_context=ssl_context)
    return BaseSecurity(ssl_context=ssl_context)


def entry_points(build_spec: Callable[[], ServiceSpec]) -> tuple[Callable[[], FastAPI], Callable[[str], Any]]:
    """A service's ``create_app`` (``tovholder serve``'s factory) and its module ``__getattr__`` (``main.spec``,
    what the test harness and the tools look up), both building the spec when asked, so that the
    environment is read then and not at import: ``create_app, __getattr__ = entry_points(build_spec)``."""

    def create_app() -> FastAPI:
        return create_service(build_spec())

    def module_attribute(name: str) -> Any:
        if name == "spec":
            return build_spec()
        raise AttributeError(name)

    return create_app, module_attribute


def create_service(spec: ServiceSpec, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings(service=spec.name)
    if settings.service != spec.name:
        settings = settings.model_copy(update={"service": spec.name})
    setup_logging(settings)
    provider = setup_tracing(settings)

    engine = create_engine(settings)
    sessions = session_factory(engine)
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, tracer_provider=provider)

    broker = KafkaBroker(
        settings.kafka_bootstrap,
        security=_broker_security(settings),
        middlewares=(KafkaTelemetryMiddleware(tracer_provider=provider),),
        client_id=f"tovholder-{spec.name}",
        logger=None,  # never started: it only describes the service's events in AsyncAPI
    )
    producer = AIOKafkaProducer(
        **kafka_client_options(settings),
        client_id=f"tovholder-{spec.name}-relay",
        acks="all",
        enable_idempotence=settings.kafka_idempotent_producer,
        linger_ms=2,
    )

    async def send(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]):
        return await producer.send(topic, value=value, key=key, headers=headers)

    async def publish_dead_letter(body: bytes, key: bytes | None, headers: dict[str, str]) -> None:
        topic = dead_letter_topic(spec.name).name
        # A restarted Tansu acknowledges writes to topics it does not have: make sure it has this one.
        view = await describe_broker(producer.client, [topic])
        if problems := view.unusable([topic]):
            raise TopicsMissing(problems, view.cluster_id)
        ack = await producer.send(topic, value=body, key=key, headers=[(k, v.encode()) for k, v in headers.items()])
        await ack

    relay = OutboxRelay(settings=settings, sessions=sessions, send=send,
                        describe_broker=lambda topics: describe_broker(producer.client, topics))
    consumer = None
    if spec.events and spec.events.handlers:
        consumer = EventConsumer(settings=settings, router=spec.events, sessions=sessions,
                                 publish_dead_letter=publish_dead_letter)
        _subscribe(broker, settings, spec.events, consumer)
    for model in spec.publishes or produced_by(spec.name):
        # Documentation only (AsyncAPI): the relay publishes, not FastStream.
        broker.publisher(model.topic.name, title=model.event_type, schema=model,
                         description=(model.__doc__ or "").strip() or None)

    ctx = ServiceContext(
        settings=settings, engine=engine, sessions=sessions, broker=broker, producer=producer,
        verifier=TokenVerifier(settings), relay=relay, consumer=consumer, extras=dict(spec.extras),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(_start_kafka(ctx), name="kafka-start")]
        tasks.append(asyncio.create_task(_after_kafka(ctx, relay.run_forever), name="outbox-relay"))
        if consumer is not None:
            # A consumer that rejoined a restarted, still empty Tansu holds no partitions and would
            # only look for its topics again after aiokafka's default 5 minutes.
            client_options = {**kafka_client_options(settings), "metadata_max_age_ms": CONSUMER_METADATA_MAX_AGE_MS}
            tasks.append(asyncio.create_task(
                _after_kafka(ctx, lambda: consumer.run_forever(client_options)), name="event-consumer"))
        from tovholder.access_log import audit_retention_job

        for job in (*spec.background, audit_retention_job):
            tasks.append(asyncio.create_task(_supervise(job, ctx), name=getattr(job, "__name__", "job")))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            # Bounded: a task that does not stop in time must not hang the shutdown.
            _, stuck = await asyncio.wait(tasks, timeout=10)
            for task in stuck:
                log.warning("background task %s did not stop within 10 s", task.get_name())
            with contextlib.suppress(Exception):
                await broker.stop()
            with contextlib.suppress(Exception):
                await producer.stop()
            await engine.dispose()

    app = FastAPI(title=spec.title, description=spec.description, lifespan=lifespan, version="1")
    app.state.ctx = ctx
    app.state.spec = spec
    _install_error_handlers(app)
    install_guards(app, settings, ctx.verifier)  # body cap, authentication before the body, NUL net, page headers
    _install_operational_routes(app, spec)
    from tovholder.access_log import router as access_log_router  # imports this module: late

    app.include_router(access_log_router)  # Min log: the same route in every service
    for router in spec.routers:
        # Every route documents the kit's error answers (a route's own ``responses`` take precedence).
        responses = fhir_error_responses() if router.prefix.startswith("/fhir/") \
            else scim_error_responses() if router.prefix.startswith("/scim/") \
            else error_responses(receipts=router.prefix.startswith("/integration/"))
        app.include_router(router, responses=responses)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="healthz,readyz,metrics")
    return app


def _subscribe(broker: KafkaBroker, settings: Settings, router: EventRouter, consumer: EventConsumer) -> None:
    """Describe what the service consumes in its AsyncAPI document. Documentation only: the kit's
    EventConsumer (batches, inbox, dead letters) consumes, so no framework parses a body first."""
    subscriber = broker.subscriber(
        *router.topics,
        group_id=consumer_group(settings.service),
        title=f"{consumer_group(settings.service)}",
        description="Handles: " + ", ".join(sorted(router.handlers)),
    )

    @subscriber
    async def on_event(message: KafkaMessage) -> None:  # never called: the broker is not started
        raise RuntimeError("documentation-only subscriber")


async def _start_kafka(ctx: ServiceContext) -> None:
    """Start the producer (the relay's and the dead letters'), trying while the broker is unreachable;
    then watch that the consumers hold partitions again after a broker change (tovholder.consumer_recovery)."""
    delay = 0.5
    while True:
        try:
            await ctx.producer.start()
            break
        except Exception as exc:
            log.warning("Kafka producer not started (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)
    ctx.kafka_started.set()
    if ctx.consumer is not None:
        await ConsumerRecovery(service=ctx.settings.service, consumers=lambda: kafka_consumers(ctx),
                               describe_broker=lambda topics: describe_broker(ctx.producer.client, topics)).run_forever()


async def _after_kafka(ctx: ServiceContext, job: Callable[[], Awaitable[None]]) -> None:
    await ctx.kafka_started.wait()
    await job()


async def _supervise(job: BackgroundJob, ctx: ServiceContext) -> None:
    """Keep a background job alive: log and restart it with backoff if it fails."""
    delay = 1.0
    while True:
        try:
            await job(ctx)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if cancel_requested():
                raise asyncio.CancelledError from exc
            name = getattr(job, "__name__", job)
            if is_infrastructure_error(exc):  # an outage, not a bug: no traceback
                log.warning("background job %s paused: %s (%s); restarting in %.0fs", name, type(exc).__name__,
                            str(exc)[:200], delay)
            else:
                log.exception("background job %s failed; restarting in %.0fs", name, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60)


def kafka_consumers(ctx: ServiceContext) -> list[Any]:
    """The aiokafka consumer behind the service's EventConsumer, while it runs."""
    return [ctx.consumer.kafka] if ctx.consumer is not None and ctx.consumer.kafka is not None else []


def get_ctx(request: Request) -> ServiceContext:
    return request.app.state.ctx


Ctx = Annotated[ServiceContext, Depends(get_ctx)]


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    async with request.app.state.ctx.uow() as uow:
        yield uow


UoW = Annotated[UnitOfWork, Depends(get_uow)]


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TovholderError)
    async def domain_error(request: Request, exc: TovholderError) -> JSONResponse:
        if exc.audited:
            await audit_refusal(request, exc)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        if exc.status_code == 503:
            headers = {"Retry-After": "5"}
        message = exc.en if request.url.path.startswith("/integration/") else exc.message  # partners read English
        return JSONResponse(error_body(exc.code, message), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Partners read English (Pydantic's words); staff and citizens read Danish (tovholder.validation).
        partner = request.url.path.startswith("/integration/")
        found = problems(exc.errors(), danish=not partner)
        reason = "; ".join(found)
        if partner:
            return JSONResponse(receipt_body(None, "fatal-error", reason), status_code=422)
        return JSONResponse(error_body("invalid-request", reason, errors=found), status_code=422)

    async def infrastructure_or_bug(request: Request, exc: Exception) -> JSONResponse:
        if is_infrastructure_error(exc):
            log.warning("dependency unavailable during %s %s: %s", request.method, request.url.path, type(exc).__name__)
            if request.url.path.startswith("/integration/"):  # partners read English
                message = "Tovholder cannot reach its database right now; nothing was changed. Try again in a moment."
                return JSONResponse(receipt_body(None, "transient-error", message), status_code=503, headers={"Retry-After": "5"})
            message = ("Tovholder cannot reach its database right now; nothing was changed. Try again in a moment."
                       if is_partner_path(request.url.path)
                       else "Tovholder kan ikke nå sin database lige nu; intet er ændret. Prøv igen om lidt.")
            return JSONResponse(error_body("unavailable", message), status_code=503, headers={"Retry-After": "5"})
        log.exception("unexpected error during %s %s", request.method, request.url.path)
        reference = current_trace_id() or "n/a"
        message = (f"Something went wrong on our side; nothing was changed. Reference: {reference}."
                   if is_partner_path(request.url.path)  # partners (v1, FHIR, SCIM) read English
                   else f"Der gik noget galt hos os; intet er ændret. Reference: {reference}.")
        return JSONResponse(error_body("internal-error", message), status_code=500)

    # Database/network failures are answered here (503), not by the catch-all below, which re-raises.
    for exc_class in (SQLAlchemyError, OSError, TimeoutError):
        app.add_exception_handler(exc_class, infrastructure_or_bug)
    app.add_exception_handler(Exception, infrastructure_or_bug)


async def audit_refusal(request: Request, exc: TovholderError) -> None:
    """An access refusal's audit entry, in a transaction of its own: the refused use case's
    transaction is rolled back, and the refusal must still be on record (``tovholder.access``)."""
    principal = request.scope.get(PRINCIPAL_SCOPE_KEY)
    if principal is None:
        return  # not authenticated: a 401, not a refusal of a known caller
    ctx: ServiceContext = request.app.state.ctx
    detail = {"method": request.method, "path": request.url.path, "status": exc.status_code, "code": exc.code}
    try:
        async with ctx.uow() as uow:
            action = exc.audit_action or f"{exc.object_type or 'access'}.refused"
            uow.audit(principal, action, citizen_id=exc.citizen_id,
                      object_type=exc.object_type, object_id=exc.object_id, detail=detail)
            await uow.commit()
    except (SQLAlchemyError, OSError, ValueError) as failure:  # the refusal is answered anyway
        log.warning("could not audit a refusal of %s %s: %s", request.method, request.url.path, type(failure).__name__)


def _install_operational_routes(app: FastAPI, spec: ServiceSpec) -> None:
    ops = APIRouter(tags=["operations"])

    @ops.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": spec.name}

    topics = service_topics(spec.name)

    @ops.get("/readyz")
    async def readyz(ctx: Ctx) -> JSONResponse:
        """Ready = the database answers and the broker has every topic this service uses. Each check
        has its own deadline and they run side by side, so a hanging dependency costs at most
        READY_CHECK_TIMEOUT_S, and the answer comes within a second."""

        async def database() -> str:
            async with ctx.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return "ok"

        async def kafka() -> str:
            if not ctx.kafka_started.is_set():
                return "connecting"
            problems = (await describe_broker(ctx.producer.client, topics, timeout=READY_CHECK_TIMEOUT_S)).unusable(topics)
            return "; ".join(f"topic {name} {why}" for name, why in problems.items()) or "ok"

        async def bounded(check: Callable[[], Awaitable[str]]) -> str:
            try:
                return await metrics.await_at_most(check(), READY_CHECK_TIMEOUT_S)
            except asyncio.TimeoutError:
                return f"unavailable (no answer within {READY_CHECK_TIMEOUT_S:.1f}s)"
            except Exception as exc:  # noqa: BLE001 - reported, not raised: this is the health answer
                return f"unavailable ({type(exc).__name__})"

        database_state, kafka_state = await asyncio.gather(bounded(database), bounded(kafka))
        checks = {"database": database_state, "kafka": kafka_state}
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                            status_code=200 if ready else 503)

    @ops.get("/metrics")
    async def prometheus_metrics(ctx: Ctx) -> Response:
        await metrics.refresh(spec.name, ctx.sessions, kafka_consumers(ctx))
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @ops.get("/asyncapi")
    async def asyncapi(ctx: Ctx) -> JSONResponse:
        document = AsyncAPI(ctx.broker, title=spec.title, version="1", schema_version="3.0.0").to_specification()
        return JSONResponse(document.to_jsonable())

    app.include_router(ops)
