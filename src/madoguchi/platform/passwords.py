"""The password policy of both services' accounts (seed 2(6)ア(イ), PCI DSS 8.3).

At least 12 characters with letters and digits, none of the last four
passwords, none from Django's list of 20,000 common passwords (its
``CommonPasswordValidator`` reads a file shipped with Django and works without
``django.contrib.auth`` installed), not close to the login ID or name and
not containing either (``staff-shimin`` repeated, or the name with a year,
is not "similar" by Django's ratio but is just as guessable).
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    MinimumLengthValidator,
    UserAttributeSimilarityValidator,
)
from django.core.exceptions import ValidationError

MIN_LENGTH = 12
HISTORY = 4  # the current password and the three before it


def max_age() -> timedelta:
    return timedelta(days=int(getattr(settings, "MADOGUCHI_PASSWORD_MAX_AGE_DAYS", 365)))


def _folded(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _contains_identity(raw: str, account: Any) -> bool:
    """The login ID, the whole name or a part of it (3+ letters; 2+ for
    Japanese names, whose parts are short) inside the password."""
    password = _folded(raw)
    name = str(getattr(account, "display_name", "") or "")
    pieces = [str(getattr(account, "login_id", "") or ""), name, *name.split()]
    for piece in map(_folded, pieces):
        shortest = 2 if any(ord(c) > 0x2FFF for c in piece) else 3
        if len(piece) >= shortest and piece in password:
            return True
    return False


def password_problems(raw: str, *, account: Any) -> list[str]:
    """Every rule ``raw`` breaks, in Japanese, empty if it is acceptable."""
    problems: list[str] = []
    try:
        MinimumLengthValidator(MIN_LENGTH).validate(raw)
    except ValidationError:
        problems.append(f"パスワードは{MIN_LENGTH}文字以上にしてください。")
    if not (any(c.isalpha() for c in raw) and any(c.isdigit() for c in raw)):
        problems.append("パスワードには英字と数字の両方を含めてください。")
    try:
        CommonPasswordValidator().validate(raw)
    except ValidationError:
        problems.append("よく使われるパスワードは使えません。")
    try:
        UserAttributeSimilarityValidator(user_attributes=("login_id", "display_name")).validate(
            raw, account
        )
    except ValidationError:
        problems.append("ログインIDや氏名に似たパスワードは使えません。")
    else:
        if _contains_identity(raw, account):
            problems.append("ログインIDや氏名を含むパスワードは使えません。")
    recent = [account.password, *account.password_history][:HISTORY]
    if any(encoded and check_password(raw, encoded) for encoded in recent):
        problems.append(f"直近{HISTORY}回に使ったパスワードは使えません。")
    return problems
