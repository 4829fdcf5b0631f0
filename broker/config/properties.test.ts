import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { parseProperties } from './properties.js';

const kv = (text: string) => parseProperties(text).map((e) => [e.key, e.value]);

describe('parseProperties', () => {
  it('takes =, : and blanks as separators, with blanks around one = or :', () => {
    expect(kv('a=1\nb:2\nc 3\nd = 4\ne : 5\nf\t6\ng   =   7\nh :=8\n')).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      ['d', '4'],
      ['e', '5'],
      ['f', '6'],
      ['g', '7'],
      // Only one separator is skipped: the second belongs to the value.
      ['h', '=8'],
    ]);
  });

  it('keeps further separators inside the value, and a line with only a key has an empty value', () => {
    expect(kv('listeners=PLAINTEXT://:9092,CONTROLLER://:9093\nurl = a=b:c\nflag\n')).toEqual([
      ['listeners', 'PLAINTEXT://:9092,CONTROLLER://:9093'],
      ['url', 'a=b:c'],
      ['flag', ''],
    ]);
  });

  it('skips comments (# and !), blank lines and leading blanks, and keeps trailing blanks', () => {
    expect(kv('# comment\n  ! also a comment\n\n   \t\n   key=value  \n\f x=1')).toEqual([
      ['key', 'value  '],
      ['x', '1'],
    ]);
  });

  it('treats # after the start of a line as data', () => {
    expect(kv('a=1 # not a comment')).toEqual([['a', '1 # not a comment']]);
  });

  it('joins continuation lines, skipping the next line\'s leading blanks', () => {
    expect(kv('listeners=PLAINTEXT://:9092,\\\n    CONTROLLER://:9093\nnext=1')).toEqual([
      ['listeners', 'PLAINTEXT://:9092,CONTROLLER://:9093'],
      ['next', '1'],
    ]);
  });

  it('continues only on an odd number of trailing backslashes', () => {
    expect(kv('a=x\\\\\nb=y')).toEqual([
      ['a', 'x\\'],
      ['b', 'y'],
    ]);
    expect(kv('a=x\\\\\\\ny')).toEqual([['a', 'x\\y']]);
  });

  it('never continues a comment, but a continued line starting with # is data', () => {
    expect(kv('# comment \\\na=1')).toEqual([['a', '1']]);
    expect(kv('a=1,\\\n#2')).toEqual([['a', '1,#2']]);
  });

  it('reads the line after a lone backslash as a fresh line, as Java does', () => {
    expect(kv('\\\n# comment\nb=2')).toEqual([['b', '2']]);
    expect(kv('\\\n  e=1')).toEqual([['e', '1']]);
    expect(kv('x=\\\n\\\n  e=1')).toEqual([['x', 'e=1']]);
  });

  it('ends a continuation at an empty line, and at the end of the text', () => {
    expect(kv('a=1\\\n\nb=2')).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(kv('a=1\\')).toEqual([['a', '1']]);
  });

  it('reads \\n, \\r and \\r\\n line ends alike', () => {
    expect(kv('a=1\r\nb=2\rc=3\n')).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);
  });

  it('decodes escapes in keys and values', () => {
    expect(kv('tab=a\\tb\nnl=a\\nb\nbs=a\\\\b\nuni=\\u00e9t\\u00E9\nother=\\q\\#\\!')).toEqual([
      ['tab', 'a\tb'],
      ['nl', 'a\nb'],
      ['bs', 'a\\b'],
      ['uni', 'été'],
      ['other', 'q#!'],
    ]);
    expect(kv('key\\=with\\:seps\\ and\\ space=v')).toEqual([['key=with:seps and space', 'v']]);
  });

  it('drops a byte-order mark', () => {
    expect(kv('\uFEFFa=1')).toEqual([['a', '1']]);
  });

  it('reports the line each entry starts on, and keeps repeated keys for the loader', () => {
    expect(parseProperties('# c\n\na=1\nb=2,\\\n 3\na=4')).toEqual([
      { key: 'a', value: '1', line: 3 },
      { key: 'b', value: '2,3', line: 4 },
      { key: 'a', value: '4', line: 6 },
    ]);
  });

  it('refuses a malformed \\u escape, naming the physical line it is on', () => {
    const err = (() => {
      try {
        parseProperties('a=1\nb=x,\\\n  \\u12G4', 'server.properties');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).line).toBe(3);
    expect((err as ConfigError).message).toMatch(/^server\.properties line 3: malformed escape '\\u12G4'/);
    expect(() => parseProperties('a=\\u12')).toThrow(/line 1: malformed escape '\\u12'/);
  });

  it('refuses an entry with no key, naming the line', () => {
    expect(() => parseProperties('a=1\n=2')).toThrow(/line 2: an entry with no key/);
    expect(() => parseProperties('a=1\n  :2')).toThrow(ConfigError);
  });
});
