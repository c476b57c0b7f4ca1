// Drives the playground in headless Chromium: sign in, build a tool and an agent, chat, approve a
// tool call, watch the answer stream, reopen the conversation. Started by PlaygroundBrowserTest,
// which runs the server and the scripted model; exits non-zero on the first failed check.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name}`);
  return value;
};
const BASE_URL = env('BASE_URL');
const API_KEY = env('API_KEY');
const TOOL_URL = env('TOOL_URL');
const MODEL = env('MODEL');
const ANSWER = env('ANSWER');
const FOLLOW_UP = env('FOLLOW_UP');
const CLIENT_TOOL_AGENT = env('CLIENT_TOOL_AGENT');
const SCREENSHOTS = process.env.SCREENSHOTS || '';
const TIMEOUT = 15_000;

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function textOf(locator) {
  await locator.first().waitFor({ timeout: TIMEOUT });
  return (await locator.first().textContent()).trim();
}

/** Waits until the locator's text contains `expected`. */
async function waitForText(page, selector, expected) {
  try {
    await page.waitForFunction(([sel, text]) => [...document.querySelectorAll(sel)].some(e => e.textContent.includes(text)),
      [selector, expected], { timeout: TIMEOUT });
  } catch {
    const seen = await page.locator(selector).allTextContents().catch(() => []);
    throw new Error(`check failed: ${selector} should contain "${expected}"; saw ${JSON.stringify(seen)}`);
  }
}

async function shot(page, name, fullPage = false) {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

const steps = [];
function step(name, body) {
  steps.push({ name, body });
}

step('the sign-in page refuses a wrong key with the API\'s message, then accepts the right one', async (page) => {
  await page.goto(`${BASE_URL}/`);
  await page.locator('#api-key').waitFor();
  await shot(page, 'sign-in');
  await page.fill('#api-key', 'ary_not_a_real_key');
  await page.click('#sign-in');
  await waitForText(page, '#signin-error', 'invalid');
  await page.fill('#api-key', API_KEY);
  await page.click('#sign-in');
  await waitForText(page, 'h1', 'Agents');
  await page.waitForLoadState('networkidle');
  check(await page.locator('h1', { hasText: 'Agents' }).count() === 1, 'the agents list is shown once after signing in');
  check(await page.locator('#topbar').isVisible(), 'the navigation shows after signing in');
  const stored = await page.evaluate(() => ({ session: sessionStorage.length, local: localStorage.length }));
  check(stored.session === 1 && stored.local === 0, 'the key is in sessionStorage only');
});

step('an HTTP tool is created with a checked JSON Schema and tested with the test button', async (page) => {
  await page.click('nav a[data-section=tools]');
  await page.click('#new-tool');
  await page.locator('#tool-name').waitFor();
  await page.fill('#tool-name', 'lookup_order');
  await page.fill('#tool-description', 'Look up an order by its number');
  await page.fill('#tool-parameters', '{"type": "object",');
  await waitForText(page, '#tool-parameters-status', 'invalid JSON');
  check(await page.locator('#save-tool').isDisabled(), 'save is disabled while the schema is not valid JSON');
  await page.fill('#tool-parameters', JSON.stringify({
    type: 'object',
    properties: { order_id: { type: 'string', description: 'the order number' } },
    required: ['order_id'],
  }, null, 2));
  await waitForText(page, '#tool-parameters-status', 'valid JSON');
  await page.fill('#tool-url', TOOL_URL);
  await page.click('#save-tool');
  await waitForText(page, 'h1', 'lookup_order');
  await page.fill('#tool-test-arguments', '{"order_id": "42"}');
  await page.click('#test-tool');
  await waitForText(page, '#tool-test-result', 'shipped');
  check((await textOf(page.locator('#tool-test-result .badge'))) === 'ok', 'the test call succeeded');
  await shot(page, 'tool-editor');
});

step('an invalid agent shows the problem JSON\'s field errors next to the fields', async (page) => {
  await page.click('nav a[data-section=agents]');
  await page.click('#new-agent');
  await page.locator('#agent-name').waitFor();
  await page.fill('#agent-name', 'Bad Name');
  await page.fill('#agent-model', MODEL);
  await page.selectOption('#agent-provider', 'fake');
  await page.click('#save-agent');
  await waitForText(page, '#agent-errors', 'name');
  check(await page.locator('[data-field="name"].invalid .field-error').isVisible(), 'the name field is marked');
});

step('an agent is created with a tool and variables, then edited into version 2', async (page) => {
  await page.fill('#agent-name', 'order-bot');
  await page.fill('#agent-description', 'Answers questions about orders');
  await page.fill('#agent-prompt', 'You help {{customer}} with their orders. Use the tools to look orders up.');
  await waitForText(page, '#agent-variables', '{{customer}}');
  await page.selectOption('#agent-provider', 'fake');
  await page.fill('#agent-model', MODEL);
  await page.check('input[name=tool][value=lookup_order]');
  await page.selectOption('#agent-approval', 'always');
  await page.fill('#agent-max-steps', '5');
  await page.click('#save-agent');
  await waitForText(page, '#agent-version', 'version 1');
  await page.fill('#agent-description', 'Answers questions about orders, politely');
  await page.click('#save-agent');
  await waitForText(page, '#agent-version', 'version 2');
  await page.waitForFunction(() => document.querySelectorAll('#agent-versions li').length === 2, null, { timeout: TIMEOUT });
  check(await page.locator('input[name=tool][value=lookup_order]').isChecked(), 'the tool stays selected');
  await page.locator('#agent-versions button').last().click();
  await waitForText(page, '.version-view', 'Version 1');
  await shot(page, 'agent-editor');
});

step('a chat asks to approve the tool call, runs it, and streams the answer', async (page) => {
  await page.click('#chat-agent');
  await page.locator('#var-customer').waitFor();
  // Left empty, the variable is refused before anything is sent, and stays editable.
  await page.fill('#var-customer', '  ');
  await page.fill('#chat-input', 'Where is order 42?');
  await page.press('#chat-input', 'Enter');
  await waitForText(page, '#chat-errors', 'must not be empty');
  await waitForText(page, '#chat-variables .field.invalid .field-error', 'must not be empty');
  check(await page.locator('.msg.user').count() === 0, 'nothing is sent while a variable is empty');
  check(!(await page.locator('#var-customer').isDisabled()), 'the empty variable can still be filled in');
  check((await page.inputValue('#chat-input')) === 'Where is order 42?', 'the message is kept');
  await page.fill('#var-customer', 'Ada');
  await page.fill('#chat-input', 'Where is order 42?');
  await page.press('#chat-input', 'Enter');
  await waitForText(page, '#required-action', 'lookup_order');
  await waitForText(page, '#required-action pre', '"order_id": "42"');
  await waitForText(page, '.step.tool .badge', 'pending');
  await shot(page, 'chat-approval');

  // Record every text the streaming bubble shows, to see the answer arrive piece by piece.
  await page.evaluate(() => {
    window.seenTexts = [];
    new MutationObserver(() => {
      document.querySelectorAll('.msg.assistant.streaming').forEach(el => window.seenTexts.push(el.textContent));
    }).observe(document.getElementById('transcript'), { subtree: true, childList: true, characterData: true });
  });
  await page.click('#required-action .approve');
  await waitForText(page, '.step.tool .result', 'shipped');
  await waitForText(page, '.step.tool .result', '0.3333333333333333333333333333333333');
  await waitForText(page, '.msg.assistant', ANSWER);
  await page.waitForFunction(() => !document.querySelector('.msg.assistant.streaming'), null, { timeout: TIMEOUT });
  const seen = await page.evaluate(() => window.seenTexts);
  check(seen.some(t => t.length > 0 && t.length < ANSWER.length && ANSWER.startsWith(t)),
    `the answer was shown while streaming (saw ${JSON.stringify(seen.slice(0, 5))})`);
  await waitForText(page, '.run-head .badge', 'completed');
  await waitForText(page, '.step.tool .duration', 's'); // "12 ms": the journal's duration is shown
  await waitForText(page, '.step.llm .tokens', 'tokens');
  // Durations come from the run's journal, read once the run has ended.
  await page.waitForFunction(() => document.querySelectorAll('.step.llm .duration').length === 2, null, { timeout: TIMEOUT });
  check(page.url().includes('#/conversations/'), 'the address now names the conversation');
  check(!(await page.locator('#send').isDisabled()), 'the composer is open again');
});

step('a follow-up message continues the same conversation', async (page) => {
  const url = page.url();
  await page.fill('#chat-input', 'Thanks!');
  await page.click('#send');
  await waitForText(page, '.msg.assistant', FOLLOW_UP);
  await page.waitForFunction(() => document.querySelectorAll('.run-head .badge.completed').length === 2, null, { timeout: TIMEOUT });
  check(page.url() === url, 'still the same conversation');
  await page.waitForFunction(() => document.querySelectorAll('.step.llm .duration').length === 3, null, { timeout: TIMEOUT });
  await shot(page, 'chat', true);
});

step('the page fits a phone screen', async (page) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `no horizontal scrolling at 390px (content is ${width}px wide)`);
  await shot(page, 'chat-phone');
  await page.setViewportSize({ width: 1280, height: 860 });
});

