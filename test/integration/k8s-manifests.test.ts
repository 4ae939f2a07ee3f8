/*
 * Kubernetes manifests (issue #14 item 3), checked statically: deploy/k8s/base and
 * deploy/k8s/overlays/example are rendered with `kubectl kustomize` (offline; Debian's
 * `kubernetes-client`, installed by `scripts/bootstrap.mjs --with-deploy-tools`) and parsed
 * as YAML. The configuration file in the rendered ConfigMap is loaded with the real
 * `loadConfig` under the environment each container gets (the image's ENV from the
 * Dockerfile, then the container's own), so that the probes, container ports and Service
 * ports are compared with the ports the processes will actually listen on. Also: the grace
 * period against the services' stop limit, PodDisruptionBudgets selecting exactly their
 * Deployment's pods, the non-root user of the image, resources, and no secret in the output.
 * No cluster runs here: nothing is applied. What can run does: the three services are
 * started from dist/ with the overlay's rendered configuration and each container's
 * environment, their probe paths are fetched, and SIGTERM must stop each within the stop
 * limit the grace periods are computed from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ENV_VARS, loadConfig, type Config } from '@parley/config';
import { repoRoot, startAdminApi, startGateway, startRedis, startRoomWorker, type ServiceProcess } from '@parley/testkit';
import { writeSelfSignedCert } from './support/tls.js';

const root = repoRoot();
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** A rendered Kubernetes object; specs are checked field by field, hence `any`. */
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });

/** `kubectl kustomize <dir>`: the rendered objects (stderr may hold deprecation warnings of newer kustomize). */
function render(dir: string): Obj[] {
  const r = spawnSync('kubectl', ['kustomize', join(root, dir)], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `kubectl kustomize ${dir}: ${r.stderr}`);
  const docs = parseAllDocuments(r.stdout);
  for (const d of docs) assert.deepEqual(d.errors, [], dir);
  return docs.map((d) => d.toJS() as Obj).filter((o) => o !== null);
}

/** The runtime stage's `ENV` of the Dockerfile: what every container starts with. */
function imageEnv(): Record<string, string> {
  const text = read('Dockerfile');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const block = /\nENV ((?:[^\n]*\\\n)*[^\n]*)/.exec(runtime)?.[1] ?? '';
  const env: Record<string, string> = {};
  for (const m of block.matchAll(/([A-Z_]+)=(\S+)/g)) env[m[1]!] = m[2]!;
  assert.ok(Object.keys(env).length >= 5, 'the Dockerfile ENV block was found');
  return env;
}

/** Values standing in for Secret references (the manifests hold none), valid for the schema. */
const SECRET_STAND_INS: ReadonlyMap<string, string> = new Map([
  ['REDIS_URL', 'redis://parley:stand-in@redis:6379'],
  ['PARLEY_ADMIN_TOKENS', `ops:admin:${'0'.repeat(64)}`],
]);

/** The configuration a container runs with: its mounted file, the image's ENV, its own env. */
function effectiveConfig(configFile: string, container: any): Config {
  const env: Record<string, string> = { ...imageEnv() };
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value);
    else {
      assert.ok(e.valueFrom?.secretKeyRef, `${e.name}: a value or a Secret reference`);
      const standIn = SECRET_STAND_INS.get(e.name);
      assert.ok(standIn, `${e.name} comes from a Secret: a known one`);
      env[e.name] = standIn;
    }
  }
  return loadConfig({ file: configFile, env });
}

/** A named or numbered port of a container, as a number. */
function portOf(container: any, port: string | number): number {
  if (typeof port === 'number') return port;
  const p = (container.ports ?? []).find((x: any) => x.name === port);
  assert.ok(p, `${container.name}: port ${port} is declared`);
  return p.containerPort as number;
}

