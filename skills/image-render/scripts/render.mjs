// image-render: SVG → PNG with resvg (a maintained Rust renderer). stdin: {task, input: {svg, width?}};
// stdout: {format: "png", width, height, base64}. Refuses oversized input and output on its own so
// the answer always fits the hive's 1 MiB body cap.
import { Resvg } from '@resvg/resvg-js';

const MAX_SVG_BYTES = 512 * 1024;
const MAX_SIDE = 2048;
const MAX_PNG_BYTES = 600 * 1024;

function fail(message) {
  process.stdout.write(JSON.stringify({ message }));
  process.exit(1);
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { input } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const svg = input?.svg;
if (typeof svg !== 'string' || svg.length === 0) fail('input.svg: must be an SVG document');
if (Buffer.byteLength(svg) > MAX_SVG_BYTES) fail(`input.svg: larger than ${MAX_SVG_BYTES} bytes`);
const width = input.width;
if (width !== undefined && (!Number.isInteger(width) || width < 16 || width > MAX_SIDE)) {
  fail(`input.width: must be a whole number from 16 to ${MAX_SIDE}`);
}

let rendered;
try {
  const resvg = new Resvg(svg, {
    fitTo: width === undefined ? { mode: 'original' } : { mode: 'width', value: width },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  if (resvg.width > MAX_SIDE || resvg.height > MAX_SIDE) fail(`image larger than ${MAX_SIDE}x${MAX_SIDE}`);
  rendered = resvg.render();
} catch (err) {
  fail(
    `input.svg: not renderable (${String(err?.message ?? err)
      .split('\n')[0]
      .slice(0, 120)})`,
  );
}
const png = rendered.asPng();
if (png.length > MAX_PNG_BYTES)
  fail(`the PNG is larger than ${MAX_PNG_BYTES} bytes; ask for a smaller width`);
process.stdout.write(
  JSON.stringify({
    format: 'png',
    width: rendered.width,
    height: rendered.height,
    base64: png.toString('base64'),
  }),
);
