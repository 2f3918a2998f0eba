import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/client'
import { useFileImport } from './fileImport'

function choose(state: ReturnType<typeof useFileImport<unknown>>, name = 'list.xlsx'): void {
  const input = { files: [new File(['x'], name)] } as unknown as HTMLInputElement
  state.chosen({ target: input } as unknown as Event)
}

describe('the two-step import of a spreadsheet', () => {
  it('asks for a file before sending anything', async () => {
    let sent = 0
    const state = useFileImport(async () => { sent += 1; return { rows: 1 } })
    await state.check()
    expect(sent).toBe(0)
    expect(state.fileError.value).toBe('请先选择要导入的 XLSX 或 CSV 文件。')
    expect(state.checked.value).toBeNull()
  })

  it('keeps the dry run, then the import, each with its own result', async () => {
    const runs: boolean[] = []
    const state = useFileImport(async (_file, dryRun, at) => {
      runs.push(dryRun)
      at.progress.value = 100
      return { dryRun }
    })
    choose(state)
    await state.check()
    expect(state.checked.value).toEqual({ dryRun: true })
    expect(state.imported.value).toBeNull()
    await state.runImport()
    expect(runs).toEqual([true, false])
    expect(state.imported.value).toEqual({ dryRun: false })
    expect(state.working.value).toBe(false)
  })

  it("shows the server's refusal of the file at the file, any other above the form", async () => {
    let refusal = new ApiError(422, { status: 422, detail: '文件无法读取', errors: { file: [{ code: 'import.unreadable', message: '不是有效的 XLSX 文件' }] } })
    const state = useFileImport(async () => { throw refusal })
    choose(state)
    await state.check()
    expect(state.fileError.value).toBe('不是有效的 XLSX 文件')
    expect(state.problem.value).toBe('')
    refusal = new ApiError(429, { status: 429, detail: '请求过于频繁，请稍后再试' })
    await state.check()
    expect(state.fileError.value).toBe('')
    expect(state.problem.value).toBe('请求过于频繁，请稍后再试')
  })

  it('forgets the results when another file is chosen', async () => {
    let cleared = 0
    const state = useFileImport(async () => ({ rows: 3 }), () => { cleared += 1 })
    choose(state)
    await state.check()
    expect(state.checked.value).toEqual({ rows: 3 })
    choose(state, 'other.csv')
    expect(state.checked.value).toBeNull()
    expect(cleared).toBe(2)
  })
})
