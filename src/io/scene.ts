/**
 * Built-in default images, so that demos and tests need no dataset download: a handful of
 * colourful, detailed SVG scenes drawn on a 256×256 canvas, rasterised by sharp (librsvg) and
 * downsampled (Lanczos-3) to `size × size` RGB in [0, 1], NHWC. Fully deterministic.
 *
 * Index `k` selects scene `k mod N` (N = {@link DEFAULT_SCENE_COUNT}) in variant
 * `floor(k / N) mod 4`: 0 = as drawn, 1 = mirrored left–right, 2 = flipped top–bottom,
 * 3 = rotated 180°; so the first 4·N indices are all different images.
 */
import sharp from 'sharp';

const W = 256;

function svgDoc(body: string, defs = ''): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${W}" viewBox="0 0 ${W} ${W}"><defs>${defs}</defs>${body}</svg>`;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** House with sun, tree, fence and clouds. */
function house(): string {
  const rays = range(12)
    .map((i) => {
      const a = (i * Math.PI) / 6;
      const x1 = 205 + Math.cos(a) * 30, y1 = 48 + Math.sin(a) * 30;
      const x2 = 205 + Math.cos(a) * 44, y2 = 48 + Math.sin(a) * 44;
      return `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="#ffb300" stroke-width="5" stroke-linecap="round"/>`;
    })
    .join('');
  const fence = range(9)
    .map((i) => `<rect x="${150 + i * 12}" y="190" width="8" height="36" fill="#f5f5f5" stroke="#9e9e9e"/>`)
    .join('');
  return svgDoc(
    `<rect width="256" height="256" fill="url(#sky)"/>
     <rect y="200" width="256" height="56" fill="#4caf50"/>
     <path d="M0 205 Q64 190 128 205 T256 200 V256 H0 Z" fill="#388e3c"/>
     ${rays}<circle cx="205" cy="48" r="24" fill="#ffd54f" stroke="#ffa000" stroke-width="3"/>
     <g fill="#ffffff"><circle cx="50" cy="45" r="16"/><circle cx="70" cy="38" r="20"/><circle cx="92" cy="46" r="15"/><rect x="50" y="45" width="42" height="16"/></g>
     <rect x="40" y="120" width="110" height="90" fill="#e57373" stroke="#7f2b2b" stroke-width="3"/>
     <polygon points="30,122 95,70 160,122" fill="#6d4c41" stroke="#3e2723" stroke-width="3"/>
     <rect x="120" y="78" width="14" height="30" fill="#8d6e63" stroke="#3e2723" stroke-width="2"/>
     <rect x="82" y="160" width="26" height="50" fill="#5d4037"/><circle cx="102" cy="186" r="2.5" fill="#ffd54f"/>
     <rect x="52" y="135" width="22" height="22" fill="#bbdefb" stroke="#ffffff" stroke-width="3"/>
     <rect x="116" y="135" width="22" height="22" fill="#bbdefb" stroke="#ffffff" stroke-width="3"/>
     <line x1="63" y1="135" x2="63" y2="157" stroke="#fff" stroke-width="2"/><line x1="127" y1="135" x2="127" y2="157" stroke="#fff" stroke-width="2"/>
     ${fence}
     <rect x="196" y="140" width="12" height="62" fill="#6d4c41"/>
     <circle cx="202" cy="125" r="30" fill="#2e7d32"/><circle cx="186" cy="140" r="18" fill="#43a047"/><circle cx="220" cy="138" r="18" fill="#43a047"/>
     <circle cx="195" cy="118" r="4" fill="#e53935"/><circle cx="212" cy="132" r="4" fill="#e53935"/><circle cx="190" cy="140" r="4" fill="#e53935"/>`,
    `<linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#64b5f6"/><stop offset="1" stop-color="#e3f2fd"/></linearGradient>`,
  );
}

