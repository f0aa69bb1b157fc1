#!/usr/bin/env node
// Contract test (RELIABILITY.md A9 #16, B1): lint the OpenAPI 3.1 spec with
// the pinned redocly CLI, compile every schema with Ajv's 2020-12 dialect,
// then check every response the integration tests received (recorded by
// itest_http as JSON lines under RESELLERD_CONTRACT_LOG) against the spec.
//
//   node tests/contract/validate.mjs --spec api/openapi.yaml --log build/contract-log
//     [--no-lint]   skip the redocly lint (schema + response checks only)
//     [--lint-only] lint and compile the schemas, read no log
//
// A response is a violation when:
//   - its path matches no path template of the spec, unless it is a 404
//     (unknown paths legitimately answer 404 problem+json);
//   - its method is not documented for the path (unless 405, see below);
//   - its status is declared neither exactly, nor as a range (4XX), nor as
//     `default` for the operation, unless it is one of SERVER_STATUSES;
//   - its media type (parameters stripped) is not declared for that status;
//   - a JSON body (application/json, application/problem+json) does not
//     parse or does not validate against the declared schema.
// Status-only checks: 304, HEAD, empty bodies, bodies the recorder dropped
// (over 1 MiB or not UTF-8, non-JSON media types only). Bodies of
// text/plain, text/markdown, YAML and HTML are not schema-checked.
// Records without an X-Request-Id come from another peer (the upstream
// simulator) or from libmicrohttpd itself before our dispatcher ran; they
// are counted and skipped.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const HERE = dirname(fileURLToPath(import.meta.url));

// Statuses the server may produce for any path, before (or instead of)
// the operation: the dispatcher answers 405 (+ Allow) for an unknown verb
// on a known path, 413 for a body over the cap and 414 for a request
// target over 4096 bytes; libmicrohttpd answers 431 for oversized request
// headers. Their JSON bodies, when present, must still be Problems.
const SERVER_STATUSES = new Set([405, 413, 414, 431]);
const JSON_TYPES = new Set(['application/json', 'application/problem+json']);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const ID_BASE = 'https://resellerd.invalid/openapi/';

function parseArgs(argv) {
  const o = { spec: null, log: null, lint: true, lintOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--spec') o.spec = argv[++i];
    else if (a === '--log') o.log = argv[++i];
    else if (a === '--no-lint') o.lint = false;
    else if (a === '--lint-only') o.lintOnly = true;
    else {
      console.error(`validate.mjs: unknown argument ${a}`);
      process.exit(2);
    }
  }
  if (!o.spec || (!o.log && !o.lintOnly)) {
    console.error('usage: validate.mjs --spec api/openapi.yaml --log DIR [--no-lint] [--lint-only]');
    process.exit(2);
  }
  return o;
}

// (a) redocly lint with tests/contract/redocly.yaml. Errors and warnings
// both fail: relax a rule in redocly.yaml, with the reason, instead.
function lint(spec) {
  const cli = join(HERE, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
  if (!existsSync(cli)) {
    console.error(`validate.mjs: ${cli} is missing: run npm ci --prefix tests/contract`);
    process.exit(2);
  }
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
  const args = [cli, 'lint', '--config', join(HERE, 'redocly.yaml'), spec];
  let out;
  try {
    out = execFileSync(process.execPath, [...args, '--format=json'],
      { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    out = e.stdout || '';
    if (!out.trim().startsWith('{')) {
      console.error(`lint: redocly failed to run:\n${e.stderr || e.message}`);
      return 1;
    }
  }
  const { totals, problems } = JSON.parse(out);
  console.log(`lint: ${totals.errors} errors, ${totals.warnings} warnings (redocly ${JSON.parse(out).version})`);
  for (const p of problems) {
    const loc = p.location?.[0];
    const where = loc ? `${loc.source.ref}:${loc.start?.line ?? '?'} ${loc.pointer}` : '';
    console.log(`  lint ${p.severity} [${p.ruleId}] ${where}: ${p.message}`);
  }
  return totals.errors + totals.warnings;
}

// Rewrite local $refs so each schema can stand alone in Ajv.
function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') {
        const m = /^#\/components\/schemas\/([^/]+)$/.exec(v);
        if (!m) throw new Error(`unsupported $ref in a schema: ${v}`);
        out[k] = ID_BASE + 'schemas/' + m[1];
      } else {
        out[k] = rewriteRefs(v);
      }
    }
    return out;
  }
  return node;
}

