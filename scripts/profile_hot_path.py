"""CPU milliseconds per hot operation, in one process against PostgreSQL
(issue #10; docs/benchmarks.md).

    uv run python scripts/profile_hot_path.py                   # 300 of each
    uv run python scripts/profile_hot_path.py --ops 1000 --warmup 100
    uv run python scripts/profile_hot_path.py --cprofile "create payment"

On two shared cores throughput follows CPU per request, and CPU per request
(``time.process_time()``, this process only) does not depend on what else the
machine is doing, so two runs minutes apart compare. Each service runs in its
own process under its test settings (its real middleware, views, services
and PostgreSQL through Django's test client; no WSGI server, no network):
fresh databases ``<prefix>_kessai`` and ``<prefix>_shinsei`` are created,
migrated, seeded as ``madoguchi up`` seeds them and dropped at the end.
Outbound HTTP answers at once in process (``InstantTransport``): the card
acquirer captures, a merchant's notification endpoint answers 200, so only
our own side of a call is counted. Only the operation itself is timed; what
it needs (a payment to pay, a filled-in form) is made before the clock runs.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"

ACQUIRER_HOST = "acquirer.test"


class InstantTransport(httpx.BaseTransport):
    """The other side of every outbound call, answering at once: the acquirer
    captures (as its simulator does for a good test card), anything else 200."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == ACQUIRER_HOST and request.method == "POST":
            number = str(json.loads(request.read())["card"]["number"])
            body = {
                "id": f"auth_{time.monotonic_ns():x}",
                "status": "captured",
                "brand": "visa",
                "last4": number[-4:],
                "eci": "05",
                "three_ds": "frictionless",
            }
            return httpx.Response(200, json=body, request=request)
        return httpx.Response(200, json={}, request=request)


def _check(condition: bool, detail: object = "") -> None:
    if not condition:
        raise SystemExit(f"unexpected answer: {detail!r}")


def _present[T](value: T | None) -> T:
    if value is None:
        raise SystemExit("expected a row, found none")
    return value


def _timed(
    name: str,
    ops: int,
    warmup: int,
    prepare: Callable[[], Any],
    run: Callable[[Any], object],
    profile: str,
) -> dict[str, Any]:
    """Prepare every operation's input first (not timed), warm up, then time
    ``ops`` runs with the process's CPU clock."""
    inputs = [prepare() for _ in range(warmup + ops)]
    for item in inputs[:warmup]:
        run(item)
    measured = inputs[warmup:]
    if profile == name:
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    for item in measured:
        run(item)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profile == name:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
    return {"operation": name, "ops": ops, "cpu_ms": 1000 * cpu / ops, "wall_ms": 1000 * wall / ops}


def _references(start: int) -> Iterator[str]:
    n = start
    while True:
        n += 1
        yield f"{n:012d}"


def run_kessai(ops: int, warmup: int, profile: str) -> list[dict[str, Any]]:
    from django.conf import settings
    from django.test import Client

    from madoguchi.kessai.merchants.demo import seed_demo
    from madoguchi.kessai.payments import tasks
    from madoguchi.kessai.payments.models import Notification

    settings.MADOGUCHI_HTTP_TRANSPORT = "profile_hot_path.InstantTransport"
    # One client as fast as it can: the per-key budget would answer 429.
    # The rate limit itself still runs and counts (in Redis) on every request.
    settings.MADOGUCHI_API_RATE_PER_MINUTE = 10**9
    demo = _present(seed_demo(shinsei_public_url="http://shinsei.test"))
    auth = {"Authorization": f"Bearer {demo['merchants']['mayor']['api_key']}"}
    api = Client(HTTP_HOST="kessai.test")
    references = _references(100_000_000_000)
    keys = iter(range(10**9))

    def create(reference: str | None = None) -> dict[str, Any]:
        body = {
            "reference": reference or next(references),
            "amount": 600,
            "return_url": "http://shinsei.test/r",
        }
        response = api.post(
            "/api/v1/payments",
            json.dumps(body),
            content_type="application/json",
            headers={**auth, "Idempotency-Key": f"k-{next(keys)}"},
        )
        _check(response.status_code == 201, response.content)
        result: dict[str, Any] = response.json()
        return result

    def get(payment_id: str) -> None:
        response = api.get(f"/api/v1/payments/{payment_id}", headers=auth)
        _check(response.status_code == 200, response.content)

    def checkout(payment_id: str) -> None:
        response = api.post(
            f"/api/v1/payments/{payment_id}/checkout",
            content_type="application/json",
            headers={**auth, "Idempotency-Key": f"c-{next(keys)}"},
        )
        _check(response.status_code == 201, response.content)

    def payment_page() -> tuple[Client, str]:
        payer = Client(HTTP_HOST="kessai.test")
        link = create()["next_url"].removeprefix(settings.KESSAI_PUBLIC_URL)
        page = payer.get(link)["Location"]
        _check(payer.get(page).status_code == 200)
        return payer, page

    def pay(item: tuple[Client, str]) -> str:
        payer, page = item
        response = payer.post(
            page + "card",
            {
                "card_number": "4242424242424242",
                "exp_month": "12",
                "exp_year": "2031",
                "security_code": "123",
            },
        )
        _check(response.status_code == 302, response.content)
        return str(response["Location"])

    def checkout_link() -> tuple[Client, str]:
        return Client(HTTP_HOST="kessai.test"), create()["next_url"].removeprefix(
            settings.KESSAI_PUBLIC_URL
        )

    def open_link(item: tuple[Client, str]) -> None:
        payer, link = item
        _check(payer.get(link).status_code == 302)

    def opened() -> tuple[Client, str]:
        payer, link = checkout_link()
        return payer, payer.get(link)["Location"]

    def show(item: tuple[Client, str]) -> None:
        payer, page = item
        response = payer.get(page)
        _check(response.status_code == 200, response.status_code)

    def completed() -> tuple[Client, str]:
        payer, page = payment_page()
        return payer, pay((payer, page))

    def paid_notification() -> int:
        pay(payment_page())
        return _present(Notification.objects.order_by("-pk").first()).pk

    def deliver(notification_id: int) -> None:
        _check(tasks.notification_deliver(notification_id) is True)

    payment_id = create()["id"]
    return [
        _timed("create payment", ops, warmup, lambda: None, lambda _: create(), profile),
        _timed("get payment", ops, warmup, lambda: payment_id, get, profile),
        _timed("create checkout", ops, warmup, lambda: payment_id, checkout, profile),
        _timed("pay by card", ops, warmup, payment_page, pay, profile),
        _timed("page: open the checkout link", ops, warmup, checkout_link, open_link, profile),
        _timed("page: payment page", ops, warmup, opened, show, profile),
        _timed("page: completion page", ops, warmup, completed, show, profile),
        _timed(
            "deliver a notification (Kessai worker)",
            ops,
            warmup,
            paid_notification,
            deliver,
            profile,
        ),
    ]


