// The two-step import of a spreadsheet (检查 then 导入) that the registry's enterprise import and
// the zone's statistics import share: a file chosen, a dry run, then the import of the rows
// without errors, with a progress bar, a stage line and the server's refusal shown at the file
// field (its `file` field error) or above the form. Each page says how its file is sent and how
// its progress is measured (`perform`); the page's template and summary stay its own.
import { computed, ref, type Ref } from 'vue'
import { ApiError } from '@/api/client'
import { fieldMessages } from '@/lib/problems'

/** What `perform` may set while it works: the bar (0-100), the stage line, the file's error. */
export interface ImportProgress {
  progress: Ref<number>
  stage: Ref<string>
  fileError: Ref<string>
}

export function useFileImport<R>(
  perform: (file: File, dryRun: boolean, at: ImportProgress) => Promise<R | null>,
  onChosen: () => void = () => undefined,
) {
  const file = ref<File | null>(null) as Ref<File | null>
  const checked = ref<R | null>(null) as Ref<R | null>
  const imported = ref<R | null>(null) as Ref<R | null>
  const busy = ref<'' | 'check' | 'import'>('')
  const progress = ref(0)
  const stage = ref('')
  const problem = ref('')
  const fileError = ref('')

  function chosen(event: Event): void {
    const files = (event.target as HTMLInputElement).files
    file.value = files?.[0] ?? null
    checked.value = null
    imported.value = null
    problem.value = ''
    fileError.value = ''
    onChosen()
  }

  async function send(dryRun: boolean): Promise<R | null> {
    if (!file.value) {
      fileError.value = '请先选择要导入的 XLSX 或 CSV 文件。'
      return null
    }
    busy.value = dryRun ? 'check' : 'import'
    problem.value = ''
    fileError.value = ''
    progress.value = 0
    stage.value = '正在上传文件…'
    try {
      return await perform(file.value, dryRun, { progress, stage, fileError })
    } catch (e) {
      if (e instanceof ApiError) {
        const fields = fieldMessages(e.problem)
        fileError.value = fields.file ?? ''
        problem.value = fileError.value ? '' : e.message
      } else problem.value = String(e)
      return null
    } finally {
      busy.value = ''
    }
  }

  /** 检查: a dry run, which writes nothing. */
  async function check(): Promise<void> {
    imported.value = null
    checked.value = await send(true)
  }
  /** 导入: the rows without errors. */
  async function runImport(): Promise<void> {
    imported.value = await send(false)
  }

  const working = computed(() => busy.value !== '')
  return { file, checked, imported, busy, progress, stage, problem, fileError, chosen, check, runImport, working }
}
