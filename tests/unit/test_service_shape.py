"""Every service has the shape they share (docs/ARCHITECTURE.md, issue 10): the same files, thin
routes with a response model each, no SQL outside the repository, arrows one way, a pure domain.
A newcomer who learned one service knows where everything is in the other three."""

from __future__ import annotations

import ast
import importlib
import types
import typing
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from contracts.topics import SERVICES

ROOT = Path(__file__).resolve().parents[2] / "services"
# Files that held SQL, rules or routes before the shape; they must not come back.
RETIRED = {"plans": ("store.py", "codec.py", "scheduler.py", "access.py"), "referrals": ("store.py",),
           "health": ("hospital.py", "partner_messages.py", "guard.py"),
           "notifications": ("service_layer.py", "workers.py", "integration.py", "config.py")}
SHAPE = ("domain", "models.py", "repository.py", "services.py", "schemas.py", "api.py", "handlers.py", "jobs.py",
         "main.py", "migrations")
# A file of the shape that has grown may become a package of the same name (``services/`` with one module
# per area and an ``__init__.py`` that re-exports what routes, handlers and jobs call).
MAY_BE_A_PACKAGE = ("repository.py", "services.py")


def has(folder: Path, name: str) -> bool:
    return (folder / name).exists() or (name in MAY_BE_A_PACKAGE and (folder / name.removesuffix(".py") / "__init__.py").exists())


def modules(folder: Path, name: str) -> list[Path]:
    """The file ``name`` of the shape, or every module of the package it has become."""
    if (folder / name).exists():
        return [folder / name]
    return sorted((folder / name.removesuffix(".py")).glob("*.py")) if name in MAY_BE_A_PACKAGE else []


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


per_service = pytest.mark.parametrize("service", SERVICES)


@per_service
def test_the_service_has_every_file_of_the_shape_and_none_of_the_old_ones(service):
    folder = ROOT / service
    assert [name for name in SHAPE if not has(folder, name)] == []
    assert [name for name in RETIRED[service] if (folder / name).exists()] == []


@per_service
def test_routes_hold_no_sql_and_nothing_imports_the_routes(service):
    folder = ROOT / service
    api = (folder / "api.py").read_text()
    assert "select(" not in api and not any(i.startswith("sqlalchemy") for i in imports(folder / "api.py"))
    for path in [*folder.glob("*.py"), *modules(folder, "services.py"), *modules(folder, "repository.py")]:
        if path.name not in ("api.py", "main.py"):  # the composition root wires the routes in
            assert f"services.{service}.api" not in imports(path), path.name
    for name in ("handlers.py", "jobs.py", "services.py", "pages.py"):
        for path in modules(folder, name):
            assert "select(" not in path.read_text(), path.relative_to(folder)


@per_service
def test_the_domain_does_no_io(service):
    folder = ROOT / service
    forbidden = ("sqlalchemy", "fastapi", "aiokafka", "faststream", "httpx", "asyncpg", "tovholder.uow",
                 "tovholder.settings", "tovholder.db", "tovholder.service", f"services.{service}.models",
                 f"services.{service}.repository", f"services.{service}.services", "os")
    for path in (folder / "domain").glob("*.py"):
        bad = {i for i in imports(path) if i.split(".")[0] in forbidden or any(i.startswith(f) for f in forbidden)}
        assert not bad, (path.name, bad)


@per_service
def test_every_route_declares_its_response_model(service):
    routers = importlib.import_module(f"services.{service}.api").routers

    routes = [r for router in routers for r in router.routes
              if isinstance(r, APIRoute) and r.path.startswith(("/api/", "/integration/", "/fhir/"))]
    assert routes

    def described(model) -> bool:  # a schema, a list of one, or a union of them (not a bare dict)
        if typing.get_origin(model) is list:
            return described(typing.get_args(model)[0])
        if typing.get_origin(model) in (typing.Union, types.UnionType):
            return all(described(arg) for arg in typing.get_args(model))
        return isinstance(model, type) and issubclass(model, BaseModel)

    assert [f"{sorted(r.methods)} {r.path}" for r in routes if not described(r.response_model)] == []


# Every domain error is one of the kit's errors, so the kit's exception handler is the one mapping to
# HTTP (no route class, context manager or helper in between): its status and stable code, per class.
DOMAIN_ERRORS = {
    "referrals": {"InvalidInput": (422, "rule-violation"), "StateConflict": (409, "conflict"),
                  "AccessDenied": (403, "forbidden")},
    "plans": {"PlanRuleViolation": (422, "rule-violation"), "UnknownCategory": (422, "rule-violation")},
    "health": {"HealthRuleViolation": (422, "rule-violation"), "NoticeInvalid": (422, "rule-violation"),
               "NoticeConflict": (409, "conflict")},
    "notifications": {"InvalidInput": (422, "rule-violation"), "NotAllowed": (403, "forbidden"),
                      "TransitionNotAllowed": (409, "conflict")},
}


@per_service
def test_domain_errors_are_the_kits_errors_with_their_status_and_code(service):
    from tovholder.errors import TovholderError

    module = importlib.import_module(f"services.{service}.domain.errors")
    classes = {name: value for name, value in vars(module).items()
               if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == module.__name__}
    assert all(issubclass(c, TovholderError) for c in classes.values()), classes
    answered = {name: (classes[name]("x").status_code, classes[name]("x").code) for name in DOMAIN_ERRORS[service]}
    assert answered == DOMAIN_ERRORS[service]
    api = ast.parse((ROOT / service / "api.py").read_text())
    assert [n.name for n in ast.walk(api) if isinstance(n, ast.ClassDef)
            and any(ast.unparse(base).endswith("APIRoute") for base in n.bases)] == []
