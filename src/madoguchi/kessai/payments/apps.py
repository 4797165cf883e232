from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "madoguchi.kessai.payments"
    label = "kessai_payments"
    verbose_name = "決済"
    default_auto_field = "django.db.models.BigAutoField"
