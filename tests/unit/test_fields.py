"""Field rules shared by every service's schemas, read as the OpenAPI document states them
(JSON Schema patterns are ECMA-262: ``\\d``, ``\\w`` and case-folding are ASCII)."""

from __future__ import annotations

import re

import pytest
from marshmallow import Schema, ValidationError

from common.fields import Day, LocalDateTime, Pattern
from services.enterprise.schemas import USERNAME


@pytest.mark.parametrize("value", ["12", "٣٤", "１２"])
def test_a_digit_is_an_ascii_digit(value: str) -> None:
    two_digits = Pattern(r"^\d{2}$")
    if value == "12":
        assert two_digits(value) == value
    else:
        with pytest.raises(ValidationError):
            two_digits(value)


@pytest.mark.parametrize("value", ["abc\n", "abcd", "\u212aab"])
def test_a_pattern_matches_the_whole_string_in_ascii(value: str) -> None:
    with pytest.raises(ValidationError):
        Pattern(r"^[a-z]{3}$", flags=re.IGNORECASE)(value)


@pytest.mark.parametrize("name", ["\u212aevin", "\u017fam", "bob\u0663"])
def test_the_username_rule_itself_takes_ascii_only(name: str) -> None:
    """The Kelvin sign folds to "k" and the long s to "s" in Unicode case-insensitive matching.
    (Through the API, ``Text`` applies NFKC first, which maps both to ASCII letters.)"""
    assert USERNAME("kevin") == "kevin"
    with pytest.raises(ValidationError):
        USERNAME(name)


class Dated(Schema):
    day = Day()
    at = LocalDateTime()


@pytest.mark.parametrize(("field", "value"), [
    ("day", "2026-11-2\u0667"), ("at", "2026-11-27T10:00:0\u0660+08:00")])
def test_dates_and_times_with_other_scripts_digits_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Dated().load({field: value})
    assert field in refused.value.messages
    assert Dated().load({"day": "2026-11-27", "at": "2026-11-27T10:00:00+08:00"})
