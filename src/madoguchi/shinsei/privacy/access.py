"""開示請求 (access requests): everything Shinsei holds about one applicant,
as a ZIP with a readable summary, produced by an administrator and audited."""

import io
import json
import re
import zipfile
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from madoguchi.platform import display
from madoguchi.platform.audit.services import audit_record
from madoguchi.shinsei.applications.emails import SUBJECTS
from madoguchi.shinsei.applications.files import file_read
from madoguchi.shinsei.applications.forms import display_answers
from madoguchi.shinsei.applications.models import Application, CitizenMail
from madoguchi.shinsei.applications.selectors import application_history
from madoguchi.shinsei.staff.models import StaffAccount


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value.translate(str.maketrans("０１２３４５６７８９", "0123456789")))


def _matches(application: Application, *, email: str, phone: str) -> bool:
    answers = application.answers
    for question in application.questions:
        value = answers.get(str(question["name"]))
        if not isinstance(value, str) or not value:
            continue
        if email and question["type"] == "email" and value.strip().lower() == email:
            return True
        if phone and question["type"] == "tel" and _digits(value) == phone:
            return True
    return False


def applications_of_applicant(
    *, staff: StaffAccount, reference: str = "", email: str = "", phone: str = ""
) -> list[Application]:
    """The applications of the administrator's agency filed under this
    整理番号, or giving this e-mail address or telephone number. Answers are
    sealed, so an address search opens each application of the agency (a
    rare, audited operation: about 0.1 ms per application)."""
    scope = Application.objects.filter(
        procedure__department__agency_id=staff.department.agency_id, anonymised_at__isnull=True
    ).select_related("procedure__department", "form_version")
    if reference:
        return list(scope.filter(reference=reference.strip()))
    email = email.strip().lower()
    phone = _digits(phone)
    if not email and not phone:
        return []
    return [
        a
        for a in scope.order_by("id").iterator(chunk_size=500)
        if _matches(a, email=email, phone=phone)
    ]


def _when(moment: Any) -> str:
    return display.moment(moment)


def access_export(
    *,
    staff: StaffAccount,
    applications: list[Application],
    criteria: str,
    request: HttpRequest | None = None,
) -> bytes:
    """The ZIP: ``summary.txt`` to read, and per application its answers,
    files, history, e-mails sent and internal notes."""
    buffer = io.BytesIO()
    summary = [
        "保有個人情報の開示（電子申請・届出システム）",
        f"作成日時: {_when(timezone.now())}",
        f"作成者: {staff.account_key}",
        f"検索条件: {criteria}",
        f"該当する申請: {len(applications)}件",
        "",
    ]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for application in applications:
            folder = application.reference
            rows = display_answers(application.questions, application.answers)
            files = list(application.files.order_by("created_at"))
            events = list(application.events.all())
            history = application_history(application=application, events=events)
            mails = list(application.mails.order_by("created_at", "id"))
            notes = list(application.notes.select_related("author"))
            summary += [
                f"■ 整理番号 {application.reference}　{application.procedure.name}",
                f"  状態: {application.get_status_display()}　申請日時: "
                f"{_when(application.submitted_at)}",
                f"  手数料等: {application.fee_amount or 0:,}円　決済状況: "
                f"{application.get_payment_status_display()}",
                "  回答:",
                *[f"    {label}: {value}" for _, label, value in rows],
                "  添付ファイル:",
                *[f"    {f.original_name}（{f.size}バイト）" for f in files],
                "  経過:",
                # By label, as the staff history reads; staff names stay out.
                *[
                    f"    {_when(item.at)} {item.what}"
                    + (f"：{item.reason}" if item.reason else "")
                    for item in history
                ],
                "  送信したメール:",
                *[f"    {_when(m.sent_at or m.created_at)} {_subject(m)}" for m in mails],
                f"  内部メモ: {len(notes)}件（notes.json）",
                "",
            ]
            dump = {"reference": application.reference, "answers": application.answers}
            archive.writestr(f"{folder}/answers.json", _json(dump))
            for number, stored in enumerate(files, 1):
                archive.writestr(
                    f"{folder}/files/{number}-{stored.original_name}", file_read(stored)
                )
            archive.writestr(
                f"{folder}/history.json",
                _json(
                    [
                        {"at": _when(e.at), "type": e.type, "label": item.what, "detail": e.detail}
                        for e, item in zip(events, history, strict=True)
                    ]
                ),
            )
            archive.writestr(
                f"{folder}/emails.json",
                _json(
                    [
                        {
                            "kind": m.kind,
                            "subject": _subject(m),
                            "created_at": _when(m.created_at),
                            "sent_at": _when(m.sent_at),
                        }
                        for m in mails
                    ]
                ),
            )
            archive.writestr(
                f"{folder}/notes.json",
                _json(
                    [
                        {"at": _when(n.created_at), "author": n.author.display_name, "body": n.body}
                        for n in notes
                    ]
                ),
            )
        archive.writestr("summary.txt", "\n".join(summary) + "\n")
    with transaction.atomic():
        audit_record(
            actor=staff.account_key,
            event="privacy.access_request",
            request=request,
            resource="applications",
            detail={"references": [a.reference for a in applications]},
        )
    return buffer.getvalue()


def _subject(mail: CitizenMail) -> str:
    return f"【{mail.application.procedure.name}】{SUBJECTS[CitizenMail.Kind(mail.kind)]}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
