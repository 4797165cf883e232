import pytest
from pydantic import ValidationError

from madoguchi.contract.schemas import PaymentCreateRequest

VALID = {"reference": "123456789012", "amount": 300, "return_url": "https://x.test/r"}


def test_valid_request_parses() -> None:
    request = PaymentCreateRequest.model_validate(VALID)
    assert (request.reference, request.amount, request.language) == ("123456789012", 300, "ja")


@pytest.mark.parametrize("field", ["name", "address", "procedure_name", "email"])
def test_personal_data_fields_are_refused(field: str) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        PaymentCreateRequest.model_validate({**VALID, field: "藤沢 太郎"})


@pytest.mark.parametrize("reference", ["藤沢太郎", "abc", "x" * 41, "12 34", "a/b"])
def test_reference_must_be_an_opaque_number(reference: str) -> None:
    with pytest.raises(ValidationError):
        PaymentCreateRequest.model_validate({**VALID, "reference": reference})


@pytest.mark.parametrize("amount", [0, -300, 10_000_000])
def test_amount_must_be_positive_yen_within_bounds(amount: int) -> None:
    with pytest.raises(ValidationError):
        PaymentCreateRequest.model_validate({**VALID, "amount": amount})
