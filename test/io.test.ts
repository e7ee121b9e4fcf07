import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import {
  parseJson,
  readJson,
  toJson,
  writeFileAtomic,
  writeFileAtomicSync,
  writeJsonAtomic,
  writeJsonAtomicSync,
} from '../src/io/atomic.js';
import { decodeImage, encodePng, ImageError, imageGrid, loadImage, savePng } from '../src/io/image.js';
import { heatmap, linePlot, niceTicks } from '../src/io/plot.js';
import { markdownTable, writeReport } from '../src/io/report.js';
import { DEFAULT_SCENE_COUNT, defaultImage, defaultImageName } from '../src/io/scene.js';

let tmp = '';
before(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'fedattack-io-'));
});
after(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

async function listAll(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir)).sort();
}

async function rawOf(png: Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

describe('atomic writes', () => {
  it('creates parent directories, writes, overwrites, leaves no temp files', async () => {
    const file = path.join(tmp, 'a', 'b', 'c.txt');
    await writeFileAtomic(file, 'first');
    assert.equal(await fsp.readFile(file, 'utf8'), 'first');
    await writeFileAtomic(file, new Uint8Array([104, 105]));
    assert.equal(await fsp.readFile(file, 'utf8'), 'hi');
    assert.deepEqual(await listAll(path.dirname(file)), ['c.txt']);
    writeFileAtomicSync(file, 'sync');
    assert.equal(await fsp.readFile(file, 'utf8'), 'sync');
    assert.deepEqual(await listAll(path.dirname(file)), ['c.txt']);
  });

  it('a failed write throws and leaves the old file and no temp file behind', async () => {
    const dir = path.join(tmp, 'fail');
    const file = path.join(dir, 'result.json');
    await writeJsonAtomic(file, { ok: 1 });
    const before = await fsp.readFile(file, 'utf8');
    // destination is an existing directory: rename fails
    await fsp.mkdir(path.join(dir, 'adir'));
    await assert.rejects(writeFileAtomic(path.join(dir, 'adir'), 'x'));
    assert.throws(() => writeFileAtomicSync(path.join(dir, 'adir'), 'x'));
    // parent "directory" is the existing file: mkdir fails, file untouched
    await assert.rejects(writeFileAtomic(path.join(file, 'inner.json'), 'x'));
    // unserialisable values fail before touching the disk
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(writeJsonAtomic(file, cyclic), TypeError);
    await assert.rejects(writeJsonAtomic(file, { big: 1n }), TypeError);
    assert.equal(await fsp.readFile(file, 'utf8'), before);
    assert.deepEqual(await listAll(dir), ['adir', 'result.json']);
    assert.deepEqual(await listAll(path.join(dir, 'adir')), []);
  });

  it('concurrent writers never produce a partial file', async () => {
    const file = path.join(tmp, 'race.json');
    const payloads = Array.from({ length: 16 }, (_, k) => ({ k, data: Array.from({ length: 20000 }, (_, i) => i * k) }));
    await Promise.all(payloads.map((p) => writeJsonAtomic(file, p)));
    const got = (await readJson(file)) as { k: number; data: number[] };
    assert.deepEqual(got, payloads[got.k]);
    assert.deepEqual((await listAll(tmp)).filter((n) => n.includes('race')), ['race.json']);
  });

  it('JSON keeps Infinity / -Infinity / NaN as strings and typed arrays as arrays', async () => {
    const obj = { psnr: Infinity, low: -Infinity, bad: NaN, ok: 1.5, nested: [Infinity, null], arr: new Float32Array([0.5, 2]) };
    const text = toJson(obj);
    const plain = JSON.parse(text) as Record<string, unknown>;
    assert.equal(plain.psnr, 'Infinity');
    assert.equal(plain.low, '-Infinity');
    assert.equal(plain.bad, 'NaN');
    assert.equal(plain.ok, 1.5);
    assert.deepEqual(plain.nested, ['Infinity', null]);
    assert.deepEqual(plain.arr, [0.5, 2]);
    assert.ok(text.endsWith('}\n'));
    assert.ok(text.includes('\n  "psnr": "Infinity"'), 'pretty-printed with 2 spaces');
    // revived by parseJson / readJson
    const back = parseJson<typeof obj>(text);
    assert.equal(back.psnr, Infinity);
    assert.equal(back.low, -Infinity);
    assert.ok(Number.isNaN(back.bad));
    const file = path.join(tmp, 'json', 'm.json');
    writeJsonAtomicSync(file, { v: -Infinity });
    assert.equal(await fsp.readFile(file, 'utf8'), '{\n  "v": "-Infinity"\n}\n');
    assert.deepEqual(await readJson(file), { v: -Infinity });
  });
});

describe('loadImage', () => {
  it('loads PNG and JPEG of odd sizes into the requested shape in [0, 1]', async () => {
    const w = 37, h = 23;
    const px = Buffer.alloc(w * h * 3);
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
      px[(i * w + j) * 3] = (j * 7) % 256;
      px[(i * w + j) * 3 + 1] = (i * 11) % 256;
      px[(i * w + j) * 3 + 2] = ((i + j) * 5) % 256;
    }
    const pngFile = path.join(tmp, 'odd.png');
    const jpgFile = path.join(tmp, 'odd.jpeg');
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(pngFile);
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(jpgFile);
    for (const file of [pngFile, jpgFile]) {
      for (const [H, W, C] of [[16, 16, 3], [9, 13, 1], [32, 28, 3]] as const) {
        const img = await loadImage(file, { height: H, width: W, channels: C });
        assert.ok(img instanceof Float32Array);
        assert.equal(img.length, H * W * C);
        let lo = Infinity, hi = -Infinity;
        for (const v of img) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        assert.ok(lo >= 0 && hi <= 1 && hi - lo > 0.2, `${file} ${H}x${W}x${C}: range ${lo}..${hi}`);
      }
    }
  });

  it('centre-crops to the target aspect ratio (cover)', async () => {
    // 30×10: left third red, middle green, right third blue → a square crop is the green middle
    const w = 30, h = 10;
    const px = Buffer.alloc(w * h * 3);
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) px[(i * w + j) * 3 + Math.floor(j / 10)] = 255;
    const file = path.join(tmp, 'stripes.png');
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
    const img = await loadImage(file, { height: 8, width: 8, channels: 3 });
    for (let p = 8 * 3 + 2; p < 8 * 3 + 6; p++) {
      // centre row, centre columns: pure green
      assert.ok(img[p * 3] < 0.1 && img[p * 3 + 1] > 0.9 && img[p * 3 + 2] < 0.1, `pixel ${p}: ${img.slice(p * 3, p * 3 + 3)}`);
    }
  });

  it('grayscale, alpha flattened on white, grey → RGB, 16-bit input', async () => {
    const rgba = Buffer.alloc(5 * 7 * 4); // fully transparent black
    const tFile = path.join(tmp, 'transparent.png');
    await sharp(rgba, { raw: { width: 5, height: 7, channels: 4 } }).png().toFile(tFile);
    for (const C of [1, 3] as const) {
      const img = await loadImage(tFile, { height: 4, width: 4, channels: C });
      assert.ok(img.every((v) => v === 1), 'transparent pixels become white');
    }
    // pure red in grey: BT.601 luma 0.299
    const red = Buffer.alloc(6 * 6 * 3);
    for (let p = 0; p < 36; p++) red[p * 3] = 255;
    const rFile = path.join(tmp, 'red.png');
    await sharp(red, { raw: { width: 6, height: 6, channels: 3 } }).png().toFile(rFile);
    const g = await loadImage(rFile, { height: 3, width: 3, channels: 1 });
    assert.equal(g.length, 9);
    assert.ok(g.every((v) => Math.abs(v - 0.299) < 1e-6), `grey of red: ${g[0]}`);
    // a greyscale file requested as RGB gives r = g = b
    const grey = Buffer.from(Array.from({ length: 64 }, (_, i) => i * 4));
    const gFile = path.join(tmp, 'grey.png');
    await sharp(grey, { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(gFile);
    const rgb = await loadImage(gFile, { height: 8, width: 8, channels: 3 });
    for (let p = 0; p < 64; p++) {
      assert.equal(rgb[p * 3], rgb[p * 3 + 1]);
      assert.equal(rgb[p * 3], rgb[p * 3 + 2]);
    }
    assert.ok(Math.abs(rgb[63 * 3] - 252 / 255) < 1e-6);
    // 16-bit PNG still maps to [0, 1]
    const wFile = path.join(tmp, 'deep.png');
    await sharp(red, { raw: { width: 6, height: 6, channels: 3 } }).toColourspace('rgb16').png().toFile(wFile);
    const deep = await loadImage(wFile, { height: 6, width: 6, channels: 3 });
    assert.ok(Math.abs(deep[0] - 1) < 1e-6 && deep[1] < 1e-6 && deep[2] < 1e-6, `16-bit: ${deep.slice(0, 3)}`);
  });

  it('throws ImageError naming the file for missing, non-image and directory paths', async () => {
    const fake = path.join(tmp, 'x.png');
    await fsp.writeFile(fake, 'this is not a PNG\n');
    const cases = [path.join(tmp, 'missing.png'), fake, tmp];
    for (const file of cases) {
      await assert.rejects(loadImage(file, { height: 4, width: 4, channels: 3 }), (err: unknown) => {
        assert.ok(err instanceof ImageError, `not an ImageError: ${String(err)}`);
        assert.ok(err instanceof Error);
        assert.equal(err.file, file);
        assert.ok(err.message.includes(`"${file}"`), err.message);
        assert.ok(!err.message.includes('\n'), 'one-line message');
        return true;
      });
    }
    await assert.rejects(decodeImage(Buffer.from('nope'), { height: 2, width: 2, channels: 1 }), ImageError);
    await assert.rejects(loadImage(fake, { height: 0, width: 4, channels: 3 }), /positive integers/);
  });
});

describe('PNG output', () => {
  it('encodePng round-trips 8-bit values and upscales nearest-neighbour', async () => {
    const h = 3, w = 5, c = 3;
    const img = new Float32Array(h * w * c).map((_, i) => (i * 17 % 256) / 255);
    img[0] = -0.5; // clamped to 0
    img[1] = 7; // clamped to 1
    img[2] = NaN; // → 0
    const dec = await rawOf(await encodePng(img, h, w, c));
    assert.deepEqual([dec.width, dec.height, dec.channels], [w, h, c]);
    for (let i = 3; i < img.length; i++) assert.equal(dec.data[i], Math.round(img[i] * 255));
    assert.deepEqual([...dec.data.subarray(0, 3)], [0, 255, 0]);
    const big = await rawOf(await encodePng(img, h, w, c, 4));
    assert.deepEqual([big.width, big.height], [w * 4, h * 4]);
    // pixel (y=7, x=13) comes from source (1, 3)
    for (let k = 0; k < 3; k++) assert.equal(big.data[(7 * 20 + 13) * 3 + k], dec.data[(1 * 5 + 3) * 3 + k]);
    const greyPng = await encodePng(new Float32Array([0, 0.5, 1, 0.25]), 2, 2, 1, 2);
    const meta = await sharp(greyPng).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [4, 4, 1], 'greyscale PNG');
    const grey = await sharp(greyPng).toColourspace('b-w').raw().toBuffer();
    assert.deepEqual([...grey], [0, 0, 128, 128, 0, 0, 128, 128, 255, 255, 64, 64, 255, 255, 64, 64]);
    await assert.rejects(encodePng(img, h, w, 1), /values expected/);
    await assert.rejects(encodePng(img, h, w, c, 1.5), /scale/);
  });

  it('savePng writes a decodable file atomically', async () => {
    const file = path.join(tmp, 'png', 'one.png');
    await savePng(file, new Float32Array(8 * 8).fill(0.5), 8, 8, 1, 3);
    const meta = await sharp(file).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 24, 24]);
    assert.deepEqual(await listAll(path.dirname(file)), ['one.png']);
  });

  it('imageGrid lays out tiles exactly and renders caption text', async () => {
    const h = 4, w = 6, scale = 5;
    const solid = (r: number, g: number, b: number): Float32Array => {
      const a = new Float32Array(h * w * 3);
      for (let p = 0; p < h * w; p++) { a[p * 3] = r; a[p * 3 + 1] = g; a[p * 3 + 2] = b; }
      return a;
    };
    const images = [solid(1, 0, 0), solid(0, 1, 0), solid(0, 0, 1), solid(1, 1, 0), solid(0, 1, 1)];
    // no captions/title: margin 10, gap 8, tiles 30×20
    const plain = await rawOf(await imageGrid(images, h, w, 3, { columns: 3, scale }));
    assert.deepEqual([plain.width, plain.height], [2 * 10 + 3 * 30 + 2 * 8, 2 * 10 + 2 * 20 + 8]);
    const at = (img: typeof plain, x: number, y: number): number[] => [...img.data.subarray((y * img.width + x) * img.channels, (y * img.width + x) * img.channels + 3)];
    assert.deepEqual(at(plain, 10 + 15, 10 + 10), [255, 0, 0]);
    assert.deepEqual(at(plain, 10 + 38 + 15, 10 + 10), [0, 255, 0]);
    assert.deepEqual(at(plain, 10 + 38 + 15, 10 + 28 + 10), [0, 255, 255]);
    assert.deepEqual(at(plain, 10 + 2 * 38 + 15, 10 + 28 + 10), [255, 255, 255], 'empty slot is background');

    const labels = images.map((_, i) => `it ${i * 50} · loss 1.2e-3`);
    const png = await imageGrid(images, h, w, 3, { columns: 3, scale, labels, rowLabels: ['first', 'second'], title: 'Progress' });
    const lab = await rawOf(png);
    assert.ok(lab.width > plain.width && lab.height > plain.height);
    // the caption band under the first tile contains dark (text) pixels
    let dark = 0;
    for (let y = 0; y < lab.height; y++) for (let x = 0; x < lab.width; x++) {
      const [r, g, b] = at(lab, x, y);
      if (r < 100 && g < 100 && b < 100) dark++;
    }
    assert.ok(dark > 200, `text pixels rendered: ${dark}`);
    const grey = await rawOf(await imageGrid([new Float32Array(16).fill(0.5)], 4, 4, 1, { scale: 2 }));
    assert.deepEqual([grey.width, grey.height], [28, 28]);
    await assert.rejects(imageGrid([], 4, 4, 1), /no images/);
  });
});

