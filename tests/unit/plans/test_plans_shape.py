"""The plans service has the shape every service shares (docs/ARCHITECTURE.md, issue 10): the same
files, thin routes with a response model each, no SQL outside the repository, arrows one way."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

from fastapi.routing import APIRoute
from pydantic import BaseModel

SERVICE = Path(__file__).resolve().parents[3] / "services" / "plans"
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


def test_the_service_has_every_file_of_the_shape_and_none_of_the_old_ones():
    assert all((SERVICE / name).exists() for name in SHAPE)
    assert not any((SERVICE / name).exists() for name in ("store.py", "codec.py", "scheduler.py", "access.py"))


def test_routes_hold_no_sql_and_nothing_imports_the_routes():
    api = (SERVICE / "api.py").read_text()
    assert "select(" not in api and not any(i.startswith("sqlalchemy") for i in imports(SERVICE / "api.py"))
    for name in ("services.py", "repository.py", "handlers.py", "jobs.py", "schemas.py"):
        assert "services.plans.api" not in imports(SERVICE / name), name
    for name in ("handlers.py", "jobs.py", "services.py"):
        assert "select(" not in (SERVICE / name).read_text(), name


def test_the_domain_does_no_io():
    forbidden = ("sqlalchemy", "fastapi", "aiokafka", "faststream", "httpx", "tovholder.uow", "tovholder.settings",
                 "tovholder.db", "services.plans.models", "services.plans.repository", "os")
    for path in (SERVICE / "domain").glob("*.py"):
        bad = {i for i in imports(path) if i.split(".")[0] in forbidden or any(i.startswith(f) for f in forbidden)}
        assert not bad, (path.name, bad)


def test_every_route_declares_its_response_model():
    from services.plans.api import routers

    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    assert routes

    def described(model) -> bool:  # a schema, or a list of one (a bare dict annotation does not count)
        inner = typing.get_args(model)[0] if typing.get_origin(model) is list else model
        return isinstance(inner, type) and issubclass(inner, BaseModel)

    assert [f"{sorted(r.methods)} {r.path}" for r in routes if not described(r.response_model)] == []
