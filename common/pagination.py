"""Pages of a list (分页): the query parameters, the page a list answers, and the query.

Every list endpoint reads ``page`` (from 1) and ``per_page`` with :class:`PageQuery` (or a
:func:`page_query` of other bounds), answers ``{items, total, page, per_page}`` described by
:func:`page_schema`, and runs its filtered query through :func:`paginate`: one ``count(*)``
of the filtered rows (:func:`count_of`, capped where a search box can match most of a
province), then the page's rows in the given order. A list ranked in Python (the
board's matches, the supervision list) is cut with :func:`page_of`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
U = TypeVar("U")

#: the defaults of :class:`PageQuery`
PER_PAGE = 20
MAX_PER_PAGE = 200
MAX_PAGE = 100_000


class PageQuery(Schema):
    """``page`` (1-100,000, default 1) and ``per_page`` (1-200, default 20)."""

    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE))
    per_page = fields.Integer(load_default=PER_PAGE, validate=validate.Range(1, MAX_PER_PAGE))


def page_query(*, per_page: int = PER_PAGE, max_per_page: int = MAX_PER_PAGE,
               max_page: int = MAX_PAGE, name: str = "PageQuery") -> type[PageQuery]:
    """A :class:`PageQuery` with other bounds (a list whose pages are smaller or fewer)."""
    attrs: dict[str, Any] = {
        "page": fields.Integer(load_default=1, validate=validate.Range(1, max_page)),
        "per_page": fields.Integer(load_default=per_page,
                                   validate=validate.Range(1, max_per_page)),
    }
    return type(name, (PageQuery,), attrs)


def page_schema(item: type[Schema], name: str, **extra: fields.Field[Any]) -> type[Schema]:
    """The answer of a list of ``item``: ``items``, ``total``, ``page``, ``per_page`` (and
    ``extra`` fields, such as an inbox's ``unread``), named ``name`` in the OpenAPI document."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "total": fields.Integer(required=True),
            **extra,
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
        },
        name=name,
    )


def total_capped() -> fields.Boolean:
    """The ``total_capped`` field of a list whose count is capped (:func:`count_of`)."""
    return fields.Boolean(required=True, metadata={
        "description": "true: more rows match than `total` (counting stopped there); shown "
                       "as 10,000+. Narrow the search to count them exactly"})


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the size of the whole list."""

    items: list[T]
    total: int
    page: int
    per_page: int

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        return Page([convert(item) for item in self.items], self.total, self.page,
                    self.per_page)

    def as_dict(self, **extra: Any) -> dict[str, Any]:
        """The answer :func:`page_schema` describes (with ``extra`` keys)."""
        return {"items": self.items, "total": self.total, **extra, "page": self.page,
                "per_page": self.per_page}


def paginate(session: Session, query: Select[Any], q: Mapping[str, Any], *,
             order_by: Sequence[Any] = (), scalars: bool = False,
             count: bool = True, total: int | None = None) -> Page[Any]:
    """Page ``q["page"]`` (from 1) of ``q["per_page"]`` rows of ``query`` (as
    :class:`PageQuery` loads them) in ``order_by`` order (give a unique last key, so that pages
    neither overlap nor skip), with the count of all its rows. ``scalars``: the items are the
    first column of each row (an ORM entity), else the rows. ``count=False``: no count (a
    reader going page after page, such as an export), ``total`` is -1; ``total``: counted
    already (:func:`count_of`)."""
    page, per_page = int(q["page"]), int(q["per_page"])
    if total is None:
        total = count_of(session, query)[0] if count else -1
    result = session.execute(
        query.order_by(*order_by).offset((page - 1) * per_page).limit(per_page))
    items = list(result.scalars()) if scalars else list(result.all())
    return Page(items, int(total), page, per_page)


def paginate_ranked(session: Session, query: Select[Any], q: Mapping[str, Any], *,
                    order_by: Sequence[Any]) -> Page[Any]:
    """:func:`paginate` in one statement, the count as a window over the same rows: for a list
    in an order that reads every match anyway (a search ranked by relevance), where the
    separate ``count(*)`` was a second scan of them (the registry's keyword search at 100,000
    enterprises: two scans of the table). The items are rows without the count. A page past
    the end has no row to carry the count: it is counted apart."""
    page, per_page = int(q["page"]), int(q["per_page"])
    rows = session.execute(
        query.add_columns(func.count().over().label("total_of_all")).order_by(*order_by)
        .offset((page - 1) * per_page).limit(per_page)).all()
    if rows:
        total = int(rows[0][-1])
    else:
        total = 0 if page == 1 else count_of(session, query)[0]
    return Page([tuple(row)[:-1] for row in rows], total, page, per_page)


def count_of(session: Session, query: Select[Any], cap: int | None = None) -> tuple[int, bool]:
    """The number of ``query``'s rows, and whether it was capped: with ``cap``, at most
    ``cap + 1`` rows are counted and more than ``cap`` answers ``(cap, True)`` (a list shown
    as "10,000+": counting every match of a common word is what made it slow)."""
    counted = query.order_by(None)  # an order (a rank) is no part of a count
    if cap is not None:
        counted = counted.limit(cap + 1)
    found = int(session.execute(
        select(func.count()).select_from(counted.subquery())).scalar_one())
    if cap is not None and found > cap:
        return cap, True
    return found, False


def page_of(items: Sequence[T], q: Mapping[str, Any]) -> Page[T]:
    """Page ``q["page"]`` (from 1) of ``q["per_page"]`` items of a list already in its order
    (one ranked in Python), with the length of the whole list."""
    page, per_page = int(q["page"]), int(q["per_page"])
    start = (page - 1) * per_page
    return Page(list(items[start:start + per_page]), len(items), page, per_page)