describe('plots', () => {
  it('niceTicks picks 1/2/5 steps', () => {
    assert.deepEqual(niceTicks(0, 1, 6).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0, 100, 5).ticks, [0, 20, 40, 60, 80, 100]);
    assert.deepEqual(niceTicks(3, 17, 4).ticks, [5, 10, 15]);
  });

  it('linePlot gives a PNG of the requested size with series colours', async () => {
    const series = [
      { name: 'FedAvg', points: Array.from({ length: 20 }, (_, i) => [i, 0.1 + 0.04 * i] as [number, number]) },
      { name: 'Krum', points: Array.from({ length: 20 }, (_, i) => [i, 0.1 + 0.03 * i] as [number, number]) },
    ];
    const img = await rawOf(await linePlot(series, { title: 'Accuracy', xLabel: 'round', yLabel: 'accuracy', width: 500, height: 300, yMin: 0, yMax: 1 }));
    assert.deepEqual([img.width, img.height], [500, 300]);
    let blue = 0;
    for (let p = 0; p < img.width * img.height; p++) {
      const r = img.data[p * img.channels], g = img.data[p * img.channels + 1], b = img.data[p * img.channels + 2];
      if (Math.abs(r - 0x1f) < 20 && Math.abs(g - 0x77) < 20 && Math.abs(b - 0xb4) < 20) blue++;
    }
    assert.ok(blue > 100, `first series drawn in blue (${blue} px)`);
    const log = await rawOf(await linePlot([{ name: 'loss', points: [[0, 1], [1, 0.1], [2, NaN], [3, 1e-4], [4, 0]] }], { logY: true }));
    assert.deepEqual([log.width, log.height], [720, 440]);
    const empty = await rawOf(await linePlot([], { title: 'nothing' }));
    assert.deepEqual([empty.width, empty.height], [720, 440]);
  });

  it('heatmap gives a valid PNG and validates its input', async () => {
    const png = await heatmap(['none', 'Krum'], ['no attack', 'sign flip', 'ALIE'], [[0.9, 0.1, null], [0.88, 0.85, 0.3]], {
      title: 'Accuracy',
      format: (v) => (100 * v).toFixed(0) + '%',
      rowTitle: 'defense',
      colTitle: 'attack',
    });
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.ok(meta.width! > 200 && meta.height! > 100);
    const low = await sharp(await heatmap(['a'], ['b'], [[1]], { colorScale: 'good-low' })).metadata();
    assert.equal(low.format, 'png');
    await assert.rejects(heatmap(['a'], ['b', 'c'], [[1]]), /row 0 has 1 values for 2 columns/);
    await assert.rejects(heatmap(['a', 'b'], ['c'], [[1]]), /1 value rows for 2 row labels/);
  });
});

