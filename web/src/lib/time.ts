// Dates and deadlines in the zone's time (Asia/Shanghai), whatever the browser's zone.
const ZONE = 'Asia/Shanghai'

const dateTime = new Intl.DateTimeFormat('zh-CN', {
  timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', hour12: false,
})
const dateOnly = new Intl.DateTimeFormat('zh-CN', {
  timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit',
})

function parts(format: Intl.DateTimeFormat, value: Date): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of format.formatToParts(value)) out[p.type] = p.value
  return out
}

/** 2026-11-26 10:00 (Asia/Shanghai); '—' for nothing. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '—'
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return value
  const p = parts(dateTime, d)
  const hour = p.hour === '24' ? '00' : p.hour
  return `${p.year}-${p.month}-${p.day} ${hour}:${p.minute}`
}

/** 2026-11-26 (Asia/Shanghai). */
export function formatDate(value: string | null | undefined): string {
  if (!value) return '—'
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return value
  const p = parts(dateOnly, d)
  return `${p.year}-${p.month}-${p.day}`
}

/** Today's date in Asia/Shanghai, YYYY-MM-DD. */
export function today(now: Date = new Date()): string {
  const p = parts(dateOnly, now)
  return `${p.year}-${p.month}-${p.day}`
}

/** 数据更新于 of kept figures: the time they were computed, with the date when not today. */
export function updatedAt(asOf: string | null | undefined, now: Date = new Date()): string {
  if (!asOf) return ''
  const at = formatDateTime(asOf)
  return at.startsWith(today(now)) ? at.slice(11) : at
}

export interface Countdown {
  overdue: boolean
  /** 剩余 1天3小时 / 已超时 25分钟 */
  text: string
  /** less than two hours left */
  urgent: boolean
}

function span(ms: number): string {
  const minutes = Math.floor(ms / 60_000)
  const days = Math.floor(minutes / 1440)
  const hours = Math.floor((minutes % 1440) / 60)
  const mins = minutes % 60
  if (days > 0) return `${days}天${hours}小时`
  if (hours > 0) return `${hours}小时${mins}分钟`
  return `${Math.max(mins, 0)}分钟`
}

/** The time left until a deadline, or how long it is past. */
export function countdown(deadline: string | null | undefined, now: number = Date.now()): Countdown {
  if (!deadline) return { overdue: false, text: '—', urgent: false }
  const left = new Date(deadline).getTime() - now
  if (left < 0) return { overdue: true, text: `已超时 ${span(-left)}`, urgent: true }
  return { overdue: false, text: `剩余 ${span(left)}`, urgent: left < 2 * 3600_000 }
}
