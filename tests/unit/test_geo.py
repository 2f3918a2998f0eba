"""网格 geometry: GeoJSON validation, point location with deterministic boundaries, overlaps."""

from __future__ import annotations

import random

import pytest
from shapely.geometry import MultiPolygon, Polygon

from services.enterprise.geo import (
    GridArea,
    GridIndex,
    locate,
    overlaps,
    parse_polygon,
    rectangle,
)


def tiles(columns: int = 5, rows: int = 3) -> list[GridArea]:
    """A columns x rows tiling of lon 120.25-120.40, lat 36.28-36.36, ids G01..."""
    west, south, east, north = 120.25, 36.28, 120.40, 36.36
    width, height = (east - west) / columns, (north - south) / rows
    areas = []
    for row in range(rows):
        for col in range(columns):
            grid_id = f"G{row * columns + col + 1:02d}"
            box = rectangle(west + col * width, south + row * height,
                            west + (col + 1) * width, south + (row + 1) * height)
            areas.append(GridArea(grid_id, box))
    return areas


def test_parse_polygon_and_multipolygon() -> None:
    polygon = parse_polygon(rectangle(120.3, 36.3, 120.31, 36.31))
    assert isinstance(polygon, Polygon)
    with_hole = {
        "type": "Polygon",
        "coordinates": [
            [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
            [[2, 2], [2, 4], [4, 4], [4, 2], [2, 2]],
        ],
    }
    assert parse_polygon(with_hole).area == pytest.approx(96)
    multi = {
        "type": "MultiPolygon",
        "coordinates": [
            rectangle(0, 0, 1, 1)["coordinates"],
            rectangle(2, 0, 3, 1)["coordinates"],
        ],
    }
    assert isinstance(parse_polygon(multi), MultiPolygon)
    feature = {"type": "Feature", "properties": {}, "geometry": rectangle(0, 0, 1, 1)}
    assert parse_polygon(feature).area == pytest.approx(1)
    three_d = {"type": "Polygon", "coordinates": [[[0, 0, 5], [1, 0, 5], [1, 1, 5], [0, 0, 5]]]}
    assert parse_polygon(three_d).area == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("geojson", "message"),
    [
        ({"type": "Point", "coordinates": [120.3, 36.3]}, "expected a GeoJSON Polygon"),
        ({"type": "Polygon"}, "has no coordinates"),
        ({"type": "Polygon", "coordinates": []}, "non-empty array of linear rings"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
         "at least 4 positions"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
         r"coordinates\[0\]: ring is not closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]},
         r"coordinates\[0\]\[1\]: longitude 200 out of range"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 95], [0, 0]]]},
         r"coordinates\[0\]\[2\]: latitude 95 out of range"),
        ({"type": "Polygon", "coordinates": [[[0, 0], ["1", 0], [1, 1], [0, 0]]]},
         "longitude must be a number"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, float("nan")], [1, 1], [0, 0]]]},
         "latitude must be finite"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1], [1, 1], [0, 0]]]},
         "a position has 2 or 3 numbers"),
        # bow-tie: the ring crosses itself
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
         "invalid Polygon: Self-intersection"),
        # a hole outside its shell
        ({"type": "Polygon", "coordinates": [
            [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]],
            [[5, 5], [5, 6], [6, 6], [6, 5], [5, 5]]]},
         "invalid Polygon: Hole lies outside shell"),
        # two members of a MultiPolygon overlapping
        ({"type": "MultiPolygon", "coordinates": [
            rectangle(0, 0, 2, 2)["coordinates"], rectangle(1, 1, 3, 3)["coordinates"]]},
         "invalid MultiPolygon"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [2, 0], [0, 0]]]},
         "invalid Polygon"),
        ({"type": "Feature", "geometry": None}, "has no geometry"),
    ],
)
def test_parse_polygon_rejects(geojson: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_polygon(geojson)


def test_parse_polygon_rejects_non_mapping() -> None:
    with pytest.raises(ValueError, match="expected a GeoJSON object"):
        parse_polygon([[0, 0]])  # type: ignore[arg-type]


def test_grid_area_names_the_grid_in_errors() -> None:
    with pytest.raises(ValueError, match="grid 'G07': .*ring is not closed"):
        GridArea("G07", {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]})