describe('default scenes', () => {
  it('renders at least 8 distinct deterministic RGB scenes of the requested size', async () => {
    assert.ok(DEFAULT_SCENE_COUNT >= 8);
    const imgs = await Promise.all(Array.from({ length: DEFAULT_SCENE_COUNT }, (_, i) => defaultImage(i, 32)));
    for (const img of imgs) {
      assert.equal(img.length, 32 * 32 * 3);
      assert.ok(img.every((v) => v >= 0 && v <= 1));
      // colourful: not grey
      let chroma = 0;
      for (let p = 0; p < 32 * 32; p++) chroma += Math.max(img[3 * p], img[3 * p + 1], img[3 * p + 2]) - Math.min(img[3 * p], img[3 * p + 1], img[3 * p + 2]);
      assert.ok(chroma / (32 * 32) > 0.1);
    }
    for (let i = 0; i < imgs.length; i++) {
      for (let j = i + 1; j < imgs.length; j++) {
        let d = 0;
        for (let k = 0; k < imgs[i].length; k++) d += (imgs[i][k] - imgs[j][k]) ** 2;
        assert.ok(d / imgs[i].length > 0.01, `scenes ${i} and ${j} too similar`);
      }
    }
    assert.deepEqual(await defaultImage(3, 32), imgs[3]);
    const big = await defaultImage(0, 57);
    assert.equal(big.length, 57 * 57 * 3);
  });

  it('indices past the scene count give mirrored / flipped variants', async () => {
    const n = DEFAULT_SCENE_COUNT;
    const base = await defaultImage(0, 16);
    const mirrored = await defaultImage(n, 16);
    const flipped = await defaultImage(2 * n, 16);
    let dm = 0, df = 0;
    for (let i = 0; i < 16; i++) for (let j = 0; j < 16; j++) for (let k = 0; k < 3; k++) {
      dm = Math.max(dm, Math.abs(mirrored[(i * 16 + j) * 3 + k] - base[(i * 16 + 15 - j) * 3 + k]));
      df = Math.max(df, Math.abs(flipped[(i * 16 + j) * 3 + k] - base[((15 - i) * 16 + j) * 3 + k]));
    }
    assert.ok(dm <= 2 / 255 && df <= 2 / 255, `mirror error ${dm}, flip error ${df}`);
    assert.equal(defaultImageName(0), 'house');
    assert.equal(defaultImageName(n + 2), 'smiley (mirrored)');
    await assert.rejects(defaultImage(-1, 8), /index/);
  });
});

