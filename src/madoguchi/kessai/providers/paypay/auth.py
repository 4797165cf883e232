"""PayPay Open Payment API request authentication: the ``OPA-Auth`` HMAC
header, exactly as PayPay's "API認証 (HMAC)" document specifies.

1. ``hash`` = Base64(MD5(content type + body)); ``"empty"`` (and content type
   ``"empty"``) when there is no body.
2. ``macData`` = Base64(HMAC-SHA256(api secret, request path, method, nonce,
   epoch, content type, hash — joined with "\\n")).
3. ``Authorization: hmac OPA-Auth:<api key>:<macData>:<nonce>:<epoch>:<hash>``.

The documented sample vector pins it down (tests/kessai/test_paypay.py).
PayPay's simulator checks requests with its own, independent implementation.
"""

import base64
import hashlib
import hmac
import secrets
import time

EMPTY = "empty"


def body_hash(content_type: str, body: bytes | None) -> str:
    if not body:
        return EMPTY
    digest = hashlib.md5(content_type.encode() + body, usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()


def mac_data(
    *,
    api_secret: str,
    path: str,
    method: str,
    nonce: str,
    epoch: int,
    content_type: str,
    hash_: str,
) -> str:
    raw = "\n".join([path, method, nonce, str(epoch), content_type, hash_])
    mac = hmac.new(api_secret.encode(), raw.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def opa_auth_header(
    *,
    api_key: str,
    api_secret: str,
    path: str,
    method: str,
    body: bytes | None,
    content_type: str,
    nonce: str | None = None,
    epoch: int | None = None,
) -> str:
    """The ``Authorization`` header value for one request. ``path`` excludes
    the query string, as PayPay's SDKs do."""
    nonce = nonce if nonce is not None else secrets.token_hex(4)
    epoch = epoch if epoch is not None else int(time.time())
    hash_ = body_hash(content_type, body)
    signed_type = content_type if body else EMPTY
    mac = mac_data(
        api_secret=api_secret,
        path=path.split("?")[0],
        method=method.upper(),
        nonce=nonce,
        epoch=epoch,
        content_type=signed_type,
        hash_=hash_,
    )
    return f"hmac OPA-Auth:{api_key}:{mac}:{nonce}:{epoch}:{hash_}"
