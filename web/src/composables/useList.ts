// A list paged and filtered on the server: the page, its total, loading and failure.
import { reactive, ref, watch, type Ref } from 'vue'
import { ApiError } from '@/api/client'

/** A page of a list; `total_capped`: more rows match than `total` (a search counted to its cap,
 * shown as 10,000+). */
export interface Page<T> { items: T[]; total: number; total_capped?: boolean; page: number; per_page: number }

/** The filters as sent: a cleared filter ('' or null) is left out. */
export type Clean<F> = { [K in keyof F]?: Exclude<F[K], '' | null> }

export function useList<T, F extends object>(
  fetchPage: (query: Clean<F> & { page: number; per_page: number }) => Promise<Page<T>>,
  filters: F,
  perPage = 20,
) {
  const items = ref([]) as Ref<T[]>
  const total = ref(0)
  const capped = ref(false)
  const page = ref(1)
  const size = ref(perPage)
  const loading = ref(false)
  const error = ref('')
  const state = reactive(filters) as F
  let seq = 0

  async function load(): Promise<void> {
    const mine = ++seq
    loading.value = true
    error.value = ''
    try {
      const clean = Object.fromEntries(
        Object.entries(state as Record<string, unknown>).filter(([, v]) => v !== '' && v !== null && v !== undefined),
      ) as Clean<F>
      const answer = await fetchPage({ ...clean, page: page.value, per_page: size.value })
      if (mine !== seq) return
      items.value = answer.items
      total.value = answer.total
      capped.value = answer.total_capped ?? false
    } catch (e) {
      if (mine !== seq) return
      error.value = e instanceof ApiError ? e.message : String(e)
      items.value = []
      total.value = 0
      capped.value = false
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  /** After a filter changes: back to the first page. */
  function search(): void {
    if (page.value !== 1) page.value = 1
    else void load()
  }

  watch([page, size], () => void load())

  return { items, total, capped, page, size, loading, error, filters: state, load, search }
}
