import { useRouter } from 'vue-router'
import { clearReference } from '@/lib/reference'
import { end } from '@/lib/session'

export function useSignOut() {
  const router = useRouter()
  return () => {
    end()
    clearReference()
    void router.push('/login')
  }
}
