"""common/pagination.py: the page parameters every list reads and the page it answers."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from common.pagination import Page, PageQuery, page_of, page_query, page_schema
from services.notification.schemas import DeliverySchema


def test_page_parameters_default_and_bounds() -> None:
    assert PageQuery().load({}) == {"page": 1, "per_page": 20}
    assert PageQuery().load({"page": "3", "per_page": "200"}) == {"page": 3, "per_page": 200}
    for bad in ({"page": 0}, {"per_page": 201}, {"page": 100_001}):
        with pytest.raises(ValidationError):
            PageQuery().load(bad)


def test_a_list_of_other_bounds() -> None:
    small = page_query(per_page=10, max_per_page=50, max_page=100)
    assert small().load({}) == {"page": 1, "per_page": 10}
    assert issubclass(small, PageQuery)
    with pytest.raises(ValidationError):
        small().load({"per_page": 51})


def test_the_page_answered() -> None:
    page = Page([1, 2], total=7, page=2, per_page=2).map(str)
    assert page.as_dict(unread=1) == {"items": ["1", "2"], "total": 7, "unread": 1, "page": 2,
                                      "per_page": 2}
    schema = page_schema(DeliverySchema, "DeliveryPage")
    assert list(schema().fields) == ["items", "total", "page", "per_page"]


def test_a_page_of_a_list_ranked_in_python() -> None:
    ranked = list("abcdefg")
    assert page_of(ranked, {"page": 2, "per_page": 3}) == Page(["d", "e", "f"], 7, 2, 3)
    assert page_of(ranked, {"page": 3, "per_page": 3}).items == ["g"]
    assert page_of(ranked, {"page": 4, "per_page": 3}) == Page([], 7, 4, 3)