step('the conversation is listed and reopens with its steps', async (page) => {
  await page.click('nav a[data-section=conversations]');
  await waitForText(page, '#conversation-list', 'order-bot');
  await page.click('#conversation-list a');
  await waitForText(page, '.msg.user', 'Where is order 42?');
  await waitForText(page, '.step.tool .result', 'shipped');
  await waitForText(page, '.msg.assistant', ANSWER);
  await waitForText(page, '.msg.assistant', FOLLOW_UP);
  check(await page.locator('.run').count() === 2, 'both runs are shown');
  await waitForText(page, '#chat-variables', 'customer');
  check(await page.locator('#var-customer').isDisabled(), 'variables are fixed once the conversation exists');
});

step('a client tool\'s output is typed into the page and the run goes on', async (page) => {
  await page.goto(`${BASE_URL}/#/chat/${encodeURIComponent(CLIENT_TOOL_AGENT)}`);
  await page.fill('#chat-input', 'Pick a color for me');
  await page.press('#chat-input', 'Enter');
  await waitForText(page, '#required-action', 'ask_user');
  await page.fill('#required-action textarea.output', 'Blue');
  await page.click('#submit-outputs');
  await waitForText(page, '.step.tool .result', 'Blue');
  await waitForText(page, '.msg.assistant', 'Blue it is.');
  await waitForText(page, '.run-head .badge', 'completed');
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(TIMEOUT);
  const pageErrors = [];
  page.on('pageerror', e => pageErrors.push(e.message));
  page.on('console', m => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) pageErrors.push(m.text()); });
  for (const { name, body } of steps) {
    try {
      await body(page);
      console.log(`ok   ${name}`);
    } catch (e) {
      console.log(`FAIL ${name}\n     ${e.message.split('\n').join('\n     ')}`);
      await shot(page, 'failure', true).catch(() => {});
      failed = true;
      break;
    }
  }
  if (!failed && pageErrors.length) {
    console.log(`FAIL the page logged errors: ${pageErrors.join(' | ')}`);
    failed = true;
  }
} finally {
  await browser.close();
}
if (failed) process.exit(1);
console.log('playground: all checks passed');
