#!/usr/bin/env node
/**
 * Capture docs/playground.png: Tracker answering in the Microsoft 365 Agents Playground's web UI.
 *
 * Made once by hand for the README, never by `make test`. Needs:
 *   - Tracker running with the demo data: `make run` (127.0.0.1:3978), or any endpoint via --endpoint;
 *   - the pinned playground under tests/kit/playground (the playground tests install it; or
 *     `npm ci --prefix tests/kit/playground`);
 *   - Debian's chromium (`apt-get install chromium`); playwright-core drives it. playwright-core is
 *     not a dependency of the repo: on first use it is installed, pinned, into a cache directory
 *     outside the repo (no browser download: playwright-core has no install script).
 *
 * Usage:
 *   node tests/kit/playground/screenshot.mjs [--endpoint http://127.0.0.1:3978/api/messages]
 *        [--out docs/playground.png] [--chromium /usr/bin/chromium] [--scene chat|search]
 *   (--scene search: the compose box's message extension searching "vettng", for docs/search.png)
 *
 * It starts its own playground on a free loopback port (as tests/kit/playground_driver.py does: bound to
 * 127.0.0.1 through a --require shim, no telemetry, no browser), opens it in headless Chromium with a
 * fresh profile, blocks every non-loopback request (the page asks an Office CDN for fonts and
 * animations), types into the personal chat like a person would and saves a PNG. It writes nothing:
 * the write it asks for is left at its Yes/No question. Everything it starts is stopped, and its temporary files removed, on exit.
 */

import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const PLAYWRIGHT_CORE = 'playwright-core@1.65.1';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..', '..');
const PLAYGROUND_BIN = path.join(HERE, 'node_modules', '.bin', 'agentsplayground');
const MAX_PNG_BYTES = 300 * 1024;
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
// The same loopback shim as tests/kit/playground_driver.py: the playground has no host option.
const LOOPBACK_SHIM = `'use strict';
const net = require('net');
const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (typeof first === 'number' || (typeof first === 'string' && /^\\d+$/.test(first))) {
    if (typeof args[1] === 'string') { args[1] = '127.0.0.1'; } else { args.splice(1, 0, '127.0.0.1'); }
  } else if (first === undefined || typeof first === 'function') {
    args.splice(0, 0, 0, '127.0.0.1');
  } else if (first && typeof first === 'object' && first.path === undefined && first.fd === undefined
             && first._handle === undefined && first.port !== undefined) {
    args[0] = Object.assign({}, first, { host: '127.0.0.1' });
  }
  return originalListen.apply(this, args);
};
`;

// The mocked tenant: the playground's default one with Tracker's name and made-up SD&A colleagues
// (the demo data's invented owners). The format is the playground's; it insists on five other users.
// Fresh chat ids each run (as the playground's own default does), so every capture starts with the welcome.
const TENANT_CONFIG = `version: "0.1.1"
tenantId: 00000000-0000-0000-0000-0000000000001
bot:
  id: 00000000-0000-0000-0000-00000000000011
  name: Tracker
currentUser:
  id: user-id-0
  name: Dan Morris
  userPrincipleName: dan.morris@example.com
  aadObjectId: 00000000-0000-0000-0000-0000000000020
  givenName: Dan
  surname: Morris
  email: dan.morris@example.com
users:
  - id: user-id-1
    name: Sarah Khan
    userPrincipleName: sarah.khan@example.com
    aadObjectId: 00000000-0000-0000-0000-000000000021
    givenName: Sarah
    surname: Khan
    email: sarah.khan@example.com
  - id: user-id-2
    name: Helen Price
    userPrincipleName: helen.price@example.com
    aadObjectId: 00000000-0000-0000-0000-000000000022
    givenName: Helen
    surname: Price
    email: helen.price@example.com
  - id: user-id-3
    name: Naomi Clarke
    userPrincipleName: naomi.clarke@example.com
    aadObjectId: 00000000-0000-0000-0000-000000000023
    givenName: Naomi
    surname: Clarke
    email: naomi.clarke@example.com
  - id: user-id-4
    name: Tom Reid
    userPrincipleName: tom.reid@example.com
    aadObjectId: 00000000-0000-0000-0000-000000000024
    givenName: Tom
    surname: Reid
    email: tom.reid@example.com
  - id: user-id-5
    name: Amy Patel
    userPrincipleName: amy.patel@example.com
    aadObjectId: 00000000-0000-0000-0000-000000000025
    givenName: Amy
    surname: Patel
    email: amy.patel@example.com
personalChat:
  id: ${randomUUID()}
groupChat:
  id: ${randomUUID()}
  name: SD&A leads
team:
  id: team-id
  name: Strategy, Delivery & Assurance
  aadGroupId: 00000000-0000-0000-0000-000000000031
  channels:
    - id: channel-hmicfrs-id
      name: HMICFRS tracker
`;

