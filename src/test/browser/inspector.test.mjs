// Drives the run inspector in headless Chromium, as a user would: read a run's journal, fork it
// from its first model call with another system prompt and compare the two runs, write and run
// evaluation cases, and settle a tool call whose outcome is unknown. Started by
// PlaygroundBrowserTest, which makes the runs over the API; exits non-zero on the first failed check.
import { env, check, waitForText, textOf, shot, runSteps, TIMEOUT } from './checks.mjs';

const BASE_URL = env('BASE_URL');
const API_KEY = env('API_KEY');
const RUN_ID = env('RUN_ID');
const IDEMPOTENCY_KEY = env('IDEMPOTENCY_KEY');
const ORDER_AGENT = env('ORDER_AGENT');
const UNKNOWN_RUN = env('UNKNOWN_RUN');
const SYSTEM_PROMPT = env('SYSTEM_PROMPT');
const FORK_INSTRUCTION = env('FORK_INSTRUCTION');
const FORK_ANSWER = env('FORK_ANSWER');
const ANSWER = env('ANSWER');
const PARENT_RUN = env('PARENT_RUN');
const CHILD_RUN = env('CHILD_RUN');
const WAITING_PARENT = env('WAITING_PARENT');

const step0 = '#timeline .step-card[data-step="0"]';
const steps = [];
const step = (name, body) => steps.push({ name, body });
let forkId = null;

async function noSideScroll(page, where) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `no horizontal scrolling at 390px on ${where} (content is ${width}px wide)`);
}

step('a run\'s address opens its inspector once signed in', async (page) => {
  await page.goto(`${BASE_URL}/#/runs/${encodeURIComponent(RUN_ID)}`);
  await page.fill('#api-key', API_KEY);
  await page.click('#sign-in');
  await waitForText(page, '#run-summary .badge', 'completed');
  check(page.url().endsWith(`#/runs/${encodeURIComponent(RUN_ID)}`), 'the address still names the run');
  await waitForText(page, '#run-summary', 'inspect-bot v1');
  await waitForText(page, '#run-summary', 'Model calls');
  await page.waitForFunction(() => document.querySelectorAll('#timeline .step-card').length === 3, null, { timeout: TIMEOUT });
});

step('the timeline shows each model call\'s exact request and raw response', async (page) => {
  await waitForText(page, `${step0} .answer`, 'asks for lookup_order');
  await waitForText(page, `${step0} .tokens`, 'tokens');
  check(!(await page.locator(`${step0} pre.request`).isVisible()), 'the request is collapsed at first');
  await page.click(`${step0} details.request summary`);
  check(await page.locator(`${step0} pre.request`).isVisible(), 'the request opens');
  await waitForText(page, `${step0} pre.request`, '"role": "system"');
  await waitForText(page, `${step0} pre.request`, SYSTEM_PROMPT);
  await waitForText(page, `${step0} pre.request`, '"model": "fake-model"');
  await page.click(`${step0} details.response summary`);
  await waitForText(page, `${step0} pre.response`, '"lookup_order"');
  await waitForText(page, '#timeline .step-card[data-step="2"] .answer', ANSWER);
  // What JSON.parse would round is cut out of the server's text as it is.
  const exact = await page.evaluate(async () => {
    const { jsonSpans, rawAt } = await import('/js/raw-json.js');
    const text = '{"data": [{"request": {"temperature": 0.3333333333333333333333333333333333, "s": "a\\"}"}}]}';
    return rawAt(text, jsonSpans(text), ['data', 0, 'request']);
  });
  check(exact === '{"temperature": 0.3333333333333333333333333333333333, "s": "a\\"}"}', `a request's text is kept as sent (got ${exact})`);
});

step('a tool call shows its arguments, result, idempotency key and how it was executed', async (page) => {
  const tool = '#timeline .step-card.tool[data-step="1"]';
  await waitForText(page, `${tool} .name`, 'lookup_order');
  await waitForText(page, `${tool} .badge`, 'completed');
  await waitForText(page, `${tool} pre.arguments`, '"q": "42"');
  await waitForText(page, `${tool} pre.result`, 'shipped');
  // More digits than a JavaScript number holds: shown as the tool answered.
  await waitForText(page, `${tool} pre.result`, '0.3333333333333333333333333333333333');
  check((await textOf(page, `${tool} .idempotency-key`)) === IDEMPOTENCY_KEY, 'the idempotency key is the journal\'s');
  await waitForText(page, `${tool} .executed-as`, 'http · idempotent · GET');
  await waitForText(page, `${tool} .duration`, 's');
  await page.click(`${tool} details.attempts summary`);
  await waitForText(page, `${tool} .attempt-list`, 'HTTP 200');
  await shot(page, 'inspector', true);
});

step('the chat transcript links each run to its inspector', async (page) => {
  await page.click('text=← Its conversation');
  await page.locator('.run-head a.inspect').first().waitFor();
  await page.click('.run-head a.inspect');
  await waitForText(page, '#run-summary .badge', 'completed');
  check(page.url().endsWith(`#/runs/${encodeURIComponent(RUN_ID)}`), 'the link opens this run');
});

