from typing import Any

from django.db import transaction

from madoguchi.platform.demo import DEMO_AGENCIES, generate_password
from madoguchi.shinsei.staff.models import StaffAccount

from .models import Agency, Department, Procedure

PERSON_QUESTIONS: list[dict[str, Any]] = [
    {"name": "name", "label": "氏名", "type": "text", "max_length": 50},
    {"name": "name_kana", "label": "氏名（フリガナ）", "type": "text", "max_length": 50},
    {"name": "birth_date", "label": "生年月日", "type": "date"},
    {"name": "postal_code", "label": "郵便番号", "type": "postal_code", "help": "例：251-8601"},
    {"name": "address", "label": "住所", "type": "text", "max_length": 200},
    {"name": "phone", "label": "電話番号", "type": "tel", "help": "日中に連絡がとれる番号"},
    {"name": "email", "label": "メールアドレス", "type": "email", "required": False},
]
COPIES = {
    "name": "copies",
    "label": "通数",
    "type": "number",
    "min": 1,
    "max": 10,
    "help": "1通300円です。",
}

DEPARTMENTS = [
    ("mayor", "shimin", "市民課"),
    ("mayor", "shiminzei", "市民税課"),
    ("agri-committee", "nougyou-jimukyoku", "農業委員会事務局"),
]

PROCEDURES: list[dict[str, Any]] = [
    {
        "department": "shimin",
        "slug": "juminhyo",
        "name": "住民票の写しの交付申請",
        "description": "住民票の写しを郵送で受け取るための申請です。",
        "fee_kind": Procedure.FeeKind.PER_UNIT,
        "fee_amount": 300,
        "quantity_field": "copies",
        "questions": [
            *PERSON_QUESTIONS,
            COPIES,
            {
                "name": "purpose",
                "label": "使用目的",
                "type": "select",
                "choices": ["就職", "年金", "自動車登録", "その他"],
            },
        ],
    },
    {
        "department": "shimin",
        "slug": "inkan",
        "name": "印鑑登録証明書の交付申請",
        "description": "印鑑登録証明書を郵送で受け取るための申請です。",
        "fee_kind": Procedure.FeeKind.PER_UNIT,
        "fee_amount": 300,
        "quantity_field": "copies",
        "questions": [*PERSON_QUESTIONS, COPIES],
    },
    {
        "department": "shiminzei",
        "slug": "shotoku-shomei",
        "name": "所得証明書の交付申請",
        "description": "所得・課税証明書を郵送で受け取るための申請です。",
        "fee_kind": Procedure.FeeKind.PER_UNIT,
        "fee_amount": 300,
        "quantity_field": "copies",
        "questions": [
            *PERSON_QUESTIONS,
            COPIES,
            {
                "name": "fiscal_year",
                "label": "年度",
                "type": "select",
                "choices": ["令和8年度", "令和7年度", "令和6年度"],
            },
        ],
    },
    {
        "department": "nougyou-jimukyoku",
        "slug": "kousaku-shomei",
        "name": "耕作証明書の交付申請",
        "description": "農地の耕作状況の証明書の交付申請です。",
        "fee_kind": Procedure.FeeKind.FIXED,
        "fee_amount": 300,
        "questions": [
            *PERSON_QUESTIONS,
            {
                "name": "farmland",
                "label": "農地の所在地番",
                "type": "textarea",
                "max_length": 500,
                "help": "複数ある場合は改行して入力してください。",
            },
        ],
    },
]


@transaction.atomic
def seed_demo(*, kessai_credentials: dict[str, Any]) -> dict[str, Any] | None:
    """Create agencies, departments, procedures and one staff account per
    department; None if already seeded."""
    if Agency.objects.exists():
        return None
    agencies = {}
    for code, name in DEMO_AGENCIES:
        creds = kessai_credentials["merchants"][code]
        agencies[code] = Agency.objects.create(
            code=code,
            name=name,
            kessai_api_key=creds["api_key"],
            kessai_notification_secrets=[creds["notification_secret"]],
        )
    departments = {}
    for agency_code, code, name in DEPARTMENTS:
        departments[code] = Department.objects.create(
            agency=agencies[agency_code], code=code, name=name
        )
    for spec in PROCEDURES:
        Procedure.objects.create(
            department=departments[spec["department"]],
            slug=spec["slug"],
            name=spec["name"],
            description=spec["description"],
            fee_kind=spec["fee_kind"],
            fee_amount=spec["fee_amount"],
            quantity_field=spec.get("quantity_field", ""),
            form_fields=spec["questions"],
        )
    accounts = []
    for code, department in departments.items():
        password = generate_password()
        staff = StaffAccount(
            login_id=f"staff-{code}",
            display_name=f"{department.name} 担当者",
            department=department,
            # The printed demo password is the owner's own (see docs/security.md).
            must_change_password=False,
        )
        staff.set_password(password)
        staff.save()
        accounts.append(
            {"login_id": staff.login_id, "password": password, "department": department.name}
        )
    return {"staff_accounts": accounts}
