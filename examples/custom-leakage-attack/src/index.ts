/**
 * A fedattack plug-in: registers the leakage attack **idlg-cosine** (see attack.ts). Importing this
 * module is all it takes; `fedattack leak --plugin dist/index.js --attack idlg-cosine` then works like a
 * built-in, and worker threads load the same module before they rebuild the attack by name.
 */
import { registerLeakageAttack } from 'fedattack';
import { idlgCosine } from './attack.js';

export { idlgCosine };

registerLeakageAttack(idlgCosine);
