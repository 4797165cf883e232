"""The production topology on one machine (issue #11 item 6):

- nginx (Debian's package) terminating TLS with a local CA in front of
  two web processes per public surface and one per internal surface;
- two workers and one scheduler per service;
- PostgreSQL with one database and one role per service, each role unable
  to connect to the other's database;
- the simulators standing in for the card acquirer and PayPay.

    uv run python deploy/topology.py --port-base 27000 --var-dir var/topology

prints the URLs and runs until Ctrl-C (restarting crashed processes, like
systemd's Restart=on-failure). ``tests/deploy/test_topology.py`` drives it.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

from madoguchi.cli import (
    LISTENERS,
    Child,
    StopFlag,
    granian_command,
    load_or_create_secrets,
    manage,
    service_env,
    stop_children,
    supervise_until_stopped,
    wait_ready,
)
from madoguchi.platform.tls import ensure_tls_files

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
# Web processes per surface; the internal listeners get one each.
REPLICAS = {"shinsei_public": 2, "shinsei_staff": 1, "kessai_public": 2, "kessai_console": 1}
# nginx's TLS port for each surface, offset from the port base.
NGINX = {"shinsei_public": 500, "shinsei_staff": 501, "kessai_public": 600, "kessai_console": 601}


def web_port(base: int, surface: str, replica: int) -> int:
    listener = next(item for item in LISTENERS if item.surface == surface)
    return listener.port(base) + 10 * replica


def public_url(base: int, surface: str) -> str:
    return f"https://{HOST}:{base + NGINX[surface]}"


def databases_create(prefix: str, admin_url: str) -> dict[str, str]:
    """One role and one database per service; CONNECT only for its own role."""
    urls = {}
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for service in ("shinsei", "kessai"):
            name = f"{prefix}_{service}"
            password = secrets.token_urlsafe(18)
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
            admin.execute(f'DROP ROLE IF EXISTS "{name}"'.encode())
            admin.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'".encode())
            admin.execute(f'CREATE DATABASE "{name}" OWNER "{name}"'.encode())
            admin.execute(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{name}" FROM PUBLIC'.encode())
            urls[service] = f"postgres://{name}:{password}@{HOST}:5432/{name}"
    return urls


def databases_drop(prefix: str, admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for service in ("shinsei", "kessai"):
            name = f"{prefix}_{service}"
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
            admin.execute(f'DROP ROLE IF EXISTS "{name}"'.encode())


def nginx_config(base: int, var: Path, cert: Path, key: Path) -> Path:
    template = (HERE / "nginx" / "madoguchi.conf.template").read_text()
    upstreams, servers = [], []
    for surface, count in REPLICAS.items():
        members = "".join(
            f"        server {HOST}:{web_port(base, surface, n)} max_fails=1 fail_timeout=5s;\n"
            for n in range(count)
        )
        upstreams.append(f"    upstream {surface} {{\n{members}        keepalive 8;\n    }}\n")
        servers.append(
            template.replace("@SURFACE@", surface)
            .replace("@LISTEN@", f"{HOST}:{base + NGINX[surface]}")
            .replace("@CERT@", str(cert))
            .replace("@KEY@", str(key))
        )
    nginx = var / "nginx"
    nginx.mkdir(parents=True, exist_ok=True)
    config = nginx / "nginx.conf"
    config.write_text(
        (HERE / "nginx" / "nginx.conf.template")
        .read_text()
        .replace("@PREFIX@", str(nginx))
        .replace("@UPSTREAMS@", "".join(upstreams))
        .replace("@SERVERS@", "".join(servers))
    )
    return config


def environments(
    base: int, var: Path, keys: dict[str, str], database_urls: dict[str, str], ca: Path
) -> dict[str, dict[str, str]]:
    envs = {}
    for service in ("shinsei", "kessai", "simulators"):
        env = service_env(service, var, base, HOST, keys)
        env.update(
            {
                "SHINSEI_PUBLIC_URL": public_url(base, "shinsei_public"),
                "SHINSEI_KESSAI_API_URL": public_url(base, "kessai_public") + "/api",
                "KESSAI_PUBLIC_URL": public_url(base, "kessai_public"),
                "SSL_CERT_FILE": str(ca),
                "MADOGUCHI_LOG_FORMAT": "json",
                # Cards on the acquirer simulator this topology runs (no SBPS
                # simulator here): SBPS's own path is tested by `up`'s tests.
                "KESSAI_DEMO_CARD_CONNECTOR": "sandbox",
            }
        )
        if service != "simulators":
            env.update(
                {
                    f"{service.upper()}_DATABASE_URL": database_urls[service],
                    "MADOGUCHI_TLS": "1",
                    "MADOGUCHI_TRUST_FORWARDED_PROTO": "1",
                    "MADOGUCHI_CLIENT_IP_HEADER": "HTTP_X_FORWARDED_FOR",
                    # Tasks a killed worker left running come back quickly here.
                    "MADOGUCHI_TASK_ORPHAN_SECONDS": "15",
                }
            )
            env.pop("SHINSEI_DATABASE_URL" if service == "kessai" else "KESSAI_DATABASE_URL", None)
        envs[service] = env
    return envs


def prepare(base: int, var: Path, envs: dict[str, dict[str, str]]) -> dict[str, Any]:
    from madoguchi.simulators.applepay import ensure_demo_pki

    ensure_demo_pki(var / "applepay")
    for service in ("kessai", "shinsei"):
        manage(service, ["migrate", "--no-input", "-v", "0"], envs[service])
        manage(
            service,
            ["collectstatic", "--no-input", "-v", "0", "--clear"],
            {**envs[service], "MADOGUCHI_STATIC_ROOT": str(var / "static" / service)},
        )
    credentials, accounts = var / "kessai-credentials.json", var / "shinsei-demo.json"
    manage(
        "kessai",
        ["kessai_seed_demo", "--shinsei-public-url", public_url(base, "shinsei_public"), "--out",
         str(credentials)],
        envs["kessai"],
    )  # fmt: skip
    manage(
        "shinsei",
        ["shinsei_seed_demo", "--kessai-credentials", str(credentials), "--out", str(accounts)],
        envs["shinsei"],
    )
    demo = {
        "shinsei": json.loads(accounts.read_text()),
        "kessai": json.loads(credentials.read_text()),
    }
    credentials.unlink()
    accounts.unlink()
    return demo


def children(base: int, var: Path, envs: dict[str, dict[str, str]]) -> list[Child]:
    (var / "log").mkdir(parents=True, exist_ok=True)
    result = []
    for listener in LISTENERS:
        service = listener.service
        for n in range(REPLICAS.get(listener.surface, 1)):
            env = {**envs[service], "MADOGUCHI_SURFACE": listener.surface}
            if service != "simulators":
                env["PROMETHEUS_MULTIPROC_DIR"] = str(var / "metrics" / service)
            port = web_port(base, listener.surface, n)
            name = f"{listener.surface}-{n}"
            command = granian_command(listener, port, HOST, var)
            result.append(Child(name, command, env, var / "log" / f"{name}.log"))
    for service in ("shinsei", "kessai"):
        env = {**envs[service], "PROMETHEUS_MULTIPROC_DIR": str(var / "metrics" / service)}
        for name, role in (
            ("worker-0", "worker"),
            ("worker-1", "worker"),
            ("scheduler", "scheduler"),
        ):
            result.append(
                Child(
                    f"{service}_{name}",
                    [sys.executable, "-m", "django", role],
                    env,
                    var / "log" / f"{service}_{name}.log",
                )
            )
    return result


class Topology:
    """Everything above, started and stopped as one."""

    def __init__(self, *, base: int, var: Path, admin_url: str, prefix: str) -> None:
        self.base, self.var, self.admin_url, self.prefix = base, var, admin_url, prefix
        self.children: list[Child] = []
        self.nginx: subprocess.Popen[bytes] | None = None

    def start(self) -> dict[str, Any]:
        self.var.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.var / "metrics", ignore_errors=True)
        for service in ("shinsei", "kessai"):
            (self.var / "metrics" / service).mkdir(parents=True)
        tls = ensure_tls_files(self.var / "tls", [HOST])
        keys = load_or_create_secrets(self.var)
        self.database_urls = databases_create(self.prefix, self.admin_url)
        envs = environments(self.base, self.var, keys, self.database_urls, tls.ca_cert)
        demo = prepare(self.base, self.var, envs)
        config = nginx_config(self.base, self.var, tls.cert, tls.key)
        self.nginx = subprocess.Popen(  # noqa: S603
            [shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(config), "-p",
             str(config.parent)],
            start_new_session=True,
        )  # fmt: skip
        self.children = children(self.base, self.var, envs)
        for child in self.children:
            child.start()
        urls = [public_url(self.base, surface) for surface in NGINX]
        not_ready = wait_ready(urls, timeout=120, ca_file=tls.ca_cert)
        if not_ready:
            raise RuntimeError(f"not ready: {not_ready}; see {self.var / 'log'}")
        return {
            "urls": {surface: public_url(self.base, surface) for surface in NGINX},
            "ca": str(tls.ca_cert),
            "demo": demo,
            "database_urls": self.database_urls,
        }

    def child(self, name: str) -> Child:
        return next(child for child in self.children if child.name == name)

    def stop(self) -> None:
        stop_children(self.children)
        if self.nginx is not None and self.nginx.poll() is None:
            os.killpg(self.nginx.pid, signal.SIGTERM)
            self.nginx.wait(timeout=15)

    def drop_databases(self) -> None:
        databases_drop(self.prefix, self.admin_url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port-base", type=int, default=27000)
    parser.add_argument("--var-dir", default="var/topology")
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--prefix", default="madoguchi_topology")
    args = parser.parse_args()
    topology = Topology(
        base=args.port_base, var=Path(args.var_dir).resolve(), admin_url=args.admin_url,
        prefix=args.prefix,
    )  # fmt: skip
    stop = StopFlag()
    try:
        info = topology.start()
        print(json.dumps(info["urls"], indent=2), flush=True)
        return supervise_until_stopped(topology.children, stop)
    finally:
        topology.stop()


if __name__ == "__main__":
    sys.exit(main())