/** Geometric shapes with linear and radial gradients. */
function shapes(): string {
  return svgDoc(
    `<rect width="256" height="256" fill="url(#bg)"/>
     <circle cx="80" cy="80" r="56" fill="url(#rad)"/>
     <rect x="140" y="30" width="90" height="90" rx="12" fill="url(#lin1)" transform="rotate(15 185 75)"/>
     <polygon points="60,230 120,130 180,230" fill="url(#lin2)" stroke="#1a237e" stroke-width="3"/>
     <polygon points="200,140 236,162 236,206 200,228 164,206 164,162" fill="#00bcd4" stroke="#006064" stroke-width="3"/>
     <ellipse cx="200" cy="184" rx="14" ry="22" fill="#ffeb3b"/>
     <circle cx="80" cy="80" r="20" fill="none" stroke="#ffffff" stroke-width="4"/>
     <path d="M10 140 C 40 110, 70 170, 100 140 S 160 110, 190 130" stroke="#d81b60" stroke-width="6" fill="none"/>`,
    `<linearGradient id="bg" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#fff3e0"/><stop offset="1" stop-color="#e1bee7"/></linearGradient>
     <radialGradient id="rad" cx="0.35" cy="0.35" r="0.7"><stop offset="0" stop-color="#fff59d"/><stop offset="0.5" stop-color="#ff7043"/><stop offset="1" stop-color="#b71c1c"/></radialGradient>
     <linearGradient id="lin1" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="#1e88e5"/><stop offset="1" stop-color="#43a047"/></linearGradient>
     <linearGradient id="lin2" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#7e57c2"/><stop offset="1" stop-color="#f06292"/></linearGradient>`,
  );
}

/** Smiley face. */
function smiley(): string {
  return svgDoc(
    `<rect width="256" height="256" fill="#4fc3f7"/>
     ${range(8).map((i) => `<circle cx="${16 + i * 32}" cy="${i % 2 ? 236 : 20}" r="9" fill="#e1f5fe"/>`).join('')}
     <circle cx="128" cy="128" r="100" fill="url(#face)" stroke="#e65100" stroke-width="5"/>
     <ellipse cx="92" cy="100" rx="14" ry="22" fill="#3e2723"/><ellipse cx="164" cy="100" rx="14" ry="22" fill="#3e2723"/>
     <circle cx="96" cy="92" r="5" fill="#ffffff"/><circle cx="168" cy="92" r="5" fill="#ffffff"/>
     <circle cx="70" cy="146" r="14" fill="#ff8a80" opacity="0.7"/><circle cx="186" cy="146" r="14" fill="#ff8a80" opacity="0.7"/>
     <path d="M78 150 Q128 210 178 150 Q128 180 78 150 Z" fill="#b71c1c" stroke="#3e2723" stroke-width="4" stroke-linejoin="round"/>
     <path d="M70 66 Q92 52 112 64" stroke="#3e2723" stroke-width="5" fill="none" stroke-linecap="round"/>
     <path d="M144 64 Q164 52 186 66" stroke="#3e2723" stroke-width="5" fill="none" stroke-linecap="round"/>`,
    `<radialGradient id="face" cx="0.4" cy="0.35" r="0.75"><stop offset="0" stop-color="#fff59d"/><stop offset="1" stop-color="#fbc02d"/></radialGradient>`,
  );
}

/** Checkerboard with a circle and a diagonal band. */
function checkerboard(): string {
  const cells = range(64)
    .map((k) => {
      const i = Math.floor(k / 8), j = k % 8;
      return (i + j) % 2 ? `<rect x="${j * 32}" y="${i * 32}" width="32" height="32" fill="#263238"/>` : '';
    })
    .join('');
  return svgDoc(
    `<rect width="256" height="256" fill="#eceff1"/>${cells}
     <circle cx="128" cy="128" r="78" fill="url(#disc)" stroke="#ffffff" stroke-width="6"/>
     <circle cx="128" cy="128" r="34" fill="#ffeb3b" stroke="#f57f17" stroke-width="4"/>
     <path d="M0 40 L40 0 L72 0 L0 72 Z" fill="#00e676" opacity="0.85"/>
     <path d="M256 216 L216 256 L184 256 L256 184 Z" fill="#2979ff" opacity="0.85"/>`,
    `<radialGradient id="disc"><stop offset="0" stop-color="#ff5252"/><stop offset="1" stop-color="#880e4f"/></radialGradient>`,
  );
}

