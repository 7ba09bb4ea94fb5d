from __future__ import annotations

import itertools
import json
import pickle
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from protocol.identifiers import (
    MCCS_WITH_THREE_DIGIT_MNC,
    Iccid,
    Imei,
    Imsi,
    InvalidIdentifierError,
    Msisdn,
    iccid_range,
    iccid_range_last,
    imei_range,
    imei_range_last,
    imsi_range,
    imsi_range_last,
    luhn_check_digit,
    luhn_is_valid,
    msisdn_range,
    msisdn_range_last,
)

PROPERTY = settings(max_examples=200, deadline=None)


def oracle_luhn(body: str) -> int:
    """Independent Luhn: weights 2,1,2,1,... from the right of the body; digit sums of products."""
    total = 0
    for index, char in enumerate(body[::-1]):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def with_check(body: str) -> str:
    return body + str(oracle_luhn(body))


def digit_strings(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=size, max_size=size)


iccid_bodies = st.one_of(
    digit_strings(16).map(lambda rest: "89" + rest),
    digit_strings(17).map(lambda rest: "89" + rest),
)
imei_bodies = digit_strings(14)

ICCID_19_BODY = "894601123456789012"
ICCID_20_BODY = "8946011234567890123"


# --- Luhn -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "digit"),
    [("7992739871", 3), ("49015420323751", 8), ("35693803564380", 9), ("0", 0), ("1", 8)],
)
def test_luhn_check_digit_known_values(body, digit):
    assert luhn_check_digit(body) == digit
    assert luhn_is_valid(body + str(digit))


@PROPERTY
@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_luhn_check_digit_agrees_with_oracle(body):
    assert luhn_check_digit(body) == oracle_luhn(body)


@pytest.mark.parametrize("body", ["", "12a4", "\uff11\uff12\uff13", " 123"])
def test_luhn_check_digit_refuses_non_digits(body):
    with pytest.raises(ValueError, match="non-empty string of digits"):
        luhn_check_digit(body)


@pytest.mark.parametrize("number", ["", "0", "79927398710", "7992739871x", "+79927398713"])
def test_luhn_is_valid_false(number):
    assert not luhn_is_valid(number)


# --- real-world-shaped examples -------------------------------------------------


def test_imei_well_known_example():
    imei = Imei("490154203237518")
    assert imei.tac == "49015420"
    assert imei.serial == "323751"
    assert imei.body == "49015420323751"
    assert imei.check_digit == 8
    assert str(imei) == "490154203237518"


def test_imei_second_example():
    assert str(Imei("356938035643809")) == "356938035643809"


def test_imei_from_body():
    assert Imei.from_body("49015420323751") == Imei("490154203237518")


@pytest.mark.parametrize("body", [ICCID_19_BODY, ICCID_20_BODY])
def test_iccid_from_hand_computed_check_digit(body):
    digits = with_check(body)
    iccid = Iccid(digits)
    assert len(digits) == len(body) + 1
    assert str(iccid) == digits
    assert iccid.body == body
    assert iccid.check_digit == oracle_luhn(body)
    assert iccid.body_int == int(body)
    assert Iccid.from_body(body) == iccid
    assert Iccid.from_body_int(int(body)) == iccid


def test_iccid_last_digits():
    iccid = Iccid(with_check(ICCID_19_BODY))
    assert iccid.last_digits() == str(iccid)[-4:]
    assert iccid.last_digits(1) == str(iccid.check_digit)
    assert iccid.last_digits(19) == str(iccid)


@pytest.mark.parametrize("n", [0, -1, 20])
def test_iccid_last_digits_out_of_range(n):
    with pytest.raises(ValueError, match=f"between 1 and 19, got {n}"):
        Iccid(with_check(ICCID_19_BODY)).last_digits(n)


def test_imsi_sweden_two_digit_mnc():
    imsi = Imsi.parse("240011234567890")
    assert (imsi.mcc, imsi.mnc, imsi.msin) == ("240", "01", "1234567890")
    assert imsi.plmn == "24001"
    assert imsi.msin_int == 1234567890
    assert str(imsi) == "240011234567890"


def test_imsi_us_three_digit_mnc():
    imsi = Imsi.parse("310150123456789")
    assert (imsi.mcc, imsi.mnc, imsi.msin) == ("310", "150", "123456789")
    assert imsi.plmn == "310150"


def test_imsi_explicit_mnc_length_overrides_guess():
    assert Imsi.parse("310150123456789", mnc_length=2).mnc == "15"
    assert Imsi.parse("240011234567890", mnc_length=3).mnc == "011"


