// bar-chart: {title?, values: {label: number}, width?} → SVG (here) → PNG (borrowed image-render).
// Speaks the runner's borrow protocol: prints {"borrow": {...}} on stdout, reads {"borrowed": {...}}
// from stdin, then prints its output. No network, no env: everything goes through the agent.
import { createInterface } from 'node:readline';

const lines = createInterface({ input: process.stdin });
const iterator = lines[Symbol.asyncIterator]();
const next = async () => JSON.parse((await iterator.next()).value);

function fail(message) {
  process.stdout.write(`${JSON.stringify({ message })}\n`);
  process.exit(1);
}

const escapeXml = (s) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function chartSvg(title, entries, width) {
  const height = Math.round(width * 0.6);
  const top = 40;
  const bottom = 30;
  const gap = 8;
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const barWidth = (width - gap * (entries.length + 1)) / Math.max(1, entries.length);
  const bars = entries
    .map(([label, value], i) => {
      const h = ((height - top - bottom) * value) / max;
      const x = gap + i * (barWidth + gap);
      const y = height - bottom - h;
      return (
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" fill="#3b7dd8"/>` +
        `<text x="${(x + barWidth / 2).toFixed(1)}" y="${height - 10}" font-size="12" text-anchor="middle">${escapeXml(label)}</text>`
      );
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="100%" height="100%" fill="#ffffff"/>` +
    `<text x="${width / 2}" y="26" font-size="18" text-anchor="middle">${escapeXml(title)}</text>${bars}</svg>`
  );
}

const { input } = await next();
const title = typeof input?.title === 'string' ? input.title.slice(0, 100) : 'Chart';
const values = input?.values;
if (values === null || typeof values !== 'object' || Array.isArray(values))
  fail('input.values: must be an object');
const entries = Object.entries(values);
if (entries.length === 0 || entries.length > 50) fail('input.values: must hold 1 to 50 bars');
if (!entries.every(([, v]) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
  fail('input.values: every value must be a finite number >= 0');
}
const width = Number.isInteger(input.width) && input.width >= 120 && input.width <= 1600 ? input.width : 480;

process.stdout.write(
  `${JSON.stringify({ borrow: { id: 'render', capability: 'image-render', input: { svg: chartSvg(title, entries, width) } } })}\n`,
);
const { borrowed } = await next();
if (borrowed?.status !== 'ok') fail(`image-render failed: ${borrowed?.output?.message ?? 'no answer'}`);
process.stdout.write(`${JSON.stringify({ title, bars: entries.length, png: borrowed.output })}\n`);
process.exit(0);
