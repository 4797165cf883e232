"""``madoguchi up --tls``: a local CA and a server certificate for every
listener (seed 2(6)イ(ア))."""

import os
import ssl
import subprocess
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509

from madoguchi.cli import LISTENERS, granian_command, wait_ready
from madoguchi.platform.tls import ensure_tls_files


def test_the_local_ca_signs_a_server_certificate_for_the_hosts(tmp_path: Path) -> None:
    files = ensure_tls_files(tmp_path / "tls", ["madoguchi.local"])

    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    cert.verify_directly_issued_by(ca)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["madoguchi.local", "localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert files.key.read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert oct(files.key.stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "tls" / "ca-key.pem").stat().st_mode & 0o777) == "0o600"


def test_the_ca_is_kept_and_the_server_certificate_renewed(tmp_path: Path) -> None:
    first = ensure_tls_files(tmp_path, ["127.0.0.1"])
    ca_before, cert_before = first.ca_cert.read_bytes(), first.cert.read_bytes()

    second = ensure_tls_files(tmp_path, ["127.0.0.1"])

    assert second.ca_cert.read_bytes() == ca_before
    assert second.cert.read_bytes() != cert_before


@pytest.mark.e2e
def test_a_listener_serves_https_that_the_local_ca_verifies(tmp_path: Path) -> None:
    files = ensure_tls_files(tmp_path / "tls", ["127.0.0.1"])
    port = int(os.environ.get("MADOGUCHI_E2E_PORT_BASE", "18000")) + 299
    simulators = next(listener for listener in LISTENERS if listener.service == "simulators")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "madoguchi.simulators.settings",
        "MADOGUCHI_SURFACE": "simulators",
    }
    command = granian_command(simulators, port, "127.0.0.1", tmp_path, files)
    process = subprocess.Popen(command, env=env)  # noqa: S603 - our own interpreter
    try:
        url = f"https://127.0.0.1:{port}"
        assert wait_ready([url], timeout=30, ca_file=files.ca_cert) == []
        # Without the local CA the certificate is not trusted.
        untrusted = ssl.create_default_context()
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url + "/healthz", timeout=5, context=untrusted)  # noqa: S310
    finally:
        process.terminate()
        process.wait(timeout=10)
