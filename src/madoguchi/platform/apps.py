from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "madoguchi.platform"
    label = "madoguchi_platform"
    verbose_name = "Platform"
