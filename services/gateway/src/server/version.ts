import { readFileSync } from 'node:fs';

/** Name and version this server reports (XEP-0092), read from the gateway's package.json. */
export const SOFTWARE = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return { name: 'parley', version: pkg.version ?? '0.0.0' };
  } catch {
    return { name: 'parley', version: '0.0.0' };
  }
})();
