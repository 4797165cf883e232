"""Emails to citizens, through Django's email backend (files under
var/mail with ``madoguchi up``; SMTP in production; locmem in tests)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import select_template
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from .models import Application, CitizenMail


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


# What ``citizen_mail_send`` and the mail templates read (a column left out
# would still load, by a query of its own: add it here).
MAIL_COLUMNS = (
    "kind",
    "application__procedure__name",
    "application__procedure__slug",
    "application__procedure__form_fields",
    "application__procedure__department__name",
    "application__form_version__number",
    "application__form_version__questions",
    "application__reference",
    "application__language",
    "application__data_key",
    "application__answers_sealed",
    "application__status",
    "application__reason",
    "application__fee_amount",
    "application__payment_status",
    "application__payment_due_at",
    "application__paid_at",
    "application__refunded_amount",
)


def citizen_mail_send(*, mail_id: int) -> bool:
    """Send one queued email; True if sent now. A row already sent is left
    alone, so a retried task never mails twice after a success."""
    with transaction.atomic():
        # Only the columns the email needs: compiling the SELECT of every
        # column of four models was a fifth of this task's CPU. No ORDER BY
        # either (``first()`` adds one): the primary key finds one row or none.
        # The lock (on the mail row alone) is what makes two runs of the task
        # send once: the second waits, then finds ``sent_at`` set.
        mail = next(
            iter(
                CitizenMail.objects.select_for_update(of=("self",))
                .select_related("application__procedure__department", "application__form_version")
                .only(*MAIL_COLUMNS)
                .filter(pk=mail_id, sent_at__isnull=True)
            ),
            None,
        )
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
        )
        message.send()
        CitizenMail.objects.filter(pk=mail.pk).update(sent_at=timezone.now())
    return True
