// The menu of each role: what it may do, in the order it does it.
import type { Role } from './session'

/** ``badge: 'inbox'``: the item shows the enterprise's unread messages (lib/inbox);
 * ``consoleOnly``: in the console's menu, not in the phone's tab bar (grid staff reach it from
 * the console pages they open, such as 企业库: seven tabs are what fits 375 px). */
export interface NavItem { path: string; label: string; badge?: 'inbox'; consoleOnly?: boolean }

/** 系统管理, the admin's own pages. */
const ADMINISTRATION: NavItem[] = [
  { path: '/admin/accounts', label: '账号管理' },
  { path: '/admin/directory', label: '部门与网格' },
  { path: '/admin/calendar', label: '工作日历' },
  { path: '/admin/settings', label: '时限与考评' },
  { path: '/admin/audit', label: '操作日志' },
]

export function navigationOf(role: Role | undefined): NavItem[] {
  switch (role) {
    case 'enterprise':
      return [
        { path: '/e/demands', label: '我的诉求' },
        { path: '/e/submit', label: '提交诉求' },
        { path: '/e/meetings', label: '座谈' },
        { path: '/e/board', label: '供求' },
        { path: '/e/inbox', label: '消息', badge: 'inbox' },
        { path: '/e/zone', label: '园区' },
        { path: '/e/account', label: '我的' },
      ]
    case 'grid_worker':
    case 'grid_leader':
      return [
        { path: '/g/enterprises', label: '网格企业' },
        { path: '/g/not-visited', label: '未走访' },
        { path: '/g/demands', label: '网格诉求' },
        { path: '/registry', label: '企业库' },
        { path: '/g/policies', label: '政策' },
        { path: '/g/meetings', label: '座谈' },
        { path: '/g/account', label: '我的' },
        { path: '/supervision', label: '督办', consoleOnly: true },
        { path: '/zone', label: '区域资源', consoleOnly: true },
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
        { path: '/overview', label: '领导驾驶舱' },
        { path: '/meetings', label: '政企座谈' },
        { path: '/appraisal', label: '考评' },
        { path: '/registry', label: '企业库' },
        { path: '/registry/grids', label: '网格' },
        { path: '/zone', label: '区域资源' },
        { path: '/board', label: '供求信息' },
        { path: '/policies', label: '政策发布' },
        ...(role === 'admin' ? ADMINISTRATION : []),
      ]
    case 'liaison':
      return [
        { path: '/tasks', label: '部门任务' },
        { path: '/supervision', label: '督办' },
        { path: '/ledger', label: '台账' },
        { path: '/registry', label: '企业库' },
        { path: '/zone', label: '区域资源' },
        { path: '/policies', label: '政策发布' },
      ]
    case 'department_head':
      return [
        { path: '/tasks', label: '部门任务' },
        { path: '/supervision', label: '督办' },
        { path: '/ledger', label: '台账' },
        { path: '/overview', label: '领导驾驶舱' },
        { path: '/meetings', label: '政企座谈' },
        { path: '/appraisal', label: '考评' },
        { path: '/registry', label: '企业库' },
        { path: '/zone', label: '区域资源' },
        { path: '/policies', label: '政策发布' },
      ]
    case 'leader':
      return [
        { path: '/ledger', label: '台账' },
        { path: '/supervision', label: '督办' },
        { path: '/coordination', label: '待协调' },
        { path: '/overview', label: '领导驾驶舱' },
        { path: '/meetings', label: '政企座谈' },
        { path: '/appraisal', label: '考评' },
        { path: '/registry', label: '企业库' },
        { path: '/registry/grids', label: '网格' },
        { path: '/zone', label: '区域资源' },
        { path: '/board', label: '供求信息' },
        { path: '/policies', label: '政策发布' },
      ]
    default:
      return []
  }
}
