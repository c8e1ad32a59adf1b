// Converts Component Model .wast scripts into what the C++ runner reads: one
// JSON manifest per script (like wabt's wast2json does for core scripts) and
// one .wasm per component form, made with jco's text parser (wasm-tools) in
// this single node process.
//
//   node wast_to_json.mjs OUT_DIR FILE.wast...
//
// Each command in the manifest is one of:
//   {type: "component", line, name?, file | error}        decode + instantiate
//   {type: "definition", line, name, file | error}        decode only
//   {type: "instance", line, name?, of}                   instantiate a definition
//   {type: "invoke" | "assert_return" | "assert_trap", line, action: {func, args}, expected?, text?}
//   {type: "assert_invalid" | "assert_malformed" | "assert_unlinkable", line, file | error, text}
// Literal values stay S-expressions (arrays of atoms; strings as {s: "..."}),
// typed by the C++ runner from the function's signature.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';

// ---------------------------------------------------------------- reading

function decodeString(text, start) {
  // text[start] === '"'; returns [bytes, end index after the closing quote].
  const bytes = [];
  let i = start + 1;
  while (i < text.length && text[i] !== '"') {
    const c = text[i];
    if (c === '\\') {
      const n = text[i + 1];
      if (/[0-9a-fA-F]/.test(n) && /[0-9a-fA-F]/.test(text[i + 2])) {
        bytes.push(parseInt(text.substr(i + 1, 2), 16));
        i += 3;
      } else if (n === 'u') {
        const close = text.indexOf('}', i);
        const cp = parseInt(text.slice(i + 3, close).replace(/_/g, ''), 16);
        bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
        i = close + 1;
      } else {
        const map = { n: 10, t: 9, r: 13, '"': 34, "'": 39, '\\': 92 };
        bytes.push(map[n] ?? n.charCodeAt(0));
        i += 2;
      }
    } else {
      const cp = text.codePointAt(i);
      const ch = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
  }
  return [Buffer.from(bytes), i + 1];
}

// Splits a script into top-level forms: [{text, line, start}].
function topLevelForms(text) {
  const forms = [];
  let depth = 0;
  let start = -1;
  let line = 1;
  let startLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (c === ';' && text[i + 1] === ';') {
      while (i < text.length && text[i] !== '\n') i++;
      line++;
      continue;
    }
    if (c === '(' && text[i + 1] === ';') {
      let d = 1;
      i += 2;
      while (i < text.length && d > 0) {
        if (text[i] === '\n') line++;
        if (text[i] === '(' && text[i + 1] === ';') { d++; i += 2; continue; }
        if (text[i] === ';' && text[i + 1] === ')') { d--; i += 2; continue; }
        i++;
      }
      i--;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') j++;
        if (text[j] === '\n') line++;
        j++;
      }
      i = j;
      continue;
    }
    if (c === '(') {
      if (depth === 0) { start = i; startLine = line; }
      depth++;
    } else if (c === ')') {
      depth--;
      if (depth === 0) forms.push({ text: text.slice(start, i + 1), line: startLine });
    }
  }
  return forms;
}

// Parses an S-expression into nested arrays; strings become {s, bytes}.
function sexpr(text) {
  let i = 0;
  function skip() {
    for (;;) {
      while (i < text.length && /\s/.test(text[i])) i++;
      if (text[i] === ';' && text[i + 1] === ';') { while (i < text.length && text[i] !== '\n') i++; continue; }
      if (text[i] === '(' && text[i + 1] === ';') {
        let d = 1; i += 2;
        while (i < text.length && d > 0) {
          if (text[i] === '(' && text[i + 1] === ';') { d++; i += 2; continue; }
          if (text[i] === ';' && text[i + 1] === ')') { d--; i += 2; continue; }
          i++;
        }
        continue;
      }
      break;
    }
  }
  function node() {
    skip();
    if (text[i] === '(') {
      const start = i;
      i++;
      const list = [];
      for (;;) {
        skip();
        if (i >= text.length) throw new Error('unbalanced parentheses');
        if (text[i] === ')') { i++; break; }
        list.push(node());
      }
      list.start = start;
      list.end = i;
      return list;
    }
    if (text[i] === '"') {
      const [bytes, end] = decodeString(text, i);
      i = end;
      return { s: bytes.toString('utf8'), hex: bytes.toString('hex') };
    }
    const start = i;
    while (i < text.length && !/[\s()]/.test(text[i])) i++;
    return text.slice(start, i);
  }
  return node();
}

