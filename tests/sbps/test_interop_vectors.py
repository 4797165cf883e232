"""Interop vectors: the sample hash codes and bodies published with
wozaki/sbpayment.rb (its specs, examples and recorded SBPS sandbox traffic),
reproduced exactly by our SBPS client."""

from datetime import datetime

import pytest

from madoguchi.sbps import api, link
from madoguchi.sbps.hashcode import sps_hashcode

# The sandbox merchant of the samples.
SAMPLE_HASH_KEY = "398a58952baf329cac5efbae97ea84ba17028d02"
SAMPLE = link.LinkCredentials(merchant_id="19788", service_id="001", hash_key=SAMPLE_HASH_KEY)

# A 購入結果通知 body as SBPS posts it: Shift_JIS, any field order, item_name 継続課金.
NOTIFICATION_BODY = (
    b"res_payinfo_key=&service_id=001&auto_charge_type=0&free1="
    b"&cust_code=498b1fd98ebeb074ff1d50f2e2720a1a&div_settele=0&free3=&res_sps_payment_no="
    b"&service_type=0&free2=&sps_hashcode=c27fa2286c6fcc2cef2ce31def31386c2e39783e"
    b"&order_id=9eb2fced282c5bfc67c2417217ca2682&camp_type=&res_date=20150807161021&amount=980"
    b"&res_err_code=&last_charge_month=&limit_second=600&pay_type=2"
    b"&res_payment_date=20150807161021&merchant_id=19788&tracking_id="
    b"&res_tracking_id=80312789324671&request_date=20150807161004&pay_item_id=&res_pay_method="
    b"&terminal_type=0&res_sps_cust_no=&pay_method=&tax=&item_name=%8Cp%91%B1%89%DB%8B%E0"
    b"&sps_payment_no=&res_result=OK&item_id=Item+ID&sps_cust_no="
)


def test_sample_notification_parses_byte_for_byte() -> None:
    fields = link.parse_form(NOTIFICATION_BODY)

    assert fields["item_name"] == "継続課金"  # %8Cp%91%B1%89%DB%8B%E0 read as Shift_JIS
    assert fields["item_id"] == "Item ID"  # '+' is a space
    assert fields["res_tracking_id"] == "80312789324671"
    assert fields["sps_cust_no"] == ""  # blank fields are kept: they are hashed
    assert len(fields) == len(link.PURCHASE_RESULT_FIELDS) + 1


def test_sample_notification_hash_in_shift_jis() -> None:
    fields = link.parse_form(NOTIFICATION_BODY)

    result = link.purchase_result_verify(fields, SAMPLE)

    assert result.succeeded
    assert result.amount == 980
    assert result.tracking_id == "80312789324671"
    assert result.payment_date == datetime.fromisoformat("2015-08-07T16:10:21+09:00")


def test_sample_notification_hash_in_utf8() -> None:
    # The same values hashed as UTF-8 give the code the UTF-8 sample carries (upper case).
    fields = link.parse_form(NOTIFICATION_BODY)
    fields["sps_hashcode"] = "BE33A23EC4B61A34545E0A485D0897E33383F4DE"
    utf8 = link.LinkCredentials(
        merchant_id="19788", service_id="001", hash_key=SAMPLE_HASH_KEY, hash_encoding="UTF-8"
    )

    assert link.purchase_result_verify(fields, utf8).order_id == "9eb2fced282c5bfc67c2417217ca2682"
    with pytest.raises(link.InvalidHashcode):
        link.purchase_result_verify(fields, SAMPLE)  # the Shift_JIS hash differs


def test_sample_notification_without_a_field_is_refused() -> None:
    # The library's negative sample: service_id removed.
    body = NOTIFICATION_BODY.replace(b"&service_id=001", b"")

    with pytest.raises(link.InvalidResult, match="missing fields service_id"):
        link.purchase_result_verify(link.parse_form(body), SAMPLE)


