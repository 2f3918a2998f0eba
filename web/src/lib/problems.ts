// Turning the API's problem into what a form shows: each field's message next to the field,
// the detail above the form when no field is named.
import type { FieldError, Problem } from '@/api/client'

function message(item: FieldError | string): string {
  return typeof item === 'string' ? item : item.message
}

/** ``{"title": "不能为空"}`` from the problem's ``errors`` (paths as the API names them). */
export function fieldMessages(problem: Problem | null | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [path, items] of Object.entries(problem?.errors ?? {})) {
    const list = Array.isArray(items) ? items : [items as unknown as FieldError | string]
    out[path] = list.map(message).join('；')
  }
  return out
}

/** The message for a form field: its own path, or a nested path under it
 * (``departments.0.department_id`` shows under ``departments.0.department_id`` and, when the
 * form has no such item, under ``departments``). */
export function messageFor(messages: Record<string, string>, path: string): string {
  if (messages[path]) return messages[path]
  const nested = Object.keys(messages).filter((k) => k.startsWith(`${path}.`))
  return nested.map((k) => messages[k]).join('；')
}

/** What to say above the form: the detail, unless every complaint is shown at a field. */
export function summary(problem: Problem | null | undefined, shownAtFields: string[]): string {
  if (!problem) return ''
  const named = Object.keys(problem.errors ?? {})
  const unshown = named.filter(
    (p) => !shownAtFields.some((f) => p === f || p.startsWith(`${f}.`)),
  )
  if (named.length > 0 && unshown.length === 0) return problem.detail ? '请按提示修改标出的内容。' : ''
  return problem.detail || problem.title || '操作未成功，请稍后重试。'
}

/** What a form says after its write named a version no longer current (412) and it read the
 * record (``what``: 载体, 项目, 科研机构, 产业链) again: the person checks and saves again. */
export function rereadNote(what: string): string {
  return `该${what}已被他人修改，未保存您的更改。已载入最新内容，请核对后重新保存。`
}
