import { describe, expect, it } from 'vitest'
import { percent, score, total, zoneYear } from './figures'

describe('figures', () => {
  it('shows shares as percentages and nothing as a dash', () => {
    expect(percent(0.875)).toBe('87.5%')
    expect(percent(1)).toBe('100%')
    expect(percent(0)).toBe('0%')
    expect(percent(null)).toBe('—')
  })
  it('rounds scores to one decimal', () => {
    expect(score(83.333)).toBe('83.3')
    expect(score(0)).toBe('0.0')
    expect(score(undefined)).toBe('—')
  })
  it('shows a capped total as at least the cap', () => {
    expect(total(10000, true)).toBe('10,000+')
    expect(total(1234)).toBe('1,234')
    expect(total(0, false)).toBe('0')
  })
  it('takes the year in Asia/Shanghai, not the browser zone', () => {
    expect(zoneYear(new Date('2026-12-31T16:30:00Z'))).toBe(2027)
    expect(zoneYear(new Date('2026-12-31T15:30:00Z'))).toBe(2026)
  })
})