def test_tampered_amount_is_refused() -> None:
    body = NOTIFICATION_BODY.replace(b"&amount=980", b"&amount=98")

    with pytest.raises(link.InvalidHashcode):
        link.purchase_result_verify(link.parse_form(body), SAMPLE)


def test_field_sent_twice_is_refused() -> None:
    with pytest.raises(link.InvalidResult):
        link.parse_form(NOTIFICATION_BODY + b"&amount=1")


# Recorded SBPS sandbox traffic (spec/vcr_cassettes/refund.yml), merchant 30132 service 002.
API = api.ApiCredentials(
    merchant_id="30132", service_id="002", hash_key="8435dbd48f2249807ec216c3d5ecab714264cc4a"
)
TRANSACTION = "B30132002ST010011110100123818679"
TRACKING = "00000013413917"


def test_recorded_authorisation_request_byte_for_byte() -> None:
    fields: api.Fields = [
        ("merchant_id", "30132"),
        ("service_id", "002"),
        ("cust_code", "Quipper Customer ID"),
        ("order_id", "aa336287f27f0a5101640af16d90c74c"),
        ("item_id", "Item ID"),
        ("amount", "1000"),
        ("sps_cust_info_return_flg", "1"),
        ("dtls", []),
        (
            "pay_method_info",
            [
                ("cc_number", "4242424242424242"),
                ("cc_expiration", "202001"),
                ("security_code", "000"),
                ("dealings_type", "10"),
            ],
        ),
        ("pay_option_manage", [("cust_manage_flg", "1"), ("cardbrand_return_flg", "1")]),
        ("encrypted_flg", "0"),
        ("request_date", "20150819164409"),
    ]

    body = api.request_body(api.AUTHORIZE, fields, API)

    assert body == (
        b'<?xml version="1.0" encoding="Shift_JIS"?><sps-api-request id="ST01-00111-101">'
        b"<merchant_id>30132</merchant_id><service_id>002</service_id>"
        b"<cust_code>Quipper Customer ID</cust_code>"
        b"<order_id>aa336287f27f0a5101640af16d90c74c</order_id><item_id>Item ID</item_id>"
        b"<amount>1000</amount><sps_cust_info_return_flg>1</sps_cust_info_return_flg>"
        b"<dtls></dtls><pay_method_info><cc_number>4242424242424242</cc_number>"
        b"<cc_expiration>202001</cc_expiration><security_code>000</security_code>"
        b"<dealings_type>10</dealings_type></pay_method_info><pay_option_manage>"
        b"<cust_manage_flg>1</cust_manage_flg><cardbrand_return_flg>1</cardbrand_return_flg>"
        b"</pay_option_manage><encrypted_flg>0</encrypted_flg>"
        b"<request_date>20150819164409</request_date>"
        b"<sps_hashcode>e8b6ba8a4a1e805efabb3a64fadabddb6d2d528b</sps_hashcode>"
        b"</sps-api-request>"
    )


@pytest.mark.parametrize(
    ("processing", "request_date", "expected"),
    [
        # 売上 (ST02-00101-101)
        ("20150819164410", "20150819164410", "dc595ed2fcfadbb034d813503cc5d59c0ac3136c"),
        # 返金 (ST02-00303-101)
        ("20150819164410", "20150819164411", "cd393c24025362ccab188f4c488cee022c86a925"),
    ],
)
def test_recorded_commit_and_refund_hashes(
    processing: str, request_date: str, expected: str
) -> None:
    values = ["30132", "002", TRANSACTION, TRACKING, processing, request_date]

    assert sps_hashcode(values, API.hash_key, encoding="Shift_JIS") == expected


def test_recorded_inquiry_hash() -> None:
    values = ["30132", "002", TRANSACTION, TRACKING, "2", "1", "0", "20150819164410"]

    assert sps_hashcode(values, API.hash_key, encoding="Shift_JIS") == (
        "48cbfd88a90c3a782bd458dc592484458bbc2566"
    )