/** CPU in millicores, memory in bytes (the quantity forms used here). */
function quantity(q: string | number, kind: 'cpu' | 'memory'): number {
  const s = String(q);
  if (kind === 'cpu') return s.endsWith('m') ? Number(s.slice(0, -1)) : Number(s) * 1000;
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(s);
  assert.ok(m, `memory quantity ${s}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 2 ** 30 : m[2] === 'Mi' ? 2 ** 20 : m[2] === 'Ki' ? 2 ** 10 : 1);
}

/** The services' own stop limit: `stopOnSignals`'s default, which no service overrides. */
function stopLimitSeconds(): number {
  const m = /export function stopOnSignals\(.*, timeoutMs = ([\d_]+)\)/.exec(read('packages/service-runtime/src/stop-on-signals.ts'));
  assert.ok(m, 'the default timeoutMs of stopOnSignals');
  for (const svc of ['gateway', 'room-worker', 'admin-api']) {
    const main = read(`services/${svc}/src/main.ts`);
    const at = main.indexOf('stopOnSignals(');
    assert.ok(at > 0, `${svc} uses stopOnSignals`);
    const call = main.slice(at, main.indexOf('\n});', at) + 4);
    assert.match(call, /\n\}\);$/, `${svc}: stopOnSignals(name, log, stop) without a timeout of its own`);
  }
  return Number(m[1]!.replace(/_/g, '')) / 1000;
}

const COMPONENTS = ['gateway', 'room-worker', 'admin-api'] as const;
type Component = (typeof COMPONENTS)[number];
/** The port each component's health endpoints are on, from its configuration, and where it listens. */
const healthOf: Record<Component, (c: Config) => { port: number; bindHost: string }> = {
  gateway: (c) => ({ port: c.gateway.healthPort, bindHost: c.gateway.bindHost }),
  'room-worker': (c) => ({ port: c.roomWorker.healthPort, bindHost: c.roomWorker.healthBindHost }),
  'admin-api': (c) => ({ port: c.adminApi.port, bindHost: c.adminApi.bindHost }),
};

const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Every check that holds for the base and for any overlay. */
function checkRendering(objs: Obj[]): { configs: Map<Component, Config>; byKind: (kind: string) => Obj[] } {
  const byKind = (kind: string) => objs.filter((o) => o.kind === kind);
  assert.equal(byKind('Secret').length, 0, 'no Secret in the manifests: they are referenced only');
  assert.deepEqual(byKind('Deployment').map((d) => d.metadata.name).sort(), ['parley-admin-api', 'parley-gateway', 'parley-room-worker']);
  assert.deepEqual(byKind('PodDisruptionBudget').map((d) => d.metadata.name).sort(), ['parley-admin-api', 'parley-gateway', 'parley-room-worker']);
  const configMaps = byKind('ConfigMap');
  assert.equal(configMaps.length, 1);
  const configMap = configMaps[0]!;
  assert.match(configMap.metadata.name, /^parley-config-[a-z0-9]{10}$/, 'a generated name with a content hash');
  const tmp = mkdtempSync(join(tmpdir(), 'parley-k8s-'));
  const configFile = join(tmp, 'parley.json');
  writeFileSync(configFile, configMap.data?.['parley.json'] ?? '');

  const stopLimit = stopLimitSeconds();
  const dockerUser = /\nUSER (\S+)/.exec(read('Dockerfile').slice(read('Dockerfile').lastIndexOf('\nFROM ')))?.[1];
  assert.equal(dockerUser, 'node');
  assert.match(read('Dockerfile'), /`node` user \(uid 1000\)/, 'the Dockerfile states the uid of its user');
  const configs = new Map<Component, Config>();
  try {
    for (const component of COMPONENTS) {
      const name = `parley-${component}`;
      const dep = byKind('Deployment').find((d) => d.metadata.name === name)!;
      const pod = dep.spec.template.spec;
      const labels = dep.spec.template.metadata.labels as Record<string, string>;
      assert.equal(labels['app.kubernetes.io/component'], component);
      assert.ok(matches(dep.spec.selector.matchLabels, labels), `${name}: the selector selects its pods`);
      assert.equal(pod.containers.length, 1);
      const c = pod.containers[0];

      // The image's entry point runs the service with the mounted configuration file.
      assert.deepEqual(c.args, [component, '--config', '/etc/parley/parley.json'], name);
      const mount = c.volumeMounts.find((m: any) => m.mountPath === '/etc/parley/parley.json');
      assert.equal(mount?.subPath, 'parley.json');
      const vol = pod.volumes.find((v: any) => v.name === mount.name);
      assert.equal(vol?.configMap?.name, configMap.metadata.name, `${name}: mounts the rendered ConfigMap`);

      // No Service links: a Service called e.g. parley-admin would inject PARLEY_ADMIN_PORT.
      assert.equal(pod.enableServiceLinks, false, name);
      for (const e of c.env ?? []) assert.ok(e.name in ENV_VARS, `${name}: ${e.name} is a configuration variable`);
      const redisRef = (c.env ?? []).find((e: any) => e.name === 'REDIS_URL')?.valueFrom?.secretKeyRef;
      assert.deepEqual(redisRef, { name: 'parley-redis', key: 'url' }, `${name}: REDIS_URL from the parley-redis Secret`);

      const config = effectiveConfig(configFile, c);
      configs.set(component, config);

      // Probes: /healthz (startup, liveness) and /readyz (readiness) on the port the process
      // serves them on, listening beyond loopback so the kubelet reaches it.
      const health = healthOf[component](config);
      assert.ok(health.port > 0, `${name}: health port configured (${health.port})`);
      assert.ok(['0.0.0.0', '::'].includes(health.bindHost), `${name}: health listener on ${health.bindHost}`);
      for (const [probe, path] of [['startupProbe', '/healthz'], ['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']] as const) {
        const get = c[probe]?.httpGet;
        assert.equal(get?.path, path, `${name}: ${probe} path`);
        assert.equal(portOf(c, get.port), health.port, `${name}: ${probe} port`);
      }

      // Graceful termination: SIGKILL comes only after preStop and the services' own stop limit.
      const preStop = c.lifecycle?.preStop?.exec?.command as string[] | undefined;
      const preStopSeconds = preStop ? Number(/^sleep$/.test(preStop[0]!) ? preStop[1] : NaN) : 0;
      assert.ok(Number.isFinite(preStopSeconds), `${name}: preStop is a sleep`);
      assert.ok(pod.terminationGracePeriodSeconds > preStopSeconds + stopLimit, `${name}: grace ${pod.terminationGracePeriodSeconds} s > preStop ${preStopSeconds} s + stop limit ${stopLimit} s`);

      // Not root: the image's user, nothing to escalate, a read-only root file system.
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(pod.securityContext.runAsUser, 1000);
      assert.equal(pod.securityContext.runAsGroup, 1000);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
      assert.equal(pod.automountServiceAccountToken, false);

      for (const kind of ['cpu', 'memory'] as const) {
        const req = c.resources?.requests?.[kind];
        const lim = c.resources?.limits?.[kind];
        assert.ok(req !== undefined && lim !== undefined, `${name}: ${kind} request and limit`);
        assert.ok(quantity(req, kind) <= quantity(lim, kind), `${name}: ${kind} request ${req} <= limit ${lim}`);
      }

      // One PDB per Deployment, selecting exactly its pods and letting one go at a time.
      const pdbs = byKind('PodDisruptionBudget').filter((p) => matches(p.spec.selector.matchLabels, labels));
      assert.deepEqual(pdbs.map((p) => p.metadata.name), [name], `${name}: its PDB`);
      for (const other of byKind('Deployment').filter((d) => d !== dep)) {
        assert.ok(!matches(pdbs[0]!.spec.selector.matchLabels, other.spec.template.metadata.labels), `${name}'s PDB does not select ${other.metadata.name}`);
      }
      const pdb = pdbs[0]!.spec;
      assert.ok(pdb.maxUnavailable === 1 || (typeof pdb.minAvailable === 'number' && pdb.minAvailable < dep.spec.replicas), `${name}: a drain can proceed`);
    }

    // The gateway: listeners as configured, TLS files from the mounted Secret, readable by the user.
    const gwDep = byKind('Deployment').find((d) => d.metadata.name === 'parley-gateway')!;
    const gw = gwDep.spec.template.spec.containers[0];
    const gwc = configs.get('gateway')!;
    assert.equal(portOf(gw, 'c2s'), gwc.gateway.c2sPort);
    assert.equal(portOf(gw, 'xmpps'), gwc.gateway.directTlsPort);
    assert.equal(portOf(gw, 'websocket'), gwc.gateway.wsPort);
    assert.ok(['0.0.0.0', '::'].includes(gwc.gateway.bindHost));
    assert.equal(gwc.tls.required, true, 'TLS required');
    assert.equal(gwc.tls.wss, true, 'wss:// on the WebSocket listener');
    const certDir = posix.dirname(gwc.tls.certFile!);
    assert.equal(posix.dirname(gwc.tls.keyFile!), certDir);
    const tlsMount = gw.volumeMounts.find((m: any) => m.mountPath === certDir);
    const tlsVol = gwDep.spec.template.spec.volumes.find((v: any) => v.name === tlsMount?.name);
    assert.equal(tlsVol?.secret?.secretName, 'parley-tls');
    assert.deepEqual([posix.basename(gwc.tls.certFile!), posix.basename(gwc.tls.keyFile!)], ['tls.crt', 'tls.key'], 'the keys of a kubernetes.io/tls Secret');
    assert.equal(tlsVol.secret.defaultMode, 0o440);
    assert.equal(gwDep.spec.template.spec.securityContext.fsGroup, 1000, 'the Secret files belong to the user\'s group');

    // Services: selecting their pods, target ports that the container declares.
    const services = byKind('Service').filter((s) => s.spec.selector);
    assert.deepEqual(services.map((s) => s.metadata.name).sort(), ['parley-admin-api', 'parley-gateway']);
    for (const svc of services) {
      const dep = byKind('Deployment').find((d) => matches(svc.spec.selector, d.spec.template.metadata.labels));
      assert.equal(dep?.metadata.name, svc.metadata.name, `${svc.metadata.name} selects its Deployment`);
      for (const p of svc.spec.ports) portOf(dep!.spec.template.spec.containers[0], p.targetPort);
    }
    const gwSvc = services.find((s) => s.metadata.name === 'parley-gateway')!;
    const targets = new Set(gwSvc.spec.ports.map((p: any) => portOf(gw, p.targetPort)));
    for (const port of [gwc.gateway.c2sPort, gwc.gateway.directTlsPort, gwc.gateway.wsPort]) assert.ok(targets.has(port), `the gateway Service reaches port ${port}`);
    assert.ok(!targets.has(gwc.gateway.healthPort), 'the health port is not exposed');
    const apiSvc = services.find((s) => s.metadata.name === 'parley-admin-api')!;
    assert.equal(apiSvc.spec.type, 'ClusterIP', 'the admin API stays inside the cluster');
    assert.equal(configs.get('admin-api')!.adminApi.port, apiSvc.spec.ports[0].port);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { configs, byKind };
}

