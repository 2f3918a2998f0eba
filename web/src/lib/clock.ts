// One ticking clock for every countdown on a page (a timer per row would cost a re-render each).
import { ref } from 'vue'

export const now = ref(Date.now())
setInterval(() => { now.value = Date.now() }, 30_000)
