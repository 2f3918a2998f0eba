import { describe, expect, it } from 'vitest'
import { draw, polygonsOf } from './gridmap'

const square = (x0: number, y0: number, s: number) => ({
  type: 'Polygon', coordinates: [[[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s], [x0, y0]]],
})

describe('grid drawing', () => {
  it('reads Polygon, MultiPolygon and Feature boundaries, nothing else', () => {
    expect(polygonsOf(square(0, 0, 1))).toHaveLength(1)
    expect(polygonsOf({ type: 'MultiPolygon', coordinates: [square(0, 0, 1).coordinates, square(2, 0, 1).coordinates] })).toHaveLength(2)
    expect(polygonsOf({ type: 'Feature', geometry: square(0, 0, 1) })).toHaveLength(1)
    expect(polygonsOf(null)).toEqual([])
    expect(polygonsOf({ type: 'Point', coordinates: [0, 0] })).toEqual([])
  })

  it('puts neighbours side by side, north up, inside the drawing', () => {
    const drawing = draw([
      { id: 'w', name: '西区', boundary: square(120.0, 36.0, 0.1) },
      { id: 'e', name: '东区', boundary: square(120.1, 36.0, 0.1) },
      { id: 'n', name: '北区', boundary: square(120.0, 36.1, 0.1) },
      { id: 'i', name: '孵化器', boundary: null },
    ], 400)
    expect(drawing.shapes.map((s) => s.id)).toEqual(['w', 'e', 'n'])
    const [w, e, n] = drawing.shapes
    expect(e.label[0]).toBeGreaterThan(w.label[0])
    expect(n.label[1]).toBeLessThan(w.label[1]) // north is up
    for (const s of drawing.shapes) {
      for (const [, px, py] of s.d.matchAll(/[ML]([\d.]+),([\d.]+)/g)) {
        expect(+px).toBeGreaterThanOrEqual(0)
        expect(+px).toBeLessThanOrEqual(400)
        expect(+py).toBeLessThanOrEqual(drawing.height)
      }
    }
  })

  it('draws nothing without boundaries', () => {
    expect(draw([{ id: 'i', name: '孵化器' }]).shapes).toEqual([])
  })
})
