"""Emails to citizens, through Django's email backend (files under
var/mail with ``madoguchi up``; SMTP in production; locmem in tests)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

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
    CitizenMail.Kind.SUBMITTED: "申請を受け付けました",
    CitizenMail.Kind.ACCEPTED: "申請を受理しました",
    CitizenMail.Kind.PAID: "手数料のお支払いを確認しました",
    CitizenMail.Kind.RETURNED: "申請が差し戻されました",
    CitizenMail.Kind.REJECTED: "申請が却下されました",
    CitizenMail.Kind.COMPLETED: "申請の処理が完了しました",
}


def citizen_mail_send(*, mail_id: int) -> bool:
    """Send one queued email; True if sent now. A row already sent is left
    alone, so a retried task never mails twice after a success."""
    with transaction.atomic():
        mail = (
            CitizenMail.objects.select_for_update(of=("self",))
            .select_related("application__procedure__department", "application__form_version")
            .filter(pk=mail_id, sent_at__isnull=True)
            .first()
        )
        if mail is None:
            return False
        application = mail.application
        if not application.applicant_email:
            # No address given: nothing to send, and nothing to retry.
            CitizenMail.objects.filter(pk=mail.pk).update(sent_at=timezone.now())
            return False
        base = settings.SHINSEI_PUBLIC_URL.rstrip("/")
        body = render_to_string(
            f"shinsei/mail/{mail.kind}.txt",
            {
                "application": application,
                "inquiry_url": f"{base}/inquiry",
                "status_url": f"{base}/applications/{application.reference}/",
                "privacy_url": privacy_notice_url(application),
            },
        )
        message = EmailMessage(
            subject=f"【{application.procedure.name}】{SUBJECTS[CitizenMail.Kind(mail.kind)]}",
            body=body,
            from_email=settings.SHINSEI_MAIL_FROM,
            to=[application.applicant_email],
        )
        message.send()
        CitizenMail.objects.filter(pk=mail.pk).update(sent_at=timezone.now())
    return True
