// The zone resources (区域资源) as people read them: areas in m², money in 万元, economic
// figures with their status (未报送 is never shown as 0, a figure fewer than five enterprises
// stand for is withheld), year-on-year growth, periods.

export interface FigureLike {
  value: number | null
  status: string
  reporting: number
  yoy: number | null
  previous_status?: string
}

/** 12345.6 → "12,345.6"; '—' for null. */
export function amount(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined) return '—'
  return value.toLocaleString('zh-CN', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
}

/** An area: "1,200 m²"; '未登记' when the carrier has none recorded. */
export function area(value: number | null | undefined): string {
  if (value === null || value === undefined) return '未登记'
  return `${amount(value, 0)} m²`
}

/** A figure's value as shown: 未报送 when nobody reported it (never 0), 不足5家不公开 when
 * withheld, else the number. */
export function figureText(figure: FigureLike | null | undefined, minGroup = 5): string {
  if (!figure) return '—'
  if (figure.status === 'not_reported') return '未报送'
  if (figure.status === 'suppressed') return `不足${minGroup}家不公开`
  return amount(figure.value, 2)
}

/** 同比: "+12.3%", "-4.0%"; '—' when either side is missing (a gap is not a fall of 100%). */
export function yoyText(figure: FigureLike | null | undefined): string {
  if (!figure || figure.yoy === null || figure.yoy === undefined) return '—'
  const pct = Math.round(figure.yoy * 1000) / 10
  return `${pct > 0 ? '+' : ''}${pct.toFixed(1)}%`
}

/** "2025-06" → "2025年6月", "2025-Q2" → "2025年第二季度", "2025" → "2025年". */
export function periodLabel(period: string): string {
  const month = /^(\d{4})-(\d{2})$/.exec(period)
  if (month) return `${month[1]}年${Number(month[2])}月`
  const quarter = /^(\d{4})-Q([1-4])$/.exec(period)
  if (quarter) return `${quarter[1]}年第${'一二三四'[Number(quarter[2]) - 1]}季度`
  return /^\d{4}$/.test(period) ? `${period}年` : period
}

/** The month ``months`` before "YYYY-MM" (negative: after). */
export function monthsBefore(period: string, months: number): string {
  const [y, m] = period.split('-').map(Number)
  const index = y * 12 + (m - 1) - months
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`
}

/** The current month in the zone (Asia/Shanghai), "YYYY-MM". */
export function zoneMonth(now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' }).format(now)
  return parts.slice(0, 7)
}
