// The enterprise's unread messages (消息中心): one count shared by every enterprise page's
// badge, refreshed when a page opens (at most every 30 s) and at once after a message is read.
import { reactive } from 'vue'
import { api, ok } from '@/api/client'

export const inbox = reactive({ unread: 0, checkedAt: 0 })

const FRESH_MS = 30_000
let inflight: Promise<void> | null = null

/** Ask the API for the unread count (``force``: even if asked a moment ago); never throws. */
export function refreshUnread(force = false, now: number = Date.now()): Promise<void> {
  if (!force && now - inbox.checkedAt < FRESH_MS) return Promise.resolve()
  if (inflight) return inflight
  inbox.checkedAt = now
  inflight = ok(api.GET('/api/v1/inbox', { params: { query: { per_page: 1 } } }))
    .then((page) => { inbox.unread = page.unread })
    .catch(() => undefined)
    .finally(() => { inflight = null })
  return inflight
}

/** What the badge says: nothing at 0, ``99+`` above 99. */
export function badgeText(unread: number): string {
  if (unread <= 0) return ''
  return unread > 99 ? '99+' : String(unread)
}

/** Where an inbox message's link opens in the enterprise pages: the API writes
 * ``/policies/<id>``, ``/demands/<id>``, ``/listings/<id>`` or ``/dockings/<id>``; the enterprise's pages live under ``/e``. */
export function enterpriseLink(link: string | null | undefined): string | null {
  if (!link) return null
  const match = /^\/(policies|demands|dockings|listings)\/([^/?#]+)/.exec(link)
  if (!match) return null
  const [, kind, id] = match
  if (kind === 'listings') return `/e/board/listings/${id}`
  if (kind === 'dockings') return '/e/board/mine'
  return `/e/${kind}/${id}`
}
