/**
 * Experiment reports: one description, two renderings written side by side and atomically:
 * `report.md` (GitHub-flavoured Markdown) and `report.html` (a single page with embedded CSS,
 * styled tables, figures referencing the PNGs by relative path, so the folder can be moved or
 * zipped as a whole).
 *
 * Section text is Markdown; the HTML version supports the subset reports use: paragraphs,
 * `-`/`*` and `1.` lists, `**bold**`, `*italic*`, `` `code` `` and `[links](url)`. Everything else
 * is shown as escaped text.
 */
import * as path from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { escapeXml } from './image.js';

export type Cell = string | number | boolean | null | undefined;

export interface ReportTable {
  headers: string[];
  rows: Cell[][];
}

export interface ReportImage {
  /** Path of the image, relative to the report directory (absolute paths are made relative). */
  path: string;
  caption: string;
}

export interface ReportSection {
  heading: string;
  /** Markdown text shown before the table and images. */
  text?: string;
  table?: ReportTable;
  images?: ReportImage[];
  /** Preformatted text (e.g. a configuration dump), shown last in a code block. */
  code?: string;
}

export interface Report {
  title: string;
  /** Optional Markdown paragraph under the title. */
  subtitle?: string;
  sections: ReportSection[];
}

/** Text of one table cell: null/undefined → "—", non-finite numbers spelled out. */
export function cellText(v: Cell): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (v === Infinity) return '∞';
    if (v === -Infinity) return '−∞';
  }
  return String(v);
}

function isNumericColumn(rows: Cell[][], j: number): boolean {
  let any = false;
  for (const r of rows) {
    const v = r[j];
    if (v === null || v === undefined) continue;
    if (typeof v !== 'number') return false;
    any = true;
  }
  return any;
}

function mdEscapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/**
 * A GitHub-flavoured Markdown table. Columns whose cells are all numbers are right-aligned;
 * `|` is escaped and newlines become `<br>`. Rows shorter than `headers` are padded with "".
 */
export function markdownTable(headers: string[], rows: Cell[][]): string {
  if (headers.length === 0) throw new Error('markdownTable: no headers');
  rows.forEach((r, i) => {
    if (r.length > headers.length) throw new Error(`markdownTable: row ${i} has ${r.length} cells for ${headers.length} headers`);
  });
  const body = rows.map((r) => headers.map((_, j) => (j < r.length ? mdEscapeCell(cellText(r[j])) : '')));
  const head = headers.map(mdEscapeCell);
  const widths = headers.map((_, j) => Math.max(3, head[j].length, ...body.map((r) => r[j].length)));
  const numeric = headers.map((_, j) => isNumericColumn(rows, j));
  const line = (cells: string[]): string =>
    '| ' + cells.map((c, j) => (numeric[j] ? c.padStart(widths[j]) : c.padEnd(widths[j]))).join(' | ') + ' |';
  const sep = '| ' + widths.map((w, j) => (numeric[j] ? '-'.repeat(w - 1) + ':' : '-'.repeat(w))).join(' | ') + ' |';
  return [line(head), sep, ...body.map(line)].join('\n');
}

/** Inline Markdown (escaped first): `code`, **bold**, *italic*, [text](url). */
function inlineHtml(s: string): string {
  const codes: string[] = [];
  let t = s.replace(/`([^`]+)`/g, (_m, c: string) => {
    codes.push(`<code>${escapeXml(c)}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  t = escapeXml(t)
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>')
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, text: string, url: string) => {
      const safe = /^(javascript|data):/i.test(url) ? '#' : url;
      return `<a href="${safe}">${text}</a>`;
    });
  return t.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => codes[Number(i)]);
}

/** Block-level Markdown subset → HTML. */
export function markdownToHtml(md: string): string {
  const out: string[] = [];
  const blocks = md.replace(/\r\n/g, '\n').split(/\n\s*\n/);
  for (const block of blocks) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) continue;
    if (lines.every((l) => /^\s*[-*]\s+/.test(l))) {
      out.push('<ul>' + lines.map((l) => `<li>${inlineHtml(l.replace(/^\s*[-*]\s+/, ''))}</li>`).join('') + '</ul>');
    } else if (lines.every((l) => /^\s*\d+[.)]\s+/.test(l))) {
      out.push('<ol>' + lines.map((l) => `<li>${inlineHtml(l.replace(/^\s*\d+[.)]\s+/, ''))}</li>`).join('') + '</ol>');
    } else if (/^#{1,6}\s/.test(lines[0]) && lines.length === 1) {
      const level = Math.min(6, lines[0].match(/^#+/)![0].length + 2);
      out.push(`<h${level}>${inlineHtml(lines[0].replace(/^#+\s*/, ''))}</h${level}>`);
    } else {
      out.push(`<p>${lines.map(inlineHtml).join('<br>\n')}</p>`);
    }
  }
  return out.join('\n');
}

function htmlTable(t: ReportTable): string {
  const numeric = t.headers.map((_, j) => isNumericColumn(t.rows, j));
  const th = t.headers.map((h, j) => `<th${numeric[j] ? ' class="num"' : ''}>${escapeXml(h)}</th>`).join('');
  const trs = t.rows
    .map((r) => '<tr>' + t.headers.map((_, j) => `<td${numeric[j] ? ' class="num"' : ''}>${escapeXml(j < r.length ? cellText(r[j]) : '')}</td>`).join('') + '</tr>')
    .join('\n');
  return `<div class="table-wrap"><table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${trs}\n</tbody>\n</table></div>`;
}

