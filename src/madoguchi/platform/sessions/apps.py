from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "madoguchi.platform.sessions"
    label = "platform_sessions"
    default_auto_field = "django.db.models.BigAutoField"
