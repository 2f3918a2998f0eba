"""国民经济行业分类 GB/T 4754-2017: the table and code parsing."""

from __future__ import annotations

from collections import Counter

import pytest

from services.enterprise import industry
from services.enterprise.industry import (
    DIVISIONS,
    SECTIONS,
    IndustryCode,
    InvalidIndustryCode,
    division_name,
    divisions_of,
    parse,
    same_division,
    same_section,
    section_name,
)

# how many 大类 each 门类 has in the 2017 edition, and its first and last division
SECTION_RANGES = {
    "A": ("01", "05"),
    "B": ("06", "12"),
    "C": ("13", "43"),
    "D": ("44", "46"),
    "E": ("47", "50"),
    "F": ("51", "52"),
    "G": ("53", "60"),
    "H": ("61", "62"),
    "I": ("63", "65"),
    "J": ("66", "69"),
    "K": ("70", "70"),
    "L": ("71", "72"),
    "M": ("73", "75"),
    "N": ("76", "79"),
    "O": ("80", "82"),
    "P": ("83", "83"),
    "Q": ("84", "85"),
    "R": ("86", "90"),
    "S": ("91", "96"),
    "T": ("97", "97"),
}


def test_twenty_sections_and_ninety_seven_divisions() -> None:
    assert list(SECTIONS) == [chr(c) for c in range(ord("A"), ord("T") + 1)]
    assert list(DIVISIONS) == [f"{n:02d}" for n in range(1, 98)]
    counts = Counter(d.section for d in DIVISIONS.values())
    for letter, (first, last) in SECTION_RANGES.items():
        assert counts[letter] == int(last) - int(first) + 1
        assert divisions_of(letter)[0].code == first
        assert divisions_of(letter)[-1].code == last
    assert sum(counts.values()) == 97
    assert all(d.name for d in DIVISIONS.values())
    assert len({d.name for d in DIVISIONS.values()}) == 97


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("C39", "计算机、通信和其他电子设备制造业"),
        ("I65", "软件和信息技术服务业"),
        ("M73", "研究和试验发展"),
        ("C35", "专用设备制造业"),
        ("C27", "医药制造业"),
        ("A05", "农、林、牧、渔专业及辅助性活动"),
        ("B11", "开采专业及辅助性活动"),
        ("C25", "石油、煤炭及其他燃料加工业"),
        ("G58", "多式联运和运输代理业"),
        ("G59", "装卸搬运和仓储业"),
        ("N79", "土地管理业"),
        ("S94", "社会保障"),
        ("S96", "基层群众自治组织及其他组织"),
        ("T97", "国际组织"),
    ],
)
def test_division_names(code: str, name: str) -> None:
    assert division_name(code) == name
    assert division_name(code[1:]) == name
    assert parse(code).division_name == name


def test_section_names() -> None:
    assert section_name("C") == "制造业"
    assert section_name("C39") == "制造业"
    assert section_name("i65") == "信息传输、软件和信息技术服务业"
    assert section_name("M") == "科学研究和技术服务业"
    assert section_name("S") == "公共管理、社会保障和社会组织"
    with pytest.raises(InvalidIndustryCode, match="unknown section"):
        section_name("U")


def test_parse_levels() -> None:
    assert parse("C39") == IndustryCode("C", "39", "")
    assert parse("C391") == IndustryCode("C", "39", "1")
    assert parse(" c3911 ") == IndustryCode("C", "39", "11")
    code = parse("C3911")
    assert code.code == str(code) == "C3911"
    assert code.division_code == "C39"
    assert [parse(c).level for c in ("C39", "C391", "C3911")] == ["division", "group", "class"]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("A39", "belongs to section C, not A: did you mean C39"),
        ("I39", "belongs to section C"),
        ("C65", "belongs to section I"),
        ("M3911", "did you mean C3911"),
        ("C00", "unknown division"),
        ("C98", "unknown division"),
        ("U97", "unknown section"),
        ("39", "must be a section letter"),
        ("C", "must be a section letter"),
        ("C3", "must be a section letter"),
        ("C39111", "must be a section letter"),
        ("C39A", "must be a section letter"),
        ("C39٣", "must be a section letter"),  # an Arabic-Indic three is no digit here
        ("C٣٩", "must be a section letter"),
        ("", "must be a section letter"),
    ],
)
def test_parse_rejects(code: str, message: str) -> None:
    with pytest.raises(InvalidIndustryCode, match=message):
        parse(code)


def test_invalid_industry_code_is_a_value_error() -> None:
    assert issubclass(InvalidIndustryCode, ValueError)
    with pytest.raises(InvalidIndustryCode, match="is text"):
        parse(39)  # type: ignore[arg-type]
    with pytest.raises(InvalidIndustryCode, match="unknown division"):
        division_name("98")


def test_same_division_and_section() -> None:
    assert same_division("C39", "C3911")
    assert same_division("C3911", parse("C3919"))
    assert not same_division("C39", "C38")
    assert same_section("C39", "C27")
    assert same_section("I65", "I6510")
    assert not same_section("I65", "M73")
    with pytest.raises(InvalidIndustryCode):
        same_division("A39", "C39")


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        industry.SECTIONS["U"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        industry.DIVISIONS["98"] = industry.Division("98", "T", "x")  # type: ignore[index]
