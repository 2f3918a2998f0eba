// A file sent as the request's body (the enterprise import), with its upload progress: fetch
// cannot report it, XMLHttpRequest can. The answer is JSON, or an ApiError with the problem.
import { ApiError, type Problem } from '@/api/client'
import { end, session } from './session'

export const XLSX_MIME = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

/** The Content-Type the import expects for a file of this name. */
export function uploadType(name: string): string {
  return /\.csv$/i.test(name) ? 'text/csv' : XLSX_MIME
}

export function upload<T>(url: string, file: Blob, contentType: string,
  onProgress: (sent: number, total: number) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', url)
    xhr.setRequestHeader('Content-Type', contentType)
    xhr.setRequestHeader('Accept-Language', 'zh-CN')
    if (session.token) xhr.setRequestHeader('Authorization', `Bearer ${session.token}`)
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size)
    xhr.onerror = () => reject(new ApiError(0, { detail: '无法连接服务器，请检查网络后重试。' }))
    xhr.onload = () => {
      let body: unknown = null
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null
      } catch {
        body = null
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T)
      else {
        if (xhr.status === 401) end(true)
        reject(new ApiError(xhr.status, (body && typeof body === 'object' ? body : {}) as Problem))
      }
    }
    xhr.send(file)
  })
}
