// Types for the deep imports of undici used by the providers (see http.ts): the same objects that
// undici's index exports as `errors`, `getGlobalDispatcher` and (internally) `util.parseURL`.
declare module 'undici/lib/core/errors.js' {
  import type { errors } from 'undici';

  const undiciErrors: typeof errors;
  export default undiciErrors;
}

declare module 'undici/lib/core/util.js' {
  const util: { parseURL(url: string): URL };
  export default util;
}

declare module 'undici/lib/global.js' {
  import type { getGlobalDispatcher } from 'undici';

  const global: { getGlobalDispatcher: typeof getGlobalDispatcher };
  export default global;
}
