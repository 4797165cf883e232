"""The form a citizen is filling in, held in the session between steps.

``data`` is the raw form data exactly as typed (so an error never loses an
answer), ``files`` the files already kept. The answers are recomputed from
``data`` by the step forms whenever they are needed.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib.sessions.backends.base import SessionBase

from madoguchi.shinsei.procedures.models import FormVersion, Procedure
from madoguchi.shinsei.procedures.questions import Step, is_visible, steps_of

from .forms import StepForm, answers_to_data


@dataclass
class Flow:
    version_id: int
    data: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Any] = field(default_factory=dict)
    resubmit: str = ""  # the reference being corrected after 差戻し
    draft_id: int | None = None

    @staticmethod
    def key(procedure: Procedure) -> str:
        return f"form:{procedure.slug}"

    @classmethod
    def load(cls, session: SessionBase, procedure: Procedure) -> "Flow | None":
        raw = session.get(cls.key(procedure))
        return cls(**raw) if raw else None

    def save(self, session: SessionBase, procedure: Procedure) -> None:
        session[self.key(procedure)] = self.__dict__.copy()

    @classmethod
    def clear(cls, session: SessionBase, procedure: Procedure) -> None:
        session.pop(cls.key(procedure), None)

    @classmethod
    def for_correction(
        cls, version: FormVersion, answers: dict[str, Any], reference: str
    ) -> "Flow":
        questions = list(version.questions)
        files = {
            q["name"]: answers[q["name"]]
            for q in questions
            if q["type"] == "file" and isinstance(answers.get(q["name"]), dict)
        }
        return cls(
            version_id=version.pk,
            data=answers_to_data(questions, answers),
            files=files,
            resubmit=reference,
        )


def step_form(flow: Flow, step: Step, answers_before: dict[str, Any], **kwargs: Any) -> StepForm:
    return StepForm(step.questions, answers_before, kept_files=flow.files, **kwargs)


def answers_upto(
    flow: Flow, questions: list[dict[str, Any]], last_step: int | None = None
) -> tuple[dict[str, Any], int | None]:
    """Answers of steps 1..last_step (all when None) and the first step that
    is not yet valid (None when all are)."""
    answers: dict[str, Any] = {}
    first_invalid: int | None = None
    for step in steps_of(questions):
        if last_step is not None and step.number > last_step:
            break
        form = step_form(flow, step, answers, data=_as_querydict(flow.data))
        if form.is_valid():
            answers.update(form.answers())
        else:
            if first_invalid is None:
                first_invalid = step.number
            answers.update({k: v for k, v in form.answers_partial().items() if v not in (None, "")})
        for q in form.questions:
            if q["type"] == "file" and q["name"] in flow.files:
                answers[q["name"]] = flow.files[q["name"]]
    # Answers to questions a condition now hides are dropped.
    answers = {
        q["name"]: answers[q["name"]]
        for q in questions
        if q["name"] in answers and is_visible(q, answers)
    }
    return answers, first_invalid


def _as_querydict(data: dict[str, Any]) -> Any:
    from django.http import QueryDict

    qd = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list):
            qd.setlist(key, [str(v) for v in value])
        else:
            qd[key] = str(value)
    return qd