describe('reports', () => {
  it('markdownTable escapes pipes and right-aligns numeric columns', () => {
    const t = markdownTable(['attack', 'PSNR', 'SSIM'], [['DLG | B=1', 31.5, 0.98], ['iDLG', Infinity, null]]);
    assert.equal(
      t,
      [
        '| attack     | PSNR | SSIM |',
        '| ---------- | ---: | ---: |',
        '| DLG \\| B=1 | 31.5 | 0.98 |',
        '| iDLG       |    ∞ |    — |',
      ].join('\n'),
    );
    assert.throws(() => markdownTable(['a'], [[1, 2]]), /row 0 has 2 cells/);
  });

  it('writeReport writes report.md and report.html atomically', async () => {
    const dir = path.join(tmp, 'report');
    await fsp.mkdir(path.join(dir, 'img'), { recursive: true });
    await fsp.writeFile(path.join(dir, 'img', 'p.png'), await encodePng(new Float32Array(4).fill(1), 2, 2, 1));
    const out = await writeReport(dir, {
      title: 'DLG on CIFAR <demo>',
      subtitle: 'Seed `42`, **3** runs.',
      sections: [
        { heading: 'Summary', text: 'Attack *succeeded*.\n\n- PSNR > 30 dB\n- see [paper](https://arxiv.org/abs/1906.08935)' },
        { heading: 'Results', table: { headers: ['attack', 'PSNR'], rows: [['DLG', 31.2], ['iDLG', Infinity]] } },
        { heading: 'Figures', images: [{ path: 'img/p.png', caption: 'ground truth vs reconstruction' }, { path: path.join(dir, 'img', 'p.png'), caption: 'abs' }] },
        { heading: 'Config', code: 'attack: dlg\nlr: 1\n' },
      ],
    });
    assert.deepEqual(out, { markdown: path.join(dir, 'report.md'), html: path.join(dir, 'report.html') });
    const md = await fsp.readFile(out.markdown, 'utf8');
    assert.ok(md.startsWith('# DLG on CIFAR <demo>\n'));
    assert.ok(md.includes('## Results\n\n| attack | PSNR |'));
    assert.ok(md.includes('![ground truth vs reconstruction](img/p.png)'));
    assert.ok(md.includes('![abs](img/p.png)'), 'absolute image path made relative');
    assert.ok(md.includes('```\nattack: dlg\nlr: 1\n```'));
    const html = await fsp.readFile(out.html, 'utf8');
    assert.ok(html.startsWith('<!DOCTYPE html>'));
    assert.ok(html.includes('<title>DLG on CIFAR &lt;demo&gt;</title>'));
    assert.ok(html.includes('<style>'));
    assert.ok(html.includes('<td class="num">31.2</td>'));
    assert.ok(html.includes('<img src="img/p.png"'));
    assert.ok(html.includes('<em>succeeded</em>') && html.includes('<li>PSNR &gt; 30 dB</li>'));
    assert.ok(html.includes('<a href="https://arxiv.org/abs/1906.08935">paper</a>'));
    assert.ok(html.includes('<code>42</code>') && html.includes('<strong>3</strong>'));
    assert.ok(!html.includes('<demo>'), 'title escaped');
    assert.deepEqual(await listAll(dir), ['img', 'report.html', 'report.md']);
    assert.ok(fs.existsSync(path.join(dir, 'img', 'p.png')));
  });
});
