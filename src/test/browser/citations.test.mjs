// Drives the playground in headless Chromium as a user would: a conversation whose answer came
// from a knowledge base shows its sources, each a link to the passage cited; the run inspector
// shows them too. Started by PlaygroundBrowserTest; exits non-zero on the first failed check.
import { env, check, waitForText, shot, runSteps } from './checks.mjs';

const BASE_URL = env('BASE_URL');
const API_KEY = env('API_KEY');
const RUN_ID = env('RUN_ID');
const CONVERSATION_ID = env('CONVERSATION_ID');
const PASSAGE = env('PASSAGE');

const steps = [];
const step = (name, body) => steps.push({ name, body });

step('the conversation shows the answer\'s sources as links', async (page) => {
  await page.goto(`${BASE_URL}/#/conversations/${encodeURIComponent(CONVERSATION_ID)}`);
  await page.fill('#api-key', API_KEY);
  await page.click('#sign-in');
  await waitForText(page, '.citations', 'Sources');
  await waitForText(page, '.citations a.citation', 'leave.md › Time off › Vacation');
  await shot(page, 'citations');
});

step('a source opens the passage it cites', async (page) => {
  await page.click('.citations a.citation');
  await waitForText(page, '#chunk .chunk-text', PASSAGE);
  await waitForText(page, '#chunk', 'handbook › Time off › Vacation');
  check(page.url().includes('#/chunks/'), 'the address names the chunk');
});

step('the run inspector lists the same sources', async (page) => {
  await page.goto(`${BASE_URL}/#/runs/${encodeURIComponent(RUN_ID)}`);
  await waitForText(page, '#run-sources a.citation', 'leave.md › Time off › Vacation');
});

await runSteps(steps, 'citations: all checks passed');
