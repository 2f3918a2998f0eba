import { describe, expect, it } from 'vitest'
import { principalOf } from './session'

function token(claims: object): string {
  const part = (o: object) => btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(o))))
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  return `${part({ alg: 'HS256' })}.${part(claims)}.signature`
}

describe("the token's claims", () => {
  it('names the person, role and scope (Chinese names included)', () => {
    const p = principalOf(token({ sub: 'u1', role: 'liaison', name: '张三', dept: 'finance', exp: 2000000000 }))
    expect(p).toEqual({
      userId: 'u1', role: 'liaison', name: '张三', enterpriseId: null, departmentId: 'finance',
      gridIds: [], expiresAt: 2000000000,
    })
  })
  it('carries the enterprise and the grids', () => {
    const p = principalOf(token({ sub: 'u2', role: 'grid_worker', grids: ['GEO01', 'GEO02'], exp: 1 }))
    expect(p.gridIds).toEqual(['GEO01', 'GEO02'])
    expect(principalOf(token({ sub: 'u3', role: 'enterprise', ent: 'e-1', exp: 1 })).enterpriseId).toBe('e-1')
  })
  it('refuses what is not a JWT', () => {
    expect(() => principalOf('not-a-token')).toThrow()
  })
})
