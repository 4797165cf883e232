"""Emails to citizens, through Django's email backend (files under
var/mail with ``madoguchi up``; SMTP in production; locmem in tests)."""

import functools
from typing import Any, cast

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.db import connection, transaction
from django.db.models import Model
from django.template.loader import select_template
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from madoguchi.shinsei.procedures.models import Department, FormVersion, Procedure

from .models import Application, CitizenMail


def mail_spool_mark(mail_id: int) -> str:
    """The end of a citizen mail's Message-ID (platform/private_files.py)."""
    return f"shinsei-mail-{mail_id}"


def privacy_notice_url(application: Application) -> str:
    """The notice the citizen was shown: the one kept with the form version."""
    base = settings.SHINSEI_PUBLIC_URL.rstrip("/")
    slug = application.procedure.slug
    version = application.form_version
    if version is None:
        return f"{base}/procedures/{slug}/privacy"
    return f"{base}/procedures/{slug}/privacy/{version.number}"


SUBJECTS = {
    CitizenMail.Kind.SUBMITTED: gettext_noop("申請を受け付けました"),
    CitizenMail.Kind.ACCEPTED: gettext_noop("申請を受理しました"),
    CitizenMail.Kind.PAID: gettext_noop("手数料のお支払いを確認しました"),
    CitizenMail.Kind.RETURNED: gettext_noop("申請が差し戻されました"),
    CitizenMail.Kind.REJECTED: gettext_noop("申請が却下されました"),
    CitizenMail.Kind.COMPLETED: gettext_noop("申請の処理が完了しました"),
    CitizenMail.Kind.REFUNDED: gettext_noop("手数料を返金しました"),
}


# The mail row and what its email reads (``citizen_mail_send`` and the mail
# templates) of the application, its procedure, department and form version:
# (model, alias in the SQL, fields). A field left out would still load, by a
# query of its own (the query-count test would fail): add it here.
_MAIL_ROW: tuple[tuple[type[Model], str, tuple[str, ...]], ...] = (
    (CitizenMail, "m", ("id", "application", "kind")),
    (
        Application,
        "a",
        (
            "id",
            "procedure",
            "form_version",
            "reference",
            "language",
            "data_key",
            "answers_sealed",
            "status",
            "reason",
            "fee_amount",
            "payment_status",
            "payment_due_at",
            "paid_at",
            "refunded_amount",
        ),
    ),
    (Procedure, "p", ("id", "department", "name", "slug", "form_fields")),
    (Department, "d", ("id", "name")),
    (FormVersion, "v", ("id", "number", "questions")),
)


def _fields(model: type[Model], names: tuple[str, ...]) -> list[Any]:
    """The fields named, in the model's own order (``Model.from_db`` takes
    values in that order)."""
    wanted = {model._meta.get_field(name) for name in names}
    return [field for field in model._meta.concrete_fields if field in wanted]


@functools.cache
def _mail_row_sql(vendor: str) -> str:
    """The one SELECT of ``_MAIL_ROW``, written once per process: compiling
    it through the ORM (four models joined) was a fifth of the mail task's CPU."""
    quote = connection.ops.quote_name
    columns = ", ".join(
        f"{alias}.{quote(field.column)}"
        for model, alias, names in _MAIL_ROW
        for field in _fields(model, names)
    )

    def table(model: type[Model], alias: str) -> str:
        return f"{quote(model._meta.db_table)} {alias}"

    sql = (
        f"SELECT {columns} FROM {table(CitizenMail, 'm')} "  # noqa: S608 - our own names
        f"JOIN {table(Application, 'a')} ON a.{quote('id')} = m.{quote('application_id')} "
        f"JOIN {table(Procedure, 'p')} ON p.{quote('id')} = a.{quote('procedure_id')} "
        f"JOIN {table(Department, 'd')} ON d.{quote('id')} = p.{quote('department_id')} "
        f"LEFT JOIN {table(FormVersion, 'v')} ON v.{quote('id')} = a.{quote('form_version_id')} "
        f"WHERE m.{quote('id')} = %s AND m.{quote('sent_at')} IS NULL"
    )
    # The lock on the mail row alone (SQLite serialises writers instead).
    if vendor == "postgresql":
        sql += " FOR UPDATE OF m"
    return sql