const noKubectl = kubectl.status !== 0 ? 'kubectl is not on PATH: run `npm run setup` (installs Debian\'s kubernetes-client)' : '';

test('kubectl is installed (scripts/bootstrap.mjs --with-deploy-tools)', () => {
  assert.equal(kubectl.status, 0, noKubectl);
});

test('deploy/k8s/base renders: Deployments, Services, PDBs, ConfigMap; probes, grace period and users match the configuration', { skip: noKubectl || false }, () => {
  const objs = render('deploy/k8s/base');
  const { byKind } = checkRendering(objs);
  assert.deepEqual(objs.map((o) => o.kind).sort(), ['ConfigMap', 'Deployment', 'Deployment', 'Deployment', 'PodDisruptionBudget', 'PodDisruptionBudget', 'PodDisruptionBudget', 'Service', 'Service']);
  for (const o of objs) assert.equal(o.metadata.namespace, undefined, `${o.kind}/${o.metadata.name}: the base names no namespace`);
  assert.equal(byKind('Service').find((s) => s.metadata.name === 'parley-gateway')!.spec.type, 'ClusterIP');
  // The gateway's preStop sleep (endpoints removal) is counted in its grace period above.
  const gw = byKind('Deployment').find((d) => d.metadata.name === 'parley-gateway')!.spec.template.spec.containers[0];
  assert.deepEqual(gw.lifecycle.preStop.exec.command, ['sleep', '5']);
});

