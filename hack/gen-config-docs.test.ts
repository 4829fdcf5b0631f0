// The committed configuration reference must be exactly what the key declarations produce: a
// change to broker/config/ without regenerating docs/configuration.md fails here.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BROKER_KEYS, TOPIC_KEYS } from '../broker/config/index.js';
import { DEFAULT_DOC_PATH, isDocCurrent, renderConfigDocs } from './gen-config-docs.js';

describe('docs/configuration.md', () => {
  it('is what the declarations produce (regenerate with npx tsx hack/gen-config-docs.ts)', () => {
    expect(readFileSync(DEFAULT_DOC_PATH, 'utf8')).toBe(renderConfigDocs());
  });

  it('documents every broker and topic key, inert ones with their reason', () => {
    const doc = renderConfigDocs();
    for (const k of [...BROKER_KEYS, ...TOPIC_KEYS]) {
      expect(doc, k.name).toContain(`| \`${k.name}\` |`);
      if (k.inert) expect(doc, k.name).toContain(k.inertReason!);
    }
  });

  it('says that flushing is left to the OS by default', () => {
    expect(renderConfigDocs()).toMatch(/## Durability: flushing is left to the operating system[\s\S]*default to never[\s\S]*page cache survives a crash of the broker process/);
  });
});

describe('the drift check', () => {
  it('reports a hand edit and a missing file', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'strata-docs-')), 'configuration.md');
    expect(isDocCurrent(file)).toBe(false);
    writeFileSync(file, renderConfigDocs());
    expect(isDocCurrent(file)).toBe(true);
    writeFileSync(file, renderConfigDocs().replace('`1073741824`', '`1`'));
    expect(isDocCurrent(file)).toBe(false);
  });
});
