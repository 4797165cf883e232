"""``madoguchi`` command line.

- ``madoguchi up``: the whole system on the embedded default (SQLite under
  ``./var``), every listener, worker and simulator, until Ctrl-C.
- ``madoguchi serve SURFACE``: one listener, for production process managers.
- ``madoguchi shinsei|kessai <manage command>``: Django management commands.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from madoguchi.platform.demo import (
    DEMO_SBPS_API_SERVICE_ID,
    DEMO_SBPS_LINK_SERVICE_ID,
    DEMO_SBPS_MERCHANT_ID,
)
from madoguchi.platform.envelope import kek_new_entry
from madoguchi.platform.tls import TlsFiles, ensure_tls_files

SETTINGS = {
    "shinsei": "madoguchi.shinsei.settings",
    "kessai": "madoguchi.kessai.settings",
    "simulators": "madoguchi.simulators.settings",
}


@dataclass(frozen=True)
class Listener:
    surface: str
    service: str
    offset: int
    title: str

    def port(self, base: int) -> int:
        return base + self.offset


LISTENERS = [
    Listener("shinsei_public", "shinsei", 0, "Shinsei public (citizens)"),
    Listener("shinsei_staff", "shinsei", 1, "Shinsei staff (office network)"),
    Listener("kessai_public", "kessai", 100, "Kessai public (API + payment page)"),
    Listener("kessai_console", "kessai", 101, "Kessai console (payment administrators)"),
    Listener("simulators", "simulators", 200, "Simulators (card acquirer, 3-DS issuer)"),
    Listener("paypay_simulator", "simulators", 201, "PayPay simulator (Open Payment API, app)"),
    Listener("sbps_simulator", "simulators", 202, "SBPS simulator (link type page, XML API)"),
]


def _url(host: str, port: int, scheme: str = "http") -> str:
    return f"{scheme}://{host}:{port}"


def load_or_create_secrets(var: Path) -> dict[str, str]:
    path = var / "secrets.json"
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
        added: dict[str, Callable[[], str]] = {
            # var dirs from before encryption at rest, and before the scrape token
            "shinsei_data_keys": lambda: kek_new_entry("k1"),
            "metrics_token": lambda: secrets.token_urlsafe(32),
        }
        missing = {name: make() for name, make in added.items() if name not in data}
        if missing:
            data.update(missing)
            path.write_text(json.dumps(data, indent=2))
        return data
    data = {
        # Shinsei's key-encryption key (id:base64); rotation: docs/operations.md.
        "shinsei_data_keys": kek_new_entry("k1"),
        "shinsei_secret_key": secrets.token_urlsafe(50),
        "kessai_secret_key": secrets.token_urlsafe(50),
        "acquirer_key": "acq_" + secrets.token_urlsafe(24),
        "paypay_api_secret": "pp_" + secrets.token_urlsafe(24),
        "sbps_hash_key": secrets.token_hex(20),
        # The bearer token /metrics asks of the scraper.
        "metrics_token": secrets.token_urlsafe(32),
    }
    path.write_text(json.dumps(data, indent=2))
    path.chmod(0o600)
    return data


def service_env(
    service: str,
    var: Path,
    base: int,
    host: str,
    keys: dict[str, str],
    ca_file: Path | None = None,
) -> dict[str, str]:
    scheme = "https" if ca_file else "http"
    # Older var dirs have no SBPS hash key yet: derive a stable one.
    sbps_hash_key = keys.get("sbps_hash_key") or keys["acquirer_key"].encode().hex()[:40]
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS[service],
            # Simulators, demo keys and the built-in upload scanner are allowed.
            "MADOGUCHI_DEMO": "1",
            "MADOGUCHI_VAR_DIR": str(var),
            "PYTHONUNBUFFERED": "1",
            # People read these logs in a terminal; production keeps JSON lines.
            "MADOGUCHI_LOG_FORMAT": os.environ.get("MADOGUCHI_LOG_FORMAT", "plain"),
            "SHINSEI_SECRET_KEY": keys["shinsei_secret_key"],
            "SHINSEI_DATA_KEYS": keys["shinsei_data_keys"],
            "KESSAI_SECRET_KEY": keys["kessai_secret_key"],
            "KESSAI_ACQUIRER_KEY": keys["acquirer_key"],
            "SHINSEI_PUBLIC_URL": _url(host, base, scheme),
            "SHINSEI_KESSAI_API_URL": _url(host, base + 100, scheme) + "/api",
            "KESSAI_PUBLIC_URL": _url(host, base + 100, scheme),
            "KESSAI_ACQUIRER_URL": _url(host, base + 200, scheme),
            "KESSAI_PAYPAY_URL": _url(host, base + 201, scheme),
            # Apple Pay: test stand-ins for Apple's files (see applepay_files),
            # the simulator as Apple's validation gateway, and demo mode.
            "KESSAI_APPLEPAY_DIR": str(var / "applepay"),
            "KESSAI_APPLEPAY_ROOT_CERT": str(var / "applepay" / "root_cert.pem"),
            "KESSAI_APPLEPAY_PROCESSING_KEY": str(var / "applepay" / "processing_key.pem"),
            "KESSAI_APPLEPAY_IDENTITY_CERT": str(var / "applepay" / "identity_cert.pem"),
            "KESSAI_APPLEPAY_IDENTITY_KEY": str(var / "applepay" / "identity_key.pem"),
            "KESSAI_APPLEPAY_VALIDATION_HOSTS": host,
            "KESSAI_APPLEPAY_ALLOW_HTTP": "1",
            "KESSAI_APPLEPAY_DEMO_URL": _url(host, base + 200, scheme) + "/applepay/sheet",
            # SBPS: the simulator's purchase page and XML API, and its demo
            # merchant (one service for Shinsei's link type, one for Kessai's API).
            "SHINSEI_SBPS_PURCHASE_URL": _url(host, base + 202, scheme)
            + "/f01/FepBuyInfoReceive.do",
            "SHINSEI_SBPS_API_URL": _url(host, base + 202, scheme),
            "KESSAI_SBPS_API_URL": _url(host, base + 202, scheme),
            "MADOGUCHI_DEMO_SBPS_HASH_KEY": sbps_hash_key,
            "MADOGUCHI_METRICS_TOKEN": keys.get("metrics_token", ""),
            "SBPS_SIMULATOR_MERCHANTS": ";".join(
                f"{DEMO_SBPS_MERCHANT_ID}:{service}:{sbps_hash_key}:Shift_JIS"
                for service in (DEMO_SBPS_LINK_SERVICE_ID, DEMO_SBPS_API_SERVICE_ID)
            ),
            # Older var dirs have no PayPay secret yet: derive a stable one.
            "KESSAI_PAYPAY_API_SECRET": keys.get("paypay_api_secret")
            or "pp_" + keys["acquirer_key"],
        }
    )
    if ca_file:
        # HSTS, Secure cookies; and trust the local CA for service-to-service calls.
        env.update({"MADOGUCHI_TLS": "1", "SSL_CERT_FILE": str(ca_file)})
    if service in ("shinsei", "kessai"):
        # Every process of a service counts into one directory; the internal
        # listener's /metrics adds them up (prometheus-client multiprocess mode).
        env["PROMETHEUS_MULTIPROC_DIR"] = str(var / "metrics" / service)
    if service == "shinsei":
        env.pop("KESSAI_SECRET_KEY")
        env.pop("KESSAI_PAYPAY_API_SECRET")
    elif service == "kessai":
        env.pop("SHINSEI_SECRET_KEY")
    if service != "shinsei":
        env.pop("SHINSEI_DATA_KEYS")  # Shinsei's key-encryption key stays with Shinsei
    return env


def manage(service: str, args: list[str], env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "django", *args], env=env, check=True)


def granian_command(
    listener: Listener,
    port: int,
    host: str,
    var: Path,
    tls: TlsFiles | None = None,
    *,
    workers: int = 1,
    threads: int = 4,
) -> list[str]:
    """Granian serving one listener: ``workers`` processes (use the cores),
    each running Django in ``threads`` threads (requests waiting on the
    database or another service overlap); with PostgreSQL, size the pool
    (``MADOGUCHI_DB_POOL_MAX_SIZE``) to at least ``threads``."""
    module = f"madoguchi.{listener.service}.wsgi:application"
    command = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--no-access-log",
        # SIGTERM: in-flight requests finish; a worker stuck past this is killed.
        "--workers-kill-timeout",
        "20",
        "--log-level",
        "warning",
    ]
    if tls is not None:
        command += ["--ssl-certificate", str(tls.cert), "--ssl-keyfile", str(tls.key)]
    static = var / "static" / listener.service
    if listener.service != "simulators":
        command += ["--static-path-route", "/static", "--static-path-mount", str(static)]
    return [*command, module]


def wait_ready(urls: list[str], timeout: float, ca_file: Path | None = None) -> list[str]:
    """Wait until every URL's ``/readyz`` answers 200; return those that did not."""
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        for url in list(pending):
            try:
                with urllib.request.urlopen(
                    url + "/readyz", timeout=2, context=context
                ) as response:
                    if response.status == 200:
                        pending.remove(url)
            except OSError:
                pass
        if pending:
            time.sleep(0.3)
    return pending


