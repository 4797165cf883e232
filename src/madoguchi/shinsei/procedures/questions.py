"""Question definitions: what a procedure's form is made of.

A question is a dict::

    {"name": "copies", "label": "通数", "type": "number", "required": true,
     "help": "1通300円です。", "min": 1, "max": 10,
     "step": "申請内容",                      # questions are asked in steps
     "choices": ["就職", "年金"],             # radio / checkboxes / select
     "accept": ["pdf", "jpg", "png"], "max_bytes": 5242880,   # file
     "show_if": {"question": "purpose", "equals": "その他"}}   # conditional

Conditions may only refer to a question of an earlier step, so the citizen
always answers the condition before the question it reveals, without script.
"""

from dataclasses import dataclass, field
from typing import Any

QUESTION_TYPES: dict[str, str] = {
    "text": "短い文章",
    "textarea": "長い文章",
    "number": "数値",
    "date": "日付",
    "radio": "単一選択",
    "select": "単一選択（一覧）",
    "checkboxes": "複数選択",
    "email": "メールアドレス",
    "tel": "電話番号",
    "postal_code": "郵便番号",
    "address": "住所（郵便番号・都道府県・市区町村以下）",
    "file": "ファイル",
}
CHOICE_TYPES = ("radio", "select", "checkboxes")
DEFAULT_STEP = "申請内容"
FILE_TYPES: dict[str, tuple[str, ...]] = {
    "pdf": ("application/pdf",),
    "jpg": ("image/jpeg",),
    "jpeg": ("image/jpeg",),
    "png": ("image/png",),
}
DEFAULT_FILE_TYPES = ["pdf", "jpg", "png"]
DEFAULT_MAX_BYTES = 5 * 1024 * 1024

PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県",
    "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県",
    "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県",
    "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県",
    "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県",
    "徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県",
    "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)  # fmt: skip
# Shown in English mode (the value stored stays Japanese).
PREFECTURES_EN = (
    "Hokkaido", "Aomori", "Iwate", "Miyagi", "Akita", "Yamagata", "Fukushima",
    "Ibaraki", "Tochigi", "Gunma", "Saitama", "Chiba", "Tokyo", "Kanagawa",
    "Niigata", "Toyama", "Ishikawa", "Fukui", "Yamanashi", "Nagano", "Gifu",
    "Shizuoka", "Aichi", "Mie", "Shiga", "Kyoto", "Osaka", "Hyogo",
    "Nara", "Wakayama", "Tottori", "Shimane", "Okayama", "Hiroshima", "Yamaguchi",
    "Tokushima", "Kagawa", "Ehime", "Kochi", "Fukuoka", "Saga", "Nagasaki",
    "Kumamoto", "Oita", "Miyazaki", "Kagoshima", "Okinawa",
)  # fmt: skip


class QuestionError(ValueError):
    pass


@dataclass
class Step:
    number: int
    title: str
    questions: list[dict[str, Any]] = field(default_factory=list)


def steps_of(questions: list[dict[str, Any]]) -> list[Step]:
    """Group questions into steps, in order; a question without "step" stays
    in the step before it."""
    steps: list[Step] = []
    for question in questions:
        title = str(question.get("step") or (steps[-1].title if steps else DEFAULT_STEP))
        if not steps or steps[-1].title != title:
            steps.append(Step(number=len(steps) + 1, title=title))
        steps[-1].questions.append(question)
    return steps


def is_visible(question: dict[str, Any], answers: dict[str, Any]) -> bool:
    condition = question.get("show_if")
    if not condition:
        return True
    value = answers.get(condition["question"])
    expected = condition["equals"]
    if isinstance(value, list):
        return expected in value
    return bool(value == expected)


def validate_questions(questions: Any) -> list[dict[str, Any]]:
    """Check an administrator's form definition; raise QuestionError in Japanese."""
    if not isinstance(questions, list) or not questions:
        raise QuestionError("質問を1つ以上定義してください。")
    seen: dict[str, int] = {}
    step_of: dict[str, int] = {}
    for step in steps_of([q for q in questions if isinstance(q, dict)]):
        for q in step.questions:
            step_of[str(q.get("name"))] = step.number
    for index, q in enumerate(questions, start=1):
        if not isinstance(q, dict):
            raise QuestionError(f"{index}番目の質問の形式が正しくありません。")
        name, label, kind = q.get("name"), q.get("label"), q.get("type")
        if not isinstance(name, str) or not name.isidentifier() or "__" in name:
            raise QuestionError(f"{index}番目の質問の name は半角英数字で指定してください。")
        if name in seen:
            raise QuestionError(f"質問の name「{name}」が重複しています。")
        seen[name] = index
        if not isinstance(label, str) or not label.strip():
            raise QuestionError(f"質問「{name}」の label を指定してください。")
        if kind not in QUESTION_TYPES:
            raise QuestionError(f"質問「{name}」の type「{kind}」は使えません。")
        if kind in CHOICE_TYPES:
            choices = q.get("choices")
            if not isinstance(choices, list) or not choices:
                raise QuestionError(f"質問「{name}」の choices を指定してください。")
        if kind == "file":
            for ext in q.get("accept", DEFAULT_FILE_TYPES):
                if ext not in FILE_TYPES:
                    raise QuestionError(f"質問「{name}」のファイル形式「{ext}」は使えません。")
        condition = q.get("show_if")
        if condition is not None:
            if not isinstance(condition, dict) or {"question", "equals"} - set(condition):
                raise QuestionError(
                    f"質問「{name}」の show_if は question と equals を指定してください。"
                )
            target = condition["question"]
            if target not in step_of or step_of[target] >= step_of[name]:
                raise QuestionError(
                    f"質問「{name}」の表示条件は、前のステップの質問を指定してください。"
                )
    return questions
