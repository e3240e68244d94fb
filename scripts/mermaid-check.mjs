// mermaid-check.mjs: parse every ```mermaid block of the Markdown files given
// with Mermaid itself (the library GitHub renders them with), in Node with a
// jsdom window. make lint-mermaid installs mermaid and jsdom into a cache
// directory and runs this; make lint's own check is internal/lessoncheck's
// parser in Go, which needs neither Node nor the npm registry. This one is
// the cross-check that the Go parser agrees with Mermaid.
//
//   node scripts/mermaid-check.mjs README.md step*/README.md final/README.md
import fs from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
globalThis.Element = dom.window.Element;
globalThis.HTMLElement = dom.window.HTMLElement;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

let failed = 0, checked = 0;
for (const file of process.argv.slice(2)) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  let start = -1, body = [];
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (start < 0 && t === '```mermaid') { start = i + 2; body = []; continue; }
    if (start >= 0 && t === '```') {
      checked++;
      try {
        await mermaid.parse(body.join('\n'));
      } catch (e) {
        failed++;
        console.log(`${file}: the diagram at line ${start}: ${String(e.message || e).split('\n').slice(0, 4).join(' ')}`);
      }
      start = -1;
      continue;
    }
    if (start >= 0) body.push(lines[i]);
  }
  if (start >= 0) { failed++; console.log(`${file}: the diagram at line ${start}: the fence is not closed`); }
}
console.log(`mermaid: ${checked} diagrams, ${failed} failed`);
process.exit(failed ? 1 : 0);