def run_shinsei(ops: int, warmup: int, profile: str) -> list[dict[str, Any]]:
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone
    from tests.conftest import login
    from tests.support.journey import ANSWERS, fill_in

    from madoguchi.contract import schemas
    from madoguchi.contract.signing import sign
    from madoguchi.platform.demo import DEMO_AGENCIES
    from madoguchi.shinsei.applications.models import Application, CitizenMail
    from madoguchi.shinsei.applications.tasks import send_citizen_mail
    from madoguchi.shinsei.procedures.demo import seed_demo
    from madoguchi.shinsei.procedures.models import Agency, Procedure

    settings.MADOGUCHI_HTTP_TRANSPORT = "profile_hot_path.InstantTransport"

    credentials = {
        "merchants": {
            code: {"api_key": f"sk_test_{code}", "notification_secret": f"whsec_test_{code}"}
            for code, _ in DEMO_AGENCIES
        }
    }
    demo = _present(seed_demo(kessai_credentials=credentials))
    secret = Agency.objects.get(code="mayor").kessai_notification_secrets[0]
    procedure = Procedure.objects.get(slug="juminhyo")
    version = procedure.versions.order_by("-number").first()
    references = _references(700_000_000_000)
    addresses = iter(range(10**9))

    def accepted_application() -> bytes:
        reference = next(references)
        application = Application(
            procedure=procedure,
            form_version=version,
            reference=reference,
            inquiry_password="-",  # noqa: S106 - never checked
            status=Application.Status.ACCEPTED,
            fee_amount=600,
            payment_status=Application.PaymentStatus.UNPAID,
            payment_checked_at=timezone.now(),
            kessai_payment_id=f"pay_prof_{reference}",
        )
        application.key_new()
        application.answers_seal(ANSWERS)
        application.save()
        now = timezone.now()
        payment = schemas.Payment(
            id=f"pay_prof_{reference}",
            reference=reference,
            amount=600,
            status=schemas.PaymentStatus.SUCCEEDED,
            method=schemas.PaymentMethod.CARD,
            paid_at=now,
            created_at=now,
            updated_at=now,
        )
        event = schemas.Event(
            id=f"evt_prof_{reference}",
            type=schemas.EventType.PAYMENT_SUCCEEDED,
            created=now,
            data=schemas.EventData(payment=payment),
        )
        return event.model_dump_json().encode()

    def receive(body: bytes) -> None:
        response = Client(HTTP_HOST="shinsei.test").post(
            "/kessai/notifications/mayor",
            body,
            content_type="application/json",
            headers={"Kessai-Signature": sign(body, [secret])},
        )
        _check(response.status_code == 200, response.content)

    def paid_mail() -> int:
        # What a received "paid" notification leaves: the mail row its task sends.
        receive(accepted_application())
        mail = _present(CitizenMail.objects.order_by("-pk").first())
        _check(mail.kind == CitizenMail.Kind.PAID and mail.sent_at is None, mail.kind)
        return mail.pk

    def send_mail(mail_id: int) -> None:
        _check(send_citizen_mail.call(mail_id=mail_id), mail_id)

    def filled_in() -> Client:
        # Each citizen from an address of their own (submissions are limited per address).
        n = next(addresses)
        citizen = Client(
            HTTP_HOST="shinsei.test", REMOTE_ADDR=f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        )
        fill_in(citizen, "juminhyo", ANSWERS)
        return citizen

    def submit(citizen: Client) -> None:
        response = citizen.post("/procedures/juminhyo/check")
        _check(response.status_code == 302, response.content)

    staff = Client(HTTP_HOST="staff.shinsei.test")
    account = next(a for a in demo["staff_accounts"] if a["login_id"] == "staff-shimin")
    login(staff, account["login_id"], account["password"])

    def submitted() -> str:
        submit(filled_in())
        return _present(Application.objects.order_by("-pk").first()).reference

    def accept(reference: str) -> None:
        response = staff.post(f"/applications/{reference}/accept")
        _check(response.status_code == 302, response.content)

    def citizen() -> Client:
        n = next(addresses)
        return Client(
            HTTP_HOST="shinsei.test", REMOTE_ADDR=f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        )

    def get_page(item: tuple[Client, str]) -> None:
        client, url = item
        response = client.get(url)
        _check(response.status_code == 200, (url, response.status_code))

    def started() -> tuple[Client, str]:
        client = citizen()
        return client, client.post("/procedures/juminhyo/")["Location"]

    def answer_step(item: tuple[Client, str]) -> None:
        client, url = item
        _check(client.post(url, ANSWERS).status_code == 302)

    def just_submitted() -> tuple[Client, str]:
        client = filled_in()
        submit(client)
        return client, "/submitted"

    def status_page(paid: bool) -> Callable[[], tuple[Client, str]]:
        def prepare() -> tuple[Client, str]:
            client = filled_in()
            submit(client)
            application = _present(Application.objects.order_by("-pk").first())
            accept(application.reference)
            Application.objects.filter(pk=application.pk).update(
                kessai_payment_id=f"pay_prof_{application.reference}",
                payment_status=(
                    Application.PaymentStatus.PAID if paid else Application.PaymentStatus.UNPAID
                ),
            )
            return client, f"/applications/{application.reference}/"

        return prepare

    def staff_detail() -> tuple[Client, str]:
        return staff, f"/applications/{submitted()}/"

    def start(c: Client) -> None:
        _check(c.post("/procedures/juminhyo/").status_code == 302)

    operations: list[tuple[str, Callable[[], Any], Callable[[Any], object]]] = [
        ("page: procedure page", lambda: (citizen(), "/procedures/juminhyo/"), get_page),
        ("page: start (POST)", citizen, start),
        ("page: step page", started, get_page),
        ("page: answer a step (POST)", started, answer_step),
        ("page: check page", lambda: (filled_in(), "/procedures/juminhyo/check"), get_page),
        ("page: submitted page", just_submitted, get_page),
        ("page: staff detail", staff_detail, get_page),
        ("page: status (payable)", status_page(False), get_page),
        ("page: status (決済済)", status_page(True), get_page),
        ("receive a notification (Shinsei)", accepted_application, receive),
        ("send the paid email (Shinsei task)", paid_mail, send_mail),
        ("submit an application", filled_in, submit),
        ("accept an application", submitted, accept),
    ]
    return [_timed(name, ops, warmup, prepare, run, profile) for name, prepare, run in operations]


