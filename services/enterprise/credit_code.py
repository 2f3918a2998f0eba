"""统一社会信用代码 (unified social credit code) per GB 32100-2015.

Layout of the 18 characters (positions are 1-based, as in the standard):

====== ====================================================================
1      登记管理部门码 registration authority (``9`` = 工商/市场监管)
2      机构类别码 entity type (``1`` = 企业 under authority ``9``)
3-8    登记管理机关行政区划码 administrative division code, six digits (GB/T 2260)
9-17   主体标识码 organisation code (组织机构代码, GB 11714); position 17 is its own
       check digit
18     校验码 check digit over positions 1-17, mod 31
====== ====================================================================

The character set is the digits and the upper-case Latin letters without I, O, Z, S, V
(31 characters, valued 0-30 in the order of :data:`CHARSET`).

Only the two check digits, the character set and the digit-only division are checked;
positions 1-2 are not matched against the list of registration authorities, which has grown
since 2015 (e.g. ``N`` 农业 for rural collectives) and would reject real codes.
"""

from __future__ import annotations

import random
import unicodedata

from common.errors import InvalidValue

__all__ = [
    "CHARSET",
    "InvalidCreditCode",
    "check_digit",
    "generate",
    "is_valid",
    "normalize",
    "organization_check_digit",
    "validate",
]

#: the 31 characters of GB 32100-2015, in value order (0-30)
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
#: weights of positions 1-17 (3**i mod 31)
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: weights of the 8 body characters of a GB 11714 organisation code
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
LENGTH = 18


class InvalidCreditCode(InvalidValue):
    """The text is not a well-formed 统一社会信用代码; the message says what is wrong (a code
    ``enterprise.credit_code_*`` and an English message id, :class:`InvalidValue`)."""


def normalize(raw: str) -> str:
    """Canonical form: NFKC (全角→半角), all whitespace (incl. U+3000) removed, upper case."""
    text = unicodedata.normalize("NFKC", raw)
    return "".join(text.split()).upper()


def check_digit(first17: str) -> str:
    """The 18th character (校验码) for the first 17 characters: C18 = 31 - (Σ Ci·Wi mod 31)."""
    if len(first17) != LENGTH - 1:
        raise InvalidCreditCode(
            "enterprise.credit_code_length",
            "need the first 17 characters to compute the check digit, got {count}",
            count=len(first17))
    total = 0
    for position, (char, weight) in enumerate(zip(first17, WEIGHTS, strict=True), start=1):
        if char not in _VALUE:
            raise InvalidCreditCode("enterprise.credit_code_character",
                                    "illegal character {char} at position {position}",
                                    char=repr(char), position=position)
        total += _VALUE[char] * weight
    return CHARSET[(31 - total % 31) % 31]


def _org_value(char: str) -> int:
    # GB 11714: digits are their value, letters A-Z are 10-35
    if char.isdigit():
        return int(char)
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    raise InvalidCreditCode("enterprise.credit_code_character",
                            "illegal character {char} in the organisation code", char=repr(char))


def organization_check_digit(body8: str) -> str:
    """GB 11714 组织机构代码 check digit: C9 = 11 - (Σ Ci·Wi mod 11), 10→X, 11→0."""
    if len(body8) != len(ORG_WEIGHTS):
        raise InvalidCreditCode("enterprise.credit_code_length",
                                "an organisation code body has 8 characters, got {count}",
                                count=len(body8))
    total = sum(_org_value(c) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def validate(code: str, *, check_organization_code: bool = False) -> str:
    """Return the normalized code or raise :class:`InvalidCreditCode` saying what is wrong.

    The 校验码 (position 18) is always checked. ``check_organization_code`` also checks the
    GB 11714 check digit at position 17; it is off by default because only the 18th
    character is mandated by GB 32100 for the whole code.
    """
    if not isinstance(code, str):
        raise InvalidCreditCode("enterprise.credit_code_type", "a credit code is text, got {type}",
                                type=type(code).__name__)
    normalized = normalize(code)
    if len(normalized) != LENGTH:
        raise InvalidCreditCode("enterprise.credit_code_length",
                                "a unified social credit code has 18 characters, got {count}: "
                                "{code}", count=len(normalized), code=repr(normalized))
    for position, char in enumerate(normalized, start=1):
        if char not in _VALUE:
            raise InvalidCreditCode(
                "enterprise.credit_code_character",
                "illegal character {char} at position {position} "
                "(allowed: digits and A-Z without I, O, Z, S, V)", char=repr(char),
                position=position)
    for position in range(3, 9):
        char = normalized[position - 1]
        if not char.isdigit():
            raise InvalidCreditCode(
                "enterprise.credit_code_division",
                "positions 3-8 are the administrative division code (digits "
                "only), got {char} at position {position}", char=repr(char),
                position=position)
    expected = check_digit(normalized[:17])
    if normalized[17] != expected:
        raise InvalidCreditCode("enterprise.credit_code_check_digit",
                                "wrong check digit: expected {expected} got {got}",
                                expected=expected, got=normalized[17])
    if check_organization_code:
        expected_org = organization_check_digit(normalized[8:16])
        if normalized[16] != expected_org:
            raise InvalidCreditCode(
                "enterprise.credit_code_organisation_check_digit",
                "wrong organisation code check digit "
                "(position 17): expected {expected} got {got}", expected=expected_org,
                got=normalized[16])
    return normalized


def is_valid(code: str) -> bool:
    """True when :func:`validate` accepts ``code``."""
    try:
        validate(code)
    except InvalidCreditCode:
        return False
    return True


_BODY_DIGITS = CHARSET[:10]


def generate(rng: random.Random, division: str = "370212") -> str:
    """A valid enterprise (``91``) code in ``division`` with both check digits right.

    About half the bodies look like codes assigned since 2015 (``MA`` + 6 characters), the
    rest like older all-digit 组织机构代码. Bodies whose GB 11714 check digit would be a
    character outside :data:`CHARSET` cannot occur (it is a digit or X).
    """
    if len(division) != 6 or not division.isdigit():
        raise ValueError(f"division must be six digits, got {division!r}")
    if rng.random() < 0.5:
        body = "MA" + "".join(rng.choice(CHARSET) for _ in range(6))
    else:
        body = rng.choice("123456789") + "".join(rng.choice(_BODY_DIGITS) for _ in range(7))
    first17 = "91" + division + body + organization_check_digit(body)
    return first17 + check_digit(first17)
