"""An application's status moves only through one declared table
(``models.STATUS_TRANSITIONS``) and one writer
(``services.application_status_move``): every allowed move works, every other
is refused, and no other code in Shinsei writes ``status``."""

import ast
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from madoguchi.shinsei.applications import services
from madoguchi.shinsei.applications.models import STATUS_TRANSITIONS, Application
from madoguchi.shinsei.staff.models import StaffAccount
from tests.support.journey import submit_application

Status = Application.Status
SHINSEI = Path(services.__file__).resolve().parents[1]


def _in(application: Application, status: str) -> Application:
    """Put the application in ``status`` (the test's own shortcut)."""
    Application.objects.filter(pk=application.pk).update(status=status)
    application.refresh_from_db()
    return application


def test_the_table_names_every_status_and_reaches_every_state() -> None:
    targets = {target for target, _ in STATUS_TRANSITIONS.values()}
    sources = {s for _, allowed in STATUS_TRANSITIONS.values() for s in allowed}
    assert targets | sources == set(Status.values)
    # The ends are ends: nothing moves an application out of them.
    assert sources.isdisjoint({Status.WITHDRAWN, Status.REJECTED, Status.COMPLETED})


def test_every_allowed_move_works_and_every_other_is_refused(
    demo: dict[str, Any], citizen: Client
) -> None:
    application, _ = submit_application(citizen)
    for action, (target, allowed_from) in STATUS_TRANSITIONS.items():
        for status in Status.values:
            _in(application, status)

            moved = services.application_status_move(application=application, action=action)

            application.refresh_from_db()
            if status in allowed_from:
                assert moved, (action, status)
                assert application.status == target, (action, status)
            else:
                assert not moved, (action, status)
                assert application.status == status, (action, status)


def test_a_condition_beside_the_status_must_hold_too(demo: dict[str, Any], citizen: Client) -> None:
    application = _in(submit_application(citizen)[0], Status.ACCEPTED)
    assert application.payment_status == "not_yet"

    moved = services.application_status_move(
        application=application, action="complete", where={"payment_status": "paid"}
    )

    assert not moved
    application.refresh_from_db()
    assert application.status == Status.ACCEPTED


def _act(action: str, application: Application, staff: StaffAccount) -> Application:
    """The service behind each action, as staff or the citizen call it."""
    service = getattr(services, f"application_{action}")
    if action == "withdraw":
        return service(application=application)  # type: ignore[no-any-return]
    if action == "resubmit":
        return service(application=application, answers={})  # type: ignore[no-any-return]
    if action in ("return", "reject"):
        return service(application=application, staff=staff, reason="x")  # type: ignore[no-any-return]
    return service(application=application, staff=staff)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.ACCEPTED, "withdraw"),
        (Status.WITHDRAWN, "accept"),
        (Status.SUBMITTED, "complete"),
        (Status.SUBMITTED, "resubmit"),
        (Status.REJECTED, "return"),
        (Status.COMPLETED, "reject"),
    ],
)
def test_services_refuse_a_move_the_table_does_not_allow(
    demo: dict[str, Any], citizen: Client, status: str, action: str
) -> None:
    application = _in(submit_application(citizen)[0], status)
    staff = StaffAccount.objects.get(login_id="staff-shimin")

    with pytest.raises(services.InvalidTransition):
        _act(action, application, staff)

    application.refresh_from_db()
    assert application.status == status


# Where ``status`` may be written: the application's one writer, and the
# refund request's own (a different aggregate with its own table).
WRITERS = {("applications/services.py", "application_status_move"),
           ("applications/refunds.py", "_refund_move")}  # fmt: skip
WRITING_CALLS = {"update", "create", "get_or_create", "update_or_create", "bulk_create"}


def _status_writes(path: Path) -> list[tuple[int, str]]:
    """(line, enclosing function) of every write of a ``status`` field: a
    ``status=`` keyword in a model write or a model constructor, a
    ``"status"`` key in a dict literal (spread into one), ``x.status = …``,
    and ``bulk_update(…, ["status"])``."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if isinstance(node, ast.Call):
            name = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            keywords = {k.arg for k in node.keywords}
            if "status" in keywords and (name in WRITING_CALLS or name == "Application"):
                found.append((node.lineno, function))
            if name == "bulk_update" and "'status'" in ast.unparse(node).replace('"', "'"):
                found.append((node.lineno, function))
        if isinstance(node, ast.Dict) and any(
            isinstance(k, ast.Constant) and k.value == "status" for k in node.keys
        ):
            found.append((node.lineno, function))
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets):
                found.append((node.lineno, function))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(path.read_text(), str(path)), "")
    return found


def test_no_code_writes_status_outside_its_writer() -> None:
    sources = [p for p in SHINSEI.rglob("*.py") if "migrations" not in p.parts]
    assert len(sources) > 20
    stray = [
        f"{path.relative_to(SHINSEI)}:{line} in {function or '<module>'}"
        for path in sources
        for line, function in _status_writes(path)
        if (str(path.relative_to(SHINSEI)), function) not in WRITERS
    ]
    assert stray == []


def test_the_status_scan_finds_a_write(tmp_path: Path) -> None:
    """The scan is not blind: an update, a constructor, a dict and an
    assignment are each found."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(a):\n"
        "    Application.objects.filter(pk=1).update(status='accepted')\n"
        "    Application(status='accepted')\n"
        "    fields = {'status': 'accepted'}\n"
        "    a.status = 'accepted'\n"
    )
    assert [line for line, _ in _status_writes(sample)] == [2, 3, 4, 5]
