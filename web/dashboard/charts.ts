// Throughput charts drawn by uPlot: one line per series over the manager's time buckets.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Throughput } from './api.js';
import { rate } from './format.js';

const COLORS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

const HEIGHT = 200;

/** A chart in `el` whose lines are named by `labels`; rebuilt when the labels change. */
export class LineChart {
  readonly #el: HTMLElement;
  #plot: uPlot | undefined;
  #labels = '';

  constructor(el: HTMLElement) {
    this.#el = el;
    new ResizeObserver(() => this.#plot?.setSize(this.#size())).observe(el);
  }

  set(labels: string[], data: uPlot.AlignedData): void {
    const key = labels.join('\n');
    if (this.#plot && key === this.#labels) {
      this.#plot.setData(data);
      return;
    }
    this.#plot?.destroy();
    this.#labels = key;
    this.#plot = new uPlot(
      {
        ...this.#size(),
        series: [
          {},
          ...labels.map((label, i) => ({
            label,
            stroke: COLORS[i % COLORS.length],
            width: 1.5,
            value: (_u: uPlot, v: number | null) => (v === null ? '–' : rate(v)),
          })),
        ],
        axes: [{}, { size: 80, values: (_u: uPlot, ticks: number[]) => ticks.map(rate) }],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1024, max)] } },
        cursor: { drag: { x: false, y: false } },
      },
      data,
      this.#el,
    );
  }

  #size() {
    return { width: Math.max(240, this.#el.clientWidth), height: HEIGHT };
  }
}

/** Seconds since the epoch: uPlot's x values. */
export const xs = (t: Throughput) => t.times.map((ms) => ms / 1000);