RECORDED_INQUIRY_RESPONSE = b"""<?xml version='1.0' encoding='Shift_JIS' ?>
  <sps-api-response id="MG01-00101-101">
    <res_result>OK</res_result>
    <res_sps_transaction_id>B30132002MG010010110100123818749</res_sps_transaction_id>
    <res_status>0</res_status>
    <res_pay_method_info>
      <res_pay_method_info_detail>
        <cc_number>************4242</cc_number>
        <cc_expiration>202001</cc_expiration>
        <dealings_type>10</dealings_type>
        <divide_times/>
        <bonus_details_times/>
      </res_pay_method_info_detail>
      <cc_company_code>10035</cc_company_code>
      <cardbrand_code>V</cardbrand_code>
      <recognized_no>123456</recognized_no>
      <commit_status>1</commit_status>
      <payment_status>3</payment_status>
    </res_pay_method_info>
    <res_process_date>20150819164413</res_process_date>
    <res_err_code/>
    <res_date>20150819164413</res_date>
  </sps-api-response>
"""


def test_recorded_inquiry_response_parses() -> None:
    response = api.parse_response(RECORDED_INQUIRY_RESPONSE)

    assert response.ok
    assert response.request_id == api.INQUIRE
    assert response.get("res_pay_method_info.commit_status") == "1"
    assert response.get("res_pay_method_info.payment_status") == "3"
    assert response.get("res_pay_method_info.cardbrand_code") == "V"
    assert response.get("res_pay_method_info.res_pay_method_info_detail.cc_number") == (
        "************4242"
    )
    assert response.error_code == ""


def test_purchase_request_fields_in_order_with_hash() -> None:
    # The request example of the library (example/purchase_request.rb) with our fixed fields.
    fields = link.purchase_request(
        credentials=SAMPLE,
        pay_methods=["credit3d2", "paypay"],
        cust_code="000000000042",
        order_id="000000000042",
        item_id="fee",
        item_name="手数料",
        amount=600,
        success_url="http://s/ok",
        cancel_url="http://s/cancel",
        error_url="http://s/error",
        pagecon_url="http://s/pagecon",
        requested_at=datetime.fromisoformat("2026-12-01T10:00:00+09:00"),
    )

    names = [name for name, _ in fields]
    assert names == [*link.PURCHASE_REQUEST_FIELDS, "sps_hashcode"]
    values = dict(fields)
    assert values["request_date"] == "20261201100000"
    joined = "".join(value for name, value in fields[:-1])
    assert "credit3d2,paypay" + "19788" + "001" + "000000000042" in joined
    assert values["sps_hashcode"] == sps_hashcode(
        [value for _, value in fields[:-1]], SAMPLE_HASH_KEY, encoding="Shift_JIS"
    )
    # The Shift_JIS and UTF-8 hashes of a Japanese item name differ: the encoding matters.
    assert values["sps_hashcode"] != sps_hashcode(
        [value for _, value in fields[:-1]], SAMPLE_HASH_KEY, encoding="UTF-8"
    )


def test_notification_answers() -> None:
    assert link.notification_answer(accepted=True) == b"OK,"
    # A fixed word: why a result was refused is for the merchant's log only.
    assert link.notification_answer(accepted=False) == b"NG,rejected"


def test_windows_31j_text_parses_and_hashes_as_sbps_sends_it() -> None:
    # ① and 髙 are Windows-31J (SBPS's Shift_JIS), outside JIS X 0208.
    body = NOTIFICATION_BODY.replace(b"&free1=", b"&free1=%87%40%FB%FC")
    fields = link.parse_form(body)

    assert fields["free1"] == "①髙"
    assert sps_hashcode(["①髙"], "k", encoding="Shift_JIS") == sps_hashcode(
        [bytes.fromhex("8740fbfc").decode("cp932")], "k", encoding="Shift_JIS"
    )
