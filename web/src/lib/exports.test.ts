import { describe, expect, it } from 'vitest'
import { buildingNote } from './exports'

describe('a ledger export while the server builds it', () => {
  it('names the list sheet and its rows while the list is written', () => {
    expect(buildingNote({ rows_listed: 0, rows_done: 0, rows_total: 1000 }))
      .toBe('正在生成表格：清单 0/1000 行…')
    expect(buildingNote({ rows_listed: 500, rows_done: 0, rows_total: 1000 }))
      .toBe('正在生成表格：清单 500/1000 行…')
  })
  it('then the steps (办理过程) and the rows whose steps are written', () => {
    expect(buildingNote({ rows_listed: 1000, rows_done: 0, rows_total: 1000 }))
      .toBe('正在生成表格：办理过程 0/1000 行…')
    expect(buildingNote({ rows_listed: 1000, rows_done: 400, rows_total: 1000 }))
      .toBe('正在生成表格：办理过程 400/1000 行…')
  })
})