// The conversation shown (demo data): a list, then a write on an item of it, asked back as Yes/No.
const QUESTION = "what's overdue?";
const QUESTION_ANSWER = 'Overdue items';
// The search scene: a report's alias, with a typo, ranked by the same resolver as the chat.
const SEARCH = 'vettng';
const SEARCH_RESULT = 'Vetting, misconduct and misogyny (2022) rec 34';
const WRITE = 'mark fraud rec 1 as evidenced: call handlers now follow the NPCC economic crime guidance';

function log(message) {
  process.stderr.write(`screenshot: ${message}\n`);
}

function parseArgs(argv) {
  const options = {
    endpoint: 'http://127.0.0.1:3978/api/messages',
    out: path.join(REPO, 'docs', 'playground.png'),
    chromium: '/usr/bin/chromium',
    scene: 'chat', // chat: docs/playground.png; search: the compose box's message extension (docs/search.png)
  };
  for (let i = 0; i < argv.length; i += 1) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in options) || i + 1 >= argv.length) {
      throw new Error(`usage: screenshot.mjs [--endpoint URL] [--out FILE.png] [--chromium PATH] (bad: ${argv[i]})`);
    }
    options[name] = argv[i + 1];
    i += 1;
  }
  options.out = path.resolve(options.out);
  return options;
}

/** playwright-core, installed pinned into a cache directory outside the repo on first use. */
function loadPlaywright() {
  const cacheRoot = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const prefix = path.join(cacheRoot, 'tracker-screenshot');
  const manifest = path.join(prefix, 'package.json');
  const require = createRequire(manifest);
  try {
    return require('playwright-core');
  } catch {
    log(`installing ${PLAYWRIGHT_CORE} into ${prefix} (once)`);
    fs.mkdirSync(prefix, { recursive: true });
    if (!fs.existsSync(manifest)) {
      fs.writeFileSync(manifest, JSON.stringify({ name: 'tracker-screenshot-cache', private: true }));
    }
    const npm = spawnSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error',
      PLAYWRIGHT_CORE], { stdio: 'inherit' });
    if (npm.status !== 0) throw new Error(`npm install ${PLAYWRIGHT_CORE} failed`);
    return require('playwright-core');
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function assertReachable(endpoint) {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 80) });
    socket.setTimeout(3000);
    const fail = () => {
      socket.destroy();
      reject(new Error(`nothing listens at ${endpoint}: start Tracker first (make run)`));
    };
    socket.once('connect', () => { socket.end(); resolve(); });
    socket.once('error', fail);
    socket.once('timeout', fail);
  });
}

