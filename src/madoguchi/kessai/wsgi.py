import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.kessai.settings")
application = get_wsgi_application()

from madoguchi.platform.production import refuse_unsafe_start  # noqa: E402 - needs apps loaded

refuse_unsafe_start()