@dataclass
class Child:
    """A process ``up`` runs, restarted (a few times) if it exits on its own."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()


# At most this many restarts of one process within RESTART_WINDOW seconds;
# past that the process is broken, not unlucky, and ``up`` stops.
RESTART_LIMIT = 5
RESTART_WINDOW = 300.0


def supervise(children: list[Child], now: float) -> Child | None:
    """Restart children that exited; return one that used up its restarts."""
    for child in children:
        code = child.exited()
        if code is None:
            continue
        child.restarts = [t for t in child.restarts if now - t < RESTART_WINDOW]
        if len(child.restarts) >= RESTART_LIMIT:
            return child
        print(f"{child.name} exited ({code}); restarting it", file=sys.stderr, flush=True)
        child.restarts.append(now)
        child.start()
    return None


class StopFlag:
    """Set by SIGINT (Ctrl-C) or SIGTERM."""

    def __init__(self) -> None:
        self.stopping = False
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)

    def stop(self, signum: int, frame: object) -> None:
        self.stopping = True


def supervise_until_stopped(children: list[Child], stop: StopFlag) -> int:
    """Restart crashed children until a signal (0) or one keeps crashing (1)."""
    while not stop.stopping:
        broken = supervise(children, time.monotonic())
        if broken is not None:
            print(
                f"{broken.name} keeps exiting ({RESTART_LIMIT} restarts in "
                f"{RESTART_WINDOW:.0f} s); stopping. See {broken.log_path}",
                file=sys.stderr,
            )
            return 1
        time.sleep(0.5)
    return 0


def stop_children(children: list[Child], grace: float = 15.0) -> None:
    """SIGTERM to each process group (in-flight requests and the current
    task finish), SIGKILL to whatever is left after ``grace`` seconds."""
    running = [c.process for c in children if c.process is not None and c.process.poll() is None]
    for process in running:
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def prepare(
    var: Path, base: int, host: str, keys: dict[str, str], ca_file: Path | None = None
) -> dict[str, Any]:
    """Migrate, seed once, collect static. Returns the demo data."""
    from madoguchi.simulators.applepay import ensure_demo_pki

    ensure_demo_pki(var / "applepay")
    scheme = "https" if ca_file else "http"
    shinsei_env = service_env("shinsei", var, base, host, keys, ca_file)
    kessai_env = service_env("kessai", var, base, host, keys, ca_file)
    for service, env in (("kessai", kessai_env), ("shinsei", shinsei_env)):
        manage(service, ["migrate", "--no-input", "-v", "0"], env)
        manage(
            service,
            ["collectstatic", "--no-input", "-v", "0", "--clear"],
            {**env, "MADOGUCHI_STATIC_ROOT": str(var / "static" / service)},
        )
    demo_path = var / "demo.json"
    kessai_creds = var / "kessai-credentials.json"
    shinsei_out = var / "shinsei-demo.json"
    manage(
        "kessai",
        [
            "kessai_seed_demo",
            "--shinsei-public-url",
            _url(host, base, scheme),
            "--out",
            str(kessai_creds),
        ],
        kessai_env,
    )
    if kessai_creds.exists():
        # Kessai was seeded just now (or an earlier run stopped half-way):
        # hand its credentials to Shinsei. On later runs both are seeded.
        manage(
            "shinsei",
            [
                "shinsei_seed_demo",
                "--kessai-credentials",
                str(kessai_creds),
                "--out",
                str(shinsei_out),
            ],
            shinsei_env,
        )
    demo: dict[str, Any] = json.loads(demo_path.read_text()) if demo_path.exists() else {}
    if kessai_creds.exists() and shinsei_out.exists() and "accounts" not in demo:
        kessai = json.loads(kessai_creds.read_text())
        shinsei = json.loads(shinsei_out.read_text())
        demo["accounts"] = {
            "shinsei_staff": shinsei["staff_accounts"],
            "kessai_console": kessai["console_accounts"],
        }
        demo["merchants"] = kessai["merchants"]
        demo["new"] = True
    # The seed outputs were only for the hand-over into demo.json.
    kessai_creds.unlink(missing_ok=True)
    shinsei_out.unlink(missing_ok=True)
    demo["urls"] = {
        listener.surface: _url(host, listener.port(base), scheme) for listener in LISTENERS
    }
    demo["urls"]["kessai_openapi"] = _url(host, base + 100, scheme) + "/api/openapi.json"
    if ca_file:
        demo["tls_ca"] = str(ca_file)
    demo["var_dir"] = str(var)
    return demo


def up(args: argparse.Namespace) -> int:
    # Everything created under var/ (databases, mail, logs, uploads) is the
    # owner's only; the processes started below inherit this.
    os.umask(0o077)
    var = Path(args.var_dir).resolve()
    var.mkdir(parents=True, exist_ok=True)
    (var / "log").mkdir(exist_ok=True)
    keys = load_or_create_secrets(var)
    base, host = args.port_base, args.host
    tls = ensure_tls_files(var / "tls", [host]) if args.tls else None
    ca_file = tls.ca_cert if tls else None
    scheme = "https" if tls else "http"
    print(f"Preparing databases under {var} …", flush=True)
    demo = prepare(var, base, host, keys, ca_file)
    shown_once = demo.pop("new", False)
    (var / "demo.json").write_text(json.dumps(demo, ensure_ascii=False, indent=2))
    (var / "demo.json").chmod(0o600)

    metrics_dir = var / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)  # counts start again with the processes
    children: list[Child] = []
    for listener in LISTENERS:
        env = service_env(listener.service, var, base, host, keys, ca_file)
        env["MADOGUCHI_SURFACE"] = listener.surface
        command = granian_command(listener, listener.port(base), host, var, tls)
        children.append(
            Child(listener.surface, command, env, var / "log" / f"{listener.surface}.log")
        )
    for service in ("shinsei", "kessai"):
        env = service_env(service, var, base, host, keys, ca_file)
        for role in ("worker", "scheduler"):
            children.append(
                Child(
                    f"{service}_{role}",
                    [sys.executable, "-m", "django", role],
                    env,
                    var / "log" / f"{service}_{role}.log",
                )
            )
    for service in ("shinsei", "kessai"):
        (metrics_dir / service).mkdir(parents=True, exist_ok=True)
    for child in children:
        child.start()

    stop = StopFlag()
    urls = [_url(host, listener.port(base), scheme) for listener in LISTENERS]
    not_up = wait_ready(urls, timeout=90, ca_file=ca_file)
    if not_up:
        print(f"These listeners did not start: {not_up}; see {var / 'log'}", file=sys.stderr)
        stop.stopping = True
    else:
        print("\nMadoguchi is running:")
        for listener in LISTENERS:
            print(f"  {listener.title:42} {_url(host, listener.port(base), scheme)}/")
        print(f"  {'Kessai OpenAPI document':42} {demo['urls']['kessai_openapi']}")
        accounts = demo.get("accounts", {})
        note = "(shown once; also in var/demo.json)" if shown_once else "(from var/demo.json)"
        print(f"\nDemo accounts {note}:")
        for account in accounts.get("shinsei_staff", []):
            print(
                f"  staff    {account['login_id']:28} {account['password']}  "
                f"{account['department']}"
            )
        for account in accounts.get("kessai_console", []):
            print(f"  console  {account['login_id']:28} {account['password']}")
        if ca_file:
            print(f"\nHTTPS with a local CA: trust {ca_file} in your browser to avoid warnings.")
        print(f"\nDetails for scripts: {var / 'demo.json'}   Logs: {var / 'log'}")
        print("Press Ctrl-C to stop.", flush=True)
    exit_code = supervise_until_stopped(children, stop)
    print("\nStopping …", flush=True)
    stop_children(children)
    print("Stopped.")
    return exit_code if not not_up else 1


def serve(args: argparse.Namespace) -> int:  # noqa: RET503 - execv does not return
    listener = next((item for item in LISTENERS if item.surface == args.surface), None)
    if listener is None:
        print(
            f"unknown surface; choose from {[item.surface for item in LISTENERS]}", file=sys.stderr
        )
        return 2
    os.environ["MADOGUCHI_SURFACE"] = listener.surface
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS[listener.service])
    var = Path(os.environ.get("MADOGUCHI_VAR_DIR", "var")).resolve()
    command = granian_command(
        listener, args.port, args.host, var, workers=args.workers, threads=args.threads
    )
    os.execv(sys.executable, command)


def command_env(service: str, var: Path) -> dict[str, str]:
    """What ``up`` gives a service's processes, for a management command run
    by hand on the same var dir: its keys (var/secrets.json), the URLs of
    the ports it chose (var/demo.json) and demo mode. Empty when ``var`` is
    not a var dir of ``up``'s."""
    if not (var / "secrets.json").exists():
        return {}
    keys = load_or_create_secrets(var)
    demo: dict[str, Any] = {}
    if (var / "demo.json").exists():
        demo = json.loads((var / "demo.json").read_text())
    public = urllib.parse.urlsplit(demo.get("urls", {}).get("shinsei_public", ""))
    ca_file = Path(demo["tls_ca"]) if demo.get("tls_ca") else None
    env = service_env(
        service, var, public.port or 8000, public.hostname or "127.0.0.1", keys, ca_file
    )
    # A command's counts are not the listeners': they would outlive it.
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


