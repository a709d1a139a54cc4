// `cudalens report` rendered by a real Chromium (through playwright-core, as
// the VS Code end-to-end test does): a history of real benchmark runs (two
// of vector_add and an autotune sweep, on the adapter wgpu finds), the page
// loaded from disk with the network cut and JavaScript off, in light and
// dark mode. It must draw one point per run on the time and bandwidth
// charts, one bar per measured sweep candidate, with real sizes on the
// screen, and fetch nothing but itself. Run through tests/report/run.sh;
// screenshots go to tests/report/test-results/.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const repo = resolve(new URL('../..', import.meta.url).pathname);
const { chromium } = createRequire(join(repo, 'editors/vscode/package.json'))('playwright-core');
const bin = process.env.CUDALENS_BIN;
if (!bin) throw new Error('CUDALENS_BIN not set (see tests/report/run.sh)');
const results = join(repo, 'tests/report/test-results');
mkdirSync(results, { recursive: true });

const work = mkdtempSync(join(tmpdir(), 'cudalens-report-'));
mkdirSync(join(work, '.git'));
copyFileSync(join(repo, 'server/wgsl/tests/kernels/vector_add.cu'), join(work, 'vector_add.cu'));

function cudalens(...args) {
  const r = spawnSync(bin, args, { cwd: work, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cudalens ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

let failed = 0;
let browser;
function check(ok, what) {
  console.log(`${ok ? 'ok' : 'not ok'} - ${what}`);
  if (!ok) failed += 1;
}

try {
  const bench = ['bench', 'vector_add.cu', '--kernel', 'vector_add', '--iterations', '3', '--warmup', '1', '--json'];
  cudalens(...bench, '--size', '4096');
  cudalens(...bench, '--size', '4096');
  const sweep = JSON.parse(cudalens(...bench, '--size', '8192', '--autotune'));
  const measured = sweep.entries.filter((e) => e.outcome.status === 'measured').length;
  cudalens('report');
  const pagePath = join(work, '.cudalens/report.html');
  const html = readFileSync(pagePath, 'utf8');
  check(!/https?:\/\/(?!www\.w3\.org\/2000\/svg")/.test(html), 'the page names no URL but the SVG namespace');

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  for (const colorScheme of ['light', 'dark']) {
    // Offline and without JavaScript: the charts are plain SVG.
    const context = await browser.newContext({ offline: true, javaScriptEnabled: false, colorScheme,
      viewport: { width: 1100, height: 900 } });
    const requests = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(String(e)));
    await page.goto(pathToFileURL(pagePath).href);
    await page.waitForLoadState('load');

    const drawn = await page.evaluate(() => {
      const box = (el) => { const r = el.getBoundingClientRect(); return { w: r.width, h: r.height }; };
      const chart = (kind) => {
        const svg = document.querySelector(`svg.chart-${kind}`);
        if (!svg) return null;
        const lines = [...svg.querySelectorAll('polyline:not(.native)')];
        return {
          svg: box(svg),
          linePoints: lines.reduce((n, l) => n + l.points.numberOfItems, 0),
          lineWidth: Math.max(0, ...lines.map((l) => l.getBBox().width)),
          dots: [...svg.querySelectorAll('circle')].map((c) => ({ ...box(c), title: c.querySelector('title')?.textContent ?? '' })),
          bars: [...svg.querySelectorAll('rect.bar')].map((b) => ({ ...box(b), best: b.classList.contains('best') })),
          stroke: lines[0] ? getComputedStyle(lines[0]).stroke : '',
        };
      };
      return {
        time: chart('time'),
        bandwidth: chart('bandwidth'),
        sweep: chart('sweep'),
        background: getComputedStyle(document.body).backgroundColor,
        title: document.title,
        heading: document.querySelector('section.kernel h2')?.textContent,
      };
    });
    const label = `(${colorScheme})`;
    check(drawn.title === 'cudalens benchmark dashboard' && drawn.heading === 'vector_add', `${label} the page renders its kernel`);
    for (const kind of ['time', 'bandwidth']) {
      const c = drawn[kind];
      check(c && c.svg.w > 300 && c.svg.h > 150, `${label} the ${kind} chart has a size on screen`);
      // Two benchmarks and the sweep's best (another block size: its own series).
      check(c && c.linePoints === 3 && c.dots.length === 3, `${label} the ${kind} chart has 3 runs: ${c?.linePoints} points, ${c?.dots.length} dots`);
      check(c && c.dots.every((d) => d.w > 0 && /median .* ms/.test(d.title)), `${label} every ${kind} dot is drawn with a tooltip`);
      check(c && c.lineWidth > 0 && c.stroke !== 'none', `${label} the ${kind} line is drawn`);
    }
    const bars = drawn.sweep?.bars ?? [];
    check(bars.length === measured && measured >= 2, `${label} one sweep bar per measured candidate (${bars.length} of ${measured})`);
    const best = bars.find((b) => b.best);
    check(best && bars.every((b) => b.w > 0 && b.w >= best.w - 0.01), `${label} the best bar is the shortest`);
    const dark = drawn.background !== 'rgb(255, 255, 255)';
    check(dark === (colorScheme === 'dark'), `${label} the background follows the colour scheme (${drawn.background})`);
    const fetched = requests.filter((u) => u !== pathToFileURL(pagePath).href);
    check(fetched.length === 0, `${label} nothing fetched but the page itself: ${fetched.join(' ')}`);
    check(problems.length === 0, `${label} no console errors: ${problems.join(' | ')}`);
    await page.screenshot({ path: join(results, `report-${colorScheme}.png`), fullPage: true });
    await context.close();
  }
} catch (e) {
  console.log(`not ok - ${e?.stack ?? e}`);
  failed += 1;
} finally {
  await browser?.close().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}
console.log(failed ? `${failed} failed` : 'dashboard browser test passed');
process.exit(failed ? 1 : 0);
