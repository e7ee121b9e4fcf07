/**
 * Image input/output on plain `Float32Array` pixels (NHWC for one image: `[h, w, c]` row-major,
 * channel fastest, values in [0, 1]), through sharp (libvips). No TensorFlow.js here.
 *
 * - {@link loadImage}: any file sharp can decode (PNG, JPEG, WebP, GIF, TIFF, AVIF, SVG, ...) →
 *   EXIF-oriented, alpha flattened onto white, centre-cropped to the target aspect ratio and
 *   resized (`fit: 'cover'`, `position: 'centre'`, Lanczos-3), sRGB or BT.601 grey, in [0, 1].
 * - {@link encodePng} / {@link savePng}: pixels → 8-bit PNG, optional integer nearest-neighbour
 *   upscale so that 32×32 reconstructions are visible; `savePng` writes atomically.
 * - {@link imageGrid}: a labelled grid of tiles (captions under each tile, optional row labels and
 *   title), text drawn as an SVG overlay that librsvg renders (DejaVu Sans when installed).
 */
import { UserError } from '../core/errors.js';
import * as fsp from 'node:fs/promises';
import sharp from 'sharp';
import { writeFileAtomic } from './atomic.js';

/** A file that is missing, unreadable or not a decodable image. `file` names it. */
export class ImageError extends UserError {
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot load image "${file}": ${reason}`, options);
    this.name = 'ImageError';
    this.file = file;
  }
}

export interface LoadImageOptions {
  height: number;
  width: number;
  /**
   * 1 = greyscale: ITU-R BT.601 luma `0.299 R + 0.587 G + 0.114 B` of the sRGB values (what PIL's
   * `convert('L')` and torchvision's `Grayscale` compute); 3 = RGB.
   */
  channels: 1 | 3;
}

function checkDims(h: number, w: number, fn: string): void {
  if (!Number.isInteger(h) || h < 1 || !Number.isInteger(w) || w < 1) {
    throw new Error(`${fn}: height and width must be positive integers, got ${h}x${w}`);
  }
}

/**
 * Decode an encoded image held in memory (see {@link loadImage}); `name` is used in errors.
 */
export async function decodeImage(data: Buffer | Uint8Array, opts: LoadImageOptions, name = '<buffer>'): Promise<Float32Array> {
  const { height, width, channels } = opts;
  checkDims(height, width, 'decodeImage');
  if (channels !== 1 && channels !== 3) throw new Error(`decodeImage: channels must be 1 or 3, got ${channels}`);
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    raw = await sharp(data)
      .rotate()
      .flatten({ background: '#ffffff' })
      .resize({ width, height, fit: 'cover', position: 'centre' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new ImageError(name, `not a readable image (${msg.split('\n')[0]})`, { cause: err });
  }
  const { data: px, info } = raw;
  if (info.width !== width || info.height !== height) {
    throw new ImageError(name, `decoder returned ${info.width}x${info.height}, expected ${width}x${height}`);
  }
  const n = width * height;
  const out = new Float32Array(n * channels);
  const ic = info.channels;
  if (ic === channels) {
    for (let i = 0; i < out.length; i++) out[i] = px[i] / 255;
  } else if (ic === 1 && channels === 3) {
    for (let p = 0; p < n; p++) out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = px[p] / 255;
  } else if (ic >= 3 && channels === 1) {
    // ITU-R BT.601 luma on the gamma-encoded values, as PIL's convert('L') and torchvision's
    // Grayscale; exact for grey inputs (r = g = b)
    for (let p = 0; p < n; p++) {
      const r = px[ic * p], g = px[ic * p + 1], b = px[ic * p + 2];
      out[p] = r === g && g === b ? r / 255 : (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    }
  } else if (ic > channels) {
    for (let p = 0; p < n; p++) for (let k = 0; k < channels; k++) out[p * channels + k] = px[p * ic + k] / 255;
  } else {
    throw new ImageError(name, `decoder returned ${ic} channels, cannot convert to ${channels}`);
  }
  return out;
}

/**
 * Load an image file as a `height × width × channels` Float32Array in [0, 1] (NHWC). The image is
 * centre-cropped to the target aspect ratio and resized; alpha is flattened onto white.
 * Throws {@link ImageError} naming the file if it is missing, unreadable or not an image.
 */
export async function loadImage(file: string, opts: LoadImageOptions): Promise<Float32Array> {
  let data: Buffer;
  try {
    data = await fsp.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : `unreadable (${code ?? String(err)})`;
    throw new ImageError(file, reason, { cause: err });
  }
  return decodeImage(data, opts, file);
}

/** Float pixels in [0, 1] → 8-bit (clamped, rounded; NaN → 0). */
export function toUint8(pixels: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    out[i] = v > 0 ? (v >= 1 ? 255 : Math.round(v * 255)) : 0;
  }
  return out;
}

/** Nearest-neighbour integer upscale of 8-bit `h × w × c` pixels. */
export function upscaleNearest(px: Uint8Array, h: number, w: number, c: number, scale: number): Uint8Array {
  if (scale === 1) return px;
  const W = w * scale;
  const out = new Uint8Array(h * scale * W * c);
  for (let y = 0; y < h * scale; y++) {
    const sy = Math.floor(y / scale);
    for (let x = 0; x < W; x++) {
      const si = (sy * w + Math.floor(x / scale)) * c;
      const di = (y * W + x) * c;
      for (let k = 0; k < c; k++) out[di + k] = px[si + k];
    }
  }
  return out;
}

function checkImage(pixels: ArrayLike<number>, h: number, w: number, c: number, fn: string): void {
  checkDims(h, w, fn);
  if (c !== 1 && c !== 3 && c !== 4) throw new Error(`${fn}: channels must be 1, 3 or 4, got ${c}`);
  if (pixels.length !== h * w * c) {
    throw new Error(`${fn}: ${h}x${w}x${c} = ${h * w * c} values expected, got ${pixels.length}`);
  }
}

function checkScale(scale: number, fn: string): void {
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`${fn}: scale must be a positive integer, got ${scale}`);
}

/**
 * Encode `h × w × c` pixels in [0, 1] (c = 1, 3 or 4) as an 8-bit PNG, each pixel blown up to a
 * `scale × scale` block (nearest neighbour, default 1).
 */
export async function encodePng(pixels: ArrayLike<number>, h: number, w: number, c: number, scale = 1): Promise<Buffer> {
  checkImage(pixels, h, w, c, 'encodePng');
  checkScale(scale, 'encodePng');
  const px = upscaleNearest(toUint8(pixels), h, w, c, scale);
  // without toColourspace, sharp would store a 1-band image as an RGB PNG
  return sharp(px, { raw: { width: w * scale, height: h * scale, channels: c as 1 | 3 | 4 } })
    .toColourspace(c === 1 ? 'b-w' : 'srgb')
    .png()
    .toBuffer();
}

/** {@link encodePng} and write the result to `file` atomically (parent directories created). */
export async function savePng(file: string, pixels: ArrayLike<number>, h: number, w: number, c: number, scale = 1): Promise<void> {
  await writeFileAtomic(file, await encodePng(pixels, h, w, c, scale));
}

// ---------------------------------------------------------------------------------------------
// Text helpers shared with plot.ts

/** Font stack for every SVG text we render; DejaVu Sans is what librsvg finds on most Linuxes. */
export const FONT_FAMILY = "'DejaVu Sans', 'Liberation Sans', Helvetica, Arial, sans-serif";

/** Escape text for use inside SVG/XML/HTML. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!);
}

/** Rough advance width in px of `text` at `fontSize` in DejaVu Sans (a slightly generous estimate). */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const ch of text) {
    if (' .,:;\'|!ilIj()[]`'.includes(ch)) em += 0.34;
    else if (ch >= '0' && ch <= '9') em += 0.64;
    else if ('mwMW@%'.includes(ch)) em += 0.95;
    else if (ch >= 'A' && ch <= 'Z') em += 0.72;
    else em += 0.62;
  }
  return Math.ceil(em * fontSize * (bold ? 1.1 : 1));
}

