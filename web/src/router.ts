// Routes: one lazily loaded chunk per page, grouped under a layout per kind of user. Each route
// names the roles that may open it; the guard sends everyone else to their own start page.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { whenExpired } from '@/api/client'
import { session, signedIn, type Role } from '@/lib/session'

export const COORDINATORS: Role[] = ['coordinator', 'admin']
export const DEPARTMENT: Role[] = ['liaison', 'department_head']
export const GRID: Role[] = ['grid_worker', 'grid_leader']
export const LEDGER: Role[] = ['coordinator', 'leader', 'admin', 'liaison', 'department_head']
export const APPRAISAL: Role[] = ['coordinator', 'leader', 'admin', 'department_head']
export const MEETINGS: Role[] = ['coordinator', 'leader', 'admin', 'department_head']
const STAFF: Role[] = [...GRID, ...DEPARTMENT, 'coordinator', 'leader', 'admin']
/** who reads the registry's pages beyond the grid: everyone but enterprises and grid staff */
const OFFICE: Role[] = [...DEPARTMENT, 'coordinator', 'leader', 'admin']
/** who writes policies (发布部门) and reads their reach */
const POLICY_WRITERS: Role[] = [...DEPARTMENT, ...COORDINATORS]
/** 区域资源: every member of staff reads it (the API scopes the figures); enterprises read the
 * carriers' public vacancy and the leading industries on their own page (/e/zone) */
export const ZONE: Role[] = STAFF

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    roles?: Role[]
    title?: string
  }
}

const Phone = () => import('@/layouts/PhoneLayout.vue')
const Console = () => import('@/layouts/ConsoleLayout.vue')

