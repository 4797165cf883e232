from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "madoguchi.kessai.history"
    label = "kessai_history"
    verbose_name = "契約終了と決済履歴の保存"
    default_auto_field = "django.db.models.BigAutoField"
