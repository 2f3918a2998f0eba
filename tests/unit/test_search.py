"""The one home of full-text search (common/search.py): words, the search box, the stored
vector and the queries, without a database."""

from __future__ import annotations

from common import search


def test_long_words_are_searched_by_the_words_inside_them():
    assert search.keywords("激光切割") == ["激光", "切割"]
    # a document cut differently still holds every word of the box
    assert set(search.keywords("激光切割")) <= set(search.words("我司需要激光精密切割加工"))
    assert set(search.keywords("激光")) <= set(search.words("专业激光加工服务"))


def test_function_words_say_nothing_and_numbers_narrow():
    assert search.keywords("的 和 公司") == []
    assert search.all_of(search.keywords("的")) is None
    assert "130105" in search.keywords("导入测试130105")
    # the board's matching leaves numbers out (a quantity says nothing about the trade)
    assert "130105" not in search.segment("导入测试130105")


def test_full_width_and_case_are_the_same_word():
    assert search.keywords("ＡＢＣ激光") == search.keywords("abc激光")


def test_queries_and_vectors_quote_words_only():
    assert search.all_of(["激光", "切割"]) == "'激光' & '切割'"
    assert search.any_of(["激光", "切割"]) == "'激光' | '切割'"
    # what is not a word never reaches the query text (no quote can break out)
    assert search.all_of(["a'b", "激光"]) == "'激光'"
    vector = search.tsvector((["激光", "切割"], "A"), (["激光", "o'neil"], "B"))
    assert vector == "'激光':1A,3B '切割':2A"


def test_positions_beyond_postgresql_limit_are_clamped():
    vector = search.tsvector((["词"] * 16390, "B"))
    assert vector.endswith(",16383B")


def test_a_word_postgresql_cannot_index_is_left_out_as_to_tsvector_does():
    """A note of one unbroken 5,000-character word was a 503 ("word is too long")."""
    long = "0" * 5000
    found = search.words(f"喷淋检测 {long}")
    assert "喷淋" in found and long not in found
    assert search.tsvector(([long, "激光"], "A")) == "'激光':2A"
    edge = "a" * search.MAX_WORD_BYTES
    assert search.words(edge) == [edge]
