"""The password policy of both services' accounts (seed 2(6)ア(イ), PCI DSS 8.3),
as Django password validators (``AUTH_PASSWORD_VALIDATORS`` in
settings_base): at least 12 characters with letters and digits, none of the
last four passwords, none from Django's list of 20,000 common passwords, not
close to the login ID or name and not containing either (``staff-shimin``
repeated, or the name with a year, is not "similar" by Django's ratio but is
just as guessable). Messages are the policy's own Japanese sentences.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    MinimumLengthValidator,
    UserAttributeSimilarityValidator,
    validate_password,
)
from django.core.exceptions import ValidationError

MIN_LENGTH = 12
HISTORY = 4  # the current password and the three before it


def max_age() -> timedelta:
    return timedelta(days=int(getattr(settings, "MADOGUCHI_PASSWORD_MAX_AGE_DAYS", 365)))


class LengthValidator(MinimumLengthValidator):
    def __init__(self, min_length: int = MIN_LENGTH) -> None:
        super().__init__(min_length)

    def get_error_message(self) -> str:
        return f"パスワードは{self.min_length}文字以上にしてください。"


class LettersAndDigitsValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
            raise ValidationError("パスワードには英字と数字の両方を含めてください。")

    def get_help_text(self) -> str:
        return "英字と数字の両方を含めてください。"


class CommonValidator(CommonPasswordValidator):
    def get_error_message(self) -> str:
        return "よく使われるパスワードは使えません。"


class IdentityValidator(UserAttributeSimilarityValidator):
    """Django's similarity check on the login ID and name, then containment:
    the login ID, the whole name or a part of it (3+ letters; 2+ for Japanese
    names, whose parts are short)."""

    def __init__(self) -> None:
        super().__init__(user_attributes=("login_id", "display_name"))

    def validate(self, password: str, user: Any = None) -> None:
        try:
            super().validate(password, user)
        except ValidationError:
            raise ValidationError("ログインIDや氏名に似たパスワードは使えません。") from None
        if user is not None and _contains_identity(password, user):
            raise ValidationError("ログインIDや氏名を含むパスワードは使えません。")


class HistoryValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if user is None:
            return
        recent = [user.password, *user.password_history][:HISTORY]
        if any(encoded and check_password(password, encoded) for encoded in recent):
            raise ValidationError(f"直近{HISTORY}回に使ったパスワードは使えません。")

    def get_help_text(self) -> str:
        return f"直近{HISTORY}回に使ったパスワードは使えません。"


def _folded(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _contains_identity(raw: str, account: Any) -> bool:
    password = _folded(raw)
    name = str(getattr(account, "display_name", "") or "")
    pieces = [str(getattr(account, "login_id", "") or ""), name, *name.split()]
    for piece in map(_folded, pieces):
        shortest = 2 if any(ord(c) > 0x2FFF for c in piece) else 3
        if len(piece) >= shortest and piece in password:
            return True
    return False


def password_problems(raw: str, *, account: Any) -> list[str]:
    """Every rule ``raw`` breaks, in Japanese, empty if it is acceptable
    (Django's ``validate_password`` with the configured validators)."""
    try:
        validate_password(raw, user=account)
    except ValidationError as error:
        return list(error.messages)
    return []
