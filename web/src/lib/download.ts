// A file the API answers (an XLSX export), fetched with the bearer token and saved under the
// name the server gives, with its progress as it arrives.
import { session } from './session'
import { ApiError, type Problem } from '@/api/client'

export async function download(url: string, onProgress: (received: number, total: number | null) => void): Promise<string> {
  const response = await fetch(url, {
    headers: { Authorization: `Bearer ${session.token ?? ''}`, 'Accept-Language': 'zh-CN' },
  })
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as Problem
    throw new ApiError(response.status, problem)
  }
  const total = Number(response.headers.get('Content-Length')) || null
  const chunks: Uint8Array[] = []
  let received = 0
  const reader = response.body?.getReader()
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      received += value.length
      onProgress(received, total)
    }
  }
  const disposition = response.headers.get('Content-Disposition') ?? ''
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? 'export.xlsx'
  const blob = new Blob(chunks as BlobPart[], { type: response.headers.get('Content-Type') ?? 'application/octet-stream' })
  const link = document.createElement('a')
  link.href = URL.createObjectURL(blob)
  link.download = name
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000)
  return name
}
