/**
 * The environment for a child process under test: the parent's environment without any
 * `PARLEY_*` or `REDIS_URL` variable (so a developer's shell settings cannot change a test),
 * plus `vars`.
 */
export function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('PARLEY_') || name === 'REDIS_URL') continue;
    env[name] = value;
  }
  return { ...env, ...vars };
}
