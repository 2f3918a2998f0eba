import { describe, expect, it } from 'vitest'
import { area, figureText, monthsBefore, periodLabel, yoyText, zoneMonth } from './zone'

describe('zone figures', () => {
  it('shows a month nobody reported as 未报送, never 0', () => {
    expect(figureText({ value: null, status: 'not_reported', reporting: 0, yoy: null })).toBe('未报送')
    expect(figureText({ value: 0, status: 'reported', reporting: 3, yoy: null })).toBe('0')
  })
  it('withholds a figure fewer than five enterprises stand for', () => {
    expect(figureText({ value: null, status: 'suppressed', reporting: 2, yoy: null })).toBe('不足5家不公开')
  })
  it('signs the year-on-year growth and says nothing without a base', () => {
    expect(yoyText({ value: 110, status: 'reported', reporting: 5, yoy: 0.1 })).toBe('+10.0%')
    expect(yoyText({ value: 90, status: 'reported', reporting: 5, yoy: -0.0456 })).toBe('-4.6%')
    expect(yoyText({ value: 90, status: 'reported', reporting: 5, yoy: null })).toBe('—')
  })
  it('names periods in Chinese and counts months', () => {
    expect(periodLabel('2025-06')).toBe('2025年6月')
    expect(periodLabel('2025-Q2')).toBe('2025年第二季度')
    expect(periodLabel('2025')).toBe('2025年')
    expect(monthsBefore('2026-01', 1)).toBe('2025-12')
    expect(monthsBefore('2025-03', 14)).toBe('2024-01')
    expect(zoneMonth(new Date('2025-12-31T16:30:00Z'))).toBe('2026-01')
  })
  it('reads an unrecorded area as such', () => {
    expect(area(null)).toBe('未登记')
    expect(area(1200)).toBe('1,200 m²')
  })
})
