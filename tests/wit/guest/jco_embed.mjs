// `jco embed` through jco's API: embeds world WORLD of the WIT file WIT into
// a core module, as the custom section `jco new` turns into the component's
// type. jco 1.35's `jco embed --wit` cannot read its WIT argument (the WASI
// sandbox it runs wasm-tools in has no preopened folder), so the WIT goes
// in as text; the world must be in one file.
//
//   node jco_embed.mjs WIT WORLD IN.wasm OUT.wasm
import { readFile, writeFile } from 'node:fs/promises';
import { componentEmbed } from '@bytecodealliance/jco';

const [wit, world, input, output] = process.argv.slice(2);
if (!output) {
  console.error('usage: node jco_embed.mjs WIT WORLD IN.wasm OUT.wasm');
  process.exit(2);
}
const bytes = await componentEmbed({
  binary: await readFile(input),
  witSource: await readFile(wit, 'utf8'),
  world,
});
await writeFile(output, bytes);