def child(service: str, ops: int, warmup: int, profile: str) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    results = (run_kessai if service == "kessai" else run_shinsei)(ops, warmup, profile)
    print(json.dumps(results))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("_kessai", "_shinsei"):
        child(argv[0][1:], int(argv[1]), int(argv[2]), argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--db-prefix", default="madoguchi_profile")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--ops", type=int, default=300, help="timed operations of each kind")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--services", default="kessai,shinsei")
    parser.add_argument("--cprofile", default="", help="print cProfile of this operation")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    mail_dir = tempfile.TemporaryDirectory(prefix="profile-mail-")
    with mail_dir, psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
        for service in args.services.split(","):
            name = f"{args.db_prefix}_{service}"
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": f"tests.settings_{service}",
                "MADOGUCHI_TEST_DATABASE_URL": f"{args.postgres}/{name}",
                "MADOGUCHI_CACHE_URL": args.redis_url,
                "MADOGUCHI_LOG_LEVEL": "WARNING",
                # Emails go to files, as under the load harness, in a directory of our own.
                "SHINSEI_EMAIL_FILE_PATH": mail_dir.name,
                "PYTHONPATH": os.pathsep.join([str(SCRIPTS), str(ROOT), str(ROOT / "src")]),
            }
            try:
                output = subprocess.run(  # noqa: S603 - our own script
                    [
                        sys.executable,
                        __file__,
                        f"_{service}",
                        str(args.ops),
                        str(args.warmup),
                        args.cprofile,
                    ],
                    env=env,
                    check=True,
                    stdout=subprocess.PIPE,
                    text=True,
                ).stdout
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            rows += json.loads(output.strip().splitlines()[-1])
    print(
        f"{args.ops} operations each after {args.warmup} to warm up; load average "
        f"{' '.join(f'{n:.1f}' for n in os.getloadavg())}\n"
    )
    print("| operation | CPU ms per operation | wall ms per operation |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {row['operation']} | {row['cpu_ms']:.2f} | {row['wall_ms']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
