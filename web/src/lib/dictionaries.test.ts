import { beforeEach, describe, expect, it } from 'vitest'
import { dictionaries, label, options } from './dictionaries'

describe('labels for codes', () => {
  beforeEach(() => {
    dictionaries.data = {}
  })
  it('comes from the dictionary endpoint when it has the code', () => {
    dictionaries.data = { demand_status: [{ code: 'received', label: 'Received', labels: { 'zh-CN': '待分理', en: 'Received' } }] }
    expect(label('demand_status', 'received')).toBe('待分理')
    expect(options('demand_status')).toEqual([{ value: 'received', label: '待分理' }])
  })
  it('falls back to the built-in table, never to a blank', () => {
    expect(label('closure', 'internal')).toBe('内部销号')
    expect(label('channel', 'grid_worker')).toBe('网格员')
    expect(label('demand_status', 'closed')).toBe('已销号')
    expect(label('closure', null)).toBe('—')
    expect(label('closure', 'something_new')).toBe('something_new')
  })
})
