// Figures as people read them: shares as percentages, scores with one decimal.

/** 0.875 → 87.5%; '—' when there is nothing to measure (null). */
export function percent(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—'
  return `${Math.round(value * 1000) / 10}%`
}

/** 83.333 → 83.3; '—' for null. */
export function score(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—'
  return (Math.round(value * 10) / 10).toFixed(1)
}

/** A list's total as people read it: 10000 → '10,000'; a capped count (more match than were
 * counted, `total_capped`) → '10,000+'. */
export function total(value: number, capped = false): string {
  return `${value.toLocaleString('en-US')}${capped ? '+' : ''}`
}

/** The current year in the zone (Asia/Shanghai). */
export function zoneYear(now: Date = new Date()): number {
  return Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(now))
}