test('deploy/k8s/overlays/example renders: namespace, LoadBalancer keeping client addresses, host-meta URL served by the Service', { skip: noKubectl || false }, () => {
  const objs = render('deploy/k8s/overlays/example');
  const { configs, byKind } = checkRendering(objs);
  assert.deepEqual(byKind('Namespace').map((n) => n.metadata.name), ['parley']);
  for (const o of objs.filter((x) => x.kind !== 'Namespace')) assert.equal(o.metadata.namespace, 'parley', `${o.kind}/${o.metadata.name}`);
  const gwc = configs.get('gateway')!;
  assert.deepEqual(gwc.hosts, ['example.org']);
  const svc = byKind('Service').find((s) => s.metadata.name === 'parley-gateway')!;
  assert.equal(svc.spec.type, 'LoadBalancer');
  assert.equal(svc.spec.externalTrafficPolicy, 'Local', 'client addresses reach the per-address limits');
  // The advertised WebSocket URL (XEP-0156) is a port of this Service leading to the listener.
  const url = new URL(gwc.gateway.wsPublicUrl!);
  assert.equal(url.protocol, 'wss:');
  assert.equal(url.pathname, gwc.gateway.wsPath);
  const port = url.port === '' ? 443 : Number(url.port);
  assert.equal(svc.spec.ports.find((p: any) => p.port === port)?.targetPort, 'websocket');
  // Redis outside: an ExternalName Service, no Redis pod.
  const redis = byKind('Service').find((s) => s.metadata.name === 'redis');
  assert.equal(redis?.spec.type, 'ExternalName');
  assert.ok(!byKind('Deployment').some((d) => /redis/.test(d.metadata.name)) && byKind('StatefulSet').length === 0);
  for (const d of byKind('Deployment')) assert.match(d.spec.template.spec.containers[0].image, /^registry\.example\.org\/parley:/);
  assert.equal(byKind('Deployment').find((d) => d.metadata.name === 'parley-gateway')!.spec.replicas, 3);
});