step('"Fork from here" with an edited system prompt shows the run and its fork side by side', async (page) => {
  check(await page.locator('#timeline .step-card.tool button.fork').count() === 0, 'a tool call offers no fork (forks ask the model again)');
  await page.click(`${step0} button.fork`);
  check((await page.inputValue('#fork-prompt')) === SYSTEM_PROMPT, 'the prompt is prefilled with the one the call sent');
  // What the API refuses is shown on its field, and the form keeps what was typed.
  await page.fill('#fork-prompt', `${SYSTEM_PROMPT} Greet {{nickname}}.`);
  await page.fill('#fork-temperature', '0.2');
  await page.click('#start-fork');
  await waitForText(page, '[data-field="agent_overrides.system_prompt"].invalid .field-error', 'nickname');
  check((await page.inputValue('#fork-temperature')) === '0.2', 'the form keeps what was typed');
  await page.fill('#fork-prompt', `${SYSTEM_PROMPT} ${FORK_INSTRUCTION}`);
  await page.click('#start-fork');
  await page.waitForFunction((id) => location.hash.startsWith(`#/compare/${id}/`), encodeURIComponent(RUN_ID), { timeout: TIMEOUT });
  forkId = decodeURIComponent(page.url().split('/').pop());
  await waitForText(page, '#fork-point', 'step 0');
  await page.waitForFunction(() => document.querySelectorAll('.compare-head .badge.completed').length === 2, null, { timeout: TIMEOUT });
  const right = '.compare-cell.right[data-step="0"]';
  const left = '.compare-cell.left[data-step="0"]';
  await waitForText(page, `${right} .answer`, FORK_ANSWER);
  await waitForText(page, `${left} .answer`, 'asks for lookup_order');
  await waitForText(page, `${right} .badge.mark`, 'differs');
  await waitForText(page, `${right} .system-prompt`, FORK_INSTRUCTION);
  await page.click(`${right} details.request summary`);
  await waitForText(page, `${right} pre.request`, FORK_INSTRUCTION);
  check(!(await page.locator(`${left} pre.request`).textContent()).includes(FORK_INSTRUCTION), 'the original\'s request has the old prompt');
  await page.click(`${right} details.request summary`);
  await waitForText(page, '.compare-cell.right[data-step="1"]', 'no step 1');
  await waitForText(page, '.compare-cell.left[data-step="1"] .name', 'lookup_order');
  await waitForText(page, '.compare-head', FORK_ANSWER);
  await shot(page, 'fork-compare', true);
  await page.setViewportSize({ width: 390, height: 844 });
  await noSideScroll(page, 'the comparison');
  await shot(page, 'fork-compare-phone', true);
  await page.setViewportSize({ width: 1280, height: 860 });
});

step('the fork\'s inspector names the run it was forked from', async (page) => {
  await page.click('text=Inspect the fork');
  await waitForText(page, '#forked-from', 'at step 0');
  await page.click('#forked-from a >> nth=0');
  await waitForText(page, '#run-summary .badge', 'completed');
  check(page.url().endsWith(`#/runs/${encodeURIComponent(RUN_ID)}`), 'the link opens the original');
});

step('evaluation cases are written, checked and deleted on the agent\'s evaluations page', async (page) => {
  await page.goto(`${BASE_URL}/#/agents/${encodeURIComponent(ORDER_AGENT)}`);
  await page.click('#agent-evaluations');
  await waitForText(page, 'h1', 'Evaluations of');
  await waitForText(page, '#evaluation-cases', 'No cases yet');
  await page.fill('#case-name', 'looks the order up');
  await page.fill('#case-input', 'Where is order 42?');
  await page.click('#add-case');
  await waitForText(page, '#case-errors', 'needs at least one of');
  await page.fill('#case-tool-arguments', '{"type": "object",');
  await page.fill('#case-tool-called', 'lookup_order');
  await page.click('#add-case');
  await waitForText(page, '[data-field="expect.tool_arguments"].invalid .field-error', 'not valid JSON');
  await page.fill('#case-tool-arguments', '{"type": "object", "required": ["q"]}');
  await page.fill('#case-output-contains', 'shipped');
  await page.click('#add-case');
  await waitForText(page, '#evaluation-cases', 'looks the order up');
  check((await page.inputValue('#case-name')) === '', 'the form is emptied for the next case');
  for (const [name, contains] of [['answers in French', 'expédiée'], ['a case to delete', 'anything']]) {
    await page.fill('#case-name', name);
    await page.fill('#case-input', 'Where is order 42?');
    await page.fill('#case-output-contains', contains);
    await page.click('#add-case');
    await waitForText(page, '#evaluation-cases', name);
  }
  await page.click('[data-case="a case to delete"] .delete-case');
  await page.waitForFunction(() => document.querySelectorAll('#evaluation-cases .eval-case').length === 2, null, { timeout: TIMEOUT });
});