/** SVG `<text>` with one `<tspan>` per line (lines split on '\n'); `y` is the first baseline. */
export function svgText(
  text: string,
  x: number,
  y: number,
  attrs: { size: number; anchor?: 'start' | 'middle' | 'end'; weight?: 'normal' | 'bold'; fill?: string; lineHeight?: number; extra?: string },
): string {
  const lines = text.split('\n');
  const lh = attrs.lineHeight ?? Math.round(attrs.size * 1.25);
  const tspans = lines
    .map((line, i) => `<tspan x="${x}" y="${y + i * lh}">${escapeXml(line)}</tspan>`)
    .join('');
  return (
    `<text font-family="${FONT_FAMILY}" font-size="${attrs.size}" text-anchor="${attrs.anchor ?? 'start'}"` +
    ` font-weight="${attrs.weight ?? 'normal'}" fill="${attrs.fill ?? '#222'}"${attrs.extra ? ' ' + attrs.extra : ''}>${tspans}</text>`
  );
}

// ---------------------------------------------------------------------------------------------
// Grid

export interface ImageGridOptions {
  /** Tiles per row (default: min(count, 8)). */
  columns?: number;
  /** Caption under each tile (may contain '\n' for several lines). */
  labels?: string[];
  /** Label at the left of each row. */
  rowLabels?: string[];
  /** Integer nearest-neighbour upscale of every tile (default 1). */
  scale?: number;
  /** Title across the top. */
  title?: string;
  /** Caption font size in px (default 12). */
  fontSize?: number;
  /** Background colour (default white). */
  background?: [number, number, number];
}

/**
 * A PNG grid of `h × w × c` images (c = 1 or 3), each scaled by `scale`, with optional captions
 * under each tile, row labels on the left and a title, e.g. reconstructions over iterations
 * ("it 50 · loss 1.2e-3") or ground-truth/reconstruction pairs. Cells widen to fit their caption.
 */