/** Start the playground against ``endpoint``; resolve with {child, port} once it serves its page. */
async function startPlayground(endpoint, workdir) {
  if (!fs.existsSync(PLAYGROUND_BIN)) {
    throw new Error(`${PLAYGROUND_BIN} is missing: run \`npm ci --prefix tests/kit/playground\``);
  }
  const shim = path.join(workdir, 'loopback-shim.cjs');
  fs.writeFileSync(shim, LOOPBACK_SHIM);
  const config = path.join(workdir, '.m365agentsplayground.yml');
  fs.writeFileSync(config, TENANT_CONFIG);
  const env = { ...process.env };
  for (const name of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY',
    'SEND_INSTALLATION_ACTIVITY', 'TEAMSAPPTESTER_PORT', 'BOT_ENDPOINT']) {
    delete env[name];
  }
  Object.assign(env, {
    TEAMSAPPTESTER_BROWSER: 'none',
    M365_AGENTS_PLAYGROUND_LOGFILE: path.join(workdir, 'playground.log'),
    M365_AGENTS_PLAYGROUND_CONFIG_PATH: config,
    NODE_OPTIONS: `${env.NODE_OPTIONS || ''} --require "${shim}"`.trim(),
  });
  const requested = await freePort();
  const child = spawn(PLAYGROUND_BIN, ['-e', endpoint, '-c', 'msteams', '-p', String(requested), '--dt'], {
    cwd: workdir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  const port = await new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`playground did not start: ${seen}`)), 30000);
    child.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = /Listening on (\d+)/.exec(seen);
      if (match) { clearTimeout(timer); resolve(Number(match[1])); }
    });
    child.stderr.on('data', (chunk) => { seen += chunk; });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`playground exited (${code}): ${seen}`)); });
  });
  // "Listening on" comes just before the routes are mounted: wait for the ping route.
  for (let attempt = 0; attempt < 100; attempt += 1) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/_debug/ping`);
      if (response.ok) return { child, port };
    } catch { /* not yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`playground never answered /_debug/ping; its log:\n${logTail(workdir)}`);
}

function logTail(workdir) {
  try {
    return fs.readFileSync(path.join(workdir, 'playground.log'), 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

function stopPlayground(child) {
  if (!child || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM'); // its own process group (detached), never anything by name
  } catch { /* already gone */ }
}

/** Type like a person into the compose box (a Lexical editor) and send with Enter. */
async function say(page, text) {
  const box = page.locator('[data-lexical-editor="true"][role="textbox"]');
  await box.click();
  await box.pressSequentially(text, { delay: 5 });
  await page.keyboard.press('Enter');
}

/** Issue 15: search from the compose box (the playground's search-based message extension). */
async function searchScene(page) {
  await page.getByRole('button', { name: 'Trigger Message Extension App' }).click();
  await page.getByText('Search Command', { exact: true }).click();
  await page.getByText('Specify Command ID or Parameter', { exact: true }).click();
  // The manifest's command (manifest/manifest.template.json): searchItems, parameter "query".
  await page.getByPlaceholder('Command ID').fill('searchItems');
  await page.getByPlaceholder('Parameter name').fill('query');
  await page.getByText('Specify Command ID or Parameter', { exact: true }).click(); // fold it: room for results
  const box = page.getByPlaceholder('Enter a search term');
  await box.click();
  await box.pressSequentially(SEARCH, { delay: 40 });
  await page.getByText(SEARCH_RESULT, { exact: true }).first().waitFor({ timeout: 20000 });
}

async function capture(options) {
  const { chromium } = loadPlaywright();
  await assertReachable(options.endpoint);
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracker-screenshot-'));
  let playground;
  let context;
  try {
    playground = await startPlayground(options.endpoint, workdir);
    log(`playground on 127.0.0.1:${playground.port} against ${options.endpoint}`);
    context = await chromium.launchPersistentContext(path.join(workdir, 'profile'), {
      executablePath: options.chromium,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 1440 },
      deviceScaleFactor: 1,
      locale: 'en-GB',
      timezoneId: 'Europe/London',
    });
    const blocked = new Set();
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') return route.continue();
      blocked.add(url.origin);
      return route.abort();
    });
    const page = context.pages()[0] || await context.newPage();
    await page.goto(`http://127.0.0.1:${playground.port}/`, { waitUntil: 'networkidle' });
    await page.getByRole('treeitem', { name: 'Personal Chat' }).click();
    await page.getByTitle('Hide log panel').click();

    if (options.scene === 'search') {
      await page.setViewportSize({ width: 1280, height: 820 });
      await searchScene(page);
    } else {
      await say(page, QUESTION);
      await page.getByText(QUESTION_ANSWER, { exact: true }).first().waitFor({ timeout: 20000 });
      await say(page, WRITE);
      // The confirmation card; its Yes is not pressed, so the database is left as it was.
      await page.getByRole('button', { name: 'Yes', exact: true }).waitFor({ timeout: 20000 });
    }
    // Let the last card finish laying out and the chat settle at the bottom.
    await page.waitForTimeout(800);

    fs.mkdirSync(path.dirname(options.out), { recursive: true });
    await page.screenshot({ path: options.out });
    const size = fs.statSync(options.out).size;
    log(`wrote ${path.relative(process.cwd(), options.out)} (${Math.round(size / 1024)} KB); blocked: ${[...blocked].join(', ') || 'nothing'}`);
    if (size > MAX_PNG_BYTES) throw new Error(`the PNG is ${size} bytes, over ${MAX_PNG_BYTES}`);
  } finally {
    if (context) await context.close();
    stopPlayground(playground?.child);
    fs.rmSync(workdir, { recursive: true, force: true });
  }
}

capture(parseArgs(process.argv.slice(2))).catch((error) => {
  log(error.stack || String(error));
  process.exitCode = 1;
});
