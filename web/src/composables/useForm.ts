// A form's round trip: busy while the API works, its refusal shown at the fields it names and
// its detail above the form otherwise.
import { computed, ref } from 'vue'
import { ApiError, type Problem } from '@/api/client'
import { fieldMessages, messageFor, summary } from '@/lib/problems'

export function useForm(fields: string[] = []) {
  const busy = ref(false)
  const problem = ref<Problem | null>(null)
  const messages = computed(() => fieldMessages(problem.value))
  const alert = computed(() => summary(problem.value, fields))
  /** the write named a version no longer current (412): someone else changed the record */
  const stale = computed(() => problem.value?.status === 412)

  function err(path: string): string {
    return messageFor(messages.value, path)
  }

  async function run<T>(work: () => Promise<T>): Promise<T | undefined> {
    busy.value = true
    problem.value = null
    try {
      return await work()
    } catch (e) {
      problem.value = e instanceof ApiError
        ? { ...e.problem, status: e.status, detail: e.problem.detail ?? e.message }
        : { detail: String(e) }
      return undefined
    } finally {
      busy.value = false
    }
  }

  return { busy, problem, alert, stale, err, run }
}
