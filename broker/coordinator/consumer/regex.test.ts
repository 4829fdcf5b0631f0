import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TOPIC_REGEX_LIMITS, compileTopicRegex } from './regex.js';

// Each row: an expression and, for a valid one, inputs with whether the whole input matches; null
// for an expression RE2/J refuses. The answers were taken from RE2/J 1.8 (Pattern.compile, then
// Matcher.matches()), the library Kafka 4.1 resolves SubscribedTopicRegex with.
const RE2J_TABLE: [string, [string, boolean][] | null][] = [
  ["orders-.*", [["orders-1", true], ["orders-", true], ["order-1", false], ["xorders-1", false], ["orders-eu.v2", true]]],
  ["orders", [["orders", true], ["orders1", false], ["order", false]]],
  ["^orders$", [["orders", true], ["orders1", false]]],
  ["a|b", [["a", true], ["b", true], ["ab", false], ["", false]]],
  ["ab|cd|", [["ab", true], ["cd", true], ["", true], ["abcd", false]]],
  ["(foo|bar)-[0-9]+", [["foo-1", true], ["bar-12", true], ["baz-1", false], ["foo-", false], ["foo-a", false]]],
  ["[a-c]{2,3}", [["ab", true], ["abc", true], ["abcd", false], ["a", false], ["ad", false]]],
  ["[^a-c]+", [["def", true], ["dea", false], ["", false]]],
  ["x{3}", [["xxx", true], ["xx", false], ["xxxx", false]]],
  ["x{2,}", [["xx", true], ["xxxxx", true], ["x", false]]],
  ["x{,2}", [["x{,2}", true], ["xx", false]]],
  ["a{", [["a{", true], ["a", false]]],
  ["a{1", [["a{1", true], ["a", false]]],
  ["\\d+\\.\\w*", [["12.ab_", true], ["12.", true], ["a.b", false], ["1.-", false]]],
  ["\\D\\S\\W", [["a.-", true], ["aa-", true], ["1.-", false], ["a a", false]]],
  ["\\s", [[" ", true], ["a", false]]],
  ["[[:alpha:]]+", [["abc", true], ["ab1", false]]],
  ["[[:^digit:]]+", [["abc", true], ["a1", false]]],
  ["(?i)orders", [["ORDERS", true], ["Orders", true], ["orders", true], ["0rders", false]]],
  ["(?i:ab)c", [["ABc", true], ["abC", false]]],
  ["a(?i)b|c", [["aB", true], ["C", true], ["Ab", false]]],
  ["\\Qa.b\\E+", [["a.b", true], ["a.bb", true], ["axb", false]]],
  ["\\Qa.b", [["a.b", true], ["axb", false]]],
  ["\\x41\\x{42}", [["AB", true], ["ab", false]]],
  ["\\101", [["A", true], ["a", false]]],
  ["\\0", [["a", false]]],
  ["[\\d-]+", [["1-2", true], ["a", false]]],
  ["[]a]+", [["]a]", true], ["b", false]]],
  ["[a-]+", [["a-a", true], ["b", false]]],
  ["[-a]+", [["a-a", true], ["b", false]]],
  ["a*?b", [["aab", true], ["b", true], ["a", false]]],
  ["(?P<name>ab)+", [["abab", true], ["aba", false]]],
  ["(?<name>ab)+", [["abab", true], ["aba", false]]],
  ["(?:ab)*c", [["ababc", true], ["c", true], ["abc", true], ["ac", false]]],
  ["\\bfoo\\b", [["foo", true], ["foox", false]]],
  ["foo\\B.*", [["foox", true], ["foo", false], ["foo-", false]]],
  ["\\Afoo\\z", [["foo", true], ["fooo", false]]],
  [".*\\.v[0-9]", [["a.v1", true], ["a.v12", false]]],
  ["\\pL+", [["abc\u00e9", true], ["ab1", false]]],
  ["\\p{L}+", [["abc", true], ["ab1", false]]],
  ["\\p{Greek}+", [["\u03b1\u03b2", true], ["ab", false]]],
  ["\\PL", [["1", true], ["a", false]]],
  ["\\p{^L}", [["1", true], ["a", false]]],
  ["[\\pL\\d]+", [["a1\u00e9", true], ["a-", false]]],
  ["(?s).", [["a", true]]],
  ["(a*)*b", [["aaab", true], ["aaaa", false]]],
  ["(a|ab)(c|bcd)(d*)", [["abcd", true], ["abcdd", true], ["acd", true]]],
  ["topic_[a-z0-9_]+", [["topic_abc_1", true], ["topic_", false]]],
  ["(?U)a+", [["aaa", true]]],
  ["(?i)[a-c]+", [["ABC", true], ["abd", false]]],
  ["(?i)[^a]", [["A", false], ["b", true]]],
  ["(?i-i)a", [["a", true], ["A", false]]],
  ["a^b", [["ab", false]]],
  ["a$", [["a", true]]],
  ["(?m)^a$", [["a", true]]],
  ["x*", [["", true], ["xxx", true], ["y", false]]],
  ["(|a)+", [["", true], ["aa", true]]],
  ["\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\\\-\\_", [[".*+?()[]{}|^$\\-_", true]]],
  ["[\\]\\[]", [["]", true], ["[", true]]],
  ["[[:word:]]+", [["a_1", true], ["a-1", false]]],
  ["a{2}?", [["aa", true], ["a", false]]],
  ["(a{2}){3}", [["aaaaaa", true], ["aaaa", false]]],
  ["a{0}b", [["b", true], ["ab", false]]],
  ["a{0,0}", [["", true], ["a", false]]],
  ["[a-c\\x{64}-f]", [["e", true], ["g", false]]],
  ["\\C", null],
  ["a(b", null],
  ["a)b", null],
  ["*a", null],
  ["a**", null],
  ["a*+", null],
  ["a{2}{3}", null],
  ["a{1001}", null],
  ["a{3,2}", null],
  ["[a", null],
  ["[z-a]", null],
  ["\\1", null],
  ["(?=a)", null],
  ["(?<=a)b", null],
  ["(?!a)", null],
  ["a\\", null],
  ["\\y", null],
  ["\\Z", null],
  ["[[:foo:]]", null],
  ["(?P<>a)", null],
  ["(?P<a", null],
  ["\\p{Foo}", null],
  ["(?z)", null],
  ["(?)", []],
  ["x{1001,}", null],
  ["\\8", null],
  ["+", null],
  ["a|*", null],
  ["(?i", null],
  ["x{2}*", null],
  ["a??b?", []],
  ["()", []],
  ["(?:)", []],
  ["[^]", null],
  ["[]", null],
  ["\\x{110000}", null],
  ["\\xZ1", null],
  ["a{1000}", [["a", false]]],
  ["(?-)", null],
  ["(?i-)", null],
  ["[b-a]", null],
  ["\\pN", [["1", true]]],
  ["\\a\\f\\v", [["\u0007\u000c\u000b", true], ["abc", false]]],
];

