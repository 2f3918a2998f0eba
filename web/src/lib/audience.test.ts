import { describe, expect, it } from 'vitest'
import { audienceKey, audienceQuery, describeAudience, emptyAudience } from './audience'

describe('the audience builder', () => {
  it('sends nothing for an empty builder: every in-scope enterprise', () => {
    expect(audienceQuery(emptyAudience())).toEqual({})
    expect(describeAudience({}, (_, c) => c)).toBe('服务范围内的全部企业')
  })

  it('sends only the criteria chosen, trimmed, without repeats, in a stable order', () => {
    const state = { ...emptyAudience(), gridIds: ['GEO02', 'GEO01', 'GEO02'], industryCodes: ['C39'], tags: [' 专精特新 ', ''], scales: ['small' as const] }
    expect(audienceQuery(state)).toEqual({ grid_ids: ['GEO01', 'GEO02'], industry_codes: ['C39'], tags: ['专精特新'], scales: ['small'] })
  })

  it('changes its key only when the audience changes', () => {
    const a = { ...emptyAudience(), gridIds: ['GEO01', 'GEO02'] }
    const b = { ...emptyAudience(), gridIds: ['GEO02', 'GEO01'] }
    expect(audienceKey(a)).toBe(audienceKey(b))
    expect(audienceKey(a)).not.toBe(audienceKey({ ...a, tags: ['高新技术企业'] }))
  })

  it('describes the audience by names', () => {
    const names: Record<string, string> = { GEO01: '一区', C39: '计算机、通信和其他电子设备制造业', small: '小型', e1: '青岛某公司' }
    const text = describeAudience({ grid_ids: ['GEO01'], industry_codes: ['C39'], scales: ['small'], enterprise_ids: ['e1'], tags: ['专精特新'] }, (_, c) => names[c] ?? c)
    expect(text).toBe('同时满足 网格：一区；行业：计算机、通信和其他电子设备制造业；规模：小型；标签：专精特新；指定企业：青岛某公司')
    expect(text).not.toMatch(/GEO01|C39|e1/)
  })
})