/** Sailboat on the sea at sunset. */
function sailboat(): string {
  const waves = range(6)
    .map((i) => `<path d="M0 ${180 + i * 14} q16 -6 32 0 t32 0 t32 0 t32 0 t32 0 t32 0 t32 0 t32 0" stroke="#e1f5fe" stroke-width="2" fill="none" opacity="${(0.8 - i * 0.1).toFixed(2)}"/>`)
    .join('');
  return svgDoc(
    `<rect width="256" height="170" fill="url(#sunset)"/>
     <circle cx="180" cy="160" r="38" fill="#ffeb3b" opacity="0.95"/>
     <rect y="165" width="256" height="91" fill="url(#sea)"/>${waves}
     <g fill="#4a148c" opacity="0.8"><path d="M30 40 l8 5 l8 -5 l-8 2 z"/><path d="M60 58 l7 4 l7 -4 l-7 2 z"/><path d="M44 70 l6 3 l6 -3 l-6 2 z"/></g>
     <path d="M60 180 L170 180 L150 205 L78 205 Z" fill="#6d4c41" stroke="#3e2723" stroke-width="3"/>
     <rect x="112" y="60" width="5" height="122" fill="#3e2723"/>
     <polygon points="118,64 118,172 172,172" fill="#ffffff" stroke="#90a4ae" stroke-width="2"/>
     <polygon points="110,78 110,172 70,172" fill="#ef5350" stroke="#b71c1c" stroke-width="2"/>
     <polygon points="117,58 140,64 117,70" fill="#ffca28"/>`,
    `<linearGradient id="sunset" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#311b92"/><stop offset="0.55" stop-color="#e91e63"/><stop offset="1" stop-color="#ff9800"/></linearGradient>
     <linearGradient id="sea" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#0277bd"/><stop offset="1" stop-color="#01579b"/></linearGradient>`,
  );
}

/** Flower with petals, stem and leaves, plus a butterfly. */
function flower(): string {
  const petals = range(10)
    .map((i) => `<ellipse cx="128" cy="62" rx="18" ry="38" fill="${i % 2 ? '#ec407a' : '#f48fb1'}" stroke="#ad1457" stroke-width="2" transform="rotate(${i * 36} 128 100)"/>`)
    .join('');
  return svgDoc(
    `<rect width="256" height="256" fill="url(#meadow)"/>
     <path d="M128 130 C 120 180, 136 210, 128 256" stroke="#2e7d32" stroke-width="9" fill="none"/>
     <path d="M126 200 C 90 180, 70 190, 60 215 C 90 220, 110 215, 126 200 Z" fill="#66bb6a" stroke="#1b5e20" stroke-width="2"/>
     <path d="M130 180 C 165 160, 190 170, 200 190 C 170 198, 150 195, 130 180 Z" fill="#66bb6a" stroke="#1b5e20" stroke-width="2"/>
     ${petals}<circle cx="128" cy="100" r="24" fill="url(#core)" stroke="#e65100" stroke-width="3"/>
     ${range(7).map((i) => `<circle cx="${(128 + 10 * Math.cos(i)).toFixed(1)}" cy="${(100 + 10 * Math.sin(i)).toFixed(1)}" r="2.5" fill="#5d4037"/>`).join('')}
     <g transform="translate(206 50) rotate(20)"><ellipse cx="-10" cy="0" rx="12" ry="16" fill="#7e57c2"/><ellipse cx="10" cy="0" rx="12" ry="16" fill="#7e57c2"/><ellipse cx="-8" cy="16" rx="7" ry="9" fill="#b39ddb"/><ellipse cx="8" cy="16" rx="7" ry="9" fill="#b39ddb"/><rect x="-2" y="-12" width="4" height="34" rx="2" fill="#212121"/></g>`,
    `<linearGradient id="meadow" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#b3e5fc"/><stop offset="0.7" stop-color="#c8e6c9"/><stop offset="1" stop-color="#81c784"/></linearGradient>
     <radialGradient id="core"><stop offset="0" stop-color="#ffee58"/><stop offset="1" stop-color="#ff9800"/></radialGradient>`,
  );
}

