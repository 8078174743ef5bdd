// GET /v1/stream read by the `eventsource` npm package (the WHATWG
// EventSource for Node), someone else's client: it reads changes made
// through the API, loses its connection (a proxy in between is cut),
// reconnects by itself with Last-Event-ID, and must end with every change
// /v1/changes lists since it opened, each once, in order. The proxy also
// sees the raw bytes, so the keep-alive comments are checked there.
//
// Usage: node eventsource.mjs BASE_URL AGENT_KEY (with ES_PREFIX, the npm
// prefix the package is installed in; see eventsource.sh). Exit 0: passed.
import { createRequire } from 'node:module';
import net from 'node:net';

const require = createRequire(process.env.ES_PREFIX + '/node_modules/');
const { EventSource } = require('eventsource');

const [base, key] = process.argv.slice(2);
const types = ['complaint.created', 'complaint.note_added'];
const auth = { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };

const fail = (msg) => {
  console.error(`eventsource: FAIL: ${msg}`);
  process.exit(1);
};
setTimeout(() => fail('timed out'), 40000).unref();

async function api(method, path, body) {
  const r = await fetch(base + path, { method, headers: auth, body: body && JSON.stringify(body) });
  const j = await r.json();
  if (!r.ok) fail(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}

async function change(i) {
  const c = await api('POST', '/v1/complaints', {
    title: `Parcel ${i}`,
    description: 'The parcel was promised for Monday.',
    customer: { name: 'Grace Hopper' },
  });
  await api('POST', `/v1/complaints/${c.id}/notes`, { body: `note ${i}` });
}

const until = async (what, cond, ms = 15000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) fail(`waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

// A proxy that can be cut, and that sees what the server sends.
const target = new URL(base);
const open = new Set();
let raw = '';
const proxy = net.createServer((down) => {
  const up = net.connect(Number(target.port), target.hostname);
  open.add(down);
  open.add(up);
  down.pipe(up);
  up.on('data', (d) => {
    raw += d.toString('latin1');
  });
  up.pipe(down);
  const done = () => {
    down.destroy();
    up.destroy();
    open.delete(down);
    open.delete(up);
  };
  for (const s of [down, up]) {
    s.on('error', done);
    s.on('close', done);
  }
});
await new Promise((r) => proxy.listen(0, '127.0.0.1', r));

const start = (await api('GET', '/v1/changes?after=now')).next_after;
const lastIds = []; // the Last-Event-ID of each connection the client made
const got = [];
let opened = 0;
const es = new EventSource(
  `http://127.0.0.1:${proxy.address().port}/v1/stream?types=${types.join(',')}`,
  {
    fetch: (input, init) => {
      lastIds.push(init.headers['Last-Event-ID'] ?? null);
      return fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${key}` } });
    },
  },
);
es.onopen = () => opened++;
for (const t of types)
  es.addEventListener(t, (e) => got.push({ id: e.lastEventId, type: e.type, data: JSON.parse(e.data) }));

await until('the stream to open', () => opened === 1);
for (let i = 0; i < 3; i++) await change(i);
await until('the first six changes', () => got.length >= 6);
const seenBeforeCut = got[got.length - 1].id;

// Cut the connection; change more while the client is away.
for (const s of open) s.destroy();
for (let i = 3; i < 5; i++) await change(i);
await until('the client to reconnect', () => opened >= 2);
await until('all ten changes', () => got.length >= 10);
await new Promise((r) => setTimeout(r, 800)); // anything extra would come now
es.close();
proxy.close();

// The truth: /v1/changes after the same start, the same types.
const truth = (await api('GET', `/v1/changes?after=${start}&types=${types.join(',')}`)).items;
if (truth.length !== 10) fail(`/v1/changes lists ${truth.length} changes, not 10`);
if (got.length !== truth.length)
  fail(`received ${got.length} events for ${truth.length} changes: ${got.map((g) => g.id)}`);
truth.forEach((c, i) => {
  const g = got[i];
  if (g.id !== String(c.id) || g.type !== c.type || JSON.stringify(g.data) !== JSON.stringify(c))
    fail(`event ${i}: ${JSON.stringify(g)} is not change ${JSON.stringify(c)}`);
});
if (lastIds[0] !== null) fail(`the first connection sent Last-Event-ID ${lastIds[0]}`);
if (lastIds[1] !== seenBeforeCut)
  fail(`the reconnection sent Last-Event-ID ${lastIds[1]}, not ${seenBeforeCut}`);
if (!raw.includes(': keep-alive\n\n')) fail('no keep-alive comment seen');
console.error(`eventsource: ok (${got.length} changes, resumed after ${seenBeforeCut})`);
process.exit(0);
