// The committed codecs must be exactly what the definitions produce: a change to the definitions or
// to the generator without regenerating fails here. Runs whenever the definitions folder is present
// (CI always has ../shared beside the checkout).
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OUT_DIR, DEFAULT_SPEC_DIR, diffOutput, generate, writeOutput } from './gen-protocol.js';

const specPresent = existsSync(DEFAULT_SPEC_DIR);

describe.runIf(specPresent)('generated protocol is up to date', () => {
  it('regenerating from the definitions changes nothing', () => {
    expect(diffOutput(generate(DEFAULT_SPEC_DIR), DEFAULT_OUT_DIR)).toEqual([]);
  });
});

describe('the drift check and the generator', () => {
  function tinySpec(fields: unknown[]): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-spec-'));
    const msg = (name: string, type: string) => ({ apiKey: 0, type, name, validVersions: '0-2', flexibleVersions: '2+', fields });
    writeFileSync(path.join(dir, 'ThingRequest.json'), `// a comment with "quotes"\n${JSON.stringify(msg('ThingRequest', 'request'))}`);
    writeFileSync(path.join(dir, 'ThingResponse.json'), JSON.stringify(msg('ThingResponse', 'response')));
    const header = (name: string) => ({ type: 'header', name, validVersions: '0-2', flexibleVersions: '2+', fields: [{ name: 'CorrelationId', type: 'int32', versions: '0+' }] });
    writeFileSync(path.join(dir, 'RequestHeader.json'), JSON.stringify(header('RequestHeader')));
    writeFileSync(path.join(dir, 'ResponseHeader.json'), JSON.stringify(header('ResponseHeader')));
    return dir;
  }

  it('reports a hand edit to a generated file, and a missing one', () => {
    const spec = tinySpec([{ name: 'Url', type: 'string', versions: '0+', about: 'see http://example' }]);
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'strata-gen-')), 'generated');
    const files = generate(spec);
    mkdirSync(out);
    writeOutput(files, out);
    expect(diffOutput(files, out)).toEqual([]);
    const file = path.join(out, '00-thing.ts');
    writeFileSync(file, readFileSync(file, 'utf8') + '// hand edit\n');
    writeFileSync(path.join(out, 'stray.ts'), '');
    expect(diffOutput(files, out)).toEqual(['stray.ts (no longer generated)', '00-thing.ts (changed)']);
  });

  it('refuses types it does not know, rather than guessing', () => {
    const spec = tinySpec([{ name: 'X', type: 'Mystery', versions: '0+' }]);
    expect(() => generate(spec)).toThrow(/unknown type 'Mystery'/);
  });

  it('refuses what it would otherwise encode differently from Kafka', () => {
    expect(() => generate(tinySpec([{ name: 'S', type: 'string', versions: '0+', flexibleVersions: '1+' }]))).toThrow(/field-level flexibleVersions/);
    expect(() =>
      generate(tinySpec([{ name: 'T', type: 'Inner', versions: '2+', taggedVersions: '2+', tag: 0, nullableVersions: '2+', fields: [{ name: 'A', type: 'int8', versions: '2+' }] }])),
    ).toThrow(/nullable tagged struct/);
    expect(() => generate(tinySpec([{ name: 'U', type: 'uuid', versions: '0+', default: 'AAAAAAAAAAAAAAAAAAAAAQ' }]))).toThrow(/custom default for a uuid/);
  });

  it('reads integer defaults as Kafka does: 0x is hex, a leading 0 is octal', () => {
    const files = generate(tinySpec([{ name: 'A', type: 'int32', versions: '0+', default: '010' }, { name: 'B', type: 'int32', versions: '0+', default: '-0x10' }]));
    expect(files.get('00-thing.ts')).toContain('return { a: 8, b: -16 }');
  });

  it('refuses a tagged field outside the flexible versions', () => {
    const spec = tinySpec([{ name: 'X', type: 'int32', versions: '0+', taggedVersions: '0+', tag: 0 }]);
    expect(() => generate(spec)).toThrow(/tagged outside the flexible versions/);
  });
});