/** Rainbow with clouds over hills. */
function rainbow(): string {
  const colours = ['#e53935', '#fb8c00', '#fdd835', '#43a047', '#1e88e5', '#3949ab', '#8e24aa'];
  const arcs = colours
    .map((col, i) => {
      const r = 110 - i * 11;
      return `<path d="M${128 - r} 190 A${r} ${r} 0 0 1 ${128 + r} 190" stroke="${col}" stroke-width="11" fill="none"/>`;
    })
    .join('');
  const cloud = (x: number, y: number, s: number): string =>
    `<g fill="#ffffff" transform="translate(${x} ${y}) scale(${s})"><circle cx="0" cy="0" r="18"/><circle cx="20" cy="-10" r="22"/><circle cx="42" cy="0" r="18"/><rect x="0" y="0" width="42" height="18"/></g>`;
  return svgDoc(
    `<rect width="256" height="256" fill="#81d4fa"/>${arcs}
     ${cloud(10, 175, 1)}${cloud(196, 172, 1)}${cloud(100, 40, 0.7)}
     <path d="M0 200 Q60 170 120 205 T256 195 V256 H0 Z" fill="#7cb342"/>
     <path d="M0 230 Q80 205 150 235 T256 225 V256 H0 Z" fill="#558b2f"/>`,
  );
}

/** Night mountains with moon and stars. */
function mountains(): string {
  const stars = range(28)
    .map((i) => {
      const x = (i * 97 + 13) % 251, y = (i * 53 + 7) % 110;
      return `<circle cx="${x}" cy="${y}" r="${1 + (i % 3) * 0.7}" fill="#fffde7"/>`;
    })
    .join('');
  return svgDoc(
    `<rect width="256" height="256" fill="url(#night)"/>${stars}
     <circle cx="196" cy="56" r="26" fill="#fff9c4"/><circle cx="208" cy="48" r="24" fill="#1a237e"/>
     <polygon points="0,220 70,90 140,220" fill="#5c6bc0"/><polygon points="70,90 52,124 64,118 76,130 88,120" fill="#ffffff"/>
     <polygon points="90,230 175,100 256,230" fill="#3949ab"/><polygon points="175,100 156,130 170,124 182,136 194,128" fill="#ffffff"/>
     <rect y="215" width="256" height="41" fill="#1b5e20"/>
     ${range(8).map((i) => `<polygon points="${12 + i * 32},${236} ${24 + i * 32},${200 + (i % 3) * 6} ${36 + i * 32},236" fill="#2e7d32"/>`).join('')}`,
    `<linearGradient id="night" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#0d1b4c"/><stop offset="1" stop-color="#5e35b1"/></linearGradient>`,
  );
}

