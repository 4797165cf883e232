from typing import Any

from django.db import transaction

from madoguchi.platform.demo import (
    DEMO_AGENCIES,
    DEMO_SBPS_LINK_SERVICE_ID,
    DEMO_SBPS_MERCHANT_ID,
    demo_sbps_hash_key,
    generate_password,
)
from madoguchi.shinsei.staff.models import StaffAccount

from .models import Agency, Department, Procedure, RetentionAction
from .services import form_version_current

PERSON_QUESTIONS: list[dict[str, Any]] = [
    {
        "name": "name",
        "label": "氏名",
        "label_en": "Full name",
        "type": "text",
        "max_length": 50,
        "step": "申請者の情報",
        "step_en": "About you",
    },
    {
        "name": "name_kana",
        "label": "氏名（フリガナ）",
        "label_en": "Full name in katakana",
        "type": "text",
        "max_length": 50,
    },
    {
        "name": "birth_date",
        "label": "生年月日",
        "label_en": "Date of birth",
        "type": "date",
        "help": "例：1990-04-01",
        "help_en": "For example, 1990-04-01",
    },
    {
        "name": "address",
        "label": "住所",
        "label_en": "Address",
        "type": "address",
        "help": "例：藤沢市朝日町1番地の1",
        "help_en": "For example, 藤沢市朝日町1番地の1 (as written in Japanese)",
    },
    {
        "name": "phone",
        "label": "電話番号",
        "label_en": "Phone number",
        "type": "tel",
        "help": "日中に連絡がとれる番号",
        "help_en": "A number we can call in the daytime",
    },
    {
        "name": "email",
        "label": "メールアドレス",
        "label_en": "Email address",
        "type": "email",
        "required": False,
        "help": "審査の結果などをお知らせします。",
        "help_en": "We tell you the result of the review and other news by email.",
    },
]
COPIES = {
    "name": "copies",
    "label": "通数",
    "label_en": "Number of copies",
    "type": "number",
    "min": 1,
    "max": 10,
    "help": "1通300円です。",
    "help_en": "¥300 per copy.",
    "step": "請求の内容",
    "step_en": "Your request",
}

DEPARTMENTS = [
    ("mayor", "shimin", "市民課"),
    ("mayor", "shiminzei", "市民税課"),
    ("agri-committee", "nougyou-jimukyoku", "農業委員会事務局"),
    ("kyoiku-iinkai", "shougai-gakushu", "生涯学習課"),
]
# Agencies whose fees Shinsei collects through SBPS's link type, not Kessai.
SBPS_LINK_AGENCIES = {"kyoiku-iinkai"}

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
                "label_en": "Purpose",
                "type": "select",
                "choices": ["就職", "年金", "自動車登録", "その他"],
                "choices_en": ["Employment", "Pension", "Car registration", "Other"],
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
                "label_en": "Fiscal year",
                "type": "select",
                "choices": ["令和8年度", "令和7年度", "令和6年度"],
                "choices_en": ["FY2026 (Reiwa 8)", "FY2025 (Reiwa 7)", "FY2024 (Reiwa 6)"],
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
                "label_en": "Lot numbers of the farmland",
                "type": "textarea",
                "max_length": 500,
                "help": "複数ある場合は改行して入力してください。",
                "help_en": "Put each lot on a line of its own.",
                "step": "農地の情報",
                "step_en": "The farmland",
            },
        ],
    },
    {
        "department": "shougai-gakushu",
        "slug": "kominkan-shiyo",
        "name": "公民館の使用申請",
        "description": (
            "公民館の会議室・ホールを使用するための申請です。"
            "使用料はSBペイメントサービスの画面でお支払いいただきます。"
        ),
        "fee_kind": Procedure.FeeKind.FIXED,
        "fee_amount": 1200,
        "questions": [
            *PERSON_QUESTIONS,
            {
                "name": "room",
                "label": "使用する部屋",
                "label_en": "Room",
                "type": "select",
                "choices": ["第1会議室", "第2会議室", "大会議室"],
                "choices_en": ["Meeting room 1", "Meeting room 2", "Large meeting room"],
                "step": "使用の内容",
                "step_en": "Your booking",
            },
        ],
    },
    {
        # Every question type, a condition, a file and no fee.
        "department": "shimin",
        "slug": "kosodate-hojokin",
        "english": {
            "name": {"label_en": "Full name", "step_en": "About you"},
            "email": {"label_en": "Email address"},
            "phone": {"label_en": "Phone number"},
            "address": {"label_en": "Address"},
            "children": {"label_en": "Number of children", "step_en": "The service"},
            "start_date": {"label_en": "Start date", "help_en": "For example, 2026-04-01"},
            "provider_postal": {"label_en": "Provider's postcode"},
            "service": {
                "label_en": "Service",
                "choices_en": ["Temporary childcare", "Pick-up and drop-off", "Other"],
            },
            "days": {
                "label_en": "Days of use",
                "help_en": "Select all that apply.",
                "choices_en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
            },
            "reason": {"label_en": "Why you need the service"},
            "service_other": {"label_en": "Describe the other service", "step_en": "Details"},
            "receipt": {
                "label_en": "Receipt for the fee",
                "help_en": "A photo is fine.",
                "step_en": "Documents",
            },
        },
        "name": "子育て支援サービス利用補助金の交付申請",
        "description": "一時預かりや送迎などの子育て支援サービスの利用料の一部を補助します。",
        "fee_kind": Procedure.FeeKind.NONE,
        "fee_amount": 0,
        "questions": [
            {
                "name": "name",
                "label": "氏名",
                "type": "text",
                "max_length": 50,
                "step": "申請者の情報",
            },
            {"name": "email", "label": "メールアドレス", "type": "email"},
            {"name": "phone", "label": "電話番号", "type": "tel"},
            {"name": "address", "label": "住所", "type": "address"},
            {
                "name": "children",
                "label": "お子さんの人数",
                "type": "number",
                "min": 1,
                "max": 10,
                "step": "利用の内容",
            },
            {"name": "start_date", "label": "利用開始日", "type": "date", "help": "例：2026-04-01"},
            {
                "name": "service",
                "label": "利用するサービス",
                "type": "radio",
                "choices": ["一時預かり", "送迎", "その他"],
            },
            {
                "name": "days",
                "label": "利用する曜日",
                "type": "checkboxes",
                "choices": ["月", "火", "水", "木", "金"],
                "help": "当てはまるものをすべて選んでください。",
            },
            {
                "name": "provider_postal",
                "label": "事業所の郵便番号",
                "type": "postal_code",
                "required": False,
            },
            {
                "name": "reason",
                "label": "利用する理由",
                "type": "textarea",
                "max_length": 1000,
            },
            {
                "name": "service_other",
                "label": "その他のサービスの内容",
                "type": "text",
                "step": "サービスの詳細",
                "show_if": {"question": "service", "equals": "その他"},
            },
            {
                "name": "receipt",
                "label": "利用料の領収書",
                "type": "file",
                "accept": ["pdf", "jpg", "png"],
                "max_bytes": 2 * 1024 * 1024,
                "step": "添付書類",
                "help": "写真でも構いません。",
            },
        ],
    },
]


