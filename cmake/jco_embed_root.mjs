// Embeds world WORLD of a WIT root folder (ROOT/*.wit, with dependency
// packages in ROOT/deps/*.wit) into a core module, as the custom section
// `jco new` turns into the component's type. jco 1.35's `jco embed --wit`
// cannot read a folder (the WASI sandbox it runs wasm-tools in has no
// preopened folder), so the packages go in as one text: each dependency
// file `package p;` ... becomes a nested `package p { ... }` block.
//
//   node jco_embed_root.mjs ROOT WORLD IN.wasm OUT.wasm
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { componentEmbed } from '@bytecodealliance/jco';

const [root, world, input, output] = process.argv.slice(2);
if (!output) {
  console.error('usage: node jco_embed_root.mjs ROOT WORLD IN.wasm OUT.wasm');
  process.exit(2);
}
const witFiles = async (dir) =>
  (await readdir(dir)).filter((f) => f.endsWith('.wit')).sort().map((f) => join(dir, f));
let text = '';
for (const f of await witFiles(root)) text += (await readFile(f, 'utf8')) + '\n';
let deps = [];
try {
  deps = await witFiles(join(root, 'deps'));
} catch {
  deps = [];
}
for (const f of deps) {
  const source = await readFile(f, 'utf8');
  const nested = source.replace(/^(\s*package\s+[^;{]+);/m, '$1 {');
  if (nested === source) throw new Error(`${f}: no package declaration`);
  text += nested + '\n}\n';
}
const bytes = await componentEmbed({ binary: await readFile(input), witSource: text, world });
await writeFile(output, bytes);
