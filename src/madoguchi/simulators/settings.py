"""Settings for the simulators process (no database: state is in memory)."""

from madoguchi.platform.conf import env, logging_config

DEBUG = False
SECRET_KEY = env("SIMULATORS_SECRET_KEY", "simulators-have-no-secrets-to-protect")
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "madoguchi.simulators.urls"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
LOGGING = logging_config()
ACQUIRER_API_KEY = env("KESSAI_ACQUIRER_KEY", "acq_test_madoguchi")
