// Extracts every component form of Component Model .wast scripts and turns
// it into a binary with jco's text parser (wasm-tools), all in this one node
// process, for the decoder's conformance test.
//
//   node wast_components.mjs OUT_DIR ROOT FILE.wast...
//
// Writes OUT_DIR/N.wasm for each form it could convert and OUT_DIR/manifest.tsv,
// one line per form: expect <TAB> file-or-"-" <TAB> script:line <TAB> note.
//   expect: valid      top-level `(component ...)` / `(component definition ...)`,
//                      or inside assert_unlinkable / assert_trap (valid, fails later)
//           invalid    inside assert_invalid (jco makes a binary the validator must reject)
//           malformed  inside assert_malformed
//   file "-": jco could not make a binary; note says why (a skip).
//   note: the assertion's expected message, or jco's error.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';

// Decodes the string literal starting at text[start] === '"' into bytes.
function stringBytes(text, start) {
  const bytes = [];
  let i = start + 1;
  while (i < text.length && text[i] !== '"') {
    if (text[i] === '\\') {
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
        const escapes = { n: 10, t: 9, r: 13, '"': 34, "'": 39, '\\': 92 };
        bytes.push(escapes[n] ?? n.charCodeAt(0));
        i += 2;
      }
    } else {
      const ch = String.fromCodePoint(text.codePointAt(i));
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
  }
  return [Buffer.from(bytes), i + 1];
}

// Parses S-expressions: lists are arrays with .start/.end offsets into text,
// strings are {bytes}, atoms are strings. Comments are skipped.
function parseForms(text) {
  let i = 0;
  let line = 1;
  const advance = (to) => {
    for (; i < to; i++) if (text[i] === '\n') line++;
  };
  function skip() {
    for (;;) {
      while (i < text.length && /\s/.test(text[i])) advance(i + 1);
      if (text.startsWith(';;', i)) {
        const end = text.indexOf('\n', i);
        advance(end < 0 ? text.length : end);
        continue;
      }
      if (text.startsWith('(;', i)) {
        let depth = 0;
        let j = i;
        do {
          if (text.startsWith('(;', j)) { depth++; j += 2; } else if (text.startsWith(';)', j)) { depth--; j += 2; } else j++;
        } while (depth > 0 && j < text.length);
        advance(j);
        continue;
      }
      return;
    }
  }
  function node() {
    skip();
    if (text[i] === '(') {
      const list = [];
      list.start = i;
      list.line = line;
      advance(i + 1);
      for (;;) {
        skip();
        if (i >= text.length) throw new Error('unbalanced parentheses');
        if (text[i] === ')') { advance(i + 1); break; }
        list.push(node());
      }
      list.end = i;
      return list;
    }
    if (text[i] === '"') {
      const [bytes, end] = stringBytes(text, i);
      advance(end);
      return { bytes };
    }
    const start = i;
    while (i < text.length && !/[\s()]/.test(text[i])) i++;
    return text.slice(start, i);
  }
  const forms = [];
  for (;;) {
    skip();
    if (i >= text.length) return forms;
    forms.push(node());
  }
}

let counter = 0;
const lines = [];
const clean = (s) => String(s).split('\n')[0].replace(/\t/g, ' ').slice(0, 200);

async function emit(outDir, text, form, expect, where, note) {
  let idx = 1;
  if (form[idx] === 'definition') idx++;
  if (typeof form[idx] === 'string' && form[idx].startsWith('$')) idx++;
  let bytes;
  try {
    if (form[idx] === 'binary') {
      bytes = Buffer.concat(form.slice(idx + 1).map((x) => x.bytes));
    } else if (form[idx] === 'quote') {
      bytes = await parse(`(component ${form.slice(idx + 1).map((x) => x.bytes.toString('utf8')).join(' ')})`);
    } else {
      bytes = await parse(text.slice(form.start, form.end).replace(/^\(\s*component\s+definition/, '(component'));
    }
  } catch (e) {
    lines.push([expect, '-', where, 'jco parse failed: ' + clean(e.message ?? e)].join('\t'));
    return;
  }
  const file = `${counter++}.wasm`;
  writeFileSync(join(outDir, file), bytes);
  lines.push([expect, file, where, clean(note ?? '')].join('\t'));
}

const [outDir, root, ...scripts] = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });
for (const path of scripts) {
  const text = readFileSync(path, 'utf8');
  const name = relative(root, path);
  for (const form of parseForms(text)) {
    if (!Array.isArray(form)) continue;
    const where = `${name}:${form.line}`;
    const head = form[0];
    if (head === 'component' && form[1] !== 'instance') {
      await emit(outDir, text, form, 'valid', where);
    } else if (head === 'assert_invalid' || head === 'assert_malformed') {
      const expect = head === 'assert_invalid' ? 'invalid' : 'malformed';
      if (Array.isArray(form[1]) && form[1][0] === 'component')
        await emit(outDir, text, form[1], expect, where, form[2]?.bytes?.toString('utf8'));
    } else if (head === 'assert_unlinkable' || head === 'assert_trap') {
      if (Array.isArray(form[1]) && form[1][0] === 'component') await emit(outDir, text, form[1], 'valid', where);
    }
  }
}
writeFileSync(join(outDir, 'manifest.tsv'), lines.join('\n') + '\n');
console.log(`wast_components: ${scripts.length} scripts, ${lines.length} components`);