# 利用目的 and retention (文書管理規程: certificates 1 year, subsidies 5).
def _certificate(name: str, years: int) -> dict[str, Any]:
    return {
        "purpose": f"{name}の交付、手数料の請求、申請者への連絡のため",
        "retention_years": years,
    }


PRIVACY: dict[str, dict[str, Any]] = {
    "juminhyo": _certificate("住民票の写し", 1),
    "inkan": _certificate("印鑑登録証明書", 1),
    "shotoku-shomei": _certificate("所得証明書", 1),
    "kousaku-shomei": _certificate("耕作証明書", 3),
    "kominkan-shiyo": {
        "purpose": "公民館の使用の許可、使用料の請求、申請者への連絡のため",
        "retention_years": 1,
    },
    "kosodate-hojokin": {
        "purpose": "子育て支援サービス利用補助金の交付決定と支給、申請者への連絡のため",
        "retention_years": 5,
        "retention_action": RetentionAction.ANONYMISE,
    },
}


@transaction.atomic
def seed_demo(*, kessai_credentials: dict[str, Any]) -> dict[str, Any] | None:
    """Create agencies, departments, procedures and one staff account per
    department; None if already seeded."""
    if Agency.objects.exists():
        return None
    agencies = {}
    for code, name in DEMO_AGENCIES:
        creds = kessai_credentials["merchants"][code]
        gateway: dict[str, str] = {}
        if code in SBPS_LINK_AGENCIES:
            gateway = {
                "payment_gateway": "sbps_link",
                "sbps_merchant_id": DEMO_SBPS_MERCHANT_ID,
                "sbps_service_id": DEMO_SBPS_LINK_SERVICE_ID,
                "sbps_hash_key": demo_sbps_hash_key(),
            }
        agencies[code] = Agency.objects.create(
            code=code,
            name=name,
            kessai_api_key=creds["api_key"],
            kessai_notification_secrets=[creds["notification_secret"]],
            **gateway,
        )
    departments = {}
    for agency_code, code, name in DEPARTMENTS:
        departments[code] = Department.objects.create(
            agency=agencies[agency_code], code=code, name=name
        )
    for spec in PROCEDURES:
        procedure = Procedure.objects.create(
            department=departments[spec["department"]],
            slug=spec["slug"],
            name=spec["name"],
            description=spec["description"],
            fee_kind=spec["fee_kind"],
            fee_amount=spec["fee_amount"],
            quantity_field=spec.get("quantity_field", ""),
            form_fields=[
                {**q, **spec.get("english", {}).get(q["name"], {})} for q in spec["questions"]
            ],
            **PRIVACY.get(spec["slug"], {}),
        )
        form_version_current(procedure=procedure, created_by="seed")
    accounts = []
    people = [
        (f"staff-{code}", f"{department.name} 担当者", department, StaffAccount.Role.STAFF)
        for code, department in departments.items()
    ]
    people += [
        ("reviewer-mayor", "市長部局 審査者", departments["shimin"], StaffAccount.Role.REVIEWER),
        ("admin-mayor", "市長部局 管理者", departments["shimin"], StaffAccount.Role.ADMINISTRATOR),
        # Approves the 還付 of 教育委員会 (its fees are collected through SBPS).
        (
            "reviewer-kyoiku",
            "教育委員会 審査者",
            departments["shougai-gakushu"],
            StaffAccount.Role.REVIEWER,
        ),
    ]
    for login_id, display_name, department, role in people:
        password = generate_password()
        staff = StaffAccount(
            login_id=login_id,
            display_name=display_name,
            department=department,
            role=role,
            # The printed demo password is the owner's own (see docs/security.md).
            must_change_password=False,
        )
        staff.set_password(password)
        staff.save()
        accounts.append(
            {
                "login_id": staff.login_id,
                "password": password,
                "department": department.name,
                "role": role.value,
            }
        )
    return {"staff_accounts": accounts}
