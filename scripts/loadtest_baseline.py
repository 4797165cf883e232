"""The baselines the load test compares against (docs/benchmarks.md): a bare
Django project in one module, served by the same granian with the same
workers, threads and database pool as Madoguchi's listeners.

- ``GET /json``: a JSON answer, no database (the framework's floor).
- ``POST /insert``: one ``INSERT … RETURNING`` in one transaction on
  PostgreSQL (the floor of any operation that creates something).
"""

import os
import sys
from typing import Any

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS baseline_row ("
    "id bigserial PRIMARY KEY, reference varchar(40) NOT NULL, amount integer NOT NULL, "
    "created_at timestamptz NOT NULL DEFAULT now())"
)


def bare_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@csrf_exempt
def bare_insert(request: HttpRequest) -> JsonResponse:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO baseline_row (reference, amount) VALUES (%s, %s) RETURNING id",
            ["100000000001", 600],
        )
        (row_id,) = cursor.fetchone() or (0,)
    return JsonResponse({"id": row_id}, status=201)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [
    path("json", bare_json),
    path("insert", bare_insert),
    path("healthz", healthz),
    path("readyz", healthz),  # nothing to be ready for: no tasks, no migrations
]


def configure() -> None:
    from madoguchi.platform.conf import database_from_url

    pool_max = int(os.environ.get("MADOGUCHI_DB_POOL_MAX_SIZE", "8"))
    pool: dict[str, Any] | None = (
        {"min_size": min(2, pool_max), "max_size": pool_max, "timeout": 10.0} if pool_max else None
    )
    settings.configure(
        DEBUG=False,
        SECRET_KEY="baseline-only",  # noqa: S106 - serves no secret
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        DATABASES={"default": database_from_url(os.environ["BASELINE_DATABASE_URL"], pool=pool)},
        USE_TZ=True,
    )


if not settings.configured:
    configure()
application = get_wsgi_application()

if __name__ == "__main__" and sys.argv[1:] == ["create-table"]:
    with connection.cursor() as cursor:
        cursor.execute(TABLE_SQL)
