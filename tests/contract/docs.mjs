#!/usr/bin/env node
// Render api/openapi.yaml as web/docs.html: one self-contained HTML page
// (no JavaScript, no external resources, one inline <style>), served by
// resellerd at GET /docs under a CSP that forbids scripts.
//
//   node tests/contract/docs.mjs --spec api/openapi.yaml --out web/docs.html
//   node tests/contract/docs.mjs --spec api/openapi.yaml --check web/docs.html
//
// --check exits 1 when the file differs from what the spec renders to
// (the contract/docs-fresh ctest), so the committed page never drifts.
//
// Why not `redocly build-docs`: its page loads redoc.standalone.js from
// cdn.redocly.com at view time and needs inline scripts, so it would not
// work offline or under our CSP. The output is deterministic (no dates).
import { readFileSync, writeFileSync } from 'node:fs';
import YAML from 'yaml';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--spec') o.spec = argv[++i];
    else if (argv[i] === '--out') o.out = argv[++i];
    else if (argv[i] === '--check') o.check = argv[++i];
    else { console.error(`docs.mjs: unknown argument ${argv[i]}`); process.exit(2); }
  }
  if (!o.spec || (!o.out && !o.check)) {
    console.error('usage: docs.mjs --spec api/openapi.yaml (--out FILE | --check FILE)');
    process.exit(2);
  }
  return o;
}

