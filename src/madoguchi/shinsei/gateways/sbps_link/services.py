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
from .gateway import ITEM_ID, METHODS, SbpsLinkGateway, link_credentials
from .models import SbpsResult

logger = logging.getLogger(__name__)


def sbps_result_receive(*, agency: Agency, fields: dict[str, str], source: str) -> bool:
    """Verify a purchase result and record it once. A notification
    (``pagecon``) that reports success marks the application paid; the
    browser's copy only records the tracking id for the inquiry.

    Raises ``NotificationRejected`` (answered ``NG,``) when the result is not
    one SBPS could have sent for a payment of this agency. Returns False for
    a result already received (SBPS resends until it reads ``OK,``)."""
    try:
        result = link.purchase_result_verify(fields, link_credentials(agency))
    except link.InvalidResult as exc:
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
        if differs := echo_mismatches(result=result, application=application):
            raise NotificationRejected(f"not the purchase request Shinsei sent: {differs}")
        if result.succeeded:
            held = (
                SbpsResult.objects.filter(application=application, res_result=link.RESULT_OK)
                .order_by("id")
                .first()
            )
            if held is not None and (
                held.res_tracking_id != result.tracking_id or held.source == source
            ):
                # One sale per order: the same sale again (a resend, its copy
                # with another res_date) changes nothing; another sale of an
                # order SBPS calls paid is for staff to look at, never "the"
                # sale in its place.
                if held.res_tracking_id != result.tracking_id:
                    logger.error(
                        "SBPS reports a second sale %s for %s (held: %s)",
                        result.tracking_id,
                        application.reference,
                        held.res_tracking_id,
                    )
                    ApplicationEvent.objects.create(
                        application=application,
                        type="sbps_second_sale",
                        actor=SbpsLinkGateway.code,
                        detail={"tracking_id": result.tracking_id, "source": source},
                    )
                return False
        try:
            with transaction.atomic():
                SbpsResult.objects.create(
                    application=application,
                    source=source,
                    hashcode=result.hashcode,
                    order_id=result.order_id,
                    res_result=result.fields["res_result"],
                    res_pay_method=result.pay_method,
                    res_tracking_id=result.tracking_id,
                    res_payment_date=result.payment_date,
                    res_err_code=result.error_code,
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


def echo_mismatches(*, result: link.PurchaseResult, application: Application) -> str:
    """SBPS echoes the purchase request in its result: the fields Shinsei
    fills the same for every request must come back as sent."""
    sent = {
        "cust_code": application.reference,
        "item_id": ITEM_ID,
        "amount": str(application.fee_amount),
    }
    return ", ".join(name for name, value in sent.items() if result.fields[name] != value)