def _instance[M: Model](model: type[M], names: tuple[str, ...], values: list[Any]) -> M:
    """A model instance from raw column values, converted as the ORM converts them."""
    fields = _fields(model, names)
    converted = []
    for field, value in zip(fields, values, strict=True):
        col = field.get_col(model._meta.db_table)
        for converter in connection.ops.get_db_converters(col) + col.get_db_converters(connection):
            value = converter(value, col, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


def _mail_locked(mail_id: int) -> CitizenMail | None:
    """The unsent mail row, locked, with its application, procedure,
    department and form version holding what the email needs."""
    with connection.cursor() as cursor:
        cursor.execute(_mail_row_sql(connection.vendor), [mail_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(row)
    mail, application, procedure, department, version = (
        _instance(model, names, [next(values) for _ in _fields(model, names)])
        for model, _, names in _MAIL_ROW
    )
    # The relations as select_related sets them: reading them costs no query.
    _related(mail, "application", application)
    _related(application, "procedure", procedure)
    _related(application, "form_version", version if version.pk is not None else None)
    _related(procedure, "department", department)
    return cast(CitizenMail, mail)  # the first part of the row


def _related(instance: Model, name: str, value: Model | None) -> None:
    field: Any = instance._meta.get_field(name)
    field.set_cached_value(instance, value)


def citizen_mail_send(*, mail_id: int) -> bool:
    """Send one queued email; True if sent now. A row already sent is left
    alone, so a retried task never mails twice after a success."""
    with transaction.atomic():
        # The lock (on the mail row alone) is what makes two runs of the task
        # send once: the second waits, then finds ``sent_at`` set.
        mail = _mail_locked(mail_id)
        if mail is None:
            return False
        application = mail.application
        if not application.applicant_email:
            # No address given: nothing to send, and nothing to retry.
            CitizenMail.objects.filter(pk=mail.pk).update(sent_at=timezone.now())
            return False
        base = settings.SHINSEI_PUBLIC_URL.rstrip("/")
        kind = CitizenMail.Kind(mail.kind)
        last_refund = (
            application.refund_requests.filter(status="succeeded").last()
            if kind == CitizenMail.Kind.REFUNDED
            else None
        )
        # In the language the citizen applied in (links open in it too); a
        # kind may have a whole template per language (mail/en/…) instead of
        # translated strings.
        with translation.override(application.language or "ja"):
            lang = f"?lang={application.language}" if application.language == "en" else ""
            template = select_template(
                [f"shinsei/mail/{application.language}/{kind}.txt", f"shinsei/mail/{kind}.txt"]
            )
            body = template.render(
                {
                    "refund": last_refund,
                    "application": application,
                    "inquiry_url": f"{base}/inquiry{lang}",
                    "status_url": f"{base}/applications/{application.reference}/{lang}",
                    "payment_url": f"{base}/applications/{application.reference}/payment{lang}",
                    "privacy_url": privacy_notice_url(application),
                },
            )
            subject = gettext(SUBJECTS[kind])
        message = EmailMessage(
            subject=f"【{application.procedure.name}】{subject}",
            body=body,
            from_email=settings.SHINSEI_MAIL_FROM,
            to=[application.applicant_email],
            # The mark lets retention find the file spool's copy again.
            headers={
                "Message-ID": make_msgid(
                    idstring=mail_spool_mark(mail.pk),
                    domain=settings.SHINSEI_MAIL_FROM.rpartition("@")[2] or None,
                )
            },
        )
        message.send()
        CitizenMail.objects.filter(pk=mail.pk).update(sent_at=timezone.now())
    return True
