// What a ledger export job says while the server builds it: the list sheet first, then every
// step of its demands (办理过程), each with its rows.

export interface ExportJobRows {
  rows_listed: number
  rows_done: number
  rows_total: number
}

/** 正在生成表格：清单 500/1000 行… then 正在生成表格：办理过程 400/1000 行… */
export function buildingNote(job: ExportJobRows): string {
  const steps = job.rows_done > 0 || job.rows_listed >= job.rows_total
  return steps
    ? `正在生成表格：办理过程 ${job.rows_done}/${job.rows_total} 行…`
    : `正在生成表格：清单 ${job.rows_listed}/${job.rows_total} 行…`
}