describe('topic regular expressions', () => {
  for (const [source, cases] of RE2J_TABLE) {
    it(`${JSON.stringify(source)} ${cases === null ? 'is refused' : 'matches as RE2/J does'}`, () => {
      const compiled = compileTopicRegex(source);
      if (cases === null) {
        expect(compiled.ok).toBe(false);
        return;
      }
      expect(compiled.ok ? 'ok' : compiled.message).toBe('ok');
      if (!compiled.ok) return;
      for (const [input, expected] of cases) expect([input, compiled.regex.matches(input)]).toEqual([input, expected]);
    });
  }

  it('describes what is wrong the way RE2/J does', () => {
    expect(compileTopicRegex('a(b')).toEqual({ ok: false, message: 'missing closing )' });
    expect(compileTopicRegex('a**')).toEqual({ ok: false, message: 'invalid nested repetition operator' });
    expect(compileTopicRegex('[z-a]')).toEqual({ ok: false, message: 'invalid character class range' });
    expect(compileTopicRegex('\\1')).toEqual({ ok: false, message: 'invalid escape sequence' });
  });

  it('agrees with a backtracking engine on simple expressions (which both support alike)', () => {
    // Expressions over a tiny alphabet built from literals, '.', classes, groups, alternation and
    // repetition: the common ground where JavaScript's RegExp has the same meaning.
    const atom: fc.Arbitrary<string> = fc.letrec<{ re: string; atom: string }>((tie) => ({
      atom: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom('a', 'b', 'c', '.', '[ab]', '[^a]', '[a-c]'),
        tie('re').map((r) => `(${r})`),
        tie('re').map((r) => `(?:${r})`),
      ),
      re: fc
        .array(
          fc.tuple(tie('atom'), fc.constantFrom('', '', '*', '+', '?', '{2}', '{1,2}', '{0,}', '*?')).map(([a, q]) => a + q),
          { minLength: 0, maxLength: 3 },
        )
        .chain((parts) => fc.oneof(fc.constant(parts.join('')), fc.constant(parts.join('|')))),
    })).re;
    fc.assert(
      fc.property(atom, fc.array(fc.stringMatching(/^[a-d]{0,6}$/), { minLength: 1, maxLength: 5 }), (source, inputs) => {
        const compiled = compileTopicRegex(source);
        expect(compiled.ok).toBe(true);
        if (!compiled.ok) return;
        const js = new RegExp(`^(?:${source})$`);
        for (const input of inputs) expect([source, input, compiled.regex.matches(input)]).toEqual([source, input, js.test(input)]);
      }),
      // A fixed seed: random nesting of quantifiers can, rarely, send the backtracking reference
      // engine into exponential time; a fixed sample keeps the run bounded and repeatable.
      { numRuns: 300, seed: 20261122 },
    );
  });

  it('matches in time linear in the input, where a backtracking engine would not return', () => {
    // `(a*)*b` against a long run of `a`s takes exponential time with backtracking.
    const compiled = compileTopicRegex('(a*)*b');
    expect(compiled.ok).toBe(true);
    if (compiled.ok) expect(compiled.regex.matches('a'.repeat(249))).toBe(false);
    const nested = compileTopicRegex('(x+x+)+y');
    if (nested.ok) expect(nested.regex.matches('x'.repeat(249))).toBe(false);
  });

  it('refuses expressions over its limits', () => {
    expect(compileTopicRegex('a'.repeat(TOPIC_REGEX_LIMITS.sourceLengthMax + 1)).ok).toBe(false);
    expect(compileTopicRegex('a'.repeat(TOPIC_REGEX_LIMITS.sourceLengthMax)).ok).toBe(true);
    // Valid for RE2 but expands past the program size limit.
    const big = compileTopicRegex('((a{1000}){1000}){1000}');
    expect(big).toEqual({ ok: false, message: `expression too large (over ${TOPIC_REGEX_LIMITS.programSizeMax} instructions)` });
    expect(compileTopicRegex('('.repeat(TOPIC_REGEX_LIMITS.nestingDepthMax + 1) + ')'.repeat(TOPIC_REGEX_LIMITS.nestingDepthMax + 1)).ok).toBe(false);
  });
});
