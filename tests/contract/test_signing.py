import pytest

from madoguchi.contract.signing import SignatureError, sign, verify

BODY = b'{"id":"evt_1","type":"payment.succeeded"}'


def test_signature_round_trip_returns_signed_timestamp() -> None:
    header = sign(BODY, ["secret-a"], timestamp=1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert verify(header, BODY, ["secret-a"], now=1_700_000_010) == 1_700_000_000


def test_known_vector_matches_hmac_sha256_of_timestamp_dot_body() -> None:
    # hmac.new(b"whsec", b"1.{}", sha256).hexdigest(), computed independently
    assert sign(b"{}", ["whsec"], timestamp=1) == (
        "t=1,v1=6ab13b5991724d5a0c7f02d7989ba3425b580e39d5b9a0a6258a7f5d0419173a"
    )


def test_tampered_body_is_rejected() -> None:
    header = sign(BODY, ["secret-a"], timestamp=100)
    with pytest.raises(SignatureError, match="no signature matches"):
        verify(header, BODY.replace(b"succeeded", b"cancelled"), ["secret-a"], now=100)


def test_wrong_secret_is_rejected() -> None:
    header = sign(BODY, ["secret-a"], timestamp=100)
    with pytest.raises(SignatureError):
        verify(header, BODY, ["secret-b"], now=100)


@pytest.mark.parametrize("age", [301, -301])
def test_timestamp_outside_tolerance_is_rejected(age: int) -> None:
    header = sign(BODY, ["s"], timestamp=1000)
    with pytest.raises(SignatureError, match="tolerance"):
        verify(header, BODY, ["s"], now=1000 + age)


def test_rotation_either_secret_verifies_a_doubly_signed_body() -> None:
    header = sign(BODY, ["new-secret", "old-secret"], timestamp=5)
    assert header.count("v1=") == 2
    assert verify(header, BODY, ["old-secret"], now=5) == 5
    assert verify(header, BODY, ["new-secret"], now=5) == 5


@pytest.mark.parametrize("header", ["", "t=abc,v1=00", "v1=00", "t=5"])
def test_malformed_headers_are_rejected(header: str) -> None:
    with pytest.raises(SignatureError):
        verify(header, BODY, ["s"], now=5)
