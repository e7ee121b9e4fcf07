import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { DataError, type Dataset } from '../datasets/types.js';
import { loadDataset, listDatasets, resolveDatasetDir, canonicalDatasetName } from '../datasets/index.js';
import { loadMnist } from '../datasets/mnist.js';
import { loadCifar10, loadCifar100, CIFAR10_CLASS_NAMES, CIFAR100_CLASS_NAMES } from '../datasets/cifar.js';
import { loadLeaf, FEMNIST_CLASS_NAMES } from '../datasets/leaf.js';
import { loadImageFolder } from '../datasets/image-folder.js';
import { generateSynthetic } from '../datasets/synthetic.js';
import { downloadDataset, readTar } from '../datasets/index.js';
import {
  makeTempDir, removeDir, writeIdx, writeMnistDir, writeCifar10Dir, writeCifar100Dir, chwToHwcUnit, cifarRecordBytes,
  writeLeafDir, leafJson, makeLeafUsers, writeImageFolder, writePng, makeTar, gzip, serveFiles, idxBytes,
} from './helpers/data-files.js';

let tmp: string;
before(async () => {
  tmp = await makeTempDir();
});
after(async () => {
  await removeDir(tmp);
});

let counter = 0;
async function fresh(name: string): Promise<string> {
  const d = path.join(tmp, `${name}-${counter++}`);
  await fsp.mkdir(d, { recursive: true });
  return d;
}