// Follow a '#/components/...' $ref of a non-schema object (responses).
function deref(doc, obj) {
  let seen = 0;
  while (obj && obj.$ref) {
    if (++seen > 20) throw new Error(`$ref loop at ${obj.$ref}`);
    obj = obj.$ref.replace(/^#\//, '').split('/')
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((o, k) => (o ? o[k] : undefined), doc);
  }
  return obj;
}

// (b) Ajv 2020-12 (the OpenAPI 3.1 dialect) + formats, strict: an unknown
// keyword (a typo, or YAML prose split into a key) is an error.
function buildAjv(doc) {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  // OpenAPI's own schema keywords (3.1 base vocabulary): annotations here.
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
  const schemas = doc.components?.schemas || {};
  for (const [name, s] of Object.entries(schemas))
    ajv.addSchema({ ...rewriteRefs(s), $id: ID_BASE + 'schemas/' + name });
  const errors = [];
  for (const name of Object.keys(schemas)) {
    try {
      ajv.getSchema(ID_BASE + 'schemas/' + name);
    } catch (e) {
      errors.push(`components/schemas/${name}: ${e.message}`);
    }
  }
  return { ajv, errors, count: Object.keys(schemas).length };
}

// Path templates, most literal first, so /v1/workflows/x never loses to
// a template with more parameters.
function buildMatchers(doc) {
  const ms = Object.keys(doc.paths || {}).map((tpl) => {
    const segs = tpl.split('/');
    const re = new RegExp('^' + segs.map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+'
      : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/') + '$');
    return { tpl, re, literal: segs.filter((s) => !s.startsWith('{')).length };
  });
  return ms.sort((a, b) => b.literal - a.literal);
}

function pickResponse(op, status) {
  const rs = op.responses || {};
  return rs[String(status)] ?? rs[`${String(status)[0]}XX`] ?? rs[`${String(status)[0]}xx`] ?? rs.default;
}

function readLog(dir) {
  const recs = [];
  const bad = [];
  if (!existsSync(dir)) return { recs, bad };
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    const lines = readFileSync(join(dir, f), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      try {
        recs.push(JSON.parse(line));
      } catch (e) {
        bad.push(`${f}:${i + 1}: unreadable log line (${e.message})`);
      }
    });
  }
  return { recs, bad };
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const specPath = resolve(o.spec);
  const doc = YAML.parse(readFileSync(specPath, 'utf8'));
  let failed = 0;

  if (o.lint) failed += lint(specPath) ? 1 : 0;

  const { ajv, errors: schemaErrors, count } = buildAjv(doc);
  console.log(`schemas: ${count} component schemas compiled, ${schemaErrors.length} errors`);
  for (const e of schemaErrors) console.log(`  schema error: ${e}`);
  if (schemaErrors.length) failed++;
  if (o.lintOnly) process.exit(failed ? 1 : 0);

  const problem = ajv.getSchema(ID_BASE + 'schemas/Problem');
  const compiled = new Map(); // inline response schemas, by object identity
  const validatorFor = (schema) => {
    if (!compiled.has(schema)) compiled.set(schema, ajv.compile(rewriteRefs(schema)));
    return compiled.get(schema);
  };

  const matchers = buildMatchers(doc);
  const { recs, bad } = readLog(o.log);
  const violations = [...bad.map((b) => ({ head: b, errors: [] }))];
  const exercised = new Set();
  let checked = 0;
  let skipped = 0;
  let bodies = 0;

  for (const r of recs) {
    if (!r.request_id) { skipped++; continue; }
    checked++;
    const method = String(r.method || '').toUpperCase();
    const path = String(r.url || '/').split('?')[0];
    const status = Number(r.status);
    const mediaType = (r.content_type || '').split(';')[0].trim().toLowerCase();
    const head = `${method} ${r.url} -> ${status} ${mediaType || '(no content type)'}`;
    const fail = (why, errors = []) => violations.push({ head: `${head}: ${why}`, errors, body: r.body });
    const hasBody = typeof r.body === 'string' && r.body.length > 0;

    // The body of a server-level answer, when JSON, must be a Problem.
    const checkProblem = () => {
      if (!hasBody || !JSON_TYPES.has(mediaType)) return;
      bodies++;
      let v;
      try { v = JSON.parse(r.body); } catch (e) { fail(`body is not JSON (${e.message})`); return; }
      if (!problem(v)) fail('body is not a Problem', problem.errors);
    };

    const m = matchers.find((x) => x.re.test(path));
    if (!m) {
      if (status === 404 || SERVER_STATUSES.has(status)) checkProblem();
      else fail('undocumented path');
      continue;
    }
    const item = doc.paths[m.tpl];
    let op = item[method.toLowerCase()];
    const isHead = method === 'HEAD' && !op && item.get;
    if (isHead) op = item.get; // HEAD is GET without the body (RFC 9110 9.3.2)
    if (!op) {
      if (SERVER_STATUSES.has(status)) checkProblem();
      else fail(`method not documented for ${m.tpl}`);
      continue;
    }
    exercised.add(`${isHead ? 'GET' : method} ${m.tpl}`);
    const resp = deref(doc, pickResponse(op, status));
    if (!resp) {
      if (SERVER_STATUSES.has(status)) checkProblem();
      else fail(`status ${status} not declared for ${method} ${m.tpl} (declared: ${Object.keys(op.responses || {}).join(', ')})`);
      continue;
    }
    if (status === 304 || isHead || method === 'HEAD' || !hasBody) {
      if (hasBody && status === 304) fail('a 304 must not have a body');
      continue;
    }
    const content = resp.content || {};
    const declared = Object.keys(content).find((k) => k.toLowerCase() === mediaType);
    if (!declared) {
      fail(`media type ${mediaType || '(none)'} not declared for ${status} (declared: ${Object.keys(content).join(', ') || 'no body'})`);
      continue;
    }
    if (!JSON_TYPES.has(mediaType)) continue; // text, markdown, yaml, html: not schema-checked
    if (r.body === null) { fail('JSON body missing from the log (over 1 MiB or not UTF-8)'); continue; }
    bodies++;
    let value;
    try { value = JSON.parse(r.body); } catch (e) { fail(`body is not JSON (${e.message})`); continue; }
    const schema = content[declared].schema;
    if (!schema) continue;
    const validate = validatorFor(schema);
    if (!validate(value)) fail(`body does not match the ${status} ${declared} schema`, validate.errors);
  }

  // Print each violation once, with how often it happened.
  const groups = new Map();
  for (const v of violations) {
    const key = v.head + JSON.stringify(v.errors);
    if (!groups.has(key)) groups.set(key, { ...v, n: 0 });
    groups.get(key).n++;
  }
  for (const g of groups.values()) {
    console.log(`VIOLATION ${g.head}${g.n > 1 ? ` (x${g.n})` : ''}`);
    for (const e of g.errors || [])
      console.log(`    ${e.instancePath || '/'} ${e.message}${e.params && Object.keys(e.params).length ? ' ' + JSON.stringify(e.params) : ''} [${e.schemaPath}]`);
    if (g.body && g.errors?.length) console.log(`    body: ${String(g.body).slice(0, 400)}`);
  }

  const ops = [];
  for (const [tpl, item] of Object.entries(doc.paths || {}))
    for (const mm of METHODS) if (item[mm]) ops.push(`${mm.toUpperCase()} ${tpl}`);
  const missed = ops.filter((x) => !exercised.has(x));
  console.log(`coverage: ${ops.length - missed.length}/${ops.length} operations exercised` +
    (missed.length ? ` (not exercised: ${missed.join(', ')})` : ''));
  if (skipped) console.log(`skipped: ${skipped} responses without X-Request-Id (not resellerd's dispatcher)`);
  console.log(`bodies: ${bodies} JSON bodies validated against their schemas`);
  console.log(`contract: ${checked} responses checked, ${violations.length} violations`);
  if (checked === 0) {
    console.log(`contract: no responses recorded in ${o.log}: did the integration tests run with RESELLERD_CONTRACT_LOG set?`);
    failed++;
  }
  process.exit(failed || violations.length ? 1 : 0);
}

main();