test('the manifests\' kustomization files stay readable by kustomize v2.0.3 (Debian\'s kubectl 1.20)', () => {
  // Newer fields that kustomize v2.0.3 refuses; `bases` and `patchesStrategicMerge` work in both.
  for (const file of ['deploy/k8s/base/kustomization.yaml', 'deploy/k8s/overlays/example/kustomization.yaml']) {
    const doc = parseAllDocuments(read(file))[0]!.toJS() as Record<string, unknown>;
    for (const key of ['labels', 'patches', 'components', 'replacements', 'helmCharts']) assert.ok(!(key in doc), `${file}: ${key}`);
    for (const r of (doc.resources as string[] | undefined) ?? []) assert.match(r, /\.ya?ml$/, `${file}: resources lists files (directories go in bases)`);
  }
});

test('the overlay\'s configuration starts gateway, room worker and admin API: probe paths answer 200, SIGTERM stops each within the stop limit', { skip: noKubectl || false }, async () => {
  const objs = render('deploy/k8s/overlays/example');
  const configMap = objs.find((o) => o.kind === 'ConfigMap')!;
  const dir = mkdtempSync(join(tmpdir(), 'parley-k8s-run-'));
  const configFile = join(dir, 'parley.json');
  writeFileSync(configFile, configMap.data!['parley.json']!);
  const config = loadConfig({ file: configFile, env: imageEnv() });
  // The certificate the parley-tls Secret would hold, for the served domain.
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  writeSelfSignedCert(config.hosts[0]!, certFile, keyFile);
  const redis = await startRedis();
  const stopLimitMs = stopLimitSeconds() * 1000;
  const running: ServiceProcess[] = [];
  /** The container's environment as Kubernetes gives it, with the Secret references filled in. */
  const envOf = (component: Component): Record<string, string> => {
    const c = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === `parley-${component}`)!.spec.template.spec.containers[0];
    const env: Record<string, string> = { ...imageEnv(), PARLEY_CONFIG: configFile };
    for (const e of c.env ?? []) env[e.name] = e.value !== undefined ? String(e.value) : e.name === 'REDIS_URL' ? redis.url : SECRET_STAND_INS.get(e.name)!;
    // Only what cannot be the same on a shared test machine: free ports on loopback instead of
    // the fixed ports on all addresses (those are compared with the probes above), and the
    // certificate's path outside /etc.
    return {
      ...env,
      PARLEY_REDIS_KEY_PREFIX: `k8s-${process.pid}:`,
      PARLEY_BIND_HOST: '127.0.0.1', PARLEY_ROOM_WORKER_HEALTH_BIND_HOST: '127.0.0.1', PARLEY_ADMIN_BIND_HOST: '127.0.0.1',
      PARLEY_C2S_PORT: '0', PARLEY_WS_PORT: '0', PARLEY_DIRECT_TLS_PORT: '0', PARLEY_GATEWAY_HEALTH_PORT: '0',
      PARLEY_ROOM_WORKER_HEALTH_PORT: '0', PARLEY_ADMIN_PORT: '0',
      PARLEY_TLS_CERT: certFile, PARLEY_TLS_KEY: keyFile,
    };
  };
  const probe = async (port: number, path: string): Promise<number> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const status = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
      if (status === 200 || Date.now() > deadline) return status;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  try {
    const gateway = await startGateway({ redisUrl: redis.url, keyPrefix: `k8s-${process.pid}:`, env: envOf('gateway') });
    running.push(gateway);
    const worker = await startRoomWorker({ redisUrl: redis.url, keyPrefix: `k8s-${process.pid}:`, env: envOf('room-worker') });
    running.push(worker);
    const api = await startAdminApi({ redisUrl: redis.url, keyPrefix: `k8s-${process.pid}:`, env: envOf('admin-api') });
    running.push(api);
    const gwReady = await gateway.waitForLog((e) => e['msg'] === 'gateway ready');
    assert.deepEqual(gwReady['hosts'], ['example.org']);
    assert.ok((gwReady['directTlsPort'] as number) > 0, 'direct TLS listens (a certificate is configured)');
    const rwReady = await worker.waitForLog((e) => e['msg'] === 'room worker ready');
    assert.equal(rwReady['mucDomain'], 'conference.example.org');
    for (const [name, port] of [['gateway', gwReady['healthPort']], ['room worker', rwReady['healthPort']], ['admin api', api.port]] as const) {
      assert.ok(typeof port === 'number' && port > 0, `${name}: health port ${String(port)}`);
      assert.equal(await probe(port, '/healthz'), 200, `${name} /healthz`);
      assert.equal(await probe(port, '/readyz'), 200, `${name} /readyz`);
    }
    // SIGTERM, as the kubelet sends it after preStop: each stops cleanly before its own limit.
    for (const p of [gateway, worker, api]) {
      const t0 = Date.now();
      await p.kill('SIGTERM');
      const ms = Date.now() - t0;
      assert.deepEqual(await p.exited, { code: 0, signal: null }, p.output());
      assert.ok(ms < stopLimitMs, `stopped in ${ms} ms (limit ${stopLimitMs})`);
      process.stderr.write(`${p === gateway ? 'gateway' : p === worker ? 'room worker' : 'admin api'}: SIGTERM to exit ${ms} ms\n`);
    }
  } finally {
    await Promise.all(running.map((p) => p.kill('SIGKILL').catch(() => undefined)));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
