// Small hand-written SVG charts, each with its numbers as text: an aria-label and a table.
import type { ComponentChildren } from "preact";

export interface Bar {
  label: string;
  value: number;
  /** What the value reads as (a formatted amount); the number itself if not given. */
  shown?: string;
  color?: string;
}

const BLUE = "#0b5cad";

function describe(title: string, bars: Bar[]): string {
  return `${title}: ${bars.map((b) => `${b.label} ${b.shown ?? b.value}`).join(", ")}`;
}

function Figure({ id, title, bars, children, note }: { id: string; title: string; bars: Bar[]; children: ComponentChildren; note?: string }) {
  return (
    <figure class="chart" aria-labelledby={`${id}-title`} data-chart={id}>
      <figcaption id={`${id}-title`} class="chart-title">
        {title}
      </figcaption>
      {children}
      {note && <p class="meta">{note}</p>}
      <table class="chart-table">
        <caption class="visually-hidden">{title} as numbers</caption>
        <tbody>
          {bars.map((bar) => (
            <tr data-label={bar.label}>
              <th scope="row">
                {bar.color && <span class="swatch" style={{ background: bar.color }} aria-hidden="true" />}
                {bar.label}
              </th>
              <td>{bar.shown ?? bar.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** Bars across, one per row, longest to the right edge: funnels, distributions, sources. */
export function HorizontalBars({ id, title, bars, note }: { id: string; title: string; bars: Bar[]; note?: string }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const row = 28;
  const labelWidth = 130;
  const width = 480;
  const height = Math.max(row, bars.length * row);
  return (
    <Figure id={id} title={title} bars={bars} note={note}>
      <svg class="bars" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={describe(title, bars)} preserveAspectRatio="xMinYMin meet">
        {bars.map((bar, i) => {
          const length = ((width - labelWidth - 70) * bar.value) / max;
          const y = i * row;
          return (
            <g key={bar.label}>
              <text x={labelWidth - 8} y={y + row / 2 + 5} text-anchor="end" class="axis">
                {bar.label.length > 18 ? `${bar.label.slice(0, 17)}…` : bar.label}
              </text>
              <rect x={labelWidth} y={y + 4} width={Math.max(bar.value > 0 ? 2 : 0, length)} height={row - 8} rx={3} fill={bar.color ?? BLUE} />
              <text x={labelWidth + length + 6} y={y + row / 2 + 5} class="value">
                {bar.shown ?? bar.value}
              </text>
            </g>
          );
        })}
      </svg>
    </Figure>
  );
}

/** Columns over time, oldest on the left: monthly revenue. Amounts are written above the
 * columns only while they fit; the table below always has them. */
export function Columns({ id, title, bars, note }: { id: string; title: string; bars: Bar[]; note?: string }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const width = 480;
  const height = 220;
  const bottom = 28;
  const top = 18;
  const slot = bars.length ? width / bars.length : width;
  const barWidth = Math.min(48, slot * 0.6);
  return (
    <Figure id={id} title={title} bars={bars} note={note}>
      <svg class="columns" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={describe(title, bars)}>
        <line x1={0} x2={width} y1={height - bottom} y2={height - bottom} class="baseline" />
        {bars.map((bar, i) => {
          const h = ((height - bottom - top) * bar.value) / max;
          const x = i * slot + (slot - barWidth) / 2;
          return (
            <g key={bar.label}>
              <rect x={x} y={height - bottom - h} width={barWidth} height={Math.max(bar.value > 0 ? 2 : 0, h)} rx={3} fill={bar.color ?? BLUE} />
              {bars.length <= 3 && (
                <text x={x + barWidth / 2} y={height - bottom - h - 5} text-anchor="middle" class="value">
                  {bar.shown ?? bar.value}
                </text>
              )}
              <text x={x + barWidth / 2} y={height - 8} text-anchor="middle" class="axis">
                {bar.label}
              </text>
            </g>
          );
        })}
      </svg>
    </Figure>
  );
}
