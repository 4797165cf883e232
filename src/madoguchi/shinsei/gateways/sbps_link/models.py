from django.db import models

from madoguchi.shinsei.applications.models import Application


class SbpsResult(models.Model):
    """A purchase result from SBPS whose hash verified: the 購入結果通知
    (``pagecon``, server to server) or the copy the browser brings back.

    Deduplication: SBPS resends a notification until it is answered ``OK,``;
    the same result from the same source is one row (its hash is unique per
    content). Holds SBPS's ids and outcome only, no personal data."""

    class Source(models.TextChoices):
        PAGECON = "pagecon", "購入結果通知"
        RETURN = "return", "ブラウザの戻り"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=8, choices=Source.choices)
    hashcode = models.CharField(max_length=40)
    order_id = models.CharField(max_length=38)
    res_result = models.CharField(max_length=2)
    res_pay_method = models.CharField(max_length=20, blank=True)
    res_tracking_id = models.CharField(max_length=40, blank=True)
    res_payment_date = models.DateTimeField(null=True, blank=True)
    res_err_code = models.CharField(max_length=8, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "shinsei_sbps_result"
        constraints = [
            models.UniqueConstraint(fields=["source", "hashcode"], name="shinsei_sbps_result_once")
        ]
