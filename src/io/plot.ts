/**
 * Dependency-free charts for reports: SVG drawn by hand and rasterised to PNG by sharp (librsvg).
 *
 * - {@link linePlot}: several (x, y) series with axes, "nice" numbered ticks (1/2/5·10^k steps,
 *   or decades on a log-y axis), grid, legend; e.g. accuracy per federated round.
 * - {@link heatmap}: a labelled matrix with the value printed in each cell, coloured red → yellow
 *   → green towards the "good" end; e.g. defense × attack results.
 *
 * Also exported as SVG strings ({@link linePlotSvg}, {@link heatmapSvg}) for HTML reports.
 */
import sharp from 'sharp';
import { svgText, textWidth } from './image.js';

/** Tableau-10 palette: distinct, colour-blind-friendlier series colours. */
export const SERIES_COLORS = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
  '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
];

export interface Series {
  name: string;
  points: [number, number][];
}

export interface LinePlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Image size in px (default 720 × 440). */
  width?: number;
  height?: number;
  /** Fixed y range (default: fitted to the data and rounded to nice ticks). */
  yMin?: number;
  yMax?: number;
  /** Fixed x range (default: fitted to the data). */
  xMin?: number;
  xMax?: number;
  /** Logarithmic y axis (non-positive y values are skipped). */
  logY?: boolean;
  /** Draw a dot at every point (default: when a series has at most 60 points). */
  markers?: boolean;
}