def test_imsi_bad_mnc_length():
    with pytest.raises(ValueError, match="mnc_length must be 2, 3 or None, got 4"):
        Imsi.parse("240011234567890", mnc_length=4)


def test_three_digit_mnc_table():
    assert {"302", "310", "316", "405", "732"} <= MCCS_WITH_THREE_DIGIT_MNC
    assert "240" not in MCCS_WITH_THREE_DIGIT_MNC
    assert all(len(mcc) == 3 and mcc.isdigit() for mcc in MCCS_WITH_THREE_DIGIT_MNC)


def test_msisdn_swedish_mobile():
    msisdn = Msisdn.parse("+46 70 123 45 67")
    assert msisdn.digits == "46701234567"
    assert str(msisdn) == "+46701234567"


@pytest.mark.parametrize(
    "text", ["46701234567", "+46-70-123 45 67", "+46701234567", "4670 1234567"]
)
def test_msisdn_parse_separators(text):
    assert Msisdn.parse(text) == Msisdn("46701234567")


# --- corrupted check digits -----------------------------------------------------


def wrong_digits(right: int) -> list[int]:
    return [digit for digit in range(10) if digit != right]


@pytest.mark.parametrize("body", [ICCID_19_BODY, ICCID_20_BODY])
@pytest.mark.parametrize("offset", range(1, 10))
def test_iccid_wrong_check_digit(body, offset):
    right = oracle_luhn(body)
    wrong = (right + offset) % 10
    text = body + str(wrong)
    with pytest.raises(InvalidIdentifierError) as caught:
        Iccid(text)
    assert str(caught.value) == (
        f"invalid ICCID '{text}': check digit is {wrong}, expected {right}"
    )


@pytest.mark.parametrize("wrong", wrong_digits(8))
def test_imei_wrong_check_digit(wrong):
    text = f"49015420323751{wrong}"
    with pytest.raises(InvalidIdentifierError) as caught:
        Imei(text)
    assert str(caught.value) == f"invalid IMEI '{text}': check digit is {wrong}, expected 8"
    assert caught.value.kind == "IMEI"
    assert caught.value.value == text
    assert caught.value.reason == f"check digit is {wrong}, expected 8"


def test_error_message_example():
    body = "894600000000000001"
    right = oracle_luhn(body)
    wrong = (right + 3) % 10
    with pytest.raises(
        InvalidIdentifierError,
        match=re.escape(f"invalid ICCID '{body}{wrong}': check digit is {wrong}, expected {right}"),
    ):
        Iccid(f"{body}{wrong}")


@PROPERTY
@given(st.data(), iccid_bodies)
def test_single_digit_change_in_iccid_is_caught(data, body):
    position = data.draw(st.integers(min_value=2, max_value=len(body)), label="position")
    text = with_check(body)
    replacement = data.draw(st.sampled_from(wrong_digits(int(text[position]))), label="digit")
    corrupted = text[:position] + str(replacement) + text[position + 1 :]
    assert not luhn_is_valid(corrupted)
    with pytest.raises(InvalidIdentifierError, match="check digit is"):
        Iccid(corrupted)


@PROPERTY
@given(st.data(), imei_bodies)
def test_single_digit_change_in_imei_is_caught(data, body):
    position = data.draw(st.integers(min_value=0, max_value=14), label="position")
    text = with_check(body)
    replacement = data.draw(st.sampled_from(wrong_digits(int(text[position]))), label="digit")
    corrupted = text[:position] + str(replacement) + text[position + 1 :]
    assert not luhn_is_valid(corrupted)
    with pytest.raises(InvalidIdentifierError, match="check digit is"):
        Imei(corrupted)


@PROPERTY
@given(st.data(), st.one_of(iccid_bodies, imei_bodies))
def test_adjacent_transposition_is_caught(data, body):
    text = with_check(body)
    position = data.draw(st.integers(min_value=0, max_value=len(text) - 2), label="position")
    pair = text[position : position + 2]
    assume(pair[0] != pair[1])
    assume(set(pair) != {"0", "9"})
    swapped = text[:position] + pair[::-1] + text[position + 2 :]
    assert luhn_is_valid(text)
    assert not luhn_is_valid(swapped)


def test_zero_nine_transposition_is_the_known_blind_spot():
    body = "49015420323709"
    swapped = "49015420323790"
    assert oracle_luhn(body) == oracle_luhn(swapped)


