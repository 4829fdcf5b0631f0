// The informer's recovery paths, which a healthy API server rarely shows: "410 Gone" in a watch (the
// resourceVersion was compacted away) and a failing watch request. A small HTTP server on 127.0.0.1
// plays the API server's list, watch and discovery endpoints, scripted step by step; the normal
// path runs against a real kube-apiserver in test/operator/operator-process.test.ts.
import * as k8s from '@kubernetes/client-node';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../broker/observability/logger.js';
import { Informer, type InformerEventType } from './informer.js';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

const configMap = (name: string, rv: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', resourceVersion: rv, labels: { 'strata.dev/cluster': 'x' } } });
const listOf = (rv: string, items: unknown[]) => ({ apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: rv }, items });

let server: Server | undefined;
let informer: Informer | undefined;

afterEach(async () => {
  await informer?.stop();
  informer = undefined;
  const s = server;
  server = undefined;
  if (s === undefined) return;
  const closed = new Promise<void>((r) => s.close(() => r()));
  s.closeAllConnections();
  await closed;
});

/** A fake API server: discovery of v1 answers itself; lists and watches go to the scripted steps in order. */
async function fakeApi(steps: Handler[]): Promise<{ kubeConfig: k8s.KubeConfig; requests: string[] }> {
  const requests: string[] = [];
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/api/v1') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'configmaps', namespaced: true, kind: 'ConfigMap', verbs: ['list', 'watch'], singularName: 'configmap' }] }));
      return;
    }
    requests.push(`${url.searchParams.get('watch') === 'true' ? 'watch' : 'list'} rv=${url.searchParams.get('resourceVersion') ?? ''} selector=${url.searchParams.get('labelSelector') ?? ''}`);
    const step = steps.shift();
    if (step === undefined) {
      // Out of script: hold the watch open until the test ends.
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      return;
    }
    step(req, res, url);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server!.address() as AddressInfo).port;
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromOptions({
    // The client refuses plain HTTP unless TLS verification is off (there is no TLS to verify).
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
    currentContext: 'fake',
  });
  return { kubeConfig, requests };
}

const json = (body: unknown, status = 200): Handler => (_req, res) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};
/** A watch that sends these events and then ends (as the API server does at timeoutSeconds). */
const watchEvents = (...events: unknown[]): Handler => (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  for (const e of events) res.write(`${JSON.stringify(e)}\n`);
  res.end();
};

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!cond()) throw new Error(`${what} did not happen`);
}

function record(i: Informer): string[] {
  const seen: string[] = [];
  i.onEvent((type: InformerEventType, o) => seen.push(`${type} ${o.metadata!.name}@${o.metadata!.resourceVersion}`));
  return seen;
}

describe('Informer', () => {
  it('lists, watches from the list\'s resourceVersion, reopens a finished watch without listing, and re-lists after 410 Gone, reporting what was deleted meanwhile', async () => {
    const { kubeConfig, requests } = await fakeApi([
      json(listOf('10', [configMap('a', '1'), configMap('b', '2')])),
      watchEvents({ type: 'MODIFIED', object: configMap('a', '11') }, { type: 'BOOKMARK', object: { kind: 'ConfigMap', metadata: { resourceVersion: '15' } } }),
      watchEvents({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version: 15 (20)' } }),
      // b went away and c came while no watch was open.
      json(listOf('21', [configMap('a', '11'), configMap('c', '20')])),
      watchEvents({ type: 'DELETED', object: configMap('c', '22') }),
    ]);
    informer = new Informer({ kubeConfig, source: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', labelSelector: 'strata.dev/cluster' }, log: silentLogger });
    const seen = record(informer);
    expect(informer.synced).toBe(false);
    informer.start();
    await until('the last scripted event', () => seen.length === 6);
    expect(seen).toEqual(['add a@1', 'add b@2', 'update a@11', 'delete b@2', 'add c@20', 'delete c@22']);
    await until('the next watch', () => requests.length === 6);
    expect(requests).toEqual([
      'list rv= selector=strata.dev/cluster',
      'watch rv=10 selector=strata.dev/cluster',
      // Reopened from the bookmark's resourceVersion, no list.
      'watch rv=15 selector=strata.dev/cluster',
      'list rv= selector=strata.dev/cluster',
      'watch rv=21 selector=strata.dev/cluster',
      'watch rv=22 selector=strata.dev/cluster',
    ]);
    expect(informer.synced).toBe(true);
    expect(informer.failingForMs()).toBe(0);
    expect(informer.list().map((o) => o.metadata!.name)).toEqual(['a']);
  });

  it('reports failing while lists and watches fail, re-lists after a back-off, and is healthy again once one succeeds', async () => {
    let now = 1_000_000;
    let failuresServed = 0;
    const fail: Handler = (_req, res, _url) => {
      failuresServed++;
      json({ kind: 'Status', code: 503, message: 'unavailable' }, 503)(_req, res, _url);
    };
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { kubeConfig, requests } = await fakeApi([
      json(listOf('5', [configMap('a', '1')])),
      fail,
      // The re-list fails too, and is answered only when the test says.
      (req, res, url) => void held.then(() => fail(req, res, url)),
      json(listOf('7', [configMap('a', '6')])),
    ]);
    informer = new Informer({ kubeConfig, source: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' }, log: silentLogger, now: () => now });
    const seen = record(informer);
    informer.start();
    await until('the failed watch', () => failuresServed === 1 && requests.length === 3);
    now += 4000;
    expect(informer.failingForMs()).toBe(4000);
    expect(informer.synced).toBe(true);
    release();
    await until('the re-list that works', () => seen.length === 2);
    expect(seen).toEqual(['add a@1', 'update a@6']);
    expect(informer.failingForMs()).toBe(0);
    expect(requests.slice(0, 4)).toEqual(['list rv= selector=', 'watch rv=5 selector=', 'list rv= selector=', 'list rv= selector=']);
  });
});