function svgDocument(width: number, height: number, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="${width}" height="${height}" fill="#ffffff"/>${body}</svg>`
  );
}

async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).png().toBuffer();
}

function niceStep(range: number, target: number): number {
  const raw = range / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  const e = 1e-9; // 0.12 / 6 must count as 2·10^-2, not as a hair above it
  return (f <= 1 + e ? 1 : f <= 2 + e ? 2 : f <= 2.5 + e ? 2.5 : f <= 5 + e ? 5 : 10) * mag;
}

function ticksWithStep(lo: number, hi: number, step: number): number[] {
  const ticks: number[] = [];
  const start = Math.ceil(lo / step - 1e-9);
  for (let k = start; k * step <= hi + step * 1e-9; k++) ticks.push(+(k * step).toPrecision(12));
  return ticks;
}

/** Tick values covering [lo, hi] with a 1/2/2.5/5·10^k step, about `target` of them. */
export function niceTicks(lo: number, hi: number, target = 6): { ticks: number[]; step: number } {
  if (!(hi > lo)) return { ticks: [lo], step: 1 };
  const step = niceStep(hi - lo, target);
  return { ticks: ticksWithStep(lo, hi, step), step };
}

/** Format a tick value with just enough decimals for `step`; exponent form for extreme values. */
export function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(3).replace(/\.?0+e/, 'e');
  const decimals = Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9) + (step / 10 ** Math.floor(Math.log10(step)) === 2.5 ? 1 : 0)));
  return v.toFixed(decimals);
}

function formatDecade(k: number): string {
  return k >= -3 && k <= 4 ? String(+(10 ** k).toPrecision(6)) : `1e${k}`;
}

/** The SVG source of {@link linePlot}. */
export function linePlotSvg(series: Series[], opts: LinePlotOptions = {}): string {
  const width = opts.width ?? 720;
  const height = opts.height ?? 440;
  const logY = opts.logY ?? false;
  const fs = 12;
  const valid = (x: number, y: number): boolean => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);

  let xlo = Infinity, xhi = -Infinity, ylo = Infinity, yhi = -Infinity;
  for (const s of series) {
    for (const [x, y] of s.points) {
      if (!valid(x, y)) continue;
      xlo = Math.min(xlo, x); xhi = Math.max(xhi, x);
      ylo = Math.min(ylo, y); yhi = Math.max(yhi, y);
    }
  }
  const hasData = Number.isFinite(xlo);
  if (!hasData) { xlo = 0; xhi = 1; ylo = logY ? 1 : 0; yhi = logY ? 10 : 1; }
  if (opts.xMin !== undefined) xlo = opts.xMin;
  if (opts.xMax !== undefined) xhi = opts.xMax;
  if (xhi <= xlo) { xlo -= 0.5; xhi += 0.5; }

  // y axis: fitted range rounded out to ticks, unless fixed by the caller
  let yTicks: number[];
  let yLabels: string[];
  let yMinorTicks: number[] = [];
  let ty: (y: number) => number; // data → [0, 1]
  if (logY) {
    let lo = opts.yMin !== undefined && opts.yMin > 0 ? Math.log10(opts.yMin) : Math.floor(Math.log10(ylo) + 1e-9);
    let hi = opts.yMax !== undefined && opts.yMax > 0 ? Math.log10(opts.yMax) : Math.ceil(Math.log10(yhi) - 1e-9);
    if (hi <= lo) { lo -= 1; hi += 1; }
    const kStep = Math.max(1, Math.ceil((hi - lo) / 8));
    const decades: number[] = [];
    for (let k = Math.ceil(lo - 1e-9); k <= hi + 1e-9; k += kStep) decades.push(k);
    yTicks = decades.map((k) => 10 ** k);
    yLabels = decades.map(formatDecade);
    if (kStep === 1 && hi - lo <= 6) {
      for (let k = Math.floor(lo); k < hi; k++) for (let m = 2; m <= 9; m++) {
        const v = Math.log10(m) + k;
        if (v > lo && v < hi) yMinorTicks.push(10 ** v);
      }
    }
    const L0 = lo, L1 = hi;
    ty = (y) => (Math.log10(y) - L0) / (L1 - L0);
  } else {
    if (yhi === ylo) { const d = Math.abs(yhi) > 0 ? Math.abs(yhi) * 0.1 : 0.5; ylo -= d; yhi += d; }
    // one step for both the rounded-out range and the ticks, so the axis ends on a tick
    let step = niceStep((opts.yMax ?? yhi) - (opts.yMin ?? ylo), 6);
    const lo = opts.yMin ?? +(Math.floor(ylo / step + 1e-9) * step).toPrecision(12);
    const hi = opts.yMax ?? +(Math.ceil(yhi / step - 1e-9) * step).toPrecision(12);
    if (opts.yMin !== undefined && opts.yMax !== undefined) step = niceStep(hi - lo, 6);
    yTicks = ticksWithStep(lo, hi, step);
    yLabels = yTicks.map((v) => formatTick(v, step));
    ty = (y) => (y - lo) / (hi - lo);
  }
  let xt = niceTicks(xlo, xhi, Math.max(3, Math.min(10, Math.floor(width / 90))));
  if (Number.isInteger(xlo) && Number.isInteger(xhi) && xt.step < 1) {
    // integer x (rounds, epochs): never label fractional positions
    xt = { ticks: Array.from({ length: xhi - xlo + 1 }, (_, i) => xlo + i), step: 1 };
  }
  const xTicks = xt.ticks;
  const xTickStep = xt.step;

  // layout
  const legendItems = series.map((s) => s.name);
  const legendW = legendItems.length > 0 ? Math.max(...legendItems.map((n) => textWidth(n, fs))) + 44 : 0;
  const yTickW = Math.max(...yLabels.map((l) => textWidth(l, fs - 1)), 10);
  const left = 18 + (opts.yLabel ? fs + 10 : 0) + yTickW;
  const top = opts.title ? 44 : 18;
  const bottom = 34 + (opts.xLabel ? fs + 12 : 0);
  const right = 18 + legendW;
  const pw = Math.max(40, width - left - right);
  const ph = Math.max(40, height - top - bottom);
  const px = (x: number): number => left + ((x - xlo) / (xhi - xlo)) * pw;
  const py = (y: number): number => top + ph - ty(y) * ph;
  const f = (v: number): string => v.toFixed(2);

  const out: string[] = [];
  out.push(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="#fbfbfd" stroke="none"/>`);
  for (const v of yMinorTicks) out.push(`<line x1="${left}" x2="${left + pw}" y1="${f(py(v))}" y2="${f(py(v))}" stroke="#f0f0f0" stroke-width="1"/>`);
  yTicks.forEach((v, i) => {
    const y = f(py(v));
    out.push(`<line x1="${left}" x2="${left + pw}" y1="${y}" y2="${y}" stroke="#e2e2e2" stroke-width="1"/>`);
    out.push(`<line x1="${left - 5}" x2="${left}" y1="${y}" y2="${y}" stroke="#444" stroke-width="1"/>`);
    out.push(svgText(yLabels[i], left - 8, Math.round(py(v) + (fs - 1) * 0.35), { size: fs - 1, anchor: 'end', fill: '#333' }));
  });
  for (const v of xTicks) {
    const x = f(px(v));
    out.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${top + ph}" stroke="#e2e2e2" stroke-width="1"/>`);
    out.push(`<line x1="${x}" x2="${x}" y1="${top + ph}" y2="${top + ph + 5}" stroke="#444" stroke-width="1"/>`);
    out.push(svgText(formatTick(v, xTickStep), px(v), top + ph + 8 + fs, { size: fs - 1, anchor: 'middle', fill: '#333' }));
  }
  out.push(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#444" stroke-width="1"/>`);
  if (!hasData) out.push(svgText('no data', left + pw / 2, top + ph / 2, { size: 14, anchor: 'middle', fill: '#999' }));

  // series, clipped to the plot area
  out.push(`<clipPath id="plotArea"><rect x="${left}" y="${top}" width="${pw}" height="${ph}"/></clipPath><g clip-path="url(#plotArea)">`);
  series.forEach((s, si) => {
    const color = SERIES_COLORS[si % SERIES_COLORS.length];
    const dash = si >= SERIES_COLORS.length ? ' stroke-dasharray="6 3"' : '';
    const pts = [...s.points].filter(([x, y]) => valid(x, y) || !Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
    let seg: string[] = [];
    const flush = (): void => {
      if (seg.length > 1) out.push(`<polyline points="${seg.join(' ')}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"${dash}/>`);
      seg = [];
    };
    for (const [x, y] of pts) {
      if (!valid(x, y)) { flush(); continue; } // a NaN/Inf y breaks the line
      seg.push(`${f(px(x))},${f(py(y))}`);
    }
    flush();
    const showMarkers = opts.markers ?? s.points.length <= 60;
    if (showMarkers) {
      for (const [x, y] of pts) {
        if (valid(x, y)) out.push(`<circle cx="${f(px(x))}" cy="${f(py(y))}" r="3" fill="${color}" stroke="#fff" stroke-width="1"/>`);
      }
    }
  });
  out.push('</g>');

  // legend
  if (legendItems.length > 0) {
    const lx = left + pw + 14;
    const rowH = fs + 8;
    const boxH = legendItems.length * rowH + 8;
    out.push(`<rect x="${lx}" y="${top}" width="${legendW - 4}" height="${boxH}" fill="#ffffff" stroke="#ccc" rx="3"/>`);
    legendItems.forEach((name, i) => {
      const color = SERIES_COLORS[i % SERIES_COLORS.length];
      const dash = i >= SERIES_COLORS.length ? ' stroke-dasharray="6 3"' : '';
      const y = top + 4 + i * rowH + rowH / 2;
      out.push(`<line x1="${lx + 8}" x2="${lx + 30}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2.5"${dash}/>`);
      out.push(`<circle cx="${lx + 19}" cy="${y}" r="3" fill="${color}"/>`);
      out.push(svgText(name, lx + 36, Math.round(y + fs * 0.36), { size: fs, fill: '#222' }));
    });
  }
  if (opts.title) out.push(svgText(opts.title, width / 2, 26, { size: 16, anchor: 'middle', weight: 'bold' }));
  if (opts.xLabel) out.push(svgText(opts.xLabel, left + pw / 2, height - 12, { size: fs, anchor: 'middle', fill: '#333' }));
  if (opts.yLabel) {
    const cx = 14 + fs * 0.4, cy = top + ph / 2;
    out.push(svgText(opts.yLabel, cx, cy, { size: fs, anchor: 'middle', fill: '#333', extra: `transform="rotate(-90 ${cx} ${cy})"` }));
  }
  return svgDocument(width, height, out.join(''));
}

/**
 * Line chart of several series as a PNG of `width × height` (default 720 × 440): numbered axes,
 * grid, legend at the right, one Tableau-10 colour per series (dashed after the tenth).
 * Non-finite y values break a series' line.
 */
export async function linePlot(series: Series[], opts: LinePlotOptions = {}): Promise<Buffer> {
  return svgToPng(linePlotSvg(series, opts));
}

// ---------------------------------------------------------------------------------------------
// Heatmap

export interface HeatmapOptions {
  title?: string;
  /** Cell text (default: 3 significant digits; null cells show "—"). */
  format?: (v: number) => string;
  /** Which end is good: 'good-high' (default) colours high values green, 'good-low' low ones. */
  colorScale?: 'good-high' | 'good-low';
  /** Value range mapped onto the colours (default: min..max of the finite values). */
  domain?: [number, number];
  /** Caption for the row / column labels, e.g. "defense" / "attack". */
  rowTitle?: string;
  colTitle?: string;
  /** Cell height in px (default 34). */
  cellHeight?: number;
}

// RdYlGn (ColorBrewer), from bad (red) to good (green)
const RAMP: [number, number, number][] = [
  [215, 48, 39], [244, 109, 67], [253, 174, 97], [254, 224, 139],
  [217, 239, 139], [166, 217, 106], [102, 189, 99], [26, 152, 80],
];

function rampColor(t: number): [number, number, number] {
  const x = Math.max(0, Math.min(1, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const u = x - i;
  return [0, 1, 2].map((k) => Math.round(RAMP[i][k] + (RAMP[i + 1][k] - RAMP[i][k]) * u)) as [number, number, number];
}

function hex([r, g, b]: [number, number, number]): string {
  return '#' + [r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('');
}

function defaultFormat(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  return String(+v.toPrecision(3));
}

/** The SVG source of {@link heatmap}. */
export function heatmapSvg(rows: string[], cols: string[], values: (number | null)[][], opts: HeatmapOptions = {}): string {
  if (values.length !== rows.length) throw new Error(`heatmap: ${values.length} value rows for ${rows.length} row labels`);
  values.forEach((r, i) => {
    if (r.length !== cols.length) throw new Error(`heatmap: row ${i} has ${r.length} values for ${cols.length} columns`);
  });
  const fmt = opts.format ?? defaultFormat;
  const fs = 12;
  const finite = values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  let [dlo, dhi] = opts.domain ?? [finite.length ? Math.min(...finite) : 0, finite.length ? Math.max(...finite) : 1];
  if (!(dhi > dlo)) { dlo -= 0.5; dhi += 0.5; }
  const goodLow = opts.colorScale === 'good-low';
  const colorOf = (v: number): [number, number, number] => {
    const t = Number.isFinite(v) ? (v - dlo) / (dhi - dlo) : v > 0 ? 1 : 0;
    return rampColor(goodLow ? 1 - t : t);
  };

  const texts = values.map((r) => r.map((v) => (v === null ? '—' : fmt(v))));
  const valueW = Math.max(20, ...texts.flat().map((t) => textWidth(t, fs)));
  const colLabelW = Math.max(0, ...cols.map((c) => textWidth(c, fs)));
  // column labels that would make cells wider than 150 px are drawn slanted instead
  const rotate = colLabelW + 12 > Math.max(150, valueW + 16);
  const cellW = Math.max(56, valueW + 16, rotate ? 0 : colLabelW + 12);
  const cellH = opts.cellHeight ?? 34;
  const rowLabelW = Math.max(0, ...rows.map((r) => textWidth(r, fs, true))) + 16;
  const colHeaderH = rotate ? Math.ceil(colLabelW * 0.7) + 18 : fs + 14;
  const margin = 14;
  const titleH = opts.title ? 34 : 0;
  const colTitleH = opts.colTitle ? fs + 10 : 0;
  const rowTitleW = opts.rowTitle ? fs + 12 : 0;
  const gridX = margin + rowTitleW + rowLabelW;
  const gridY = margin + titleH + colTitleH + colHeaderH;
  const gridW = cols.length * cellW;
  const gridH = rows.length * cellH;
  const legendH = finite.length ? 40 : 0;
  const extraRight = rotate ? Math.ceil(colLabelW * 0.7) : 0;
  const width = Math.max(
    gridX + gridW + margin + extraRight,
    opts.title ? textWidth(opts.title, 16, true) + 2 * margin : 0,
    gridX + 220 + margin,
  );
  const height = gridY + gridH + legendH + margin;

  const out: string[] = [];
  if (opts.title) out.push(svgText(opts.title, width / 2, margin + 18, { size: 16, anchor: 'middle', weight: 'bold' }));
  if (opts.colTitle) out.push(svgText(opts.colTitle, gridX + gridW / 2, margin + titleH + fs, { size: fs, anchor: 'middle', fill: '#555', extra: 'font-style="italic"' }));
  if (opts.rowTitle) {
    const cx = margin + fs * 0.8, cy = gridY + gridH / 2;
    out.push(svgText(opts.rowTitle, cx, cy, { size: fs, anchor: 'middle', fill: '#555', extra: `font-style="italic" transform="rotate(-90 ${cx} ${cy})"` }));
  }
  cols.forEach((c, j) => {
    const cx = gridX + j * cellW + cellW / 2;
    if (rotate) {
      const y = gridY - 8;
      out.push(svgText(c, cx, y, { size: fs, anchor: 'start', fill: '#222', extra: `transform="rotate(-40 ${cx} ${y})"` }));
    } else {
      out.push(svgText(c, cx, gridY - 9, { size: fs, anchor: 'middle', fill: '#222' }));
    }
  });
  rows.forEach((r, i) => {
    out.push(svgText(r, gridX - 8, Math.round(gridY + i * cellH + cellH / 2 + fs * 0.36), { size: fs, anchor: 'end', weight: 'bold', fill: '#222' }));
  });
  values.forEach((row, i) => {
    row.forEach((v, j) => {
      const x = gridX + j * cellW;
      const y = gridY + i * cellH;
      let fill = '#eeeeee';
      let textFill = '#777';
      if (v !== null && !Number.isNaN(v)) {
        const c = colorOf(v);
        fill = hex(c);
        const lum = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
        textFill = lum < 120 ? '#ffffff' : '#1a1a1a';
      }
      out.push(`<rect x="${x}" y="${y}" width="${cellW}" height="${cellH}" fill="${fill}" stroke="#ffffff" stroke-width="2"/>`);
      out.push(svgText(texts[i][j], x + cellW / 2, Math.round(y + cellH / 2 + fs * 0.36), { size: fs, anchor: 'middle', fill: textFill }));
    });
  });
  if (finite.length) {
    // colour bar: bad → good from left to right is confusing for good-low, so bar runs low → high
    const bx = gridX, by = gridY + gridH + 14, bw = Math.min(220, Math.max(120, gridW)), bh = 10;
    const stops = Array.from({ length: 11 }, (_, k) => {
      const t = k / 10;
      return `<stop offset="${t}" stop-color="${hex(rampColor(goodLow ? 1 - t : t))}"/>`;
    }).join('');
    out.push(`<linearGradient id="hmbar" x1="0" y1="0" x2="1" y2="0">${stops}</linearGradient>`);
    out.push(`<rect x="${bx}" y="${by}" width="${bw}" height="${bh}" fill="url(#hmbar)" stroke="#999" stroke-width="0.5"/>`);
    out.push(svgText(fmt(dlo), bx, by + bh + fs + 2, { size: fs - 2, anchor: 'start', fill: '#555' }));
    out.push(svgText(fmt(dhi), bx + bw, by + bh + fs + 2, { size: fs - 2, anchor: 'end', fill: '#555' }));
    out.push(svgText(goodLow ? 'lower is better' : 'higher is better', bx + bw + 10, by + bh, { size: fs - 2, anchor: 'start', fill: '#777', extra: 'font-style="italic"' }));
  }
  return svgDocument(width, height, out.join(''));
}

/**
 * Labelled heatmap PNG: `values[i][j]` belongs to `rows[i]` × `cols[j]` and is printed in its
 * cell; `null` cells are grey with "—". Colours run red (bad) → yellow → green (good), with
 * 'good-high' (default) or 'good-low' deciding which end is good; a colour bar shows the domain.
 */
export async function heatmap(rows: string[], cols: string[], values: (number | null)[][], opts: HeatmapOptions = {}): Promise<Buffer> {
  return svgToPng(heatmapSvg(rows, cols, values, opts));
}