/** Fish in an aquarium with bubbles and seaweed. */
function aquarium(): string {
  const fish = (x: number, y: number, s: number, body: string, fin: string, flip: boolean): string =>
    `<g transform="translate(${x} ${y}) scale(${flip ? -s : s} ${s})"><polygon points="-38,0 -58,-16 -58,16" fill="${fin}"/><ellipse cx="0" cy="0" rx="40" ry="22" fill="${body}"/><path d="M-6 -21 Q8 -36 20 -18" fill="${fin}"/><path d="M4 -20 Q0 0 4 20" stroke="#ffffff" stroke-width="5" fill="none"/><circle cx="24" cy="-5" r="6" fill="#ffffff"/><circle cx="26" cy="-5" r="3" fill="#000000"/></g>`;
  return svgDoc(
    `<rect width="256" height="256" fill="url(#water)"/>
     <rect y="226" width="256" height="30" fill="#ffe082"/>
     ${range(12).map((i) => `<circle cx="${10 + i * 22}" cy="${232 + (i % 3) * 6}" r="5" fill="#bcaaa4"/>`).join('')}
     <path d="M30 230 C 10 190, 50 170, 30 130 C 20 110, 40 90, 34 70" stroke="#2e7d32" stroke-width="8" fill="none"/>
     <path d="M220 230 C 240 200, 206 180, 226 140" stroke="#43a047" stroke-width="8" fill="none"/>
     ${fish(120, 90, 1, '#ff7043', '#ffab91', false)}${fish(170, 170, 0.8, '#ab47bc', '#ce93d8', true)}${fish(80, 180, 0.6, '#ffee58', '#fff59d', false)}
     ${range(7).map((i) => `<circle cx="${150 + (i % 2) * 8}" cy="${60 - i * 8}" r="${2 + i * 0.6}" fill="none" stroke="#e1f5fe" stroke-width="1.5"/>`).join('')}`,
    `<linearGradient id="water" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#4dd0e1"/><stop offset="1" stop-color="#006064"/></linearGradient>`,
  );
}

/** Hot-air balloon over fields. */
function balloon(): string {
  const stripes = ['#e53935', '#fdd835', '#1e88e5', '#43a047', '#8e24aa', '#fb8c00'];
  const gores = stripes
    .map((col, i) => {
      const x0 = 78 + i * (100 / 6), x1 = x0 + 100 / 6;
      return `<path d="M${x0.toFixed(1)} 100 L${x1.toFixed(1)} 100 L${(118 + (i + 1) * (20 / 6)).toFixed(1)} 160 L${(118 + i * (20 / 6)).toFixed(1)} 160 Z" fill="${col}"/>`;
    })
    .join('');
  return svgDoc(
    `<rect width="256" height="256" fill="url(#day)"/>
     <path d="M0 210 L256 190 V256 H0 Z" fill="#9ccc65"/><path d="M0 230 L256 215 V256 H0 Z" fill="#fdd835"/><path d="M0 246 L256 238 V256 H0 Z" fill="#8d6e63"/>
     <clipPath id="env"><path d="M128 20 C 70 20, 60 80, 80 110 L118 160 L138 160 L176 110 C 196 80, 186 20, 128 20 Z"/></clipPath>
     <g clip-path="url(#env)"><rect x="40" y="0" width="180" height="100" fill="url(#top)"/>${gores}</g>
     <path d="M128 20 C 70 20, 60 80, 80 110 L118 160 L138 160 L176 110 C 196 80, 186 20, 128 20 Z" fill="none" stroke="#4e342e" stroke-width="3"/>
     <line x1="120" y1="160" x2="117" y2="178" stroke="#4e342e" stroke-width="2"/><line x1="136" y1="160" x2="139" y2="178" stroke="#4e342e" stroke-width="2"/>
     <rect x="114" y="176" width="28" height="20" fill="#8d6e63" stroke="#4e342e" stroke-width="2"/>
     <g fill="#ffffff" opacity="0.9"><ellipse cx="40" cy="60" rx="28" ry="10"/><ellipse cx="220" cy="120" rx="24" ry="8"/></g>`,
    `<linearGradient id="day" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#29b6f6"/><stop offset="1" stop-color="#e1f5fe"/></linearGradient>
     <linearGradient id="top" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="#e53935"/><stop offset="0.5" stop-color="#fdd835"/><stop offset="1" stop-color="#1e88e5"/></linearGradient>`,
  );
}

