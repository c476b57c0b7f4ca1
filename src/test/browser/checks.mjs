// What a browser script needs: its settings, checks that say what they saw, screenshots, and a
// runner that stops at the first failed step and fails on any error the page logs.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const TIMEOUT = 15_000;

export function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name}`);
  return value;
}

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/** Waits until some element matching `selector` contains `expected`. */
export async function waitForText(page, selector, expected, timeout = TIMEOUT) {
  try {
    await page.waitForFunction(([sel, text]) => [...document.querySelectorAll(sel)].some(e => e.textContent.includes(text)),
      [selector, expected], { timeout });
  } catch {
    const seen = await page.locator(selector).allTextContents().catch(() => []);
    throw new Error(`check failed: ${selector} should contain "${expected}"; saw ${JSON.stringify(seen.map(s => s.slice(0, 400)))}`);
  }
}

export async function textOf(page, selector) {
  await page.locator(selector).first().waitFor({ timeout: TIMEOUT });
  return (await page.locator(selector).first().textContent()).trim();
}

export async function shot(page, name, fullPage = false) {
  const dir = process.env.SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  // A sticky header is drawn where the page was scrolled to: from the top, it sits at the top.
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage });
}

/** Runs the steps in order in one page; prints ok/FAIL per step and `done` when all passed. */
export async function runSteps(steps, done) {
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
    page.on('dialog', d => d.accept());
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
  console.log(done);
}