function slug(s: string, used: Set<string>): string {
  const base = s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'section';
  let id = base;
  for (let k = 2; used.has(id); k++) id = `${base}-${k}`;
  used.add(id);
  return id;
}

const CSS = `
:root { --fg: #1d2330; --muted: #5f6b7a; --line: #dfe3ea; --accent: #2f6fde; --bg: #ffffff; --soft: #f5f7fb; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--soft); color: var(--fg);
  font: 15px/1.55 -apple-system, BlinkMacSystemFont, "Segoe UI", "DejaVu Sans", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 32px auto; padding: 32px 40px; background: var(--bg);
  border: 1px solid var(--line); border-radius: 10px; box-shadow: 0 2px 10px rgba(20, 30, 50, .05); }
h1 { font-size: 28px; margin: 0 0 6px; letter-spacing: -.01em; }
.subtitle { color: var(--muted); margin: 0 0 18px; }
nav.toc { font-size: 14px; color: var(--muted); margin: 0 0 8px; padding: 10px 14px; background: var(--soft); border-radius: 6px; }
nav.toc a { margin-right: 14px; white-space: nowrap; }
h2 { font-size: 20px; margin: 34px 0 10px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
code { font: 13px/1.4 "DejaVu Sans Mono", Menlo, Consolas, monospace; background: var(--soft); padding: 1px 4px; border-radius: 3px; }
pre { background: #1e2430; color: #e8ecf3; padding: 14px 16px; border-radius: 6px; overflow-x: auto; }
pre code { background: none; color: inherit; padding: 0; }
.table-wrap { overflow-x: auto; margin: 14px 0; }
table { border-collapse: collapse; font-size: 14px; min-width: 40%; }
th, td { padding: 6px 12px; border-bottom: 1px solid var(--line); text-align: left; }
th { background: #eef2f8; font-weight: 600; border-bottom: 2px solid #c9d2e0; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafbfd; }
tbody tr:hover { background: #eef4ff; }
.figures { display: flex; flex-wrap: wrap; gap: 18px; margin: 14px 0; }
figure { margin: 0; padding: 10px; border: 1px solid var(--line); border-radius: 8px; background: #fff; max-width: 100%; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; max-width: 640px; }
footer { color: var(--muted); font-size: 12px; margin-top: 36px; }
`;

function imagePath(dir: string, p: string): string {
  const rel = path.isAbsolute(p) ? path.relative(dir, p) : p;
  return rel.split(path.sep).join('/');
}

/** Markdown rendering of a report whose files live in `dir` (used by {@link writeReport}). */
export function reportMarkdown(dir: string, report: Report): string {
  const md: string[] = [`# ${report.title}`, ''];
  if (report.subtitle) md.push(report.subtitle, '');
  for (const s of report.sections) {
    md.push(`## ${s.heading}`, '');
    if (s.text) md.push(s.text.trim(), '');
    if (s.table) md.push(markdownTable(s.table.headers, s.table.rows), '');
    for (const img of s.images ?? []) {
      const p = imagePath(dir, img.path);
      md.push(`![${img.caption.replace(/[[\]]/g, '')}](${encodeURI(p)})`, '', `*${img.caption}*`, '');
    }
    if (s.code) md.push('```', s.code.replace(/\n$/, ''), '```', '');
  }
  return md.join('\n');
}

/** HTML rendering of a report whose files live in `dir` (used by {@link writeReport}). */
export function reportHtml(dir: string, report: Report): string {
  const used = new Set<string>();
  const ids = report.sections.map((s) => slug(s.heading, used));
  const body: string[] = [`<h1>${escapeXml(report.title)}</h1>`];
  if (report.subtitle) body.push(`<div class="subtitle">${markdownToHtml(report.subtitle)}</div>`);
  if (report.sections.length > 2) {
    body.push('<nav class="toc">' + report.sections.map((s, i) => `<a href="#${ids[i]}">${escapeXml(s.heading)}</a>`).join(' ') + '</nav>');
  }
  report.sections.forEach((s, i) => {
    body.push(`<section id="${ids[i]}">`, `<h2>${escapeXml(s.heading)}</h2>`);
    if (s.text) body.push(markdownToHtml(s.text));
    if (s.table) body.push(htmlTable(s.table));
    if (s.images?.length) {
      body.push(
        '<div class="figures">' +
          s.images
            .map((img) => {
              const p = imagePath(dir, img.path);
              return `<figure><a href="${escapeXml(encodeURI(p))}"><img src="${escapeXml(encodeURI(p))}" alt="${escapeXml(img.caption)}" loading="lazy"></a><figcaption>${escapeXml(img.caption)}</figcaption></figure>`;
            })
            .join('\n') +
          '</div>',
      );
    }
    if (s.code) body.push(`<pre><code>${escapeXml(s.code.replace(/\n$/, ''))}</code></pre>`);
    body.push('</section>');
  });
  body.push(`<footer>Generated by fedattack on ${new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}.</footer>`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(report.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body.join('\n')}
</main>
</body>
</html>
`;
}

/**
 * Write `report.md` and `report.html` into `dir` (created if needed), each atomically.
 * Image paths should be relative to `dir`; absolute ones are converted. Returns both paths.
 */
export async function writeReport(dir: string, report: Report): Promise<{ markdown: string; html: string }> {
  const markdown = path.join(dir, 'report.md');
  const html = path.join(dir, 'report.html');
  const absDir = path.resolve(dir);
  await writeFileAtomic(markdown, reportMarkdown(absDir, report));
  await writeFileAtomic(html, reportHtml(absDir, report));
  return { markdown, html };
}
