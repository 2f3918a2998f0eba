// The menu of each role: what it may do, in the order it does it.
import type { Role } from './session'

export interface NavItem { path: string; label: string }

export function navigationOf(role: Role | undefined): NavItem[] {
  switch (role) {
    case 'enterprise':
      return [
        { path: '/e/demands', label: '我的诉求' },
        { path: '/e/submit', label: '提交诉求' },
        { path: '/e/meetings', label: '座谈' },
        { path: '/e/account', label: '我的' },
      ]
    case 'grid_worker':
    case 'grid_leader':
      return [
        { path: '/g/enterprises', label: '网格企业' },
        { path: '/g/not-visited', label: '未走访' },
        { path: '/g/demands', label: '网格诉求' },
        { path: '/g/account', label: '我的' },
      ]
    case 'coordinator':
    case 'admin':
      return [
        { path: '/triage', label: '待分理' },
        { path: '/coordination', label: '待协调' },
        { path: '/extensions', label: '延期申请' },
        { path: '/dissatisfied', label: '不满意诉求' },
        { path: '/supervision', label: '督办' },
        { path: '/ledger', label: '台账' },
        { path: '/meetings', label: '政企座谈' },
        { path: '/appraisal', label: '考评' },
      ]
    case 'liaison':
      return [
        { path: '/tasks', label: '部门任务' },
        { path: '/ledger', label: '台账' },
      ]
    case 'department_head':
      return [
        { path: '/tasks', label: '部门任务' },
        { path: '/supervision', label: '督办' },
        { path: '/ledger', label: '台账' },
        { path: '/meetings', label: '政企座谈' },
        { path: '/appraisal', label: '考评' },
      ]
    case 'leader':
      return [
        { path: '/ledger', label: '台账' },
        { path: '/supervision', label: '督办' },
        { path: '/coordination', label: '待协调' },
        { path: '/meetings', label: '政企座谈' },
        { path: '/appraisal', label: '考评' },
      ]
    default:
      return []
  }
}
