"""Every audit call in services/ and the kit, read from the code (not a hand list that can drift): the
action it audits and whether the entry names a citizen. Used by the unit test that every action has a
Danish category (tests/unit/kit/test_access_log.py) and by the integration test that every kind of
entry about a citizen reaches that citizen's Min log (tests/integration/contract/test_min_log_complete.py)."""

from __future__ import annotations

import ast
import pathlib
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class AuditCall:
    action: str  # the literal action, or for an f-string its literal start ("task." of f"task.{action}")
    about_a_citizen: bool
    where: str  # path:line

    @property
    def key(self) -> str:
        """The part of the action ``tovholder.access_log.CATEGORIES`` is keyed by."""
        return self.action.split(".", 1)[0]


def _action(node: ast.Call) -> str | None:
    for arg in node.args[:3]:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and "." in arg.value and " " not in arg.value:
            return arg.value
        if isinstance(arg, ast.IfExp):  # "referral.add" if added else "referral.create"
            for branch in (arg.body, arg.orelse):
                if isinstance(branch, ast.Constant) and isinstance(branch.value, str) and "." in branch.value:
                    return branch.value
        if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
            start = str(arg.values[0].value)
            if "." in start and " " not in start:
                return start
    return None


def _about_a_citizen(node: ast.Call, name: str) -> bool:
    """The entry names a citizen: ``citizen_id=`` given (and not None); ``audit_many`` (one entry per
    citizen shown); or a service's helper taking the unit of work and the citizen's scope first
    (plans' ``audit(uow, scope, …)``)."""
    if name == "audit_many":
        return True
    for kw in node.keywords:
        if kw.arg == "citizen_id":
            return not (isinstance(kw.value, ast.Constant) and kw.value.value is None)
    first = node.args[0] if node.args else None
    return isinstance(first, ast.Name) and first.id == "uow" and len(node.args) >= 3


def audit_calls() -> list[AuditCall]:
    found: list[AuditCall] = []
    for path in sorted([*ROOT.glob("services/*/**/*.py"), *ROOT.glob("tovholder/*.py")]):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if "audit" not in name:
                continue
            action = _action(node)
            if action is not None:
                found.append(AuditCall(action, _about_a_citizen(node, name), f"{path.relative_to(ROOT)}:{node.lineno}"))
    return found
