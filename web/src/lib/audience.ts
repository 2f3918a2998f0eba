// The policy audience builder's state (目标企业) → the API's Audience: AND across criteria, OR
// within one; an empty criterion is left out, and no criterion at all means every in-scope
// enterprise. Also the plain-Chinese sentence that the builder shows next to the count.
import type { Schemas } from '@/api/client'

export type Audience = Schemas['Audience']
export type Scale = NonNullable<Audience['scales']>[number]

export interface AudienceState {
  gridIds: string[]
  industryCodes: string[]
  scales: Scale[]
  incubatorIds: string[]
  tags: string[]
  enterpriseIds: string[]
}

export function emptyAudience(): AudienceState {
  return { gridIds: [], industryCodes: [], scales: [], incubatorIds: [], tags: [], enterpriseIds: [] }
}

const clean = (values: string[]): string[] =>
  [...new Set(values.map((v) => v.trim()).filter(Boolean))].sort()

/** The body of POST /api/v1/policies/audience/preview and the policy's ``audience``. */
export function audienceQuery(state: AudienceState): Audience {
  const out: Audience = {}
  const grids = clean(state.gridIds)
  const industries = clean(state.industryCodes)
  const scales = clean(state.scales) as Scale[]
  const incubators = clean(state.incubatorIds)
  const tags = clean(state.tags)
  const enterprises = clean(state.enterpriseIds)
  if (grids.length) out.grid_ids = grids
  if (industries.length) out.industry_codes = industries
  if (scales.length) out.scales = scales
  if (incubators.length) out.incubator_ids = incubators
  if (tags.length) out.tags = tags
  if (enterprises.length) out.enterprise_ids = enterprises
  return out
}

/** A key that changes only when the audience does: the live count asks again only then. */
export function audienceKey(state: AudienceState): string {
  return JSON.stringify(audienceQuery(state))
}

/** ``网格：一区、二区；且 行业：计算机…`` in the reader's words, names not codes. */
export function describeAudience(audience: Audience, name: (kind: 'grid' | 'industry' | 'scale' | 'incubator' | 'enterprise', code: string) => string): string {
  const parts: string[] = []
  const list = (kind: Parameters<typeof name>[0], codes: string[] | undefined) => (codes ?? []).map((c) => name(kind, c)).join('、')
  if (audience.grid_ids?.length) parts.push(`网格：${list('grid', audience.grid_ids)}`)
  if (audience.industry_codes?.length) parts.push(`行业：${list('industry', audience.industry_codes)}`)
  if (audience.scales?.length) parts.push(`规模：${list('scale', audience.scales)}`)
  if (audience.incubator_ids?.length) parts.push(`孵化器：${list('incubator', audience.incubator_ids)}`)
  if (audience.tags?.length) parts.push(`标签：${audience.tags.join('、')}`)
  if (audience.enterprise_ids?.length) parts.push(`指定企业：${list('enterprise', audience.enterprise_ids)}`)
  return parts.length ? `同时满足 ${parts.join('；')}` : '服务范围内的全部企业'
}