/** Asserts that `p` rejects with a DataError whose message contains every one of `parts`. */
async function rejectsData(p: Promise<unknown>, ...parts: (string | RegExp)[]): Promise<DataError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof DataError, `expected a DataError, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  for (const part of parts) {
    if (typeof part === 'string') assert.ok(caught.message.includes(part), `message "${caught.message}" should mention "${part}"`);
    else assert.match(caught.message, part);
  }
  return caught;
}

function bytesToFloat(b: Uint8Array): Float32Array {
  return Float32Array.from(b, (v) => v / 255);
}

function assertClose(a: Float32Array, b: Float32Array, tol = 1e-6): void {
  assert.equal(a.length, b.length, 'lengths differ');
  for (let i = 0; i < a.length; i++) {
    if (Math.abs(a[i]! - b[i]!) > tol) assert.fail(`element ${i}: ${a[i]} vs ${b[i]}`);
  }
}

describe('MNIST (IDX)', () => {
  for (const gz of [false, true]) {
    test(`reads back the written pixels and labels (${gz ? 'gz' : 'plain'})`, async () => {
      const dir = await fresh('mnist');
      const w = await writeMnistDir(dir, { n: 12, nTest: 5, gz });
      const { train, test: te } = await loadMnist(dir);
      assert.deepEqual(train.shape, [28, 28, 1]);
      assert.equal(train.numClasses, 10);
      assert.deepEqual(Array.from(train.labels), Array.from(w.train.labels));
      assert.deepEqual(Array.from(te.labels), Array.from(w.test.labels));
      assertClose(train.images, bytesToFloat(w.train.images));
      assertClose(te.images, bytesToFloat(w.test.images));
      assert.equal(train.images.length, 12 * 784);
    });
  }

  test('non-28 dims and fashion-mnist class names', async () => {
    const dir = await fresh('mnist');
    await writeMnistDir(dir, { n: 3, nTest: 2, rows: 5, cols: 7 });
    const { train } = await loadMnist(dir, 'fashion-mnist');
    assert.deepEqual(train.shape, [5, 7, 1]);
    assert.equal(train.classNames?.[9], 'Ankle boot');
  });

  test('truncated image file: DataError naming the file with expected and actual bytes', async () => {
    const dir = await fresh('mnist');
    const w = await writeMnistDir(dir, { n: 4, nTest: 2 });
    const file = await writeIdx(path.join(dir, 'train-images-idx3-ubyte'), 2051, [4, 28, 28], w.train.images, { truncateBy: 10 });
    await rejectsData(loadMnist(dir), file, 'truncated', String(16 + 4 * 784), String(16 + 4 * 784 - 10));
  });

  test('truncated gz file (valid gzip of a short IDX) and corrupt gzip', async () => {
    const dir = await fresh('mnist');
    const w = await writeMnistDir(dir, { n: 4, nTest: 2, gz: true });
    const file = await writeIdx(path.join(dir, 't10k-labels-idx1-ubyte'), 2049, [2], w.test.labels, { gz: true, truncateBy: 1 });
    await rejectsData(loadMnist(dir), file, '10 bytes', '9 bytes');
    await writeIdx(path.join(dir, 't10k-labels-idx1-ubyte'), 2049, [2], w.test.labels, { gz: true });
    const gzBytes = await fsp.readFile(w.files.trainImages);
    await fsp.writeFile(w.files.trainImages, gzBytes.subarray(0, gzBytes.length >> 1));
    await rejectsData(loadMnist(dir), w.files.trainImages, 'gzip');
  });

  test('with several bad files the error is always about the first (train images before labels, train before test)', async () => {
    const dir = await fresh('mnist');
    const w = await writeMnistDir(dir, { n: 4, nTest: 2 });
    await writeIdx(path.join(dir, 't10k-labels-idx1-ubyte'), 2049, [2], w.test.labels, { truncateBy: 1 });
    const first = await writeIdx(path.join(dir, 'train-labels-idx1-ubyte'), 2049, [4], w.train.labels, { truncateBy: 1 });
    for (let i = 0; i < 3; i++) await rejectsData(loadMnist(dir), first);
  });

  test('oversized file', async () => {
    const dir = await fresh('mnist');
    const w = await writeMnistDir(dir, { n: 4, nTest: 2 });
    const file = await writeIdx(path.join(dir, 'train-labels-idx1-ubyte'), 2049, [4], w.train.labels, { extraBytes: 3 });
    await rejectsData(loadMnist(dir), file, 'longer', '12 bytes', '15 bytes');
  });

  test('wrong magic number', async () => {
    const dir = await fresh('mnist');
    const w = await writeMnistDir(dir, { n: 4, nTest: 2 });
    const file = await writeIdx(path.join(dir, 'train-images-idx3-ubyte'), 2049, [4, 28, 28], w.train.images);
    await rejectsData(loadMnist(dir), file, 'magic number 2049', '2051');
  });

  test('label out of range', async () => {
    const dir = await fresh('mnist');
    await writeMnistDir(dir, { n: 4, nTest: 2 });
    const file = await writeIdx(path.join(dir, 't10k-labels-idx1-ubyte'), 2049, [2], Uint8Array.from([3, 10]));
    await rejectsData(loadMnist(dir), file, 'label 10', 'sample 1', '0..9');
  });

  test('mismatched image and label counts', async () => {
    const dir = await fresh('mnist');
    await writeMnistDir(dir, { n: 4, nTest: 2 });
    const file = await writeIdx(path.join(dir, 'train-labels-idx1-ubyte'), 2049, [3], Uint8Array.from([1, 2, 3]));
    await rejectsData(loadMnist(dir), 'train-images-idx3-ubyte', file, '4 images', '3 labels');
  });

  test('missing files and missing directory name what is expected', async () => {
    const dir = await fresh('mnist');
    const w = await writeMnistDir(dir, { n: 4, nTest: 2 });
    await fsp.rm(w.files.testImages);
    await fsp.rm(w.files.testLabels);
    await rejectsData(loadMnist(dir), 'missing t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte', dir);
    await rejectsData(loadMnist(path.join(dir, 'nope')), path.join(dir, 'nope'), 'does not exist', 'train-images-idx3-ubyte');
  });
});

describe('CIFAR (binary)', () => {
  test('CIFAR-10: five batches concatenated, CHW converted to HWC, labels, class names', async () => {
    const dir = await fresh('c10');
    const w = await writeCifar10Dir(dir, { perBatch: 3, nTest: 4 });
    const { train, test: te } = await loadCifar10(dir);
    assert.deepEqual(train.shape, [32, 32, 3]);
    assert.equal(train.labels.length, 15);
    assert.deepEqual(Array.from(train.labels), w.train.labels);
    assert.deepEqual(Array.from(te.labels), w.test.labels);
    assertClose(train.images, chwToHwcUnit(w.train.chw, 15));
    assertClose(te.images, chwToHwcUnit(w.test.chw, 4));
    // One explicit pixel: record 0, row 1, col 2, green = CHW byte at 1024 + 1*32 + 2.
    assert.equal(train.images[(1 * 32 + 2) * 3 + 1], Math.fround(w.train.chw[1024 + 34]! / 255));
    assert.deepEqual(train.classNames, CIFAR10_CLASS_NAMES);
  });

  test('CIFAR-10 nested layout, gz files and a meta file', async () => {
    const dir = await fresh('c10');
    const meta = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    const w = await writeCifar10Dir(dir, { perBatch: 1, nTest: 2, nested: true, gz: true, meta });
    const { train, test: te } = await loadCifar10(dir);
    assert.deepEqual(Array.from(te.labels), w.test.labels);
    assert.deepEqual(train.classNames, meta);
  });

  test('CIFAR-100: fine labels, 100 classes, nested layout', async () => {
    const dir = await fresh('c100');
    const w = await writeCifar100Dir(dir, { nTrain: 5, nTest: 3, nested: true });
    const { train, test: te } = await loadCifar100(dir);
    assert.equal(train.numClasses, 100);
    assert.deepEqual(Array.from(train.labels), w.train.labels);
    assert.deepEqual(Array.from(te.labels), w.test.labels);
    assertClose(te.images, chwToHwcUnit(w.test.chw, 3));
    assert.equal(CIFAR100_CLASS_NAMES.length, 100);
    assert.equal(new Set(CIFAR100_CLASS_NAMES).size, 100);
    assert.deepEqual(train.classNames, CIFAR100_CLASS_NAMES);
  });

  test('size not a multiple of the record size', async () => {
    const dir = await fresh('c10');
    const w = await writeCifar10Dir(dir, { perBatch: 2, nTest: 2 });
    const file = path.join(w.root, 'data_batch_3.bin');
    const bytes = await fsp.readFile(file);
    await fsp.writeFile(file, bytes.subarray(0, bytes.length - 100));
    await rejectsData(loadCifar10(dir), file, String(2 * 3073 - 100), '3073-byte record');
  });

  test('labels out of range (CIFAR-10 label, CIFAR-100 fine and coarse)', async () => {
    const dir = await fresh('c10');
    const w = await writeCifar10Dir(dir, { perBatch: 1, nTest: 2 });
    const file = path.join(w.root, 'test_batch.bin');
    await fsp.writeFile(file, cifarRecordBytes([[1], [10]]));
    await rejectsData(loadCifar10(dir), file, 'label 10', 'record 1', '0..9');

    const d100 = await fresh('c100');
    const w100 = await writeCifar100Dir(d100, { nTrain: 2, nTest: 2 });
    const f100 = path.join(w100.root, 'train.bin');
    await fsp.writeFile(f100, cifarRecordBytes([[3, 100]]));
    await rejectsData(loadCifar100(d100), f100, 'fine label 100', '0..99');
    await fsp.writeFile(f100, cifarRecordBytes([[20, 5]]));
    await rejectsData(loadCifar100(d100), f100, 'coarse label 20', '0..19');
  });

  test('missing batches and a bad meta file', async () => {
    const dir = await fresh('c10');
    const w = await writeCifar10Dir(dir, { perBatch: 1, nTest: 1 });
    await fsp.rm(path.join(w.root, 'data_batch_4.bin'));
    await rejectsData(loadCifar10(dir), 'missing data_batch_4.bin', dir);
    await rejectsData(loadCifar100(dir), 'missing train.bin, test.bin');
    const d2 = await fresh('c10');
    await writeCifar10Dir(d2, { perBatch: 1, nTest: 1, meta: ['x', 'y'] });
    await rejectsData(loadCifar10(d2), path.join(d2, 'batches.meta.txt'), '2 classes', 'expected 10');
  });
});

describe('LEAF (FEMNIST JSON)', () => {
  test('train/ and test/ directories: pixels, labels, users with their indices', async () => {
    const dir = await fresh('leaf');
    const w = await writeLeafDir(dir, { trainSamples: [4, 2, 3], testSamples: [1, 2, 1], filesPerSplit: 2 });
    const { train, test: te } = await loadLeaf(dir);
    assert.deepEqual(train.shape, [28, 28, 1]);
    assert.equal(train.numClasses, 62);
    assert.deepEqual(train.classNames, FEMNIST_CLASS_NAMES);
    assert.equal(FEMNIST_CLASS_NAMES[10], 'A');
    assert.equal(FEMNIST_CLASS_NAMES[36], 'a');
    assert.deepEqual(Array.from(train.labels), w.train.flatMap((u) => u.y));
    assertClose(train.images, Float32Array.from(w.train.flatMap((u) => u.x.flat())), 0);
    assert.deepEqual(train.users, [
      { id: w.train[0]!.id, indices: [0, 1, 2, 3] },
      { id: w.train[1]!.id, indices: [4, 5] },
      { id: w.train[2]!.id, indices: [6, 7, 8] },
    ]);
    assert.equal(te.labels.length, 4);
    assert.deepEqual(te.users?.map((u) => u.indices), [[0], [1, 2], [3]]);
  });

  test('a single JSON file is split per user into train and test, seeded', async () => {
    const dir = await fresh('leaf');
    const users = makeLeafUsers([10, 5, 1], { rowLength: 16, numClasses: 4 });
    const file = path.join(dir, 'all_data_0.json');
    await fsp.writeFile(file, leafJson(users));
    const a = await loadLeaf(file, { numClasses: 4, testFraction: 0.2, seed: 3 });
    const b = await loadLeaf(file, { numClasses: 4, testFraction: 0.2, seed: 3 });
    assert.deepEqual(a.train.shape, [4, 4, 1]);
    assert.equal(a.train.labels.length + a.test.labels.length, 16);
    assert.equal(a.test.labels.length, 2 + 1 + 0);
    assert.deepEqual(a.train.users?.map((u) => u.indices.length), [8, 4, 1]);
    assert.deepEqual(Array.from(a.test.labels), Array.from(b.test.labels));
    assert.deepEqual(a.train.images, b.train.images);
  });

  test('validation errors name the file and the user', async () => {
    const dir = await fresh('leaf');
    const file = path.join(dir, 'bad.json');
    const users = makeLeafUsers([2, 2], { rowLength: 784 });
    const u0 = users[0]!.id;

    const doc = JSON.parse(leafJson(users));
    doc.num_samples[0] = 3;
    await fsp.writeFile(file, JSON.stringify(doc));
    await rejectsData(loadLeaf(file), file, u0, 'num_samples 3', '2 rows');

    const doc2 = JSON.parse(leafJson(users));
    doc2.user_data[u0].x[1] = doc2.user_data[u0].x[1].slice(0, 700);
    await fsp.writeFile(file, JSON.stringify(doc2));
    await rejectsData(loadLeaf(file), file, u0, '700 values', 'expected 784');

    const doc3 = JSON.parse(leafJson(users));
    doc3.user_data[users[1]!.id].y[0] = 62;
    await fsp.writeFile(file, JSON.stringify(doc3));
    await rejectsData(loadLeaf(file), file, users[1]!.id, 'label 62', '0..61');

    const doc4 = JSON.parse(leafJson(users));
    doc4.user_data[u0].y[1] = 1.5;
    await fsp.writeFile(file, JSON.stringify(doc4));
    await rejectsData(loadLeaf(file), file, 'label 1.5');

    await fsp.writeFile(file, '{"users": [], "num_samples": []');
    await rejectsData(loadLeaf(file), file, 'not valid JSON');
    await fsp.writeFile(file, '{"users": []}');
    await rejectsData(loadLeaf(file), file, 'num_samples');
    await rejectsData(loadLeaf(path.join(dir, 'none')), path.join(dir, 'none'), 'does not exist');
  });
});

describe('image folder', () => {
  test('classes sorted, images resized, stratified seeded split', async () => {
    const dir = await fresh('imgs');
    const w = await writeImageFolder(dir, { classes: ['zebra', 'apple', 'mango'], perClass: 5, width: 40, height: 30 });
    const a = await loadImageFolder(dir, { size: 8, testFraction: 0.2, seed: 1 });
    assert.deepEqual(a.train.classNames, ['apple', 'mango', 'zebra']);
    assert.deepEqual(a.train.shape, [8, 8, 3]);
    assert.equal(a.train.labels.length, 12);
    assert.equal(a.test.labels.length, 3);
    assert.deepEqual(Array.from(a.test.labels).sort(), [0, 1, 2]);
    // Each loaded image is the solid colour of one written image of its class.
    const check = (ds: Dataset): void => {
      for (let i = 0; i < ds.labels.length; i++) {
        const name = ds.classNames![ds.labels[i]!]!;
        const rgb = Array.from(ds.images.subarray(i * 192, i * 192 + 3), (v) => Math.round(v * 255));
        assert.ok(
          w.images.some((im) => path.basename(path.dirname(im.file)) === name && im.rgb.every((c, k) => c === rgb[k])),
          `image ${i} colour ${rgb} not among class ${name}`,
        );
        for (let p = 0; p < 64; p++) for (let c = 0; c < 3; c++) assert.equal(ds.images[i * 192 + p * 3 + c], ds.images[i * 192 + c]);
      }
    };
    check(a.train);
    check(a.test);
    const b = await loadImageFolder(dir, { size: 8, testFraction: 0.2, seed: 1 });
    assert.deepEqual(b.test.images, a.test.images);
  });

  test('centre crop (fit cover), grey output, train/test layout', async () => {
    const dir = await fresh('imgs');
    // 30x10: left and right thirds blue, centre 10x10 red; cover-crop to a square keeps only red.
    const px = new Uint8Array(30 * 10 * 3);
    for (let y = 0; y < 10; y++) {
      for (let x = 0; x < 30; x++) {
        const o = (y * 30 + x) * 3;
        if (x >= 10 && x < 20) px[o] = 255;
        else px[o + 2] = 255;
      }
    }
    for (const split of ['train', 'test']) {
      await fsp.mkdir(path.join(dir, split, 'red'), { recursive: true });
      await writePng(path.join(dir, split, 'red', 'a.png'), 30, 10, 3, px);
      await fsp.mkdir(path.join(dir, split, 'other'), { recursive: true });
      await writePng(path.join(dir, split, 'other', 'b.png'), 30, 10, 3, px);
    }
    const { train, test: te } = await loadImageFolder(dir, { size: 5 });
    assert.deepEqual(train.classNames, ['other', 'red']);
    assert.equal(train.labels.length, 2);
    assert.equal(te.labels.length, 2);
    // Only red survives the crop (the resampling filter may blend a little at the borders).
    for (let p = 0; p < 25; p++) {
      assert.ok(train.images[p * 3]! > 0.9, `red ${train.images[p * 3]}`);
      assert.ok(train.images[p * 3 + 2]! < 0.1, `blue ${train.images[p * 3 + 2]}`);
    }
    const grey = await loadImageFolder(dir, { size: 4, channels: 1 });
    assert.deepEqual(grey.train.shape, [4, 4, 1]);
    assert.equal(grey.train.images.length, 2 * 16);
  });

  test('an unreadable image gives a DataError naming it; an empty folder is reported', async () => {
    const dir = await fresh('imgs');
    await writeImageFolder(dir, { classes: ['a', 'b'], perClass: 2, format: 'jpeg' });
    const bad = path.join(dir, 'b', 'broken.png');
    await fsp.writeFile(bad, 'this is not a png');
    await rejectsData(loadImageFolder(dir, { size: 4 }), bad);
    const empty = await fresh('imgs');
    await rejectsData(loadImageFolder(empty), empty, 'no class sub-folders');
  });
});

describe('synthetic', () => {
  test('deterministic by seed, balanced classes, values in [0, 1]', () => {
    const a = generateSynthetic({ trainSize: 503, testSize: 100, seed: 7 });
    const b = generateSynthetic({ trainSize: 503, testSize: 100, seed: 7 });
    const c = generateSynthetic({ trainSize: 503, testSize: 100, seed: 8 });
    assert.deepEqual(a.train.images, b.train.images);
    assert.deepEqual(a.test.labels, b.test.labels);
    assert.notDeepEqual(a.train.images.subarray(0, 784), c.train.images.subarray(0, 784));
    const counts = new Array(10).fill(0);
    for (const y of a.train.labels) counts[y]++;
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `unbalanced: ${counts}`);
    let min = Infinity;
    let max = -Infinity;
    for (const v of a.train.images) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    assert.ok(min >= 0 && max <= 1 && max > 0.9, `range ${min}..${max}`);
    // The test split does not depend on the train size.
    const d = generateSynthetic({ trainSize: 50, testSize: 100, seed: 7 });
    assert.deepEqual(d.test.images, a.test.images);
  });

  test('classes are separable: nearest class mean beats chance by far', () => {
    const { train, test: te } = generateSynthetic({ trainSize: 2000, testSize: 300, seed: 1 });
    const P = 784;
    const means = Array.from({ length: 10 }, () => new Float64Array(P));
    const counts = new Array(10).fill(0);
    for (let i = 0; i < train.labels.length; i++) {
      const y = train.labels[i]!;
      counts[y]++;
      for (let p = 0; p < P; p++) means[y]![p]! += train.images[i * P + p]!;
    }
    means.forEach((m, k) => m.forEach((v, p) => (m[p] = v / counts[k])));
    let correct = 0;
    for (let i = 0; i < te.labels.length; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let k = 0; k < 10; k++) {
        let d = 0;
        for (let p = 0; p < P; p++) d += (te.images[i * P + p]! - means[k]![p]!) ** 2;
        if (d < bestD) {
          bestD = d;
          best = k;
        }
      }
      if (best === te.labels[i]) correct++;
    }
    const acc = correct / te.labels.length;
    assert.ok(acc > 0.5, `nearest-mean accuracy ${acc}`);
  });

  test('shape, classes and option errors', () => {
    const s = generateSynthetic({ classes: 3, shape: [16, 12, 3], trainSize: 9, testSize: 3 });
    assert.deepEqual(s.train.shape, [16, 12, 3]);
    assert.equal(s.train.images.length, 9 * 16 * 12 * 3);
    assert.equal(s.train.numClasses, 3);
    assert.throws(() => generateSynthetic({ classes: 1 }), DataError);
    assert.throws(() => generateSynthetic({ shape: [28, 28, 2] }), DataError);
    assert.throws(() => generateSynthetic({ trainSize: 0 }), DataError);
  });

  test('fast: 20,000 samples of 28x28 well under a second (60,000 in < 2 s)', () => {
    const t = performance.now();
    const s = generateSynthetic({ trainSize: 20000, testSize: 1 });
    const ms = performance.now() - t;
    assert.equal(s.train.labels.length, 20000);
    // About 300 ms on one core; the bound leaves room for a loaded machine.
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  });
});

describe('registry', () => {
  test('listDatasets and unknown names', async () => {
    const names = listDatasets().map((d) => d.name);
    for (const n of ['synthetic', 'mnist', 'fashion-mnist', 'cifar10', 'cifar100', 'femnist', 'image-folder']) assert.ok(names.includes(n), n);
    assert.equal(canonicalDatasetName('CIFAR-10'), 'cifar10');
    await rejectsData(loadDataset('imagenet'), 'unknown dataset "imagenet"', 'mnist', 'synthetic');
  });

  test('synthetic through the registry', async () => {
    const s = await loadDataset('synthetic', { trainSize: 30, testSize: 10, classes: 5, seed: 2 });
    assert.equal(s.train.labels.length, 30);
    assert.equal(s.test.numClasses, 5);
  });

  test('dataDir/<name>, dataDir itself, seeded subsets that keep LEAF users consistent', async () => {
    const root = await fresh('root');
    const w = await writeMnistDir(path.join(root, 'mnist'), { n: 20, nTest: 6 });
    assert.equal(await resolveDatasetDir('mnist', { dataDir: root }), path.join(root, 'mnist'));
    const s = await loadDataset('mnist', { dataDir: root, trainSize: 7, testSize: 100, seed: 4 });
    assert.equal(s.train.labels.length, 7);
    assert.equal(s.test.labels.length, 6);
    const s2 = await loadDataset('mnist', { dataDir: root, trainSize: 7, seed: 4 });
    assert.deepEqual(s2.train.images, s.train.images);
    // Every subset sample is one of the originals, in the original order.
    const orig = Array.from(w.train.labels);
    assert.ok(Array.from(s.train.labels).every((y) => orig.includes(y)));
    // dataDir itself holding the files.
    const flat = await fresh('flat');
    await writeMnistDir(flat, { n: 3, nTest: 2 });
    assert.equal((await loadDataset('mnist', { dataDir: flat })).train.labels.length, 3);
    // LEAF subset: users remapped to the new indices.
    const leafRoot = await fresh('root');
    await writeLeafDir(path.join(leafRoot, 'femnist'), { trainSamples: [5, 5, 5, 5] });
    const f = await loadDataset('femnist', { dataDir: leafRoot, trainSize: 9, seed: 1 });
    const all = f.train.users!.flatMap((u) => u.indices).sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: 9 }, (_, i) => i));
    // A missing dataset: the error names the directory and how to get it.
    await rejectsData(loadDataset('cifar10', { dataDir: path.join(root, 'nothing') }), path.join(root, 'nothing', 'cifar10'), 'download');
  });
});

describe('download', () => {
  test('readTar reads what makeTar writes', () => {
    const tar = makeTar([{ name: 'dir/a.bin', data: Buffer.from('hello') }, { name: 'b.txt', data: Buffer.alloc(1000, 7) }]);
    const entries = readTar(tar);
    assert.deepEqual(entries.map((e) => e.name), ['dir/a.bin', 'b.txt']);
    assert.equal(Buffer.from(entries[0]!.data).toString(), 'hello');
    assert.equal(entries[1]!.data.length, 1000);
    const bad = Buffer.from(tar);
    bad[10] = 65;
    assert.throws(() => readTar(bad, 'x.tar'), /x\.tar.*checksum/);
  });

  test('MNIST from a local server (gz files), then skipped when present; 404 and unreachable host are DataErrors', async () => {
    const n = 6;
    const nTest = 3;
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    const images = Uint8Array.from({ length: n * 784 }, (_, i) => i % 251);
    const tLabels = Uint8Array.from([9, 8, 7]);
    const tImages = Uint8Array.from({ length: nTest * 784 }, (_, i) => (i * 7) % 256);
    const server = await serveFiles({
      'mirror/train-images-idx3-ubyte.gz': gzip(idxBytes(2051, [n, 28, 28], images)),
      'mirror/train-labels-idx1-ubyte.gz': gzip(idxBytes(2049, [n], labels)),
      'mirror/t10k-images-idx3-ubyte.gz': gzip(idxBytes(2051, [nTest, 28, 28], tImages)),
      'mirror/t10k-labels-idx1-ubyte.gz': gzip(idxBytes(2049, [nTest], tLabels)),
    });
    try {
      const dataDir = await fresh('dl');
      const logs: string[] = [];
      const r = await downloadDataset('mnist', dataDir, { baseUrl: `${server.url}mirror`, log: (m) => logs.push(m) });
      assert.equal(r.skipped, false);
      assert.equal(r.dir, path.join(dataDir, 'mnist'));
      assert.equal(r.files.length, 4);
      assert.equal(r.trainSamples, n);
      const leftovers = (await fsp.readdir(r.dir)).filter((f) => f.includes('.part'));
      assert.deepEqual(leftovers, []);
      const loaded = await loadDataset('mnist', { dataDir });
      assert.deepEqual(Array.from(loaded.test.labels), [9, 8, 7]);
      assertClose(loaded.train.images, bytesToFloat(images));
      const again = await downloadDataset('mnist', dataDir, { baseUrl: `${server.url}mirror` });
      assert.equal(again.skipped, true);

      await rejectsData(downloadDataset('fashion-mnist', dataDir, { baseUrl: `${server.url}elsewhere/` }), '404', `${server.url}elsewhere/train-images-idx3-ubyte.gz`);
      await rejectsData(downloadDataset('synthetic', dataDir), 'cannot download "synthetic"');
    } finally {
      await server.close();
    }
    // Nothing listens on the closed port any more.
    await rejectsData(downloadDataset('mnist', await fresh('dl'), { baseUrl: server.url }), 'cannot download', server.url);
  });

  test('CIFAR-10 and CIFAR-100 from tar.gz archives', async () => {
    const src = await fresh('csrc');
    const w10 = await writeCifar10Dir(src, { perBatch: 2, nTest: 3, nested: true, meta: CIFAR10_CLASS_NAMES });
    const w100 = await writeCifar100Dir(src, { nTrain: 4, nTest: 2, nested: true });
    const entries10 = await Promise.all(
      (await fsp.readdir(w10.root)).map(async (f) => ({ name: `cifar-10-batches-bin/${f}`, data: await fsp.readFile(path.join(w10.root, f)) })),
    );
    const entries100 = await Promise.all(
      (await fsp.readdir(w100.root)).map(async (f) => ({ name: `cifar-100-binary/${f}`, data: await fsp.readFile(path.join(w100.root, f)) })),
    );
    const server = await serveFiles({
      'cifar-10-binary.tar.gz': gzip(makeTar(entries10)),
      'cifar-100-binary.tar.gz': gzip(makeTar(entries100)),
    });
    try {
      const dataDir = await fresh('dl');
      const r10 = await downloadDataset('cifar-10', dataDir, { baseUrl: server.url });
      assert.equal(r10.trainSamples, 10);
      const ds10 = await loadDataset('cifar10', { dataDir });
      assert.deepEqual(Array.from(ds10.test.labels), w10.test.labels);
      assertClose(ds10.test.images, chwToHwcUnit(w10.test.chw, 3));
      assert.deepEqual((await fsp.readdir(path.join(dataDir, 'cifar10'))).sort(), [
        'batches.meta.txt', 'data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin',
      ]);
      const r100 = await downloadDataset('cifar100', dataDir, { baseUrl: server.url });
      assert.equal(r100.testSamples, 2);
      const ds100 = await loadDataset('cifar100', { dataDir });
      assert.deepEqual(Array.from(ds100.train.labels), w100.train.labels);
    } finally {
      await server.close();
    }
  });

  test('a served file that is not the dataset fails verification', async () => {
    const server = await serveFiles({
      'train-images-idx3-ubyte.gz': gzip(Buffer.from('<html>oops</html>')),
      'train-labels-idx1-ubyte.gz': gzip(idxBytes(2049, [1], Uint8Array.from([1]))),
      't10k-images-idx3-ubyte.gz': gzip(idxBytes(2051, [1, 2, 2], new Uint8Array(4))),
      't10k-labels-idx1-ubyte.gz': gzip(idxBytes(2049, [1], Uint8Array.from([1]))),
    });
    try {
      await rejectsData(downloadDataset('mnist', await fresh('dl'), { baseUrl: server.url }), 'do not load', 'train-images-idx3-ubyte.gz');
    } finally {
      await server.close();
    }
  });
});
