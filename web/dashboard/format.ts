// Numbers and times as an operator reads them, and a small helper to build DOM nodes (text
// always goes in as text: app names and users come from drivers).

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function bytes(n: number): string {
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 || u === 0 ? Math.round(v) : v.toFixed(1)} ${UNITS[u]}`;
}

export const rate = (n: number) => `${bytes(n)}/s`;

export function ago(iso: string, nowMs = Date.now()): string {
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

export const clock = (iso: string) => new Date(iso).toLocaleTimeString();

type Child = Node | string | number | null | undefined | false;

export function h(
  tag: string,
  attrs: Record<string, string | undefined> = {},
  ...children: (Child | Child[])[]
): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
  return el;
}

/**
 * A column heading; `{ num }` for a column of numbers, aligned right like its cells, with an
 * optional `title` saying more than the short heading does.
 */
export type Heading = string | { readonly num: string; readonly title?: string };

/** A table: caption-less (the section heading names it), header row, body rows. */
export function fillTable(table: HTMLElement, head: Heading[], rows: HTMLElement[], empty: string) {
  const th = (c: Heading) =>
    typeof c === 'string'
      ? h('th', { scope: 'col' }, c)
      : h('th', { scope: 'col', class: 'num', title: c.title }, c.num);
  const thead = h('thead', {}, h('tr', {}, head.map(th)));
  const body =
    rows.length > 0
      ? rows
      : [h('tr', {}, h('td', { colspan: String(head.length), class: 'empty' }, empty))];
  table.replaceChildren(thead, h('tbody', {}, body));
}