NEEDS_SETTINGS = """\
madoguchi {service}: {problem}
A management command needs one of:
  - the var dir of `madoguchi up` (it holds secrets.json): run the command in the
    directory that holds ./var, or set MADOGUCHI_VAR_DIR=/path/to/var
    (looked for: {var});
  - production settings in the environment: {prefix}_SECRET_KEY, {prefix}_DATABASE_URL
    and the rest listed in docs/operations.md (Configuration).
"""


def manage_command(service: str, args: list[str]) -> int:
    """``madoguchi shinsei|kessai <command>``: Django's management command on
    ``up``'s var dir (its settings filled in from var/ where the environment
    does not set them) or on the environment's settings."""
    var = Path(os.environ.get("MADOGUCHI_VAR_DIR", "var")).resolve()
    if not os.environ.get(f"{service.upper()}_SECRET_KEY"):
        for name, value in command_env(service, var).items():
            os.environ.setdefault(name, value)
        # Like ``up``: what the command writes under var/ is the owner's only.
        os.umask(0o077)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS[service])
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS  # noqa: B018 - loads the settings module
    except (ImproperlyConfigured, RuntimeError, ValueError) as exc:
        print(
            NEEDS_SETTINGS.format(service=service, problem=exc, var=var, prefix=service.upper()),
            file=sys.stderr,
            end="",
        )
        return 2
    from django.core.management import execute_from_command_line

    execute_from_command_line(["madoguchi " + service, *args])
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("shinsei", "kessai"):
        return manage_command(argv[0], argv[1:])
    parser = argparse.ArgumentParser(
        prog="madoguchi", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="start the whole system on the embedded default")
    up_parser.add_argument("--var-dir", default=os.environ.get("MADOGUCHI_VAR_DIR", "var"))
    up_parser.add_argument(
        "--port-base",
        type=int,
        default=8000,
        help="Shinsei public port; the others are offset from it",
    )
    up_parser.add_argument("--host", default="127.0.0.1")
    up_parser.add_argument(
        "--tls",
        action="store_true",
        help="serve every listener over HTTPS with a locally generated CA (var/tls/)",
    )
    serve_parser = sub.add_parser("serve", help="run one listener")
    serve_parser.add_argument("surface")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, required=True)
    serve_parser.add_argument(
        "--workers", type=int, default=1, help="server processes (about one per core)"
    )
    serve_parser.add_argument("--threads", type=int, default=4, help="request threads per process")
    sub.add_parser("shinsei", help="Shinsei management commands")
    sub.add_parser("kessai", help="Kessai management commands")
    args = parser.parse_args(argv)
    if args.command == "up":
        return up(args)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
