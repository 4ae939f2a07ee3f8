// The container HEALTHCHECK: GET $PARLEY_HEALTHCHECK_URL (default the health listener's
// /readyz on port 9090); exit 0 on a 2xx answer within 2 s, 1 otherwise (Docker's contract).
const url = process.env.PARLEY_HEALTHCHECK_URL || 'http://127.0.0.1:9090/readyz';
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
