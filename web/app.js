/*
 * The resellerd lookup page (served at /). Plain JavaScript, no build step,
 * no other origin. Everything the API returns is untrusted: it reaches the
 * page only as text nodes and attribute values built here (never
 * innerHTML), and links only when they are http(s).
 *
 * The token is kept in sessionStorage (this tab only) and sent in the
 * Authorization header; it never appears in a URL.
 */
'use strict';

(function () {
  const TOKEN_KEY = 'resellerd.token';
  const CHANNELS = ['web_direct', 'sales_assisted', 'reseller', 'two_tier', 'msp',
    'marketplace', 'undetermined'];
  const ACTIONS = {
    proceed: 'Proceed',
    request_proof: 'Request proof',
    pass_to_sales: 'Pass to Sales',
    decline: 'Decline',
  };
  const STALE_SECONDS = 24 * 3600;

  let memoryToken = ''; /* when sessionStorage is unavailable */
  let lookupSeq = 0;
  let evaluateSeq = 0;
  let idSeq = 0;

  const $ = (id) => document.getElementById(id);

  /* ===== DOM building: text only ===== */

  /*
   * el('p', {class: 'x', text: 'y', 'aria-label': 'z'}, child, ...):
   * children are nodes or strings (as text); null/undefined/false skipped.
   */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false)
        continue;
      if (k === 'class')
        node.className = v;
      else if (k === 'text')
        node.textContent = v;
      else
        node.setAttribute(k, v === true ? '' : String(v));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false)
        continue;
      if (Array.isArray(c))
        append(node, c);
      else
        node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function uid(prefix) {
    idSeq += 1;
    return prefix + '-' + idSeq;
  }

  /* A string from untrusted data, or '' for anything else. */
  function str(v) {
    if (typeof v === 'string')
      return v;
    if (typeof v === 'number' || typeof v === 'boolean')
      return String(v);
    return '';
  }

  function orDash(v) {
    const s = str(v);
    return s === '' ? '—' : s;
  }

  function arr(v) {
    return Array.isArray(v) ? v : [];
  }

  function obj(v) {
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  }

  function yesNo(v) {
    if (v === true)
      return 'yes';
    if (v === false)
      return 'no';
    return 'unknown';
  }

  /* An http(s) URL from untrusted data, or null. */
  function safeUrl(v) {
    try {
      const u = new URL(str(v), window.location.href);
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(href, text) {
    const url = safeUrl(href);
    if (!url)
      return el('span', {text: text});
    return el('a', {href: url, target: '_blank', rel: 'noopener noreferrer'}, text,
      el('span', {class: 'sr-only', text: ' (opens in a new tab)'}));
  }

  function channelBadge(channel) {
    const c = str(channel);
    const known = CHANNELS.includes(c);
    return el('span', {class: 'badge channel-badge ' + (known ? 'ch-' + c : 'ch-unknown'),
      'data-channel': known ? c : 'unknown', text: c || 'unknown'});
  }

  function section(title, ...children) {
    const id = uid('sec');
    return el('section', {class: 'block', 'aria-labelledby': id},
      el('h4', {id: id, text: title}), children);
  }

  function list(items, cls) {
    return el('ul', {class: cls || null}, items.map((t) => el('li', {text: str(t)})));
  }

  /* <time> with the ISO value, a readable form and its age. */
  function timeNode(iso) {
    const s = str(iso);
    if (!s)
      return {node: el('span', {class: 'muted', text: 'none'}), age: null};
    const t = Date.parse(s);
    if (Number.isNaN(t))
      return {node: el('span', {text: s}), age: null};
    const age = (Date.now() - t) / 1000;
    const shown = new Date(t).toISOString().replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
    return {node: el('time', {datetime: s, title: s}, shown, ' (', relative(age), ')'), age: age};
  }

  function relative(seconds) {
    const steps = [[60, 'second'], [60, 'minute'], [24, 'hour'], [30, 'day'], [12, 'month'],
      [Infinity, 'year']];
    let v = -seconds;
    for (const [n, unit] of steps) {
      if (Math.abs(v) < n) {
        try {
          return new Intl.RelativeTimeFormat('en', {numeric: 'auto'}).format(Math.round(v), unit);
        } catch (e) {
          return Math.round(Math.abs(v)) + ' ' + unit + 's ago';
        }
      }
      v /= n;
    }
    return '';
  }

  /* ===== Token (sessionStorage only) ===== */

  function getToken() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY) || memoryToken;
    } catch (e) {
      return memoryToken;
    }
  }

  function setToken(t) {
    memoryToken = t;
    try {
      if (t)
        window.sessionStorage.setItem(TOKEN_KEY, t);
      else
        window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* storage disabled: the token lives in memory until the page closes */
    }
  }

  function showTokenState(message, bad) {
    const s = $('token-state');
    s.textContent = message;
    s.classList.toggle('bad', !!bad);
  }

  function tokenStateDefault() {
    if (getToken()) {
      $('token').placeholder = 'saved (paste another to replace it)';
      showTokenState('A token is saved for this browser tab.');
    }
    else {
      showTokenState('No token yet: enter one to look up subscriptions.', true);
    }
  }

  /* ===== API calls ===== */

  class Problem extends Error {
    constructor(status, title, detail, requestId) {
      super(detail || title);
      this.status = status;
      this.title = title;
      this.detail = detail;
      this.requestId = requestId;
    }
  }

  async function api(method, path, body, accept) {
    const token = getToken();
    if (!token)
      throw new Problem(0, 'No token', 'Enter an API token first (API token, above).', '');
    const headers = {Authorization: 'Bearer ' + token, Accept: accept || 'application/json'};
    if (body !== undefined)
      headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        redirect: 'error',
        referrerPolicy: 'no-referrer',
      });
    } catch (e) {
      throw new Problem(0, 'Network error', 'The service did not answer. Is it running?', '');
    }
    if (!res.ok) {
      let p = {};
      try {
        p = obj(await res.json());
      } catch (e) {
        p = {};
      }
      throw new Problem(res.status, str(p.title) || res.statusText || 'Error',
        str(p.detail) || 'The service answered ' + res.status + '.',
        str(p.request_id) || res.headers.get('X-Request-Id') || '');
    }
    return accept && accept !== 'application/json' ? res.text() : res.json();
  }

  function problemBox(p) {
    const heading = el('p', {class: 'problem-title'},
      el('strong', {text: str(p.title) || 'Error'}),
      p.status ? ' (' + p.status + ')' : '');
    const box = el('div', {class: 'problem', 'data-status': p.status || 0},
      heading, el('p', {class: 'problem-detail', text: str(p.detail) || str(p.message)}));
    if (p.status === 401)
      box.append(el('p', {text: 'Check the API token above: it may be mistyped or revoked.'}));
    if (p.requestId)
      box.append(el('p', {class: 'muted small'}, 'Request id: ', el('code', {text: p.requestId})));
    return box;
  }

  /*
   * A short summary for screen readers in the form's status region (the
   * result itself is not live: reading a whole card aloud helps nobody).
   * Cleared first so that the same message twice is announced twice.
   */
  function announce(id, text) {
    const s = $(id);
    s.textContent = '';
    window.setTimeout(() => {
      s.textContent = text;
    }, 50);
  }

  /* Render an error into a result region; 401 and "no token" send focus to the token. */
  function showProblem(region, statusId, p) {
    region.replaceChildren(problemBox(p));
    announce(statusId, (str(p.title) || 'Error') + (p.status ? ' (' + p.status + ')' : '') + ': ' +
      str(p.detail));
    if (p.status === 401 || (p.status === 0 && p.title === 'No token')) {
      showTokenState(p.status === 401 ? 'The saved token was refused.' : 'No token yet.', true);
      $('token').focus();
    }
  }

  function busy(region, button, on, message) {
    region.setAttribute('aria-busy', on ? 'true' : 'false');
    button.disabled = on;
    if (on)
      region.replaceChildren(el('p', {class: 'loading', text: message}));
  }

  function normalizeKey(raw) {
    const k = raw.trim();
    return /^a-s\d+$/i.test(k) ? k.toUpperCase() : k;
  }

  /* ===== Copy to the clipboard ===== */

  function legacyCopy(text) {
    const ta = el('textarea', {class: 'offscreen', readonly: true, 'aria-hidden': 'true',
      tabindex: '-1'});
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch (e) {
      ok = false;
    }
    ta.remove();
    return ok;
  }

  async function copyText(text, button, status, fallbackTarget) {
    let ok = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        ok = true;
      } catch (e) {
        ok = false;
      }
    }
    if (!ok)
      ok = legacyCopy(text);
    button.focus();
    if (ok) {
      status.textContent = 'Copied to the clipboard.';
      return;
    }
    /* Last resort: select the text so the user can copy it by hand. */
    const range = document.createRange();
    range.selectNodeContents(fallbackTarget);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    status.textContent = 'Could not copy: the text is selected, press Ctrl+C (⌘C on a Mac).';
  }

  /* A Markdown note in a <pre> with a Copy button and a status line. */
  function noteBlock(markdown, label) {
    const preId = uid('note');
    const pre = el('pre', {id: preId, class: 'note', tabindex: '0', 'aria-label': label},
      markdown);
    const status = el('p', {class: 'copy-status', role: 'status', 'aria-live': 'polite'});
    const button = el('button', {type: 'button', class: 'copy', 'aria-controls': preId,
      text: 'Copy note'});
    button.addEventListener('click', () => {
      status.textContent = '';
      copyText(markdown, button, status, pre);
    });
    return el('div', {class: 'note-block'}, el('div', {class: 'note-tools'}, button, status), pre);
  }

  /* ===== The decision card ===== */

  /* A contact as name and email on their own lines. */
  function contactNode(c) {
    const o = obj(c);
    const name = str(o.name);
    const email = str(o.email);
    if (!name && !email)
      return '—';
    return [name ? el('span', {class: 'line', text: name}) : null,
      email ? el('span', {class: 'line email'}, breakable(email)) : null];
  }

  /* An email address that may wrap after its "@" (a <wbr>, no markup parsing). */
  function breakable(email) {
    const at = email.indexOf('@');
    return at < 0 ? email : [email.slice(0, at + 1), el('wbr'), email.slice(at + 1)];
  }

  function sameContact(a, b) {
    const x = obj(a);
    const y = obj(b);
    return !!str(x.id) && str(x.id) === str(y.id);
  }

  function accountCard(title, a, extra) {
    const o = obj(a);
    const rows = [
      ['Name', orDash(o.name)],
      ['Account', orDash(o.number)],
      ['Sold-To', contactNode(o.sold_to)],
      ['Bill-To', sameContact(o.sold_to, o.bill_to)
        ? el('span', {class: 'muted', text: 'same as Sold-To'}) : contactNode(o.bill_to)],
      ['Partner account', yesNo(o.partner_account)],
      ['SSPChannel', orDash(o.ssp_channel)],
    ];
    const dl = el('dl', {class: 'kv'});
    for (const [k, v] of rows.concat(extra || []))
      dl.append(el('dt', {text: k}), el('dd', null, v));
    if (o.cached === false)
      dl.append(el('dt', {text: 'Note'}), el('dd', {text: 'account not cached yet'}));
    return el('div', {class: 'party'}, el('h4', {text: title}), dl);
  }

  function partnerCard(d) {
    const p = d.partner && typeof d.partner === 'object' ? d.partner : null;
    const dl = el('dl', {class: 'kv'});
    const rows = p
      ? [['Name', orDash(p.name)], ['Type', orDash(p.type)], ['Track', orDash(p.track)]]
      : [['Registry', 'the invoice owner is not a registered partner']];
    rows.push(['Resale partner', orDash(d.resale_partner)]);
    if (str(d.distributor))
      rows.push(['Distributor', str(d.distributor)]);
    for (const [k, v] of rows)
      dl.append(el('dt', {text: k}), el('dd', {text: v}));
    return el('div', {class: 'party partner'}, el('h4', {text: 'Partner'}), dl);
  }

  /* The policy notes as warnings; the never-send-license one stands out. */
  function policyBlock(pol) {
    const p = obj(pol);
    const neverSend = p.never_send_license_to_reseller === true;
    const notes = arr(p.notes).map(str).filter((n) => n);
    const items = notes.map((n) => neverSend && /never send a license/i.test(n)
      ? el('li', {class: 'warn-strong', 'data-warning': 'never_send_license_to_reseller', text: n})
      : el('li', {text: n}));
    if (neverSend && !items.some((li) => li.dataset.warning))
      items.unshift(el('li', {class: 'warn-strong', 'data-warning': 'never_send_license_to_reseller',
        text: 'Never send a license file to the reseller; the license goes to the Sold-To contact.'}));
    const dl = el('dl', {class: 'kv inline'});
    const rows = [
      ['Customers Portal', orDash(p.portal_access)],
      ['License goes to', str(p.license_recipient) === 'sold_to' ? 'the Sold-To contact'
        : orDash(p.license_recipient)],
      ['Changes via the reseller', yesNo(p.changes_through_reseller)],
      ['Legacy license exemption', p.legacy_license_needs_exemption === true ? 'needed'
        : p.legacy_license_needs_exemption === false ? 'not needed' : 'unknown'],
    ];
    for (const [k, v] of rows)
      dl.append(el('dt', {text: k}), el('dd', {text: v}));
    return section('Policy',
      items.length ? el('ul', {class: 'warnings'}, items)
        : el('p', {class: 'muted', text: 'No policy warnings.'}),
      dl);
  }

  /*
   * Explicit table roles: narrow windows restyle the rows as blocks, which
   * would otherwise drop the table semantics in some browsers.
   */
  function evidenceTable(evidence) {
    const rows = arr(evidence).map(obj);
    if (!rows.length)
      return section('Evidence', el('p', {class: 'muted', text: 'No evidence recorded.'}));
    const heads = ['Source', 'Object', 'Field', 'Value', 'Points to'];
    const capId = uid('cap');
    const cell = (i, ...children) => el('td', {role: 'cell', 'data-label': heads[i],
      class: i === 3 ? 'value' : null}, children);
    const source = (r) => ['zuora', 'salesforce', 'registry'].includes(str(r.source))
      ? str(r.source) : 'other';
    const table = el('table', {class: 'evidence', role: 'table', 'aria-labelledby': capId},
      el('caption', {id: capId, text: 'Evidence: ' + rows.length +
        ' facts from Zuora, Salesforce and the partner registry'}),
      el('thead', {role: 'rowgroup'}, el('tr', {role: 'row'},
        heads.map((h) => el('th', {scope: 'col', role: 'columnheader', text: h})))),
      el('tbody', {role: 'rowgroup'}, rows.map((r) => el('tr', {role: 'row',
        class: 'src-' + source(r)},
      cell(0, el('span', {class: 'source', text: orDash(r.source)})),
      cell(1, orDash(r.object)),
      cell(2, el('code', {text: orDash(r.field)})),
      cell(3, r.value === null ? el('span', {class: 'muted', text: 'null'}) : orDash(r.value)),
      cell(4, orDash(r.points_to))))));
    return section('Evidence',
      el('div', {class: 'table-scroll', tabindex: '0', role: 'group',
        'aria-label': 'Evidence table'}, table));
  }

  function conflictsBlock(conflicts) {
    const cs = arr(conflicts).map(obj);
    if (!cs.length)
      return null;
    const id = uid('sec');
    return el('section', {class: 'block conflicts', 'aria-labelledby': id},
      el('h4', {id: id}, 'Conflicts between sources (', String(cs.length), ')'),
      el('p', {class: 'small', text: 'Zuora wins: the channel above already follows it.'}),
      el('ul', null, cs.map((c) => el('li', null,
        el('code', {class: 'conflict-code', text: str(c.code)}), ' ', str(c.message)))));
  }

  function workflowsBlock(workflows) {
    const ws = arr(workflows).map(obj);
    if (!ws.length)
      return section('Workflows', el('p', {class: 'muted', text: 'No workflow applies.'}));
    return section('Workflows',
      el('ul', {class: 'workflows'}, ws.map((w) => el('li', null,
        link(w.handbook_url, str(w.title) || str(w.id)),
        el('span', {class: 'muted small'}, ' ', el('code', {text: str(w.id)}))))));
  }

  function freshnessBlock(fr) {
    const f = obj(fr);
    const z = obj(f.zuora);
    const s = obj(f.salesforce);
    const dl = el('dl', {class: 'kv'});
    const add = (label, iso, checkStale) => {
      const t = timeNode(iso);
      const dd = el('dd', null, t.node);
      if (checkStale && t.age !== null && t.age > STALE_SECONDS) {
        dd.classList.add('stale');
        dd.append(' ', el('span', {class: 'badge stale-badge', text: 'stale'}));
      }
      dl.append(el('dt', {text: label}), dd);
    };
    add('Zuora synced', z.synced_at, true);
    add('Zuora record updated', z.updated_at, false);
    dl.append(el('dt', {text: 'Zuora data from'}), el('dd', {text: orDash(z.origin)}));
    add('Salesforce synced', s.synced_at, true);
    add('Salesforce last sync', s.last_sync, false);
    add('Partner registry imported', obj(f.registry).imported_at, false);
    return section('Data freshness', dl);
  }

  /* The ticket note for the decision, fetched as Markdown when opened. */
  function decisionNote(key) {
    const body = el('div', {class: 'note-body'});
    const details = el('details', {class: 'block'},
      el('summary', {text: 'Ticket note (Markdown)'}), body);
    let loaded = false;
    details.addEventListener('toggle', async () => {
      if (!details.open || loaded)
        return;
      loaded = true;
      body.replaceChildren(el('p', {class: 'loading', text: 'Loading the note…'}));
      try {
        const md = await api('GET', '/v1/subscriptions/' + encodeURIComponent(key) + '/channel',
          undefined, 'text/markdown');
        body.replaceChildren(noteBlock(md, 'Ticket note for ' + key));
      } catch (e) {
        loaded = false;
        body.replaceChildren(problemBox(e));
      }
    });
    return details;
  }

  function decisionCard(d) {
    const key = str(d.subscription);
    const sd = obj(d.subscription_details);
    const titleId = uid('decision');
    const conf = str(d.confidence);
    const verdict = d.is_reseller === true
      ? el('p', {class: 'verdict yes', text: 'Bought through a channel partner (reseller purchase).'})
      : el('p', {class: 'verdict no', text: 'Not a reseller purchase.'});
    const meta = [orDash(sd.status), 'version ' + orDash(sd.version)];
    if (str(sd.term_start) || str(sd.term_end))
      meta.push('term ' + orDash(sd.term_start) + ' to ' + orDash(sd.term_end));
    const evaluateBtn = el('button', {type: 'button', class: 'secondary',
      text: 'Evaluate a request for ' + key});
    evaluateBtn.addEventListener('click', () => {
      $('ev-subscription').value = key;
      $('ev-type').focus();
    });
    return el('article', {class: 'card decision', 'aria-labelledby': titleId, 'data-subscription': key},
      el('header', {class: 'card-head'},
        el('h3', {id: titleId, tabindex: '-1'}, key),
        el('div', {class: 'badges'},
          el('span', {class: 'sr-only', text: 'Channel: '}), channelBadge(d.channel),
          el('span', {class: 'badge conf conf-' + (['low', 'medium', 'high'].includes(conf) ? conf : 'x'),
            text: (conf || 'unknown') + ' confidence'}),
          arr(d.conflicts).length
            ? el('span', {class: 'badge conflict-badge', text: arr(d.conflicts).length +
              (arr(d.conflicts).length === 1 ? ' conflict' : ' conflicts')})
            : null)),
      verdict,
      el('p', {class: 'meta', text: meta.join(' · ')}),
      conflictsBlock(d.conflicts),
      policyBlock(d.policy),
      el('div', {class: 'parties'},
        accountCard('Subscriber', d.subscriber),
        accountCard('Invoice owner', d.invoice_owner),
        partnerCard(d)),
      section('Why', list(arr(d.reasons))),
      evidenceTable(d.evidence),
      workflowsBlock(d.workflows),
      freshnessBlock(d.freshness),
      decisionNote(key),
      el('div', {class: 'card-actions'}, evaluateBtn));
  }

  /* ===== The evaluation card ===== */

  function evaluationCard(ev, type, typeLabel) {
    const key = str(ev.subscription);
    const action = str(ev.action);
    const titleId = uid('evaluation');
    const wf = obj(ev.workflow);
    const proof = arr(ev.required_proof);
    const warnings = arr(ev.warnings);
    return el('article', {class: 'card evaluation', 'aria-labelledby': titleId},
      el('header', {class: 'card-head'},
        el('h3', {id: titleId, tabindex: '-1', 'data-type': type}, typeLabel || type, ' on ', key),
        el('div', {class: 'badges'},
          el('span', {class: 'badge-label', text: 'Action:'}),
          el('span', {class: 'badge action-badge act-' + (ACTIONS[action] ? action : 'x'),
            'data-action': action, text: ACTIONS[action] || action || 'unknown'}),
          el('span', {class: 'sr-only', text: 'Channel: '}), channelBadge(ev.channel))),
      wf.title || wf.id
        ? el('p', {class: 'workflow'}, 'Workflow: ', link(wf.handbook_url, str(wf.title) || str(wf.id)))
        : null,
      warnings.length ? section('Warnings', list(warnings, 'warnings')) : null,
      section('Why', list(arr(ev.reasons))),
      proof.length ? section('Proof still needed (any one of)', list(proof)) : null,
      section('Ticket note (Markdown)', noteBlock(str(ev.note_markdown),
        'Ticket note for ' + type + ' on ' + key)));
  }

  /* ===== Forms ===== */

  function onTokenSubmit(e) {
    e.preventDefault();
    const input = $('token');
    const t = input.value.trim().replace(/^bearer\s+/i, '');
    if (!t || /\s/.test(t)) {
      showTokenState(t ? 'A token has no spaces.' : 'Enter a token first.', true);
      input.focus();
      return;
    }
    setToken(t);
    input.value = '';
    input.placeholder = 'saved (paste another to replace it)';
    showTokenState('Token saved for this browser tab.');
    $('subscription').focus();
  }

  function onTokenForget() {
    setToken('');
    $('token').value = '';
    $('token').placeholder = '';
    showTokenState('Token forgotten.', true);
    $('token').focus();
  }

  async function onLookup(e) {
    e.preventDefault();
    const region = $('lookup-result');
    const button = $('lookup-submit');
    const input = $('subscription');
    const key = normalizeKey(input.value);
    input.value = key;
    if (!key) {
      showProblem(region, 'lookup-status', {status: 0, title: 'Missing',
        detail: 'Enter a subscription number such as A-S00012345.'});
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    const seq = ++lookupSeq;
    busy(region, button, true, 'Looking up ' + key + '…');
    try {
      const d = obj(await api('GET', '/v1/subscriptions/' + encodeURIComponent(key) + '/channel'));
      if (seq !== lookupSeq)
        return;
      const card = decisionCard(d);
      region.replaceChildren(card);
      $('ev-subscription').value = str(d.subscription) || key;
      const n = arr(d.conflicts).length;
      announce('lookup-status', str(d.subscription) + ': channel ' + orDash(d.channel) + ', ' +
        (d.is_reseller === true ? 'a reseller purchase' : 'not a reseller purchase') + ', ' +
        orDash(d.confidence) + ' confidence' + (n ? ', ' + n + (n === 1 ? ' conflict' : ' conflicts') : '') + '.');
      card.querySelector('h3').focus();
    } catch (err) {
      if (seq !== lookupSeq)
        return;
      if (err.status === 400)
        input.setAttribute('aria-invalid', 'true');
      showProblem(region, 'lookup-status', err);
    } finally {
      if (seq === lookupSeq)
        busy(region, button, false);
    }
  }

  function readFacts(form) {
    const body = {};
    for (const sel of form.querySelectorAll('select[data-tristate]')) {
      if (sel.value === 'true' || sel.value === 'false')
        body[sel.name] = sel.value === 'true';
    }
    for (const name of ['requester_email', 'purchase_date', 'partner_track']) {
      const v = form.elements[name].value.trim();
      if (v)
        body[name] = v;
    }
    return body;
  }

  async function onEvaluate(e) {
    e.preventDefault();
    const form = $('evaluate-form');
    const region = $('evaluate-result');
    const button = $('evaluate-submit');
    const subInput = $('ev-subscription');
    const key = normalizeKey(subInput.value);
    const type = $('ev-type').value;
    subInput.value = key;
    if (!key) {
      showProblem(region, 'evaluate-status', {status: 0, title: 'Missing',
        detail: 'Enter the subscription the request is about.'});
      subInput.setAttribute('aria-invalid', 'true');
      subInput.focus();
      return;
    }
    subInput.removeAttribute('aria-invalid');
    const body = Object.assign({subscription: key, type: type}, readFacts(form));
    const seq = ++evaluateSeq;
    busy(region, button, true, 'Evaluating…');
    try {
      const ev = obj(await api('POST', '/v1/requests/evaluate', body));
      if (seq !== evaluateSeq)
        return;
      const sel = $('ev-type');
      const card = evaluationCard(ev, type, sel.options[sel.selectedIndex].text);
      region.replaceChildren(card);
      announce('evaluate-status', 'Action: ' + (ACTIONS[str(ev.action)] || orDash(ev.action)) + '. ' +
        arr(ev.warnings).length + ' warnings. The ticket note follows.');
      card.querySelector('h3').focus();
    } catch (err) {
      if (seq !== evaluateSeq)
        return;
      showProblem(region, 'evaluate-status', err);
    } finally {
      if (seq === evaluateSeq)
        busy(region, button, false);
    }
  }

  function start() {
    $('token-form').addEventListener('submit', onTokenSubmit);
    $('token-forget').addEventListener('click', onTokenForget);
    $('lookup-form').addEventListener('submit', onLookup);
    $('evaluate-form').addEventListener('submit', onEvaluate);
    $('evaluate-form').addEventListener('reset', () => {
      $('evaluate-result').replaceChildren();
    });
    tokenStateDefault();
  }

  if (document.readyState === 'loading')
    document.addEventListener('DOMContentLoaded', start);
  else
    start();
}());
