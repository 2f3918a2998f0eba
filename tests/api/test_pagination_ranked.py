"""common/pagination.paginate_ranked against PostgreSQL: the page and the count of all its rows
from one statement (a window count), equal to what paginate's separate count gives, on every
page, past the end and for a list with no rows."""

from __future__ import annotations

from sqlalchemy import column, func, select
from sqlalchemy.orm import Session

from common.pagination import paginate, paginate_ranked


def numbers(upto: int):  # 1..upto, as a list query with a rank to order by
    series = func.generate_series(1, upto).table_valued("n").render_derived(name="numbers")
    return select(series.c.n, (series.c.n % 7).label("rank")).select_from(series)


def test_the_ranked_page_carries_the_same_total_as_a_separate_count(db) -> None:
    with Session(db) as session:
        query = numbers(45).where(column("n") > 2)  # 43 rows
        order = [column("rank").desc(), column("n")]
        for page in (1, 2, 3, 4):
            q = {"page": page, "per_page": 20}
            ranked = paginate_ranked(session, query, q, order_by=order)
            counted = paginate(session, query, q, order_by=order)
            assert ranked.total == counted.total == 43, page
            assert ranked.items == [tuple(row) for row in counted.items], page
        assert [len(paginate_ranked(session, query, {"page": p, "per_page": 20},
                                    order_by=order).items) for p in (1, 2, 3, 4)] == [20, 20,
                                                                                      3, 0]
        nothing = numbers(45).where(column("n") > 100)
        assert paginate_ranked(session, nothing, {"page": 1, "per_page": 20},
                               order_by=order).total == 0
        assert paginate_ranked(session, nothing, {"page": 2, "per_page": 20},
                               order_by=order).total == 0