def test_locate_inside_outside() -> None:
    areas = tiles()
    assert locate(120.26, 36.29, areas) == "G01"
    assert locate(120.39, 36.35, areas) == "G15"
    assert locate(120.32, 36.30, areas) == "G03"
    assert locate(120.20, 36.30, areas) is None
    assert locate(120.30, 36.40, areas) is None


def test_shared_boundary_goes_to_lowest_id_whatever_the_order() -> None:
    left = GridArea("G02", rectangle(0, 0, 1, 1))
    right = GridArea("G01", rectangle(1, 0, 2, 1))
    for order in ([left, right], [right, left]):
        assert locate(1.0, 0.5, order) == "G01"  # on the shared edge
        assert locate(0.5, 0.5, order) == "G02"
        assert locate(1.5, 0.5, order) == "G01"
    # outer boundary and corners belong to the grid they bound
    assert locate(0.0, 0.0, [left, right]) == "G02"
    assert locate(2.0, 1.0, [left, right]) == "G01"


def test_four_corner_point_and_integer_ids() -> None:
    areas = [
        GridArea(10, rectangle(0, 0, 1, 1)),
        GridArea(2, rectangle(1, 0, 2, 1)),
        GridArea(33, rectangle(0, 1, 1, 2)),
        GridArea(4, rectangle(1, 1, 2, 2)),
    ]
    index = GridIndex(areas)
    assert index.covering(1, 1) == [2, 4, 10, 33]
    assert index.locate(1, 1) == 2  # numeric, not text, order
    assert index.locate(0.5, 1.5) == 33


def test_every_point_of_a_tiling_has_exactly_one_grid() -> None:
    index = GridIndex(tiles())
    rng = random.Random(7)
    west, south, east, north = 120.25, 36.28, 120.40, 36.36
    points = [(rng.uniform(west, east), rng.uniform(south, north)) for _ in range(2000)]
    # exact tile corners and edges too
    points += [(west + c * 0.03, south + r * (0.08 / 3)) for c in range(6) for r in range(4)]
    for lon, lat in points:
        found = index.locate(lon, lat)
        assert found is not None, (lon, lat)
        # the one chosen covers the point, and is the lowest of those that do
        covering = [a.grid_id for a in index.areas if a.covers(lon, lat)]
        assert found == min(covering)


def test_locate_rejects_bad_points() -> None:
    areas = tiles()
    with pytest.raises(ValueError, match="longitude 181"):
        locate(181, 36.3, areas)
    with pytest.raises(ValueError, match="latitude must be finite"):
        locate(120.3, float("nan"), areas)


def test_duplicate_grid_ids_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate grid id 'G01'"):
        GridIndex([GridArea("G01", rectangle(0, 0, 1, 1)), GridArea("G01", rectangle(1, 0, 2, 1))])


def test_overlaps() -> None:
    areas = tiles()
    assert overlaps(areas) == []  # shared edges are not overlaps
    extra = GridArea("G16", rectangle(120.27, 36.29, 120.29, 36.30))  # parts of G01, G02
    assert overlaps([*areas, extra]) == [("G01", "G16"), ("G02", "G16")]
    assert overlaps(GridIndex([extra, *areas])) == [("G01", "G16"), ("G02", "G16")]
    # a sliver below min_area is ignored
    sliver = GridArea("G17", rectangle(120.2999999, 36.2, 120.33, 36.2800001))
    assert overlaps([*areas, sliver]) == [("G02", "G17"), ("G03", "G17")]
    assert overlaps([*areas, sliver], min_area=1e-8) == []


def test_locate_in_multipolygon_with_hole() -> None:
    donut = GridArea("A", {"type": "Polygon", "coordinates": [
        [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]],
        [[1, 1], [1, 3], [3, 3], [3, 1], [1, 1]]]})
    inner = GridArea("B", rectangle(1, 1, 3, 3))
    assert locate(2, 2, [donut, inner]) == "B"
    assert locate(0.5, 2, [donut, inner]) == "A"
    assert locate(1, 2, [donut, inner]) == "A"  # on the hole's edge, shared with B
