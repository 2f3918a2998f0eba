import { describe, expect, it } from 'vitest'
import { countdown, formatDate, formatDateTime, today, updatedAt } from './time'

describe('times in the zone (Asia/Shanghai)', () => {
  it('writes an instant as Shanghai wall time, whatever its offset', () => {
    expect(formatDateTime('2026-11-26T02:00:00Z')).toBe('2026-11-26 10:00')
    expect(formatDateTime('2026-11-26T10:00:00+08:00')).toBe('2026-11-26 10:00')
    expect(formatDateTime('2026-12-31T16:30:00Z')).toBe('2027-01-01 00:30')
  })
  it('says nothing for nothing', () => {
    expect(formatDateTime(null)).toBe('—')
    expect(formatDate(undefined)).toBe('—')
  })
  it('keeps a plain date and dates an instant in Shanghai', () => {
    expect(formatDate('2026-11-26')).toBe('2026-11-26')
    expect(formatDate('2026-11-25T20:00:00Z')).toBe('2026-11-26')
    expect(today(new Date('2026-11-25T17:00:00Z'))).toBe('2026-11-26')
  })
  it('says when kept figures were computed: the time today, else the date too (数据更新于)', () => {
    const now = new Date('2026-12-04T02:00:00Z') // 10:00 in Shanghai
    expect(updatedAt('2026-12-04T09:58:30+08:00', now)).toBe('09:58')
    expect(updatedAt('2026-12-03T15:59:00Z', now)).toBe('2026-12-03 23:59')
    expect(updatedAt(undefined, now)).toBe('')
  })
})

describe('countdown to a deadline', () => {
  const deadline = '2026-11-26T10:00:00+08:00'
  const at = (iso: string) => new Date(iso).getTime()
  it('counts the days and hours left', () => {
    expect(countdown(deadline, at('2026-11-25T07:00:00+08:00'))).toEqual({ overdue: false, text: '剩余 1天3小时', urgent: false })
  })
  it('is urgent in the last two hours', () => {
    expect(countdown(deadline, at('2026-11-26T08:30:00+08:00'))).toEqual({ overdue: false, text: '剩余 1小时30分钟', urgent: true })
  })
  it('says how long it is past', () => {
    expect(countdown(deadline, at('2026-11-26T10:25:00+08:00'))).toEqual({ overdue: true, text: '已超时 25分钟', urgent: true })
    expect(countdown(deadline, at('2026-11-28T11:00:00+08:00')).text).toBe('已超时 2天1小时')
  })
  it('has no countdown without a deadline', () => {
    expect(countdown(null).text).toBe('—')
  })
})