# --- bad shapes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("89460112345678901a3", "non-digit character 'a' at position 17"),
        ("8946 0112345678901234", "non-digit character ' ' at position 4"),
        ("894601123456789012", "18 digits, expected 19 or 20"),
        ("894601123456789012345", "21 digits, expected 19 or 20"),
        ("", "0 digits, expected 19 or 20"),
        ("1946011234567890125", "starts with '19', expected '89'"),
    ],
)
def test_iccid_bad_shapes(text, reason):
    with pytest.raises(InvalidIdentifierError) as caught:
        Iccid(text)
    assert caught.value.reason == reason
    assert str(caught.value) == f"invalid ICCID {text!r}: {reason}"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("89460112345678901", "17 digits, expected 18 or 19"),
        ("794601123456789012", "starts with '79', expected '89'"),
        ("8946x1123456789012", "non-digit character 'x' at position 4"),
    ],
)
def test_iccid_from_body_bad_shapes(body, reason):
    with pytest.raises(InvalidIdentifierError, match=re.escape(f"ICCID body {body!r}: {reason}")):
        Iccid.from_body(body)


def test_iccid_from_negative_body_int():
    with pytest.raises(InvalidIdentifierError, match="non-digit character '-' at position 0"):
        Iccid.from_body_int(-894601123456789012)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("49015420323751", "14 digits, expected 15"),
        ("4901542032375188", "16 digits, expected 15"),
        ("49015420323751O", "non-digit character 'O' at position 14"),
    ],
)
def test_imei_bad_shapes(text, reason):
    with pytest.raises(InvalidIdentifierError, match=re.escape(f"invalid IMEI {text!r}: {reason}")):
        Imei(text)


def test_imei_from_body_wrong_length():
    with pytest.raises(InvalidIdentifierError, match="IMEI body '4901542032375': 13 digits"):
        Imei.from_body("4901542032375")


@pytest.mark.parametrize(
    ("parts", "reason"),
    [
        (("000", "01", "1234567890"), "MCC 000 is not a country code"),
        (("24", "01", "12345678901"), "MCC has 2 digits, expected 3"),
        (("240", "1", "12345678901"), "MNC has 1 digit, expected 2 or 3"),
        (("240", "0123", "12345678"), "MNC has 4 digits, expected 2 or 3"),
        (("240", "01", "123456789"), "14 digits, expected 15"),
        (("2x0", "01", "1234567890"), "non-digit character 'x' at position 1 of the MCC"),
        (("240", "01", "12345-7890"), "non-digit character '-' at position 5 of the MSIN"),
    ],
)
def test_imsi_bad_parts(parts, reason):
    with pytest.raises(InvalidIdentifierError) as caught:
        Imsi(*parts)
    assert caught.value.kind == "IMSI"
    assert caught.value.value == "".join(parts)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("000011234567890", "MCC 000 is not a country code"),
        ("24001123456789", "14 digits, expected 15"),
        ("2400112345678901", "16 digits, expected 15"),
        ("24001123456789O", "non-digit character 'O' at position 14"),
    ],
)
def test_imsi_parse_bad_text(text, reason):
    with pytest.raises(InvalidIdentifierError, match=re.escape(f"invalid IMSI {text!r}: {reason}")):
        Imsi.parse(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0701234567", "starts with 0"),
        ("+0701234567", "starts with 0"),
        ("+46 70 12a 45 67", "unexpected character 'a' at position 9"),
        ("+46.70.1234567", "unexpected character '.' at position 3"),
        ("+46+701234567", "unexpected character '+' at position 3"),
        (" +46701234567", "unexpected character '+' at position 1"),
        ("+123456", "6 digits, expected 7 to 15"),
        ("+1234567890123456", "16 digits, expected 7 to 15"),
        ("+", "0 digits, expected 7 to 15"),
    ],
)
def test_msisdn_parse_bad_text(text, reason):
    with pytest.raises(InvalidIdentifierError) as caught:
        Msisdn.parse(text)
    assert str(caught.value) == f"invalid MSISDN {text!r}: {reason}"


@pytest.mark.parametrize(
    ("digits", "reason"),
    [
        ("0701234567", "starts with 0"),
        ("+46701234567", "non-digit character '+' at position 0"),
        ("4670 1234567", "non-digit character ' ' at position 4"),
    ],
)
def test_msisdn_constructor_takes_digits_only(digits, reason):
    with pytest.raises(InvalidIdentifierError, match=re.escape(reason)):
        Msisdn(digits)


def test_error_is_a_value_error_and_pickles():
    error = InvalidIdentifierError("IMEI", "123", "3 digits, expected 15")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (copy.kind, copy.value, copy.reason, str(copy)) == (
        "IMEI",
        "123",
        "3 digits, expected 15",
        "invalid IMEI '123': 3 digits, expected 15",
    )


