"""Card numbers: Luhn, brands from BIN ranges, expiry. Card data lives only in
``CardDetails`` objects in memory, whose repr hides it."""

import datetime
from dataclasses import dataclass, field

BRAND_RANGES: tuple[tuple[str, tuple[tuple[int, int], ...], tuple[int, ...]], ...] = (
    # brand, (low, high) prefixes of varying length, valid lengths
    ("amex", ((34, 34), (37, 37)), (15,)),
    ("diners", ((300, 305), (36, 36), (38, 39)), (14, 15, 16)),
    ("jcb", ((3528, 3589),), (16,)),
    ("mastercard", ((51, 55), (2221, 2720)), (16,)),
    ("visa", ((4, 4),), (13, 16, 19)),
)

BRAND_LABELS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "jcb": "JCB",
    "amex": "American Express",
    "diners": "Diners Club",
}


def luhn_valid(number: str) -> bool:
    if not number.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def detect_brand(number: str) -> str | None:
    for brand, ranges, lengths in BRAND_RANGES:
        if len(number) not in lengths:
            continue
        for low, high in ranges:
            width = len(str(low))
            if low <= int(number[:width]) <= high:
                return brand
    return None


def normalize_number(raw: str) -> str:
    return "".join(ch for ch in raw if ch not in " -")


@dataclass(frozen=True)
class CardDetails:
    number: str = field(repr=False)
    exp_month: int = field(repr=False)
    exp_year: int = field(repr=False)
    security_code: str = field(repr=False)

    @property
    def brand(self) -> str:
        return detect_brand(self.number) or "unknown"

    @property
    def last4(self) -> str:
        return self.number[-4:]

    def __str__(self) -> str:
        return f"CardDetails({self.brand} ****{self.last4})"


def card_expired(exp_month: int, exp_year: int, today: datetime.date) -> bool:
    return (exp_year, exp_month) < (today.year, today.month)
