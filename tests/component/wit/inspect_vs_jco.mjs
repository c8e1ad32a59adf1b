// Compares `stratus inspect` with `jco wit` (wasm-tools' WIT printer) on every
// component under a folder, and checks that what stratus prints is WIT that
// wasm-tools accepts and that means the same thing.
//
//   node inspect_vs_jco.mjs STRATUS FIXTURES_DIR
//
// For each component:
//   1. the `world root { ... }` blocks must hold the same items (imports,
//      exports, uses, inline interfaces, resources, functions and types);
//      order and whitespace may differ;
//   2. the whole output (the world and the interfaces it names, in package
//      blocks) goes through wasm-tools: `component embed --dummy` then
//      `component new` make a component of that world, and `stratus inspect`
//      of it must print the same as of the original (but for imported
//      interfaces of which nothing is used, which wit-component leaves out).
// A component jco cannot print (its WIT printer predates some async types) is
// skipped for step 1, with the reason. Prints one line per difference and a
// summary line `inspect-vs-jco: N matched, N differed, N skipped`; exits 1 on
// any difference.
import { componentEmbed, componentNew, componentWit } from '@bytecodealliance/jco-transpile/wasm-tools';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const [stratus, root] = process.argv.slice(2);
if (!stratus || !root) {
  console.error('usage: node inspect_vs_jco.mjs STRATUS FIXTURES_DIR');
  process.exit(2);
}

function components(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...components(path));
    else if (name.endsWith('.wasm')) out.push(path);
  }
  return out;
}

// Tokens of WIT text: names (with : / @ . % -), `->`, and punctuation.
function tokens(text) {
  const noComments = text.replace(/\/\/[^\n]*/g, '');
  return noComments.match(/->|[A-Za-z0-9_%][A-Za-z0-9_%\-:/@.]*|[{}();,<>:=_*]/g) ?? [];
}

// A canonical form of a block's contents: items (ended by `;`, `,` outside
// brackets, or a nested block) sorted, each nested block canonicalised the
// same way.
function canonical(toks, start) {
  const items = [];
  let cur = [];
  let depth = 0;  // () and <>
  let i = start;
  const flush = () => {
    if (cur.length) items.push(cur.join(' '));
    cur = [];
  };
  while (i < toks.length && toks[i] !== '}') {
    const t = toks[i];
    if (t === '{') {
      const [inner, next] = canonical(toks, i + 1);
      cur.push('{' + inner + '}');
      flush();
      i = next + 1;
      continue;
    }
    if (t === '(' || t === '<') depth++;
    if (t === ')' || t === '>') depth--;
    if ((t === ';' || t === ',') && depth === 0) flush();
    else cur.push(t);
    i++;
  }
  flush();
  return [items.sort().join(' ; '), i];
}

// The canonical form of `world root { ... }`, or null when there is none.
function world(text) {
  const toks = tokens(text);
  for (let i = 0; i + 2 < toks.length; i++) {
    if (toks[i] === 'world' && toks[i + 1] === 'root' && toks[i + 2] === '{') return canonical(toks, i + 3)[0];
  }
  return null;
}

// The canonical world items and interface bodies ("pkg@ver/iface" -> body)
// of a whole printout.
function parts(text) {
  const toks = tokens(text);
  const worldItems = [];
  const interfaces = new Map();
  for (let i = 0; i + 2 < toks.length; i++) {
    if (toks[i] === 'world' && toks[i + 2] === '{') {
      const [body] = canonical(toks, i + 3);
      worldItems.push(...body.split(' ; '));
    }
    if (toks[i] === 'package' && toks[i + 2] === '{') {
      const pkg = toks[i + 1];
      for (let j = i + 3; j + 2 < toks.length && toks[j] !== 'package'; j++) {
        if (toks[j] === 'interface' && toks[j + 2] === '{') interfaces.set(`${pkg}/${toks[j + 1]}`, canonical(toks, j + 3)[0]);
      }
    }
  }
  return { worldItems, interfaces };
}

// What the component rebuilt from our WIT prints must be what we printed,
// except that wit-component leaves out an imported interface the world uses
// no function of.
function roundTripProblems(ours, again) {
  const a = parts(ours);
  const b = parts(again);
  const problems = [];
  const unused = (iface) => !/\bfunc\b|constructor/.test(a.interfaces.get(iface) ?? '');
  const key = (full) => full.replace(/^([^:]+:[^/]+)\/([^@]+)(@.*)?$/, (_, p, n, v) => `${p}${v ?? ''}/${n}`);
  for (const item of a.worldItems) {
    if (b.worldItems.includes(item)) continue;
    const m = /^import ([^ ]+:[^ ]+)$/.exec(item);
    if (!m || !unused(key(m[1]))) problems.push(`world item \`${item}\` is lost`);
  }
  for (const item of b.worldItems)
    if (!a.worldItems.includes(item)) problems.push(`world item \`${item}\` appears`);
  for (const [iface, body] of a.interfaces) {
    if (!b.interfaces.has(iface)) {
      if (!unused(iface)) problems.push(`interface ${iface} is lost`);
    } else if (b.interfaces.get(iface) !== body) {
      problems.push(`interface ${iface} differs:\n    ours:    ${body}\n    rebuilt: ${b.interfaces.get(iface)}`);
    }
  }
  for (const iface of b.interfaces.keys()) if (!a.interfaces.has(iface)) problems.push(`interface ${iface} appears`);
  return problems;
}

function inspect(path) {
  return execFileSync(stratus, ['inspect', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function firstDifference(ours, theirs) {
  let k = 0;
  while (k < ours.length && ours[k] === theirs[k]) k++;
  const around = (s) => s.slice(Math.max(0, k - 60), k + 80);
  return `stratus: …${around(ours)}…\n    jco:     …${around(theirs)}…`;
}

const scratch = mkdtempSync(join(tmpdir(), 'inspect-vs-jco-'));
let matched = 0;
let differed = 0;
let skipped = 0;
try {
  for (const path of components(root)) {
    const name = relative(root, path);
    let ours;
    try {
      ours = inspect(path);
    } catch (e) {
      console.log(`DIFFER ${name}: stratus inspect failed: ${e.stderr || e.message}`);
      differed++;
      continue;
    }
    const problems = [];
    let compared = false;
    try {
      const theirs = await componentWit(readFileSync(path));
      const a = world(ours);
      const b = world(theirs);
      if (a === null) problems.push('stratus printed no `world root`');
      else if (a !== b) problems.push('worlds differ:\n    ' + firstDifference(a, b ?? ''));
      compared = true;
    } catch (e) {
      console.log(`skip ${name} (world): jco wit cannot print it: ${String(e.message ?? e).split('\n')[0]}`);
    }
    try {
      const core = await componentEmbed({ witSource: ours, dummy: true, world: 'root' });
      const rebuilt = join(scratch, 'rebuilt.wasm');
      writeFileSync(rebuilt, await componentNew(core));
      for (const p of roundTripProblems(ours, inspect(rebuilt))) problems.push(`rebuilt from our WIT: ${p}`);
    } catch (e) {
      problems.push(`wasm-tools rejects our WIT: ${String(e.message ?? e).split('\n').slice(0, 3).join(' ')}`);
    }
    if (problems.length) {
      differed++;
      for (const p of problems) console.log(`DIFFER ${name}: ${p}`);
    } else if (compared) {
      matched++;
    } else {
      skipped++;
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(`inspect-vs-jco: ${matched} matched, ${differed} differed, ${skipped} skipped`);
process.exit(differed ? 1 : 0);