def test_identifiers_are_frozen_hashable_values():
    imei = Imei("490154203237518")
    with pytest.raises(AttributeError):
        imei.value = "356938035643809"  # type: ignore[misc]
    assert {imei, Imei("490154203237518")} == {imei}


# --- round trips ----------------------------------------------------------------


@PROPERTY
@given(digit_strings(12), st.sampled_from(["240", "310", "302", "405", "262", "732"]))
def test_imsi_parse_round_trips(rest, mcc):
    text = mcc + rest
    imsi = Imsi.parse(text)
    assert str(imsi) == text
    assert len(imsi.mnc) == (3 if mcc in MCCS_WITH_THREE_DIGIT_MNC else 2)
    assert imsi.plmn + imsi.msin == text


@PROPERTY
@given(
    st.from_regex(r"[1-9][0-9]{6,14}", fullmatch=True),
    st.lists(st.sampled_from(["", " ", "-"]), min_size=16, max_size=16),
    st.booleans(),
)
def test_msisdn_parse_strips_separators(digits, separators, plus):
    text = ("+" if plus else "") + "".join(
        digit + separator for digit, separator in zip(digits, separators, strict=False)
    )
    msisdn = Msisdn.parse(text)
    assert msisdn.digits == digits
    assert Msisdn.parse(str(msisdn)) == msisdn


# --- ranges ---------------------------------------------------------------------


def test_iccid_range_consecutive_and_valid():
    first = Iccid.from_body("894601000000000998")
    iccids = list(iccid_range(first, 5))
    assert [i.body_int for i in iccids] == list(range(first.body_int, first.body_int + 5))
    assert all(luhn_is_valid(str(i)) and i.check_digit == oracle_luhn(i.body) for i in iccids)
    assert iccids[0] == first
    assert iccids[-1] == iccid_range_last(first, 5)


def test_iccid_range_keeps_twenty_digits():
    first = Iccid.from_body(ICCID_20_BODY)
    assert all(len(str(i)) == 20 for i in iccid_range(first, 10))


def test_imsi_range_consecutive_msins():
    first = Imsi.parse("310150000000998")
    imsis = list(imsi_range(first, 4))
    assert [str(i) for i in imsis] == [
        "310150000000998",
        "310150000000999",
        "310150000001000",
        "310150000001001",
    ]
    assert {i.plmn for i in imsis} == {"310150"}
    assert imsi_range_last(first, 4) == imsis[-1]


def test_imei_range_consecutive_serials():
    first = Imei("490154203237518")
    imeis = list(imei_range(first, 3))
    assert [i.serial for i in imeis] == ["323751", "323752", "323753"]
    assert all(i.tac == "49015420" for i in imeis)
    assert all(i.check_digit == oracle_luhn(i.body) for i in imeis)
    assert imei_range_last(first, 3) == imeis[-1]


def test_msisdn_range_consecutive():
    first = Msisdn("46701234567")
    assert [str(m) for m in msisdn_range(first, 3)] == [
        "+46701234567",
        "+46701234568",
        "+46701234569",
    ]
    assert msisdn_range_last(first, 3) == Msisdn("46701234569")


@PROPERTY
@given(iccid_bodies, st.integers(min_value=1, max_value=50))
def test_iccid_range_last_matches_iteration(body, count):
    first = Iccid.from_body(body)
    assume(first.body_int + count - 1 < int("89" + "9" * (len(body) - 2)) + 1)
    iccids = list(iccid_range(first, count))
    assert len(iccids) == count
    assert iccids[-1] == iccid_range_last(first, count)
    assert all(b.body_int - a.body_int == 1 for a, b in itertools.pairwise(iccids))


@pytest.mark.parametrize(
    ("ranger", "first"),
    [
        (iccid_range, Iccid.from_body(ICCID_19_BODY)),
        (imsi_range, Imsi.parse("240011234567890")),
        (imei_range, Imei("490154203237518")),
        (msisdn_range, Msisdn("46701234567")),
    ],
)
def test_range_of_zero_is_empty_and_negative_refused(ranger, first):
    assert list(ranger(first, 0)) == []
    with pytest.raises(ValueError, match="count must be at least 0, got -1"):
        ranger(first, -1)


@pytest.mark.parametrize(
    ("last", "first"),
    [
        (iccid_range_last, Iccid.from_body(ICCID_19_BODY)),
        (imsi_range_last, Imsi.parse("240011234567890")),
        (imei_range_last, Imei("490154203237518")),
        (msisdn_range_last, Msisdn("46701234567")),
    ],
)
def test_range_last_needs_a_positive_count(last, first):
    assert last(first, 1) == first
    for count in (0, -3):
        with pytest.raises(ValueError, match=f"count must be at least 1, got {count}"):
            last(first, count)


