"""网格 geometry: which geographic grid (地理网格) an enterprise's location falls in.

Grid areas are GeoJSON Polygons or MultiPolygons in WGS 84 lon/lat (RFC 7946 order:
``[lon, lat]``). :func:`parse_polygon` validates one; :class:`GridIndex` (a shapely STRtree over
the areas) answers :meth:`GridIndex.locate` and :meth:`GridIndex.overlaps`; the module-level
:func:`locate` and :func:`overlaps` take either an index or a plain list of :class:`GridArea`.

"全覆盖、无遗漏" asks that every enterprise belongs to exactly one grid, so a point on a boundary
shared by several grids (or inside an overlap) goes to the grid with the **lowest grid id**;
integer ids sort numerically, string ids as text (zero-pad them: ``G02`` < ``G10``).
Incubator (孵化器) grids are assigned by tenancy, not by location, and need no polygon.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.strtree import STRtree

from common.errors import InvalidValue
from common.i18n import N_, phrase

__all__ = [
    "GridArea",
    "GridId",
    "GridIndex",
    "locate",
    "overlaps",
    "parse_polygon",
    "rectangle",
]

GridId = str | int
Area = Polygon | MultiPolygon


class InvalidBoundary(InvalidValue):
    """A grid's boundary that is not a valid GeoJSON (Multi)Polygon: the message names the
    offending part (``where``, a path such as ``coordinates[0][3]``)."""


def _id_key(grid_id: GridId) -> tuple[int, Any]:
    return (0, grid_id) if isinstance(grid_id, int) else (1, str(grid_id))


def _check_lon_lat(lon: Any, lat: Any, where: str) -> tuple[float, float]:
    for name, value in ((N_("longitude"), lon), (N_("latitude"), lat)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InvalidBoundary("grid.coordinate_invalid",
                                  "{where}: {name} must be a number, got {value}",
                                  where=where, name=phrase(name), value=repr(value))
        if not math.isfinite(value):
            raise InvalidBoundary("grid.coordinate_invalid",
                                  "{where}: {name} must be finite, got {value}",
                                  where=where, name=phrase(name), value=repr(value))
    if not -180 <= lon <= 180:
        raise InvalidBoundary("grid.coordinate_out_of_range",
                              "{where}: longitude {lon} out of range [-180, 180]",
                              where=where, lon=lon)
    if not -90 <= lat <= 90:
        raise InvalidBoundary("grid.coordinate_out_of_range",
                              "{where}: latitude {lat} out of range [-90, 90]",
                              where=where, lat=lat)
    return float(lon), float(lat)


#: the most positions a boundary or geometry may have (every list of the document has a
#: maximum: issue 22, finding 1); a district's detailed outline has a few thousand
MAX_POSITIONS = 10_000


def _positions(coordinates: Any, depth: int) -> int:
    """How many positions ``coordinates`` holds, ``depth`` lists above them (2 for a
    Polygon, 3 for a MultiPolygon); counting stops past :data:`MAX_POSITIONS`."""
    if not isinstance(coordinates, list):
        return 0
    if depth == 1:
        return len(coordinates)
    total = 0
    for part in coordinates[:MAX_POSITIONS + 1]:
        total += _positions(part, depth - 1) or 1
        if total > MAX_POSITIONS:
            break
    return total


def _ring(raw: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise InvalidBoundary("grid.boundary_invalid",
                              "{where}: a linear ring must be an array of positions", where=where)
    if len(raw) < 4:
        raise InvalidBoundary("grid.boundary_invalid",
                              "{where}: a linear ring needs at least 4 positions (closed), "
                              "got {count}", where=where, count=len(raw))
    points = []
    for i, position in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(position, Sequence) or isinstance(position, str):
            raise InvalidBoundary("grid.boundary_invalid",
                                  "{where}: a position must be an array [lon, lat]", where=at)
        if len(position) not in (2, 3):
            raise InvalidBoundary("grid.boundary_invalid",
                                  "{where}: a position has 2 or 3 numbers, got {count}",
                                  where=at, count=len(position))
        points.append(_check_lon_lat(position[0], position[1], at))
    if points[0] != points[-1]:
        raise InvalidBoundary("grid.ring_not_closed",
                              "{where}: ring is not closed: first position {first} differs "
                              "from last {last}", where=where, first=str(list(points[0])),
                              last=str(list(points[-1])))
    return points


def _polygon(raw: Any, where: str) -> Polygon:
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise InvalidBoundary("grid.boundary_invalid",
                              "{where}: a polygon must be a non-empty array of linear rings",
                              where=where)
    rings = [_ring(r, f"{where}[{i}]") for i, r in enumerate(raw)]
    return Polygon(rings[0], rings[1:])


def parse_polygon(geojson: Mapping[str, Any]) -> Area:
    """Validate a GeoJSON Polygon or MultiPolygon (or a Feature holding one) into shapely.

    Checks the structure, lon/lat ranges, closed rings and OGC validity (no self-intersection,
    holes inside shells, ...). Raises :class:`ValueError` naming the offending part.
    """
    if not isinstance(geojson, Mapping):
        raise InvalidBoundary("grid.boundary_invalid", "expected a GeoJSON object, got {type}",
                              type=type(geojson).__name__)
    if geojson.get("type") == "Feature":
        geometry = geojson.get("geometry")
        if geometry is None:
            raise InvalidBoundary("grid.boundary_invalid", "the Feature has no geometry")
        return parse_polygon(geometry)
    kind = geojson.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise InvalidBoundary("grid.boundary_invalid",
                              "expected a GeoJSON Polygon or MultiPolygon, got type {kind}",
                              kind=repr(kind))
    coordinates = geojson.get("coordinates")
    if coordinates is None:
        raise InvalidBoundary("grid.boundary_invalid", "the {kind} has no coordinates", kind=kind)
    if _positions(coordinates, 3 if kind == "MultiPolygon" else 2) > MAX_POSITIONS:
        raise InvalidBoundary("grid.boundary_too_large",
                              "the {kind} has more than {count} positions", kind=kind,
                              count=MAX_POSITIONS)
    geometry: Area
    if kind == "Polygon":
        geometry = _polygon(coordinates, "coordinates")
    else:
        if not isinstance(coordinates, Sequence) or isinstance(coordinates, str) or not coordinates:
            raise InvalidBoundary("grid.boundary_invalid",
                                  "coordinates: a MultiPolygon must be a non-empty array of "
                                  "polygons")
        geometry = MultiPolygon(
            [_polygon(p, f"coordinates[{i}]") for i, p in enumerate(coordinates)]
        )
    if not geometry.is_valid:
        raise InvalidBoundary("grid.boundary_not_simple", "invalid {kind}: {reason}",
                              kind=kind, reason=shapely.is_valid_reason(geometry))
    if geometry.is_empty or geometry.area <= 0:
        raise InvalidBoundary("grid.boundary_no_area", "the {kind} has no area", kind=kind)
    return geometry


def rectangle(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> dict[str, Any]:
    """A GeoJSON Polygon for a lon/lat box, exterior ring counter-clockwise (RFC 7946)."""
    if not (min_lon < max_lon and min_lat < max_lat):
        raise ValueError("rectangle needs min_lon < max_lon and min_lat < max_lat")
    ring = [[min_lon, min_lat], [max_lon, min_lat], [max_lon, max_lat], [min_lon, max_lat],
            [min_lon, min_lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass(frozen=True, eq=False)
class GridArea:
    """One geographic grid: its id and its GeoJSON area (validated on construction)."""

    grid_id: GridId
    polygon_geojson: Mapping[str, Any]
    geometry: Area = field(init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            geometry = parse_polygon(self.polygon_geojson)
        except ValueError as exc:
            raise ValueError(f"grid {self.grid_id!r}: {exc}") from None
        object.__setattr__(self, "geometry", geometry)

    def covers(self, lon: float, lat: float) -> bool:
        """The point is inside the area or on its boundary."""
        lon, lat = _check_lon_lat(lon, lat, "point")
        return bool(self.geometry.covers(Point(lon, lat)))


class GridIndex:
    """An STRtree over grid areas; build once, query many times."""

    def __init__(self, areas: Iterable[GridArea]) -> None:
        ordered = sorted(areas, key=lambda a: _id_key(a.grid_id))
        seen: set[GridId] = set()
        for area in ordered:
            if area.grid_id in seen:
                raise ValueError(f"duplicate grid id {area.grid_id!r}")
            seen.add(area.grid_id)
        self._areas: tuple[GridArea, ...] = tuple(ordered)
        self._tree = STRtree([a.geometry for a in self._areas])

    @property
    def areas(self) -> tuple[GridArea, ...]:
        """The areas, sorted by grid id."""
        return self._areas

    def __len__(self) -> int:
        return len(self._areas)

    def covering(self, lon: float, lat: float) -> list[GridId]:
        """Every grid whose area contains the point or has it on its boundary, lowest id first."""
        lon, lat = _check_lon_lat(lon, lat, "point")
        hits = self._tree.query(Point(lon, lat), predicate="intersects")
        return [self._areas[i].grid_id for i in sorted(int(i) for i in hits)]

    def locate(self, lon: float, lat: float) -> GridId | None:
        """The one grid the point belongs to (lowest id on shared boundaries), or None."""
        found = self.covering(lon, lat)
        return found[0] if found else None

    def overlaps(self, min_area: float = 0.0) -> list[tuple[GridId, GridId]]:
        """Pairs ``(a, b)``, ``a < b``, whose interiors overlap (sharing an edge is fine).

        ``min_area`` (square degrees) ignores slivers up to that size.
        """
        pairs: list[tuple[GridId, GridId]] = []
        for i, area in enumerate(self._areas):
            for j in sorted(int(j) for j in self._tree.query(area.geometry)):
                if j <= i:
                    continue
                other = self._areas[j].geometry
                if not shapely.relate_pattern(area.geometry, other, "T********"):
                    continue
                if min_area > 0 and area.geometry.intersection(other).area <= min_area:
                    continue
                pairs.append((area.grid_id, self._areas[j].grid_id))
        return pairs


def _index(areas: GridIndex | Iterable[GridArea]) -> GridIndex:
    return areas if isinstance(areas, GridIndex) else GridIndex(areas)


def locate(lon: float, lat: float, areas: GridIndex | Iterable[GridArea]) -> GridId | None:
    """The grid id whose area holds (lon, lat); lowest id on a shared boundary; else None.

    Pass a :class:`GridIndex` when locating many points: a list is indexed on every call.
    """
    return _index(areas).locate(lon, lat)


def overlaps(
    areas: GridIndex | Iterable[GridArea], min_area: float = 0.0
) -> list[tuple[GridId, GridId]]:
    """Pairs of grid ids whose areas overlap (interiors intersect), sorted."""
    return _index(areas).overlaps(min_area)


def index_of(boundaries: Iterable[tuple[GridId, Mapping[str, Any] | None]]) -> GridIndex:
    """A GridIndex of the grids that have a usable boundary; the others are logged and skipped
    (a boundary stored before validation existed must not break assignment for everyone)."""
    areas = []
    for grid_id, boundary in boundaries:
        if not boundary:
            continue
        try:
            areas.append(GridArea(grid_id, boundary))
        except ValueError:
            logging.getLogger(__name__).warning("grid %s has an unusable boundary", grid_id)
    return GridIndex(areas)
