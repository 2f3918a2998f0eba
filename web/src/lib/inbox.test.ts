import { describe, expect, it } from 'vitest'
import { badgeText, enterpriseLink } from './inbox'

describe('the inbox badge and links', () => {
  it('says nothing at zero and caps at 99+', () => {
    expect(badgeText(0)).toBe('')
    expect(badgeText(3)).toBe('3')
    expect(badgeText(100)).toBe('99+')
  })

  it('opens a message in the enterprise pages', () => {
    expect(enterpriseLink('/policies/abc')).toBe('/e/policies/abc')
    expect(enterpriseLink('/demands/d-1')).toBe('/e/demands/d-1')
    expect(enterpriseLink('/dockings/x')).toBe('/e/board/mine')
    expect(enterpriseLink('/listings/l-1')).toBe('/e/board/listings/l-1')
    expect(enterpriseLink('https://example.com/policies/abc')).toBeNull()
    expect(enterpriseLink(null)).toBeNull()
  })
})
