// The geographic grids' boundaries (GeoJSON Polygon or MultiPolygon, lon/lat) as SVG paths in
// one viewBox: an equirectangular projection scaled by cos(latitude), north up. No map tiles
// (none can be reached offline): the drawing is the polygons alone.

type Position = number[]
type Ring = Position[]

export interface Shape { id: string; name: string; d: string; label: [number, number] }
export interface Drawing { width: number; height: number; shapes: Shape[] }

/** The polygons (each a list of rings) of a GeoJSON Polygon, MultiPolygon or a Feature. */
export function polygonsOf(boundary: unknown): Ring[][] {
  if (!boundary || typeof boundary !== 'object') return []
  const g = boundary as { type?: string; coordinates?: unknown; geometry?: unknown }
  if (g.type === 'Feature') return polygonsOf(g.geometry)
  if (g.type === 'Polygon' && Array.isArray(g.coordinates)) return [g.coordinates as Ring[]]
  if (g.type === 'MultiPolygon' && Array.isArray(g.coordinates)) return g.coordinates as Ring[][]
  return []
}

export function draw(grids: Array<{ id: string; name: string; boundary?: unknown }>, width = 800): Drawing {
  const found = grids.map((g) => ({ g, polygons: polygonsOf(g.boundary) })).filter((x) => x.polygons.length)
  const points = found.flatMap((x) => x.polygons.flat(2))
  if (!points.length) return { width, height: 0, shapes: [] }
  const lons = points.map((p) => p[0])
  const lats = points.map((p) => p[1])
  const [minLon, maxLon, minLat, maxLat] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)]
  const k = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180)
  const spanX = Math.max((maxLon - minLon) * k, 1e-9)
  const spanY = Math.max(maxLat - minLat, 1e-9)
  const pad = 10
  const scale = (width - 2 * pad) / spanX
  const height = Math.round(spanY * scale + 2 * pad)
  const x = (lon: number) => +(pad + (lon - minLon) * k * scale).toFixed(1)
  const y = (lat: number) => +(pad + (maxLat - lat) * scale).toFixed(1)
  const shapes = found.map(({ g, polygons }) => {
    const d = polygons.flatMap((rings) => rings.map((ring) =>
      ring.map((p, i) => `${i ? 'L' : 'M'}${x(p[0])},${y(p[1])}`).join('') + 'Z')).join('')
    // the label at the centre of the largest polygon's outer ring's points
    const outer = polygons.map((r) => r[0]).sort((a, b) => b.length - a.length)[0]
    const cx = outer.reduce((s, p) => s + p[0], 0) / outer.length
    const cy = outer.reduce((s, p) => s + p[1], 0) / outer.length
    return { id: g.id, name: g.name, d, label: [x(cx), y(cy)] as [number, number] }
  })
  return { width, height, shapes }
}
