"""Production fails closed: without DEBUG and without MADOGUCHI_DEMO, a
process refuses to start with a simulator URL, a demo key or secret, Apple
Pay's demo mode, or the built-in upload scanner."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from madoguchi.platform.production import PRODUCTION_TAG, is_simulator_url

REAL = {
    "DEBUG": False,
    "MADOGUCHI_DEMO": False,
    "KESSAI_ACQUIRER_URL": "https://api.acquirer.co.jp",
    "KESSAI_ACQUIRER_KEY": "acq_live_0123456789abcdef",
    "KESSAI_PAYPAY_URL": "https://api.paypay.ne.jp",
    "KESSAI_PAYPAY_API_KEY": "a_live_key",
    "KESSAI_PAYPAY_API_SECRET": "a-live-secret",
    "KESSAI_PAYPAY_MERCHANT_ID": "123456789",
    "KESSAI_APPLEPAY_MERCHANT_ID": "merchant.jp.lg.city.fujisawa",
    "KESSAI_APPLEPAY_DEMO_URL": "",
    "KESSAI_APPLEPAY_ALLOW_HTTP": False,
    "SHINSEI_FILE_SCANNER": "myscanner.clamd_scan",
}


def error_ids(**changes: Any) -> list[str]:
    with override_settings(**{**REAL, **changes}):
        return sorted(m.id or "" for m in run_checks(tags=[PRODUCTION_TAG]) if m.is_serious())


def test_real_configuration_passes() -> None:
    assert error_ids() == []


@pytest.mark.parametrize(
    ("setting", "value", "error"),
    [
        ("KESSAI_ACQUIRER_URL", "http://127.0.0.1:8200", "madoguchi.E101"),
        ("KESSAI_ACQUIRER_URL", "http://localhost:8200", "madoguchi.E101"),
        ("KESSAI_ACQUIRER_URL", "http://[::1]:8200", "madoguchi.E101"),
        ("KESSAI_ACQUIRER_URL", "http://acquirer.test", "madoguchi.E101"),
        ("KESSAI_PAYPAY_URL", "http://127.0.0.1:8201", "madoguchi.E101"),
        ("KESSAI_ACQUIRER_KEY", "acq_test_madoguchi", "madoguchi.E102"),
        ("KESSAI_ACQUIRER_KEY", "", "madoguchi.E102"),
        ("KESSAI_PAYPAY_API_KEY", "paypay_test_key", "madoguchi.E102"),
        ("KESSAI_PAYPAY_API_SECRET", "paypay-simulator-secret", "madoguchi.E102"),
        ("KESSAI_PAYPAY_MERCHANT_ID", "madoguchi-sim-merchant", "madoguchi.E102"),
        ("KESSAI_APPLEPAY_MERCHANT_ID", "merchant.jp.madoguchi.demo", "madoguchi.E102"),
        ("KESSAI_APPLEPAY_DEMO_URL", "http://127.0.0.1:8200/applepay/sheet", "madoguchi.E103"),
        ("KESSAI_APPLEPAY_ALLOW_HTTP", True, "madoguchi.E103"),
        (
            "SHINSEI_FILE_SCANNER",
            "madoguchi.shinsei.applications.files.scan_builtin",
            "madoguchi.E111",
        ),
    ],
)
def test_each_unsafe_setting_is_an_error(setting: str, value: object, error: str) -> None:
    assert error_ids(**{setting: value}) == [error]


@pytest.mark.parametrize("explicit", [{"MADOGUCHI_DEMO": True}, {"DEBUG": True}])
def test_a_demo_or_debug_process_may_use_the_simulators(explicit: dict[str, bool]) -> None:
    unsafe = {"KESSAI_ACQUIRER_URL": "http://127.0.0.1:8200", "KESSAI_ACQUIRER_KEY": ""}
    assert error_ids(**unsafe, **explicit) == []


@pytest.mark.parametrize(
    ("url", "simulator"),
    [
        ("http://127.0.0.2:1", True),
        ("http://0.0.0.0:1", True),
        ("https://paypay.example", True),
        ("https://api.paypay.ne.jp", False),
        ("https://10.0.0.5", False),
    ],
)
def test_simulator_urls(url: str, simulator: bool) -> None:
    assert is_simulator_url(url) is simulator


def _start(service: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MADOGUCHI_", "KESSAI_"))}
    base.pop("DJANGO_SETTINGS_MODULE", None)
    code = f"import madoguchi.{service}.wsgi"
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        env={**base, f"{service.upper()}_SECRET_KEY": "x" * 50, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )


@pytest.mark.parametrize("service", ["kessai", "shinsei"])
def test_web_process_refuses_to_start_with_defaults(service: str, tmp_path: Path) -> None:
    started = _start(service, {"MADOGUCHI_VAR_DIR": str(tmp_path)})
    assert started.returncode != 0
    assert "refusing to start" in started.stderr
    demo = _start(service, {"MADOGUCHI_VAR_DIR": str(tmp_path), "MADOGUCHI_DEMO": "1"})
    assert demo.returncode == 0, demo.stderr
