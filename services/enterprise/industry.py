"""国民经济行业分类 GB/T 4754-2017: the 20 门类 (sections A-T) and 97 大类 (divisions 01-97).

The platform writes an industry as the section letter followed by the division and, for a finer
code, the 中类/小类 digits: ``C39`` (大类), ``C391`` (中类), ``C3911`` (小类). :func:`parse`
checks that the division belongs to the section (``C39`` ok, ``A39`` not). The 473 中类 and
about 1,380 小类 are not tabulated here, so finer digits are checked for form only (one or two
more digits), not for existence.

The table below is the 2017 edition. Several names differ from the 2011 edition, e.g.
05 农、林、牧、渔专业及辅助性活动, 11 开采专业及辅助性活动,
25 石油、煤炭及其他燃料加工业, 58 多式联运和运输代理业, 59 装卸搬运和仓储业,
79 土地管理业 (new), 94 社会保障 (moved to S).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from common.errors import InvalidValue

__all__ = [
    "DIVISIONS",
    "SECTIONS",
    "Division",
    "IndustryCode",
    "InvalidIndustryCode",
    "division_name",
    "divisions_of",
    "parse",
    "same_division",
    "same_section",
    "section_name",
]


class Division(NamedTuple):
    """One 大类: its two-digit code, its 门类 letter and its name."""

    code: str
    section: str
    name: str


#: 门类 letter -> name
SECTIONS: MappingProxyType[str, str] = MappingProxyType({
    "A": "农、林、牧、渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
})

_DIVISION_ROWS: tuple[tuple[str, str, str], ...] = (
    # A 农、林、牧、渔业
    ("01", "A", "农业"),
    ("02", "A", "林业"),
    ("03", "A", "畜牧业"),
    ("04", "A", "渔业"),
    ("05", "A", "农、林、牧、渔专业及辅助性活动"),
    # B 采矿业
    ("06", "B", "煤炭开采和洗选业"),
    ("07", "B", "石油和天然气开采业"),
    ("08", "B", "黑色金属矿采选业"),
    ("09", "B", "有色金属矿采选业"),
    ("10", "B", "非金属矿采选业"),
    ("11", "B", "开采专业及辅助性活动"),
    ("12", "B", "其他采矿业"),
    # C 制造业
    ("13", "C", "农副食品加工业"),
    ("14", "C", "食品制造业"),
    ("15", "C", "酒、饮料和精制茶制造业"),
    ("16", "C", "烟草制品业"),
    ("17", "C", "纺织业"),
    ("18", "C", "纺织服装、服饰业"),
    ("19", "C", "皮革、毛皮、羽毛及其制品和制鞋业"),
    ("20", "C", "木材加工和木、竹、藤、棕、草制品业"),
    ("21", "C", "家具制造业"),
    ("22", "C", "造纸和纸制品业"),
    ("23", "C", "印刷和记录媒介复制业"),
    ("24", "C", "文教、工美、体育和娱乐用品制造业"),
    ("25", "C", "石油、煤炭及其他燃料加工业"),
    ("26", "C", "化学原料和化学制品制造业"),
    ("27", "C", "医药制造业"),
    ("28", "C", "化学纤维制造业"),
    ("29", "C", "橡胶和塑料制品业"),
    ("30", "C", "非金属矿物制品业"),
    ("31", "C", "黑色金属冶炼和压延加工业"),
    ("32", "C", "有色金属冶炼和压延加工业"),
    ("33", "C", "金属制品业"),
    ("34", "C", "通用设备制造业"),
    ("35", "C", "专用设备制造业"),
    ("36", "C", "汽车制造业"),
    ("37", "C", "铁路、船舶、航空航天和其他运输设备制造业"),
    ("38", "C", "电气机械和器材制造业"),
    ("39", "C", "计算机、通信和其他电子设备制造业"),
    ("40", "C", "仪器仪表制造业"),
    ("41", "C", "其他制造业"),
    ("42", "C", "废弃资源综合利用业"),
    ("43", "C", "金属制品、机械和设备修理业"),
    # D 电力、热力、燃气及水生产和供应业
    ("44", "D", "电力、热力生产和供应业"),
    ("45", "D", "燃气生产和供应业"),
    ("46", "D", "水的生产和供应业"),
    # E 建筑业
    ("47", "E", "房屋建筑业"),
    ("48", "E", "土木工程建筑业"),
    ("49", "E", "建筑安装业"),
    ("50", "E", "建筑装饰、装修和其他建筑业"),
    # F 批发和零售业
    ("51", "F", "批发业"),
    ("52", "F", "零售业"),
    # G 交通运输、仓储和邮政业
    ("53", "G", "铁路运输业"),
    ("54", "G", "道路运输业"),
    ("55", "G", "水上运输业"),
    ("56", "G", "航空运输业"),
    ("57", "G", "管道运输业"),
    ("58", "G", "多式联运和运输代理业"),
    ("59", "G", "装卸搬运和仓储业"),
    ("60", "G", "邮政业"),
    # H 住宿和餐饮业
    ("61", "H", "住宿业"),
    ("62", "H", "餐饮业"),
    # I 信息传输、软件和信息技术服务业
    ("63", "I", "电信、广播电视和卫星传输服务"),
    ("64", "I", "互联网和相关服务"),
    ("65", "I", "软件和信息技术服务业"),
    # J 金融业
    ("66", "J", "货币金融服务"),
    ("67", "J", "资本市场服务"),
    ("68", "J", "保险业"),
    ("69", "J", "其他金融业"),
    # K 房地产业
    ("70", "K", "房地产业"),
    # L 租赁和商务服务业
    ("71", "L", "租赁业"),
    ("72", "L", "商务服务业"),
    # M 科学研究和技术服务业
    ("73", "M", "研究和试验发展"),
    ("74", "M", "专业技术服务业"),
    ("75", "M", "科技推广和应用服务业"),
    # N 水利、环境和公共设施管理业
    ("76", "N", "水利管理业"),
    ("77", "N", "生态保护和环境治理业"),
    ("78", "N", "公共设施管理业"),
    ("79", "N", "土地管理业"),
    # O 居民服务、修理和其他服务业
    ("80", "O", "居民服务业"),
    ("81", "O", "机动车、电子产品和日用产品修理业"),
    ("82", "O", "其他服务业"),
    # P 教育
    ("83", "P", "教育"),
    # Q 卫生和社会工作
    ("84", "Q", "卫生"),
    ("85", "Q", "社会工作"),
    # R 文化、体育和娱乐业
    ("86", "R", "新闻和出版业"),
    ("87", "R", "广播、电视、电影和录音制作业"),
    ("88", "R", "文化艺术业"),
    ("89", "R", "体育"),
    ("90", "R", "娱乐业"),
    # S 公共管理、社会保障和社会组织
    ("91", "S", "中国共产党机关"),
    ("92", "S", "国家机构"),
    ("93", "S", "人民政协、民主党派"),
    ("94", "S", "社会保障"),
    ("95", "S", "群众团体、社会团体和其他成员组织"),
    ("96", "S", "基层群众自治组织及其他组织"),
    # T 国际组织
    ("97", "T", "国际组织"),
)

#: 大类 two-digit code -> :class:`Division`
DIVISIONS: MappingProxyType[str, Division] = MappingProxyType(
    {code: Division(code, section, name) for code, section, name in _DIVISION_ROWS}
)

#: ASCII digits only: Python's ``\d`` also takes "٣" and other scripts' digits
_CODE = re.compile(r"([A-Z])(\d{2})(\d{0,2})", re.ASCII)


class InvalidIndustryCode(InvalidValue):
    """Not a GB/T 4754-2017 code of the form ``C39`` / ``C391`` / ``C3911`` (a code
    ``enterprise.industry_code_*`` and an English message id, :class:`InvalidValue`)."""


@dataclass(frozen=True, slots=True)
class IndustryCode:
    """A parsed code: 门类 letter, 大类 two digits, finer 中类/小类 digits (may be empty)."""

    section: str
    division: str
    rest: str = ""

    @property
    def code(self) -> str:
        """The canonical text, e.g. ``C3911``."""
        return f"{self.section}{self.division}{self.rest}"

    @property
    def division_code(self) -> str:
        """The 大类 level of this code, e.g. ``C39``."""
        return f"{self.section}{self.division}"

    @property
    def level(self) -> str:
        """``division`` (大类), ``group`` (中类) or ``class`` (小类)."""
        return ("division", "group", "class")[len(self.rest)]

    @property
    def section_name(self) -> str:
        """门类名称."""
        return SECTIONS[self.section]

    @property
    def division_name(self) -> str:
        """大类名称."""
        return DIVISIONS[self.division].name

    def __str__(self) -> str:
        return self.code


def parse(code: str) -> IndustryCode:
    """Parse ``C39`` / ``C391`` / ``C3911`` (case and surrounding spaces ignored).

    Raises :class:`InvalidIndustryCode` when the form is wrong, the section or division does
    not exist, or the division is not in the section.
    """
    if not isinstance(code, str):
        raise InvalidIndustryCode("enterprise.industry_code_type",
                                  "an industry code is text, got {type}",
                                  type=type(code).__name__)
    text = code.strip().upper()
    match = _CODE.fullmatch(text)
    if match is None:
        raise InvalidIndustryCode(
            "enterprise.industry_code_form",
            "industry code {code} must be a section letter A-T and 2 to 4 "
            "digits, e.g. C39 or C3911", code=repr(code))
    section, division, rest = match.groups()
    if section not in SECTIONS:
        raise InvalidIndustryCode("enterprise.industry_code_section",
                                  "unknown section {section} in {code}: A-T only",
                                  section=repr(section), code=repr(code))
    entry = DIVISIONS.get(division)
    if entry is None:
        raise InvalidIndustryCode("enterprise.industry_code_division",
                                  "unknown division {division} in {code}: 01-97 only",
                                  division=repr(division), code=repr(code))
    if entry.section != section:
        raise InvalidIndustryCode(
            "enterprise.industry_code_section_mismatch",
            "division {division} ({name}) belongs to section "
            "{section}, not {given}: did you mean {suggestion}?", division=division,
            name=entry.name, section=entry.section, given=section,
            suggestion=entry.section + division + rest)
    return IndustryCode(section, division, rest)


def _as_code(code: str | IndustryCode) -> IndustryCode:
    return code if isinstance(code, IndustryCode) else parse(code)


def division_name(code: str | IndustryCode) -> str:
    """大类名称 of a code (``C39`` or ``C3911``) or of a bare two-digit division (``39``)."""
    if isinstance(code, str) and code.strip().isdigit() and len(code.strip()) == 2:
        entry = DIVISIONS.get(code.strip())
        if entry is None:
            raise InvalidIndustryCode("enterprise.industry_code_division",
                                      "unknown division {division}: 01-97 only",
                                      division=repr(code))
        return entry.name
    return _as_code(code).division_name


def section_name(code: str | IndustryCode) -> str:
    """门类名称 of a code (``C39``) or of a bare section letter (``C``)."""
    if isinstance(code, str) and len(code.strip()) == 1:
        letter = code.strip().upper()
        if letter not in SECTIONS:
            raise InvalidIndustryCode("enterprise.industry_code_section",
                                      "unknown section {section}: A-T only",
                                      section=repr(code))
        return SECTIONS[letter]
    return _as_code(code).section_name


def divisions_of(section: str) -> tuple[Division, ...]:
    """The 大类 of one 门类, in code order."""
    letter = section.strip().upper()
    if letter not in SECTIONS:
        raise InvalidIndustryCode("enterprise.industry_code_section",
                                  "unknown section {section}: A-T only",
                                  section=repr(section))
    return tuple(d for d in DIVISIONS.values() if d.section == letter)


def same_division(a: str | IndustryCode, b: str | IndustryCode) -> bool:
    """Both codes fall in the same 大类 (``C3911`` and ``C39`` do)."""
    return _as_code(a).division_code == _as_code(b).division_code


def same_section(a: str | IndustryCode, b: str | IndustryCode) -> bool:
    """Both codes fall in the same 门类 (``C39`` and ``C27`` do)."""
    return _as_code(a).section == _as_code(b).section