// ---------------------------------------------------------------- converting

let counter = 0;
async function emitComponent(outDir, stem, formText, node) {
  // node: ['component', ...]; handles `definition $C`, `binary "..."`, `quote "..."`.
  const file = `${stem}.${counter++}.wasm`;
  let idx = 1;
  let name;
  let definition = false;
  if (node[idx] === 'definition') { definition = true; idx++; }
  if (typeof node[idx] === 'string' && node[idx].startsWith('$')) { name = node[idx]; idx++; }
  const out = { file, name, definition };
  try {
    let bytes;
    if (node[idx] === 'binary') {
      bytes = Buffer.concat(node.slice(idx + 1).map((x) => Buffer.from(x.hex, 'hex')));
    } else if (node[idx] === 'quote') {
      const src = node.slice(idx + 1).map((x) => x.s).join(' ');
      bytes = await parse(`(component ${src})`);
    } else {
      // Drop the `definition` keyword: the text parser knows plain components.
      let text = formText;
      if (definition) text = text.replace(/^\(\s*component\s+definition/, '(component');
      bytes = await parse(text);
    }
    writeFileSync(join(outDir, file), bytes);
  } catch (e) {
    delete out.file;
    out.error = String(e.message ?? e).split('\n')[0].slice(0, 300);
  }
  return out;
}

function action(node) {
  // ['invoke', {s: name}, args...] possibly with an instance name.
  let idx = 1;
  let instance;
  if (typeof node[idx] === 'string' && node[idx].startsWith('$')) { instance = node[idx]; idx++; }
  return { instance, func: node[idx].s, args: node.slice(idx + 1).map(strip) };
}

function strip(x) {
  if (Array.isArray(x)) return x.map(strip);
  if (typeof x === 'object') return { s: x.s };
  return x;
}

async function convert(outDir, path) {
  const text = readFileSync(path, 'utf8');
  const stem = basename(path, '.wast');
  const commands = [];
  for (const form of topLevelForms(text)) {
    let node;
    try {
      node = sexpr(form.text);
    } catch (e) {
      commands.push({ type: 'unparsed', line: form.line, error: String(e.message) });
      continue;
    }
    const head = node[0];
    const line = form.line;
    if (head === 'component') {
      if (node[1] === 'instance') {
        let idx = 2;
        let name;
        if (node.length > 3) { name = node[idx]; idx++; }
        commands.push({ type: 'instance', line, name, of: node[idx] });
        continue;
      }
      const c = await emitComponent(outDir, stem, form.text, node);
      commands.push({ type: c.definition ? 'definition' : 'component', line, name: c.name, file: c.file, error: c.error });
    } else if (head === 'assert_invalid' || head === 'assert_malformed' || head === 'assert_unlinkable') {
      const inner = node[1];
      const innerText = form.text.slice(inner.start, inner.end);
      const c = await emitComponent(outDir, stem, innerText, inner);
      commands.push({ type: head, line, file: c.file, error: c.error, text: node[2]?.s });
    } else if (head === 'assert_return') {
      commands.push({ type: head, line, action: action(node[1]), expected: node.slice(2).map(strip) });
    } else if (head === 'assert_trap') {
      if (node[1][0] === 'invoke') {
        commands.push({ type: head, line, action: action(node[1]), text: node[2]?.s });
      } else {
        const inner = node[1];
        const c = await emitComponent(outDir, stem, form.text.slice(inner.start, inner.end), inner);
        commands.push({ type: 'assert_trap_instantiate', line, file: c.file, error: c.error, text: node[2]?.s });
      }
    } else if (head === 'invoke') {
      commands.push({ type: 'invoke', line, action: action(node) });
    } else {
      commands.push({ type: 'unsupported', line, head: String(head) });
    }
  }
  writeFileSync(join(outDir, `${stem}.json`), JSON.stringify({ source: path, commands }, null, 1));
  return commands.length;
}

const [outDir, ...files] = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });
let total = 0;
for (const f of files) total += await convert(outDir, f);
console.log(`wast_to_json: ${files.length} scripts, ${total} commands`);
