from django.apps import AppConfig


class StatisticsConfig(AppConfig):
    name = "madoguchi.kessai.statistics"
    label = "kessai_statistics"
    verbose_name = "統計"
    default_auto_field = "django.db.models.BigAutoField"
