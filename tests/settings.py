"""Combined test settings, for the cross-service journeys in tests/integration
(and the other trees outside tests/kessai and tests/shinsei): one process
serves every listener of both services, routed by Host header, over one test
database. Shinsei's settings win where the two differ (middleware, CSP,
cookie names); Kessai's own configuration is tested by tests/kessai under
``settings_kessai``. The services still never import each other
(import-linter checks that) and talk only through HTTP: their calls go
through ``InProcessTransport``, which hands the request to the Django handler
for the target host. The end-to-end tests run the real separate processes.
"""

from tests import settings_kessai as _kessai
from tests import settings_shinsei as _shinsei
from tests.settings_kessai import *  # noqa: F403
from tests.settings_shinsei import *  # noqa: F403

INSTALLED_APPS = list(dict.fromkeys(_shinsei.INSTALLED_APPS + _kessai.INSTALLED_APPS))
MADOGUCHI_SURFACES = {**_shinsei.MADOGUCHI_SURFACES, **_kessai.MADOGUCHI_SURFACES}
MADOGUCHI_SURFACE_HOSTS = {**_shinsei.MADOGUCHI_SURFACE_HOSTS, **_kessai.MADOGUCHI_SURFACE_HOSTS}
ALLOWED_HOSTS = list(MADOGUCHI_SURFACE_HOSTS)
# One process, two user models: Django's AUTH_USER_MODEL can name only one
# (Shinsei's here), but sessions find their account through the backend they
# were made with, so both listeners' logins work (tests/kessai has Kessai's).
AUTHENTICATION_BACKENDS = [*_shinsei.AUTHENTICATION_BACKENDS, *_kessai.AUTHENTICATION_BACKENDS]
MADOGUCHI_PERIODIC = _shinsei.MADOGUCHI_PERIODIC + _kessai.MADOGUCHI_PERIODIC
MADOGUCHI_METRICS_COLLECTORS = (
    _shinsei.MADOGUCHI_METRICS_COLLECTORS + _kessai.MADOGUCHI_METRICS_COLLECTORS
)