const routes: RouteRecordRaw[] = [
  { path: '/login', component: () => import('@/views/LoginView.vue'), meta: { public: true, title: '登录' } },
  {
    path: '/e', component: Phone, meta: { roles: ['enterprise'] },
    children: [
      { path: '', redirect: '/e/demands' },
      { path: 'demands', component: () => import('@/views/enterprise/MyDemands.vue'), meta: { title: '我的诉求' } },
      { path: 'submit', component: () => import('@/views/enterprise/SubmitDemand.vue'), meta: { title: '提交诉求' } },
      { path: 'demands/:id', component: () => import('@/views/enterprise/DemandDetail.vue'), meta: { title: '诉求详情' } },
      { path: 'meetings', component: () => import('@/views/meetings/MyMeetings.vue'), meta: { title: '座谈邀请' } },
      { path: 'meetings/:id', component: () => import('@/views/meetings/MyMeeting.vue'), meta: { title: '座谈' } },
      { path: 'board', component: () => import('@/views/board/BoardView.vue'), meta: { title: '供求信息' } },
      { path: 'board/mine', component: () => import('@/views/board/MyListings.vue'), meta: { title: '我的发布' } },
      { path: 'board/new', component: () => import('@/views/board/ListingForm.vue'), meta: { title: '发布供求' } },
      { path: 'board/listings/:id', component: () => import('@/views/board/ListingView.vue'), meta: { title: '供求详情' } },
      { path: 'inbox', component: () => import('@/views/inbox/InboxView.vue'), meta: { title: '消息中心' } },
      { path: 'policies/:id', component: () => import('@/views/inbox/PolicyRead.vue'), meta: { title: '政策详情' } },
      { path: 'zone', component: () => import('@/views/zone/PublicZone.vue'), meta: { title: '园区载体与主导产业' } },
      { path: 'account', component: () => import('@/views/AccountView.vue'), meta: { title: '我的' } },
    ],
  },
  {
    path: '/g', component: Phone, meta: { roles: GRID },
    children: [
      { path: '', redirect: '/g/enterprises' },
      { path: 'enterprises', component: () => import('@/views/grid/GridEnterprises.vue'), meta: { title: '网格企业' } },
      { path: 'enterprises/:id', component: () => import('@/views/grid/GridEnterprise.vue'), meta: { title: '企业' } },
      { path: 'not-visited', component: () => import('@/views/grid/NotVisited.vue'), meta: { title: '未走访企业' } },
      { path: 'demands', component: () => import('@/views/grid/GridDemands.vue'), meta: { title: '网格诉求' } },
      { path: 'demands/:id', component: () => import('@/views/DemandView.vue'), meta: { title: '诉求详情' } },
      { path: 'policies', component: () => import('@/views/policies/GridPolicies.vue'), meta: { title: '政策' } },
      { path: 'policies/:id', component: () => import('@/views/policies/GridPolicy.vue'), meta: { title: '政策阅读情况' } },
      // their grids' meetings and invitees, read-only (the staff pages without their actions)
      { path: 'meetings', component: () => import('@/views/meetings/MeetingList.vue'), meta: { title: '座谈' } },
      { path: 'meetings/:id', component: () => import('@/views/meetings/MeetingDetail.vue'), meta: { title: '座谈' } },
      { path: 'account', component: () => import('@/views/AccountView.vue'), meta: { title: '我的' } },
    ],
  },
  {
    path: '/', component: Console, meta: { roles: STAFF },
    children: [
      { path: 'triage', component: () => import('@/views/coordinator/TriageQueue.vue'), meta: { title: '待分理', roles: COORDINATORS } },
      { path: 'triage/:id', component: () => import('@/views/coordinator/TriageForm.vue'), meta: { title: '分理', roles: COORDINATORS } },
      { path: 'coordination', component: () => import('@/views/coordinator/CoordinationQueue.vue'), meta: { title: '待协调', roles: [...COORDINATORS, 'leader'] } },
      { path: 'extensions', component: () => import('@/views/coordinator/ExtensionRequests.vue'), meta: { title: '延期申请', roles: COORDINATORS } },
      { path: 'dissatisfied', component: () => import('@/views/coordinator/DissatisfiedDemands.vue'), meta: { title: '不满意诉求', roles: COORDINATORS } },
      { path: 'tasks', component: () => import('@/views/department/TaskInbox.vue'), meta: { title: '部门任务', roles: DEPARTMENT } },
      { path: 'tasks/:id', component: () => import('@/views/department/TaskView.vue'), meta: { title: '任务办理', roles: [...DEPARTMENT, ...COORDINATORS, 'leader'] } },
      { path: 'supervision', component: () => import('@/views/department/SupervisionList.vue'), meta: { title: '督办', roles: [...DEPARTMENT, 'leader', ...COORDINATORS, ...GRID] } },
      { path: 'ledger', component: () => import('@/views/ledger/LedgerView.vue'), meta: { title: '台账', roles: LEDGER } },
      { path: 'demands/:id', component: () => import('@/views/DemandView.vue'), meta: { title: '诉求详情', roles: STAFF } },
      { path: 'admin/accounts', component: () => import('@/views/admin/AccountsAdmin.vue'), meta: { title: '账号管理', roles: ['admin'] } },
      { path: 'admin/directory', component: () => import('@/views/admin/DirectoryAdmin.vue'), meta: { title: '部门、类别与网格', roles: ['admin'] } },
      { path: 'admin/calendar', component: () => import('@/views/admin/CalendarAdmin.vue'), meta: { title: '工作日历', roles: ['admin'] } },
      { path: 'admin/settings', component: () => import('@/views/admin/SettingsAdmin.vue'), meta: { title: '时限与考评设置', roles: ['admin'] } },
      { path: 'admin/audit', component: () => import('@/views/admin/AuditLog.vue'), meta: { title: '操作日志', roles: ['admin'] } },
      { path: 'overview', component: () => import('@/views/overview/OverviewView.vue'), meta: { title: '领导驾驶舱', roles: APPRAISAL } },
      { path: 'appraisal', component: () => import('@/views/appraisal/AppraisalView.vue'), meta: { title: '考评', roles: APPRAISAL } },
      { path: 'meetings', component: () => import('@/views/meetings/MeetingList.vue'), meta: { title: '政企座谈', roles: MEETINGS } },
      { path: 'meetings/new', component: () => import('@/views/meetings/MeetingForm.vue'), meta: { title: '策划座谈', roles: MEETINGS } },
      { path: 'meetings/:id', component: () => import('@/views/meetings/MeetingDetail.vue'), meta: { title: '座谈', roles: MEETINGS } },
      { path: 'registry', component: () => import('@/views/registry/EnterpriseList.vue'), meta: { title: '企业库', roles: STAFF } },
      { path: 'registry/enterprises/:id', component: () => import('@/views/registry/EnterpriseView.vue'), meta: { title: '企业详情', roles: STAFF } },
      { path: 'registry/import', component: () => import('@/views/registry/ImportView.vue'), meta: { title: '批量导入企业', roles: COORDINATORS } },
      { path: 'registry/grids', component: () => import('@/views/registry/GridsView.vue'), meta: { title: '网格', roles: STAFF } },
      { path: 'board', component: () => import('@/views/board/BoardModeration.vue'), meta: { title: '供求信息', roles: OFFICE } },
      { path: 'policies', component: () => import('@/views/policies/PolicyList.vue'), meta: { title: '政策发布', roles: [...POLICY_WRITERS, 'leader'] } },
      { path: 'policies/new', component: () => import('@/views/policies/PolicyCompose.vue'), meta: { title: '撰写政策', roles: POLICY_WRITERS } },
      { path: 'policies/:id', component: () => import('@/views/policies/PolicyView.vue'), meta: { title: '政策详情', roles: [...POLICY_WRITERS, 'leader'] } },
      {
        path: 'zone', component: () => import('@/views/zone/ZoneSection.vue'), meta: { roles: ZONE },
        children: [
          { path: '', redirect: '/zone/carriers' },
          { path: 'carriers', component: () => import('@/views/zone/CarrierList.vue'), meta: { title: '载体' } },
          { path: 'carriers/:id', component: () => import('@/views/zone/CarrierView.vue'), meta: { title: '载体详情' } },
          { path: 'projects', component: () => import('@/views/zone/ProjectList.vue'), meta: { title: '在建项目' } },
          { path: 'projects/:id', component: () => import('@/views/zone/ProjectView.vue'), meta: { title: '在建项目详情' } },
          { path: 'institutes', component: () => import('@/views/zone/InstituteList.vue'), meta: { title: '科研机构' } },
          { path: 'industries', component: () => import('@/views/zone/IndustryList.vue'), meta: { title: '主导产业' } },
          { path: 'industries/:id', component: () => import('@/views/zone/IndustryView.vue'), meta: { title: '主导产业与产业链图谱' } },
          { path: 'economy', component: () => import('@/views/zone/EconomyView.vue'), meta: { title: '经济运行' } },
          { path: 'economy/import', component: () => import('@/views/zone/EconomyImport.vue'), meta: { title: '导入统计局报表', roles: COORDINATORS } },
          { path: 'business', component: () => import('@/views/zone/BusinessEnvironment.vue'), meta: { title: '营商环境' } },
        ],
      },
      { path: 'account', component: () => import('@/views/AccountView.vue'), meta: { title: '修改密码' } },
    ],
  },
  { path: '/:pathMatch(.*)*', component: () => import('@/views/NotFoundView.vue'), meta: { public: true, title: '页面不存在' } },
]

/** Where a role starts. */
export function homeOf(role: Role | undefined): string {
  switch (role) {
    case 'enterprise': return '/e/demands'
    case 'grid_worker':
    case 'grid_leader': return '/g/enterprises'
    case 'coordinator':
    case 'admin': return '/triage'
    case 'liaison':
    case 'department_head': return '/tasks'
    case 'leader': return '/ledger'
    default: return '/login'
  }
}

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach((to) => {
  if (to.meta.public) return true
  if (!signedIn()) {
    return { path: '/login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  const role = session.principal!.role
  if (to.path === '/') return homeOf(role)
  const allowed = to.matched.every((r) => !r.meta.roles || r.meta.roles.includes(role))
  return allowed ? true : homeOf(role)
})

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} - 企业网格化服务平台` : '企业网格化服务平台'
})

// the API refused the token (expired or revoked): sign in again, then come back here
whenExpired(() => {
  const here = router.currentRoute.value
  if (here.path !== '/login') {
    void router.replace({ path: '/login', query: { redirect: here.fullPath } })
  }
})
