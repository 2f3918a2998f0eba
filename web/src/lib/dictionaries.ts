// Labels for codes (statuses, closures, channels, roles ...), from GET /api/v1/dictionaries:
// loaded once, kept in localStorage with its ETag and revalidated once per session, so a page
// costs no extra call. Until the endpoint exists the fallback table below answers.
import { reactive } from 'vue'
import { session } from './session'

export interface Entry { code: string; label: string; labels?: Record<string, string> }
export type Dictionaries = Record<string, Entry[]>

const KEY = 'gridsvc.dictionaries'
const CHECKED = 'gridsvc.dictionaries.checked'

/** Used only while the API has no dictionary endpoint (or a kind is missing from it). */
export const FALLBACK: Record<string, Record<string, string>> = {
  demand_status: {
    received: '待分理', triaged: '已分理', in_progress: '办理中', awaiting_rating: '待评价',
    closed: '已销号',
  },
  task_status: {
    assigned: '待受理', coordination: '待协调', accepted: '办理中', completed: '已办结',
    cancelled: '已撤销',
  },
  closure: { rated: '自动销号', internal: '内部销号', unrated: '未评价销号' },
  channel: {
    grid_worker: '网格员', service_window: '服务窗口', app: '手机APP', wechat: '微信',
    website: '网站', hotline: '服务热线', enterprise: '企业自主提交',
  },
  role: {
    enterprise: '企业用户', grid_worker: '网格员', grid_leader: '网格长', liaison: '联络员',
    department_head: '部门负责人', coordinator: '平台统筹', leader: '分管领导', admin: '平台管理员',
    service: '平台',
  },
  urgency: { normal: '一般', urgent: '紧急' },
  difficulty: { easy: '简单', normal: '一般', hard: '复杂' },
  visibility: { public: '公开（企业可见）', internal: '内部（仅部门可见）' },
  extension_status: { pending: '待审批', approved: '已批准', rejected: '已驳回' },
  ledger_action: {
    submit: '登记诉求', receive: '登记诉求', triage: '分理', assign: '交办', accept: '受理确认',
    return: '退回', time_out: '超时未受理', reassign: '重新交办', complete: '办结',
    reopen: '重新办理', cancel: '撤销任务', rate: '评价', close: '销号', escalate: '督办升级',
    remind_rating: '提醒评价', demand_state: '状态变更', extension_requested: '申请延期',
    extension_approved: '批准延期', extension_rejected: '驳回延期', note: '办理进展',
  },
  timeline_kind: {},
}

function readCache(): { version?: string; etag?: string; dictionaries: Dictionaries } | null {
  try {
    const raw = localStorage.getItem(KEY)
    return raw ? JSON.parse(raw) : null
  } catch {
    return null
  }
}

const cached = readCache()

export const dictionaries = reactive({
  loaded: !!cached,
  data: (cached?.dictionaries ?? {}) as Dictionaries,
})

let inflight: Promise<void> | null = null

/** Fetch (or revalidate) the dictionaries once per session; never throws. */
export function loadDictionaries(fetcher: typeof fetch = fetch): Promise<void> {
  if (sessionStorage.getItem(CHECKED)) return Promise.resolve() // once per session
  if (inflight) return inflight
  inflight = (async () => {
    const headers: Record<string, string> = { 'Accept-Language': 'zh-CN' }
    if (session.token) headers.Authorization = `Bearer ${session.token}`
    const etag = readCache()?.etag
    if (etag) headers['If-None-Match'] = etag
    try {
      const response = await fetcher('/api/v1/dictionaries', { headers })
      if (response.status === 200) {
        const body = (await response.json()) as { version?: string; dictionaries: Dictionaries }
        dictionaries.data = body.dictionaries ?? {}
        localStorage.setItem(KEY, JSON.stringify({
          version: body.version, etag: response.headers.get('ETag') ?? undefined,
          dictionaries: dictionaries.data,
        }))
      }
      if (response.status === 200 || response.status === 304 || response.status === 404) {
        sessionStorage.setItem(CHECKED, '1')
      }
    } catch {
      // offline: the cached copy or the fallback answers
    } finally {
      dictionaries.loaded = true
      inflight = null
    }
  })()
  return inflight
}

/** The Chinese label of ``code`` in dictionary ``kind``; the code itself only if unknown. */
export function label(kind: string, code: string | null | undefined): string {
  if (code === null || code === undefined || code === '') return '—'
  const entry = dictionaries.data[kind]?.find((e) => e.code === code)
  if (entry) return entry.labels?.['zh-CN'] ?? entry.label
  return FALLBACK[kind]?.[code] ?? code
}

/** ``[{value, label}]`` of a dictionary, for selects and filters. */
export function options(kind: string): Array<{ value: string; label: string }> {
  const entries = dictionaries.data[kind]
  if (entries?.length) return entries.map((e) => ({ value: e.code, label: e.labels?.['zh-CN'] ?? e.label }))
  return Object.entries(FALLBACK[kind] ?? {}).map(([value, text]) => ({ value, label: text }))
}
