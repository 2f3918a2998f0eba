"""统一社会信用代码 (GB 32100-2015): normalisation, both check digits, generation."""

from __future__ import annotations

import random

import pytest

from services.enterprise import credit_code
from services.enterprise.credit_code import (
    CHARSET,
    InvalidCreditCode,
    check_digit,
    generate,
    normalize,
    organization_check_digit,
    validate,
)

# Codes printed on real business licences and widely published; both check digits of each
# were recomputed by hand from the GB 32100 / GB 11714 formulas (see the next test).
PUBLISHED = [
    "91110000802100433B",
    "91350100M000100Y43",
    "914403001922038216",
    "91110108551385082Q",
]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert validate(code) == code
    assert validate(code, check_organization_code=True) == code
    assert credit_code.is_valid(code)


def test_check_digit_by_hand() -> None:
    # 91350100M000100Y4: values 9,1,3,5,0,1,0,0,21(M),0,0,0,1,0,0,30(Y),4
    values = [9, 1, 3, 5, 0, 1, 0, 0, 21, 0, 0, 0, 1, 0, 0, 30, 4]
    total = sum(v * w for v, w in zip(values, credit_code.WEIGHTS, strict=True))
    assert total % 31 == 28  # 31 - 28 = 3
    assert check_digit("91350100M000100Y4") == "3"
    # GB 11714 on M000100Y: M=22, Y=34 -> 22*3 + 1*5 + 34*2 = 139 = 12*11 + 7 -> 11-7 = 4
    assert organization_check_digit("M000100Y") == "4"


def test_check_digit_31_becomes_0() -> None:
    # find 17 characters whose weighted sum is 0 mod 31: the check digit is then "0"
    assert check_digit("0" * 17) == "0"
    assert validate("0" * 18) == "0" * 18


def test_organization_check_digit_special_values() -> None:
    # sum 0 -> 11 - 0 = 11 -> "0"; 6*2 = 12 = 1 mod 11 -> 11 - 1 = 10 -> "X"
    assert organization_check_digit("00000000") == "0"
    assert organization_check_digit("00000006") == "X"
    # letters count A=10 ... Z=35 in GB 11714: A*3 = 30 = 8 mod 11 -> 3
    assert organization_check_digit("A0000000") == "3"


def test_not_a_guaranteed_code_is_rejected() -> None:
    # 9137021272556617XU: C18 computes to B, and its organisation code check digit to 5
    with pytest.raises(InvalidCreditCode, match="wrong check digit: expected B got U"):
        validate("9137021272556617XU")


def test_normalize_full_width_lowercase_and_spaces() -> None:
    full_width = "９１１１００００８０２１００４３３ｂ"
    assert normalize(full_width) == "91110000802100433B"
    assert validate(full_width) == "91110000802100433B"
    assert validate("  91350100m000100y43\n") == "91350100M000100Y43"
    assert validate("9135 0100\u3000M000 100Y43") == "91350100M000100Y43"
    assert validate("\t９１３５０１００Ｍ０００１００Ｙ４３\u3000") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "has 18 characters, got 0"),
        ("91110000802100433", "has 18 characters, got 17"),
        ("91110000802100433BB", "has 18 characters, got 19"),
        ("91110000802I00433B", "illegal character 'I' at position 12"),
        ("9111000080210O433B", "illegal character 'O' at position 14"),
        ("91110000802100433Z", "illegal character 'Z' at position 18"),
        ("S1110000802100433B", "illegal character 'S' at position 1"),
        ("91110000-02100433B", "illegal character '-' at position 9"),
        ("911A0000802100433B", "got 'A' at position 4"),
        ("91110000802100433C", "wrong check digit: expected B got C"),
    ],
)
def test_error_messages(raw: str, message: str) -> None:
    with pytest.raises(InvalidCreditCode, match=message):
        validate(raw)


def test_invalid_credit_code_is_a_value_error() -> None:
    assert issubclass(InvalidCreditCode, ValueError)
    with pytest.raises(ValueError):
        validate("123")
    with pytest.raises(InvalidCreditCode, match="is text"):
        validate(None)  # type: ignore[arg-type]


def test_organization_code_check_is_optional() -> None:
    first17 = "91370212" + "12345678" + "9"  # organisation check digit of 12345678 is not 9
    assert organization_check_digit("12345678") != "9"
    code = first17 + check_digit(first17)
    assert validate(code) == code
    with pytest.raises(InvalidCreditCode, match="organisation code check digit"):
        validate(code, check_organization_code=True)


@pytest.mark.parametrize("code", PUBLISHED)
def test_every_single_character_corruption_is_detected(code: str) -> None:
    for index in range(18):
        position = index + 1
        for replacement in CHARSET:
            if replacement == code[index]:
                continue
            corrupted = code[:index] + replacement + code[index + 1 :]
            with pytest.raises(InvalidCreditCode) as caught:
                validate(corrupted)
            if 3 <= position <= 8 and not replacement.isdigit():
                assert "administrative division" in str(caught.value)
            else:
                assert "wrong check digit" in str(caught.value), corrupted


def test_adjacent_transpositions_are_detected() -> None:
    code = "91350100M000100Y43"
    for index in range(8, 17):
        a, b = code[index], code[index + 1]
        if a == b:
            continue
        swapped = code[:index] + b + a + code[index + 2 :]
        assert not credit_code.is_valid(swapped), swapped


def test_generate_is_valid_deterministic_and_varied() -> None:
    rng = random.Random(20200706)
    codes = [generate(rng) for _ in range(2000)]
    for code in codes:
        assert validate(code, check_organization_code=True) == code
        assert code.startswith("91370212")
    assert len(set(codes)) == len(codes)
    assert any(c[8:10] == "MA" for c in codes)
    assert any(c[8:16].isdigit() for c in codes)
    again = random.Random(20200706)
    assert [generate(again) for _ in range(2000)] == codes


def test_generate_other_division() -> None:
    code = generate(random.Random(1), division="370214")
    assert code[2:8] == "370214"
    with pytest.raises(ValueError, match="six digits"):
        generate(random.Random(1), division="37021")
