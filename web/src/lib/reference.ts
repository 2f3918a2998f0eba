// Reference data every page names things by: departments and demand categories (any role may
// read them), grids (staff). Loaded once per session into sessionStorage, so pages show names,
// never codes, without a call of their own.
import { reactive } from 'vue'
import { api, ok, type Schemas } from '@/api/client'
import { dictionaries } from './dictionaries'

type Department = Schemas['Department']
type Category = Schemas['Category']
type Grid = Schemas['Grid']

const KEY = 'gridsvc.reference'

interface Stored { departments?: Department[]; categories?: Category[]; grids?: Grid[] }

function read(): Stored {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as Stored
  } catch {
    return {}
  }
}

export const reference = reactive<Stored>(read())

function save(): void {
  sessionStorage.setItem(KEY, JSON.stringify(reference))
}

export function clearReference(): void {
  reference.departments = undefined
  reference.categories = undefined
  reference.grids = undefined
  sessionStorage.removeItem(KEY)
}

const pending: Partial<Record<keyof Stored, Promise<void>>> = {}

/** Loads one kind of reference data once; never rejects: without it a page shows what it has
 * (an expired sign-in is handled by the API client, which returns to the sign-in page). */
function once(kind: keyof Stored, load: () => Promise<void>): Promise<void> {
  if (reference[kind]) return Promise.resolve()
  pending[kind] ??= load().catch(() => undefined).finally(() => { delete pending[kind] })
  return pending[kind]!
}

export function loadDepartments(): Promise<void> {
  return once('departments', async () => {
    reference.departments = (await ok(api.GET('/api/v1/departments'))).items
    save()
  })
}

export function loadCategories(): Promise<void> {
  return once('categories', async () => {
    reference.categories = (await ok(api.GET('/api/v1/categories'))).items
    save()
  })
}

export function loadGrids(): Promise<void> {
  return once('grids', async () => {
    reference.grids = (await ok(api.GET('/api/v1/grids', { params: { query: { per_page: 200 } } }))).items
    save()
  })
}

/** A name from the dictionaries (GET /api/v1/dictionaries has departments and categories
 * once it is deployed: then no page needs a call of its own for them). */
function fromDictionary(kind: string, code: string): string | undefined {
  const entry = dictionaries.data[kind]?.find((e) => e.code === code)
  return entry ? entry.labels?.['zh-CN'] ?? entry.label : undefined
}

export function departmentName(id: string | null | undefined): string {
  if (!id) return '—'
  return fromDictionary('department', id) ?? reference.departments?.find((d) => d.id === id)?.name ?? id
}

export function categoryName(code: string | null | undefined): string {
  if (!code) return '—'
  return fromDictionary('category', code) ?? reference.categories?.find((c) => c.code === code)?.name ?? code
}

export function gridName(id: string | null | undefined): string {
  if (!id) return '—'
  return reference.grids?.find((g) => g.id === id)?.name ?? id
}