const esc = (s) => String(s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;')
  .replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const anchor = (s) => String(s).replace(/[^A-Za-z0-9_-]+/g, '-');

// The Markdown the spec uses: paragraphs, `code`, **bold**, [text](url).
function md(text) {
  if (!text) return '';
  return String(text).trim().split(/\n\s*\n/).map((p) => {
    let h = esc(p.replace(/\s*\n\s*/g, ' '));
    h = h.replace(/`([^`]+)`/g, '<code>$1</code>')
      .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
      .replace(/\[([^\]]+)\]\((https?:[^)\s]+)\)/g, '<a href="$2">$1</a>');
    return `<p>${h}</p>`;
  }).join('\n');
}

function refName(ref) {
  const m = /^#\/components\/(schemas|responses|examples|parameters)\/(.+)$/.exec(ref || '');
  return m ? { kind: m[1], name: m[2] } : null;
}

function resolve(doc, obj) {
  for (let i = 0; obj && obj.$ref && i < 20; i++) {
    obj = obj.$ref.replace(/^#\//, '').split('/').reduce((o, k) => (o ? o[k] : undefined), doc);
  }
  return obj;
}

// A one-line type: links for $refs, enums, formats, unions.
function typeOf(s) {
  if (!s || typeof s !== 'object') return 'any';
  if (s.$ref) {
    const r = refName(s.$ref);
    return r ? `<a href="#schema-${anchor(r.name)}">${esc(r.name)}</a>` : esc(s.$ref);
  }
  if ('const' in s) return `<code>${esc(JSON.stringify(s.const))}</code>`;
  if (s.enum) return s.enum.map((v) => `<code>${esc(JSON.stringify(v))}</code>`).join(' | ');
  const alts = s.oneOf || s.anyOf;
  if (alts) return alts.map(typeOf).join(' | ');
  let types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (!types.length && s.properties) types = ['object'];
  return types.map((t) => {
    if (t === 'array') return `array of ${typeOf(s.items)}`;
    if (t === 'string' && s.format) return `string (${esc(s.format)})`;
    return esc(t);
  }).join(' | ') || 'any';
}

function constraints(s) {
  const c = [];
  const add = (k, label) => { if (s[k] !== undefined) c.push(`${label} ${esc(JSON.stringify(s[k]))}`); };
  add('pattern', 'pattern'); add('minLength', 'min length'); add('maxLength', 'max length');
  add('minimum', 'minimum'); add('maximum', 'maximum'); add('minItems', 'min items'); add('maxItems', 'max items');
  if (s.additionalProperties === false) c.push('no other properties');
  return c.length ? `<div class="c">${c.join('; ')}</div>` : '';
}

// Inline object shapes, recursively: a table of properties.
function schemaBody(s, depth = 0) {
  if (!s || typeof s !== 'object' || s.$ref || depth > 8) return '';
  let out = constraints(s);
  if (s.properties) {
    const req = new Set(s.required || []);
    out += '<table class="props"><tr><th>property</th><th>type</th><th>description</th></tr>';
    for (const [name, p] of Object.entries(s.properties)) {
      out += `<tr><td><code>${esc(name)}</code>${req.has(name) ? ' <span class="req">required</span>' : ''}</td>` +
        `<td>${typeOf(p)}</td><td>${md(p.description)}${schemaBody(p, depth + 1)}</td></tr>`;
    }
    out += '</table>';
  }
  if (s.items && !s.items.$ref && (s.items.properties || s.items.oneOf)) out += schemaBody(s.items, depth + 1);
  for (const alt of s.oneOf || s.anyOf || []) {
    if (alt.properties) out += `<div class="alt">variant: ${typeOf(alt)}</div>${schemaBody(alt, depth + 1)}`;
  }
  return out;
}

function content(doc, c) {
  if (!c) return '';
  let out = '';
  for (const [mt, media] of Object.entries(c)) {
    out += `<div class="media"><code>${esc(mt)}</code>: ${typeOf(media.schema)}`;
    out += schemaBody(media.schema);
    if (media.example !== undefined)
      out += `<pre>${esc(JSON.stringify(media.example, null, 2))}</pre>`;
    for (const [name, ex] of Object.entries(media.examples || {})) {
      const r = refName(ex.$ref);
      out += r ? `<div>example: <a href="#example-${anchor(r.name)}">${esc(r.name)}</a></div>`
        : `<div>example ${esc(name)}:</div><pre>${esc(JSON.stringify(ex.value, null, 2))}</pre>`;
    }
    out += '</div>';
  }
  return out;
}

function operation(doc, path, method, op, item) {
  const id = op.operationId || `${method}-${path}`;
  const secured = (op.security ?? doc.security ?? []).length > 0;
  let out = `<section class="op" id="op-${anchor(id)}"><h3><span class="m ${method}">${method.toUpperCase()}</span> ` +
    `<code>${esc(path)}</code></h3><p class="sum">${esc(op.summary || '')}${secured ? ' <span class="auth">bearer token</span>' : ' <span class="open">no auth</span>'}</p>`;
  out += md(op.description);
  const params = [...(item.parameters || []), ...(op.parameters || [])].map((p) => resolve(doc, p));
  if (params.length) {
    out += '<h4>Parameters</h4><table class="props"><tr><th>name</th><th>in</th><th>type</th><th>description</th></tr>';
    for (const p of params) {
      out += `<tr><td><code>${esc(p.name)}</code>${p.required ? ' <span class="req">required</span>' : ''}</td>` +
        `<td>${esc(p.in)}</td><td>${typeOf(p.schema)}${p.schema ? constraints(p.schema) : ''}</td><td>${md(p.description)}</td></tr>`;
    }
    out += '</table>';
  }
  if (op.requestBody) {
    const rb = resolve(doc, op.requestBody);
    out += `<h4>Request body${rb.required ? ' (required)' : ''}</h4>${md(rb.description)}${content(doc, rb.content)}`;
  }
  out += '<h4>Responses</h4><table class="resp"><tr><th>status</th><th>description</th></tr>';
  for (const [code, r0] of Object.entries(op.responses || {})) {
    const r = resolve(doc, r0);
    const hdrs = Object.entries(r.headers || {}).map(([h, v]) =>
      `<div>header <code>${esc(h)}</code>: ${typeOf(v.schema)}${v.description ? ' — ' + esc(v.description) : ''}</div>`).join('');
    out += `<tr><td class="st s${esc(String(code)[0])}">${esc(code)}</td><td>${md(r.description)}${hdrs}${content(doc, r.content)}</td></tr>`;
  }
  out += '</table></section>';
  return out;
}

const CSS = `body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2430;background:#fff}
header{background:#1d2430;color:#fff;padding:1.2em 2em}header h1{margin:0}header p{margin:.3em 0 0;color:#c8d0dc}
nav{position:fixed;top:0;bottom:0;left:0;width:17em;overflow:auto;padding:1em;background:#f4f6f9;border-right:1px solid #dde2ea;font-size:13px}
nav a{display:block;color:#1d2430;text-decoration:none;padding:1px 0}nav a:hover{text-decoration:underline}nav h2{font-size:13px;margin:1em 0 .2em;text-transform:uppercase;color:#5b6675}
main{margin-left:19em;padding:0 2em 4em;max-width:62em}
h2{border-bottom:2px solid #dde2ea;padding-bottom:.2em;margin-top:2em}
.op{border:1px solid #dde2ea;border-radius:6px;padding:.2em 1em 1em;margin:1.2em 0}
.m{display:inline-block;min-width:3.6em;text-align:center;border-radius:4px;color:#fff;font-size:13px;padding:1px 6px;margin-right:.4em}
.get{background:#2f7d32}.post{background:#1f5fa8}.put,.patch{background:#8a5a00}.delete{background:#a12a2a}
.sum{margin:.2em 0}.auth,.open,.req{font-size:11px;border-radius:3px;padding:0 4px;margin-left:.4em}
.auth{background:#fdecc8}.open{background:#e3f1e3}.req{background:#fde2e2;color:#8a1c1c}
table{border-collapse:collapse;width:100%;margin:.4em 0}th,td{border:1px solid #dde2ea;padding:4px 6px;vertical-align:top;text-align:left}
th{background:#f4f6f9;font-weight:600}td p{margin:0 0 .3em}
.st{font-weight:700;width:4em}.s2{color:#2f7d32}.s3{color:#5b6675}.s4{color:#8a5a00}.s5{color:#a12a2a}
.c{color:#5b6675;font-size:13px}.alt{margin-top:.4em;font-style:italic}.media{margin:.3em 0}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f4f6f9;padding:0 3px;border-radius:3px}
pre{background:#f4f6f9;padding:.6em;overflow:auto;font-size:13px}
@media (max-width:800px){nav{position:static;width:auto}main{margin-left:0}}`;

function render(doc) {
  const info = doc.info || {};
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths || {}))
    for (const m of METHODS) if (item[m]) ops.push({ path, method: m, op: item[m], item });
  const tags = (doc.tags || []).map((t) => t.name);
  for (const o of ops) for (const t of o.op.tags || ['other']) if (!tags.includes(t)) tags.push(t);

  let navHtml = '<h2>Operations</h2>';
  let body = '';
  for (const tag of tags) {
    const tagOps = ops.filter((o) => (o.op.tags || ['other']).includes(tag));
    if (!tagOps.length) continue;
    const t = (doc.tags || []).find((x) => x.name === tag);
    navHtml += `<a href="#tag-${anchor(tag)}"><strong>${esc(tag)}</strong></a>`;
    body += `<h2 id="tag-${anchor(tag)}">${esc(tag)}</h2>${md(t?.description)}`;
    for (const o of tagOps) {
      const id = o.op.operationId || `${o.method}-${o.path}`;
      navHtml += `<a href="#op-${anchor(id)}">${o.method.toUpperCase()} ${esc(o.path)}</a>`;
      body += operation(doc, o.path, o.method, o.op, o.item);
    }
  }
  const schemas = doc.components?.schemas || {};
  navHtml += '<h2>Schemas</h2>';
  body += '<h2 id="schemas">Schemas</h2>';
  for (const [name, s] of Object.entries(schemas)) {
    navHtml += `<a href="#schema-${anchor(name)}">${esc(name)}</a>`;
    body += `<section class="op" id="schema-${anchor(name)}"><h3>${esc(name)}</h3><p>${typeOf({ ...s, description: undefined })}</p>` +
      `${md(s.description)}${schemaBody(s)}</section>`;
  }
  const examples = doc.components?.examples || {};
  if (Object.keys(examples).length) {
    body += '<h2 id="examples">Examples</h2>';
    for (const [name, ex] of Object.entries(examples)) {
      body += `<section class="op" id="example-${anchor(name)}"><h3>${esc(name)}</h3><p>${esc(ex.summary || '')}</p>` +
        `<pre>${esc(JSON.stringify(ex.value, null, 2))}</pre></section>`;
    }
  }
  const schemes = Object.entries(doc.components?.securitySchemes || {}).map(([n, s]) =>
    `<p><strong>Security scheme ${esc(n)}</strong>: ${esc(s.type)} ${esc(s.scheme || '')}.</p>${md(s.description)}`).join('');
  const servers = (doc.servers || []).map((s) => `<code>${esc(s.url)}</code>`).join(', ');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<!-- Generated from api/openapi.yaml by tests/contract/docs.mjs. Do not edit:
     run node tests/contract/docs.mjs --spec api/openapi.yaml --out web/docs.html -->
<title>${esc(info.title)} ${esc(info.version)} API reference</title>
<style>
${CSS}
</style>
</head>
<body>
<nav>
<a href="#top"><strong>${esc(info.title)} ${esc(info.version)}</strong></a>
${navHtml}
</nav>
<main>
<header id="top"><h1>${esc(info.title)} <small>${esc(info.version)}</small></h1><p>${esc(info.summary || '')}</p></header>
${md(info.description)}
<p>OpenAPI ${esc(doc.openapi)}; machine-readable: <a href="/openapi.yaml">/openapi.yaml</a>. Servers: ${servers}.</p>
${schemes}
${body}
</main>
</body>
</html>
`;
}

const o = parseArgs(process.argv.slice(2));
const html = render(YAML.parse(readFileSync(o.spec, 'utf8')));
if (o.out) {
  writeFileSync(o.out, html);
  console.log(`docs: wrote ${o.out} (${Buffer.byteLength(html)} bytes)`);
} else {
  let have = '';
  try { have = readFileSync(o.check, 'utf8'); } catch { /* missing: stale */ }
  if (have !== html) {
    console.log(`docs: ${o.check} is stale: regenerate it with\n  node tests/contract/docs.mjs --spec api/openapi.yaml --out ${o.check}`);
    process.exit(1);
  }
  console.log(`docs: ${o.check} matches ${o.spec}`);
}