@pytest.mark.parametrize(
    ("ranger", "last", "first", "count", "message"),
    [
        (
            iccid_range,
            iccid_range_last,
            Iccid.from_body("899999999999999998"),
            3,
            "does not fit in 16 digits after the '89' prefix",
        ),
        (
            imsi_range,
            imsi_range_last,
            Imsi.parse("240019999999999"),
            2,
            "range of 2 starting at 240019999999999 does not fit in 10 MSIN digits",
        ),
        (
            imei_range,
            imei_range_last,
            Imei.from_body("49015420999990"),
            11,
            "does not fit in 6 serial digits",
        ),
        (
            msisdn_range,
            msisdn_range_last,
            Msisdn("9999999"),
            2,
            "range of 2 starting at +9999999 does not fit in 7 digits",
        ),
    ],
)
def test_range_overflow_refused_up_front(ranger, last, first, count, message):
    with pytest.raises(InvalidIdentifierError, match=re.escape(message)):
        ranger(first, count)
    with pytest.raises(InvalidIdentifierError, match=re.escape(message)):
        last(first, count)
    assert len(list(ranger(first, count - 1))) == count - 1


# --- pydantic -------------------------------------------------------------------


class Subscription(BaseModel):
    iccid: Iccid
    imsi: Imsi
    imei: Imei
    msisdn: Msisdn


GOOD = {
    "iccid": with_check(ICCID_19_BODY),
    "imsi": "240011234567890",
    "imei": "490154203237518",
    "msisdn": "+46 70 123 45 67",
}


def test_pydantic_validates_strings():
    sub = Subscription.model_validate(GOOD)
    assert sub.iccid == Iccid(GOOD["iccid"])
    assert sub.imsi == Imsi("240", "01", "1234567890")
    assert sub.imei == Imei("490154203237518")
    assert sub.msisdn == Msisdn("46701234567")


def test_pydantic_accepts_instances():
    sub = Subscription(
        iccid=Iccid.from_body(ICCID_19_BODY),
        imsi=Imsi.parse("310150123456789"),
        imei=Imei("356938035643809"),
        msisdn=Msisdn("46701234567"),
    )
    assert sub.imsi.mnc == "150"


def test_pydantic_round_trips_json_as_strings():
    sub = Subscription.model_validate(GOOD)
    dumped = sub.model_dump_json()
    assert json.loads(dumped) == {
        "iccid": GOOD["iccid"],
        "imsi": "240011234567890",
        "imei": "490154203237518",
        "msisdn": "+46701234567",
    }
    assert sub.model_dump()["msisdn"] == "+46701234567"
    assert Subscription.model_validate_json(dumped) == sub


@pytest.mark.parametrize(
    ("field", "bad", "reason"),
    [
        ("iccid", "8946011234567890129", "invalid ICCID '8946011234567890129': check digit is 9"),
        ("imsi", "000011234567890", "invalid IMSI '000011234567890': MCC 000 is not a country"),
        ("imei", "490154203237519", "invalid IMEI '490154203237519': check digit is 9, expected 8"),
        ("msisdn", "+46 70 12x", "invalid MSISDN '+46 70 12x': unexpected character 'x' at pos"),
        ("imei", 490154203237518, "invalid IMEI: expected a string or Imei, got int"),
    ],
)
def test_pydantic_rejects_with_reason(field, bad, reason):
    with pytest.raises(ValidationError) as caught:
        Subscription.model_validate({**GOOD, field: bad})
    errors = caught.value.errors()
    assert [error["loc"] for error in errors] == [(field,)]
    assert reason in errors[0]["msg"]


def test_pydantic_json_schema_has_patterns():
    properties = Subscription.model_json_schema()["properties"]
    for field, value in GOOD.items():
        schema = properties[field]
        assert schema["type"] == "string"
        assert schema["description"]
        assert re.fullmatch(schema["pattern"].strip("^$"), value)
    assert properties["iccid"]["pattern"] == r"^89[0-9]{17,18}$"
    assert properties["imsi"]["pattern"] == r"^[0-9]{15}$"


@PROPERTY
@given(st.text(alphabet="+0123456789 -x", max_size=20))
def test_msisdn_schema_pattern_matches_exactly_what_parse_accepts(text):
    pattern = Subscription.model_json_schema()["properties"]["msisdn"]["pattern"]
    try:
        Msisdn.parse(text)
    except InvalidIdentifierError:
        accepted = False
    else:
        accepted = True
    assert (re.search(pattern, text) is not None) == accepted