step('an evaluation runs every case and shows pass or fail with each case\'s run', async (page) => {
  await page.fill('#evaluation-version', '1');
  await page.click('#run-evaluation');
  await waitForText(page, '#evaluation-results', 'answers in French', 60_000);
  await waitForText(page, 'tr[data-case="looks the order up"] .verdict', 'pass');
  await waitForText(page, 'tr[data-case="answers in French"] .verdict', 'fail');
  await waitForText(page, 'tr[data-case="answers in French"] .why', 'does not contain \'expédiée\'');
  await waitForText(page, '#evaluation-report', '1 passed');
  await waitForText(page, '#evaluation-history', 'v1: 1 passed, 1 failed');
  await shot(page, 'evaluations', true);
  await page.setViewportSize({ width: 390, height: 844 });
  await noSideScroll(page, 'the evaluations page');
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.click('tr[data-case="looks the order up"] a.case-run');
  await waitForText(page, '#run-summary .badge', 'completed');
  await waitForText(page, '#timeline .step-card.tool .name', 'lookup_order');
  check(!page.url().endsWith(encodeURIComponent(RUN_ID)), 'the link opens the case\'s own run');
});

step('a call of unknown outcome offers three choices with their consequences, and is settled', async (page) => {
  await page.goto(`${BASE_URL}/#/runs/${encodeURIComponent(UNKNOWN_RUN)}`);
  await waitForText(page, '#run-summary .badge', 'requires action');
  await waitForText(page, '#required-action h2', 'outcome is unknown');
  await waitForText(page, '#timeline .step-card.tool .badge', 'unknown outcome');
  await waitForText(page, '#required-action [data-choice="again"] .consequence', 'may happen twice');
  await waitForText(page, '#required-action [data-choice="again"] .consequence', 'same Idempotency-Key');
  await waitForText(page, '#required-action [data-choice="settle"] .consequence', 'not executed again');
  await waitForText(page, '#required-action [data-choice="reject"] .consequence', 'Outcome unknown');
  check(await page.locator('#required-action button.again').isVisible(), 'execute it again is offered');
  check(await page.locator('#required-action button.not-again').isVisible(), 'not executing it again is offered');
  await shot(page, 'unknown-outcome', true);
  await page.click('#required-action button.settle');
  check(await page.locator('#required-action textarea.settle-output.invalid').count() === 1, 'an empty result is not sent');
  await page.fill('#required-action textarea.settle-output', '{"charged": true}');
  await page.click('#required-action button.settle');
  await waitForText(page, '#run-summary .badge', 'completed');
  check(await page.locator('#required-action').count() === 0, 'nothing is asked any more');
  await waitForText(page, '#timeline .step-card.tool pre.result', '"charged": true');
  await waitForText(page, '#timeline .step-card[data-step="2"] .answer', 'Noted');
  await page.setViewportSize({ width: 390, height: 844 });
  await noSideScroll(page, 'the inspector');
});

step('a parent lists its child runs as links, and a child links to its parent', async (page) => {
  await page.goto(`${BASE_URL}/#/runs/${encodeURIComponent(PARENT_RUN)}`);
  await waitForText(page, '#run-summary .badge', 'completed');
  await waitForText(page, '#child-runs', 'step 1');
  await waitForText(page, '#child-runs .badge', 'completed');
  check(await page.locator('#child-runs a.child-run').count() === 1, 'the parent lists its one child');
  check(await page.locator('#parent-run').count() === 0, 'a root run names no parent');
  await page.click('#child-runs a.child-run');
  await waitForText(page, '#parent-run', 'at step 1');
  check(page.url().endsWith(`#/runs/${encodeURIComponent(CHILD_RUN)}`), 'the link opens the child');
  await waitForText(page, '#run-summary .run-output', 'The helper did it.');
  check(await page.locator('#child-runs').count() === 0, 'a run that called no agent lists no children');
  await page.click('#parent-run a');
  await waitForText(page, '#child-runs .badge', 'completed');
  check(page.url().endsWith(`#/runs/${encodeURIComponent(PARENT_RUN)}`), 'the link opens the parent');
});

step('a parent whose child waits for an approval sends you to the child, and goes on once it is answered', async (page) => {
  await page.goto(`${BASE_URL}/#/runs/${encodeURIComponent(WAITING_PARENT)}`);
  await waitForText(page, '#run-summary .badge', 'requires action');
  await waitForText(page, '#required-action h2', 'A child run waits for you');
  await waitForText(page, '#required-action .call', 'Approve?');
  check(await page.locator('#required-action button.approve').count() === 0, 'nothing is approved on the parent');
  await page.click('#required-action a.child-action');
  await waitForText(page, '#required-action h2', 'Approve?');
  await waitForText(page, '#parent-run', 'at step 1');
  await page.click('#required-action button.approve');
  await waitForText(page, '#run-summary .badge', 'completed');
  await page.click('#parent-run a');
  await waitForText(page, '#run-summary .badge', 'completed');
  check(page.url().endsWith(`#/runs/${encodeURIComponent(WAITING_PARENT)}`), 'back on the parent');
  check(await page.locator('#required-action').count() === 0, 'the parent asks nothing any more');
});

await runSteps(steps, 'inspector: all checks passed');
