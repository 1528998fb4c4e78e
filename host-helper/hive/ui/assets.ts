// The live view's static files (index.html, app.js, app.css: no CDN, no framework), read from
// ./static beside this module; `npm run build` inlines them into the single-file bundle instead
// (image/bundle.ts replaces this module with one holding the same files, built from UI_FILES).
import { readFileSync } from 'node:fs';

/** File name → content type: the page's whole set of files. */
export const UI_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

export interface UiAsset {
  type: string;
  body: string;
}

let cache: Record<string, UiAsset> | undefined;

export function uiAssets(): Record<string, UiAsset> {
  cache ??= Object.fromEntries(
    Object.entries(UI_FILES).map(([name, type]) => [
      name,
      { type, body: readFileSync(new URL(`./static/${name}`, import.meta.url), 'utf8') },
    ]),
  );
  return cache;
}
