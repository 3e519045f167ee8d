import fc from 'fast-check';
import { jsonTextDepth } from './json-depth';

describe('jsonTextDepth', () => {
  it('reads nesting from the text, brackets inside strings not counted', () => {
    expect(jsonTextDepth('1')).toBe(0);
    expect(jsonTextDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonTextDepth('{"a":"[[[[\\"{{{"}')).toBe(1);
    expect(jsonTextDepth('['.repeat(200_000) + ']'.repeat(200_000))).toBe(200_000);
    expect(jsonTextDepth('['.repeat(200_000), 64)).toBe(65);
  });

  it('agrees with the depth of any parsed JSON value', () => {
    const depth = (v: unknown): number =>
      v !== null && typeof v === 'object'
        ? 1 + Math.max(0, ...Object.values(v as Record<string, unknown>).map(depth))
        : 0;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), (v) => jsonTextDepth(JSON.stringify(v)) === depth(v)),
      { seed: 15, numRuns: 300 },
    );
  });
});