export async function imageGrid(images: ArrayLike<number>[], h: number, w: number, c: number, opts: ImageGridOptions = {}): Promise<Buffer> {
  if (images.length === 0) throw new Error('imageGrid: no images');
  if (c !== 1 && c !== 3) throw new Error(`imageGrid: channels must be 1 or 3, got ${c}`);
  images.forEach((img, i) => checkImage(img, h, w, c, `imageGrid (image ${i})`));
  const scale = opts.scale ?? 1;
  checkScale(scale, 'imageGrid');
  const n = images.length;
  const cols = Math.max(1, Math.min(opts.columns ?? Math.min(n, 8), n));
  if (!Number.isInteger(cols)) throw new Error(`imageGrid: columns must be an integer, got ${opts.columns}`);
  const rows = Math.ceil(n / cols);
  const fs = opts.fontSize ?? 12;
  const lh = Math.round(fs * 1.25);
  const labels = opts.labels ?? [];
  const rowLabels = opts.rowLabels ?? [];
  const titleFs = Math.round(fs * 1.35);

  const tileW = w * scale;
  const tileH = h * scale;
  const margin = 10;
  const gap = 8;
  const maxLines = labels.reduce((m, l) => Math.max(m, (l ?? '').split('\n').length), 0);
  const captionH = labels.length > 0 ? maxLines * lh + 6 : 0;
  const labelW = labels.reduce((m, l) => Math.max(m, ...(l ?? '').split('\n').map((s) => textWidth(s, fs))), 0);
  const cellW = Math.max(tileW, labelW + 4);
  const cellH = tileH + captionH;
  const rowLabelW = rowLabels.length > 0
    ? rowLabels.reduce((m, l) => Math.max(m, ...(l ?? '').split('\n').map((s) => textWidth(s, fs))), 0) + 10
    : 0;
  const titleH = opts.title ? Math.round(titleFs * 1.3) * opts.title.split('\n').length + 8 : 0;
  const gridW = rowLabelW + cols * cellW + (cols - 1) * gap;
  const titleW = opts.title ? Math.max(...opts.title.split('\n').map((s) => textWidth(s, titleFs, true))) : 0;
  const W = 2 * margin + Math.max(gridW, titleW);
  const H = 2 * margin + titleH + rows * cellH + (rows - 1) * gap;
  const gridLeft = margin + Math.floor((W - 2 * margin - gridW) / 2);

  const bg = opts.background ?? [255, 255, 255];
  const canvas = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    canvas[3 * i] = bg[0];
    canvas[3 * i + 1] = bg[1];
    canvas[3 * i + 2] = bg[2];
  }
  const svg: string[] = [];
  if (opts.title) {
    svg.push(svgText(opts.title, W / 2, margin + titleFs, { size: titleFs, anchor: 'middle', weight: 'bold' }));
  }
  for (let idx = 0; idx < n; idx++) {
    const r = Math.floor(idx / cols);
    const col = idx % cols;
    const cellX = gridLeft + rowLabelW + col * (cellW + gap);
    const x0 = cellX + Math.floor((cellW - tileW) / 2);
    const y0 = margin + titleH + r * (cellH + gap);
    const px = upscaleNearest(toUint8(images[idx]), h, w, c, scale);
    for (let y = 0; y < tileH; y++) {
      for (let x = 0; x < tileW; x++) {
        const s = (y * tileW + x) * c;
        const d = ((y0 + y) * W + x0 + x) * 3;
        if (c === 1) {
          canvas[d] = canvas[d + 1] = canvas[d + 2] = px[s];
        } else {
          canvas[d] = px[s];
          canvas[d + 1] = px[s + 1];
          canvas[d + 2] = px[s + 2];
        }
      }
    }
    svg.push(
      `<rect x="${x0 - 0.5}" y="${y0 - 0.5}" width="${tileW + 1}" height="${tileH + 1}" fill="none" stroke="#b8b8b8" stroke-width="1"/>`,
    );
    const label = labels[idx];
    if (label) svg.push(svgText(label, cellX + cellW / 2, y0 + tileH + 3 + fs, { size: fs, anchor: 'middle' }));
  }
  for (let r = 0; r < rows; r++) {
    const label = rowLabels[r];
    if (!label) continue;
    const lines = label.split('\n').length;
    const yc = margin + titleH + r * (cellH + gap) + tileH / 2;
    const y = Math.round(yc - ((lines - 1) * lh) / 2 + fs * 0.35);
    svg.push(svgText(label, gridLeft + rowLabelW - 10, y, { size: fs, anchor: 'end', weight: 'bold' }));
  }
  const overlay = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${svg.join('')}</svg>`,
  );
  return sharp(canvas, { raw: { width: W, height: H, channels: 3 } })
    .composite([{ input: overlay, top: 0, left: 0 }])
    .png()
    .toBuffer();
}
