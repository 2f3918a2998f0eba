// Who is signed in: the bearer token and its claims, kept in sessionStorage (this tab only,
// never a cookie), so a reload keeps the session and closing the tab ends it.
import { reactive } from 'vue'

export type Role =
  | 'enterprise' | 'grid_worker' | 'grid_leader' | 'liaison' | 'department_head'
  | 'coordinator' | 'leader' | 'admin'

export interface Principal {
  userId: string
  role: Role
  name: string
  enterpriseId: string | null
  departmentId: string | null
  gridIds: string[]
  expiresAt: number // epoch seconds
}

const KEY = 'gridsvc.session'

interface Stored { token: string; principal: Principal }

function base64UrlDecode(part: string): string {
  const padded = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=')
  const binary = atob(padded)
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0))
  return new TextDecoder().decode(bytes)
}

/** The claims of a JWT as the console needs them (the gateway checks the signature). */
export function principalOf(token: string): Principal {
  const parts = token.split('.')
  if (parts.length !== 3) throw new Error('not a JWT')
  const claims = JSON.parse(base64UrlDecode(parts[1])) as Record<string, unknown>
  return {
    userId: String(claims.sub ?? ''),
    role: String(claims.role ?? '') as Role,
    name: String(claims.name ?? ''),
    enterpriseId: (claims.ent as string | undefined) ?? null,
    departmentId: (claims.dept as string | undefined) ?? null,
    gridIds: Array.isArray(claims.grids) ? (claims.grids as string[]) : [],
    expiresAt: Number(claims.exp ?? 0),
  }
}

function load(): Stored | null {
  try {
    const raw = sessionStorage.getItem(KEY)
    return raw ? (JSON.parse(raw) as Stored) : null
  } catch {
    return null
  }
}

const initial = load()

export const session = reactive({
  token: initial?.token ?? null as string | null,
  principal: initial?.principal ?? null as Principal | null,
  /** set when the API refused the token: the sign-in page says why */
  expired: false,
})

export function signedIn(now: number = Date.now() / 1000): boolean {
  return !!session.token && !!session.principal && session.principal.expiresAt > now
}

export function start(token: string): Principal {
  const principal = principalOf(token)
  session.token = token
  session.principal = principal
  session.expired = false
  sessionStorage.setItem(KEY, JSON.stringify({ token, principal }))
  return principal
}

export function end(expired = false): void {
  session.token = null
  session.principal = null
  session.expired = expired
  sessionStorage.removeItem(KEY)
}
