"""SBPS's purchase results: verified, deduplicated, applied monotonically
through the same ``payment_status_apply`` as every gateway."""

import logging

from django.db import IntegrityError, transaction

from madoguchi.contract.schemas import PaymentStatus
from madoguchi.sbps import link
from madoguchi.shinsei.applications.models import Application, ApplicationEvent
from madoguchi.shinsei.applications.services import NotificationRejected, payment_status_apply
from madoguchi.shinsei.procedures.models import Agency

from ..base import GatewayPayment
from .gateway import METHODS, SbpsLinkGateway, link_credentials
from .models import SbpsResult

logger = logging.getLogger(__name__)


def sbps_result_receive(*, agency: Agency, fields: dict[str, str], source: str) -> bool:
    """Verify a purchase result and record it once. A notification
    (``pagecon``) that reports success marks the application paid; the
    browser's copy only records the tracking id for the inquiry.

    Raises ``NotificationRejected`` (answered ``NG,``) when the hash does not
    verify or the result names no payment of this agency. Returns False for
    a result already received."""
    try:
        result = link.purchase_result_verify(fields, link_credentials(agency))
    except link.InvalidHashcode as exc:
        raise NotificationRejected(str(exc)) from exc
    with transaction.atomic():
        application = (
            Application.objects.select_for_update()
            .filter(
                reference=result.order_id,
                procedure__department__agency=agency,
                payment_gateway=SbpsLinkGateway.code,
            )
            .first()
        )
        if application is None:
            raise NotificationRejected("unknown order_id")
        if result.amount != application.fee_amount:
            raise NotificationRejected("amount differs from the fee")
        try:
            with transaction.atomic():
                SbpsResult.objects.create(
                    application=application,
                    source=source,
                    hashcode=result.hashcode,
                    order_id=result.order_id,
                    res_result=result.fields.get("res_result", "")[:2],
                    res_pay_method=result.pay_method[:20],
                    res_tracking_id=result.tracking_id[:40],
                    res_payment_date=result.payment_date,
                    res_err_code=result.error_code[:8],
                )
        except IntegrityError:
            return False  # resent: SBPS delivers until it reads OK,
        if source != SbpsResult.Source.PAGECON:
            return True
        if not result.succeeded:
            # The citizen may try again on SBPS's page: nothing changes here.
            ApplicationEvent.objects.create(
                application=application,
                type="payment_declined",
                actor=SbpsLinkGateway.code,
                detail={"code": result.error_code},
            )
            return True
        payment_status_apply(
            application=application,
            payment=GatewayPayment(
                id=result.order_id,
                reference=application.reference,
                status=PaymentStatus.SUCCEEDED,
                method=METHODS.get(result.pay_method, ""),
                paid_at=result.payment_date,
            ),
        )
    return True
