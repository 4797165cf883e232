"""Answers for the demo procedure that uses every question type."""

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

ALL_TYPES = "kosodate-hojokin"
STEP1 = {
    "name": "藤沢 花子",
    "email": "hanako@example.jp",
    "phone": "0466-25-1111",
    "address__postal_code": "251-8601",
    "address__prefecture": "神奈川県",
    "address__line": "藤沢市朝日町1番地の1",
}
STEP2: dict[str, Any] = {
    "children": "2",
    "start_date": "2026-04-01",
    "service": "その他",
    "days": ["月", "水"],
    "provider_postal": "2510052",
    "reason": "仕事のため\n週2回利用します",
}
STEP3 = {"service_other": "病児保育"}


def receipt(name: str = "receipt.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")
