import { describe, expect, it } from 'vitest'
import { fieldMessages, messageFor, rereadNote, summary } from './problems'

const problem = {
  status: 422, code: 'validation_failed', detail: '以下字段无效：visited_on、departments.0.department_id',
  errors: {
    visited_on: [{ code: 'visit.date_in_future', message: '不能晚于今天' }],
    'departments.0.department_id': [{ code: 'field.unknown', message: '没有这个部门' }, { code: 'x', message: '必填' }],
  },
}

describe("the API's field errors next to their fields", () => {
  it('keeps each field path with its messages', () => {
    expect(fieldMessages(problem)).toEqual({
      visited_on: '不能晚于今天',
      'departments.0.department_id': '没有这个部门；必填',
    })
  })
  it('reads the older shape of plain strings too', () => {
    expect(fieldMessages({ errors: { title: ['不能为空'] } })).toEqual({ title: '不能为空' })
  })
  it('shows a nested error at its own field, or at the list that holds it', () => {
    const messages = fieldMessages(problem)
    expect(messageFor(messages, 'departments.0.department_id')).toBe('没有这个部门；必填')
    expect(messageFor(messages, 'departments')).toBe('没有这个部门；必填')
    expect(messageFor(messages, 'title')).toBe('')
  })
  it('says the detail above the form only when a field is not shown', () => {
    expect(summary(problem, ['visited_on'])).toBe(problem.detail)
    expect(summary(problem, ['visited_on', 'departments'])).toBe('请按提示修改标出的内容。')
    expect(summary({ status: 409, detail: '该任务已被受理' }, ['title'])).toBe('该任务已被受理')
    expect(summary(null, [])).toBe('')
  })
  it('tells a stale write in Chinese, naming the record', () => {
    expect(rereadNote('载体')).toBe('该载体已被他人修改，未保存您的更改。已载入最新内容，请核对后重新保存。')
  })
})
