// ECharts, only what the console draws (bars, lines, pies on a canvas), imported by the pages
// that draw charts and so loaded only with them. Tooltips render on the canvas (richText):
// HTML tooltips carry inline style attributes, which the console's CSP refuses.
import { BarChart, LineChart, PieChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { init, use, type ComposeOption, type ECharts } from 'echarts/core'
import type { BarSeriesOption, LineSeriesOption, PieSeriesOption } from 'echarts/charts'
import type { GridComponentOption, LegendComponentOption, TooltipComponentOption } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer])

export type ChartOption = ComposeOption<
  BarSeriesOption | LineSeriesOption | PieSeriesOption | GridComponentOption
  | LegendComponentOption | TooltipComponentOption
>

export interface Drawn { chart: ECharts; dispose: () => void }

/** Draw ``option`` in ``element``; ``onClick(dataIndex, seriesIndex)`` for a bar, point or
 * slice; ``onFinished`` once the chart is on screen. */
export function draw(element: HTMLElement, option: ChartOption,
  onClick: (dataIndex: number, seriesIndex: number) => void, onFinished: () => void): Drawn {
  const chart = init(element, undefined, { renderer: 'canvas', locale: 'ZH' })
  let finished = false
  chart.on('finished', () => {
    if (!finished) {
      finished = true
      onFinished()
    }
  })
  chart.on('click', (p) => onClick(p.dataIndex, p.seriesIndex ?? 0))
  chart.setOption({
    tooltip: { trigger: option.series && (option.series as PieSeriesOption[])[0]?.type === 'pie' ? 'item' : 'axis', renderMode: 'richText' },
    animation: false,
    ...option,
  })
  const resize = () => chart.resize()
  window.addEventListener('resize', resize)
  return { chart, dispose: () => { window.removeEventListener('resize', resize); chart.dispose() } }
}