/** A friendly robot head with antenna and a colourful mouth panel. */
function robot(): string {
  return svgDoc(
    `<rect width="256" height="256" fill="url(#lab)"/>
     <rect x="120" y="18" width="16" height="30" fill="#78909c"/><circle cx="128" cy="16" r="10" fill="#f44336"/>
     <rect x="48" y="48" width="160" height="130" rx="22" fill="#b0bec5" stroke="#37474f" stroke-width="5"/>
     <rect x="28" y="88" width="20" height="44" rx="6" fill="#78909c"/><rect x="208" y="88" width="20" height="44" rx="6" fill="#78909c"/>
     <circle cx="96" cy="100" r="24" fill="#ffffff" stroke="#37474f" stroke-width="4"/><circle cx="160" cy="100" r="24" fill="#ffffff" stroke="#37474f" stroke-width="4"/>
     <circle cx="100" cy="104" r="11" fill="#00acc1"/><circle cx="156" cy="104" r="11" fill="#00acc1"/>
     <rect x="84" y="140" width="88" height="22" rx="4" fill="#263238"/>
     ${range(5).map((i) => `<rect x="${90 + i * 16}" y="144" width="12" height="14" fill="${['#ffeb3b', '#8bc34a', '#03a9f4', '#e91e63', '#ff9800'][i]}"/>`).join('')}
     <rect x="78" y="186" width="100" height="70" rx="10" fill="#90a4ae" stroke="#37474f" stroke-width="5"/>
     <circle cx="128" cy="220" r="16" fill="#ffca28" stroke="#37474f" stroke-width="3"/>`,
    `<linearGradient id="lab" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#c5e1a5"/><stop offset="1" stop-color="#80cbc4"/></linearGradient>`,
  );
}

const SCENES: { name: string; svg: () => string }[] = [
  { name: 'house', svg: house },
  { name: 'shapes', svg: shapes },
  { name: 'smiley', svg: smiley },
  { name: 'checkerboard', svg: checkerboard },
  { name: 'sailboat', svg: sailboat },
  { name: 'flower', svg: flower },
  { name: 'rainbow', svg: rainbow },
  { name: 'mountains', svg: mountains },
  { name: 'aquarium', svg: aquarium },
  { name: 'balloon', svg: balloon },
  { name: 'robot', svg: robot },
];

/** Number of distinct built-in scenes (before variants). */
export const DEFAULT_SCENE_COUNT = SCENES.length;

/** Scene names, in index order. */
export const DEFAULT_SCENE_NAMES: readonly string[] = SCENES.map((s) => s.name);

const VARIANTS = ['', ' (mirrored)', ' (flipped)', ' (rotated 180°)'];

/** Human-readable name of default image `index`, e.g. "house" or "smiley (mirrored)". */
export function defaultImageName(index: number): string {
  checkIndex(index);
  return SCENES[index % SCENES.length].name + VARIANTS[Math.floor(index / SCENES.length) % 4];
}

/** The SVG source of scene `index mod N` (without the variant transform). */
export function defaultSceneSvg(index: number): string {
  checkIndex(index);
  return SCENES[index % SCENES.length].svg();
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0) throw new Error(`defaultImage: index must be a non-negative integer, got ${index}`);
}

/**
 * Built-in default image `index` as a `size × size × 3` Float32Array in [0, 1] (NHWC).
 * See the file header for how indices map to scenes and variants.
 */
export async function defaultImage(index: number, size: number): Promise<Float32Array> {
  checkIndex(index);
  if (!Number.isInteger(size) || size < 1) throw new Error(`defaultImage: size must be a positive integer, got ${size}`);
  const variant = Math.floor(index / SCENES.length) % 4;
  let pipe = sharp(Buffer.from(defaultSceneSvg(index)));
  // flip/flop are applied by libvips before the resize
  if (variant === 1 || variant === 3) pipe = pipe.flop();
  if (variant === 2 || variant === 3) pipe = pipe.flip();
  const { data, info } = await pipe
    .flatten({ background: '#ffffff' })
    .resize({ width: size, height: size, fit: 'fill' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== size || info.height !== size) {
    throw new Error(`defaultImage: unexpected raster ${info.width}x${info.height}x${info.channels}`);
  }
  const out = new Float32Array(size * size * 3);
  for (let i = 0; i < out.length; i++) out[i] = data[i] / 255;
  return out;
}

/** `count` default images (indices 0..count−1) of `size × size × 3`. */
export async function defaultImages(count: number, size: number): Promise<Float32Array[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => defaultImage(i, size)));
}
