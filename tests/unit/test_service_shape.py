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
    assert [name for name in SHAPE if not (folder / name).exists()] == []
    assert [name for name in RETIRED[service] if (folder / name).exists()] == []


@per_service
def test_routes_hold_no_sql_and_nothing_imports_the_routes(service):
    folder = ROOT / service
    api = (folder / "api.py").read_text()
    assert "select(" not in api and not any(i.startswith("sqlalchemy") for i in imports(folder / "api.py"))
    for path in folder.glob("*.py"):
        if path.name not in ("api.py", "main.py"):  # the composition root wires the routes in
            assert f"services.{service}.api" not in imports(path), path.name
    for name in ("handlers.py", "jobs.py", "services.py", "pages.py"):
        if (folder / name).exists():
            assert "select(" not in (folder / name).read_text(), name


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
