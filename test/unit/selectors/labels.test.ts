import { describe, expect, it } from 'vitest';
import {
  SelectorError,
  labelSelectorFromSet,
  labelSelectorFromStruct,
  matchesLabels,
  parseLabelSelector,
  selectorToString,
} from '../../../shared/api/selectors/labels.js';

const parseError = (s: string): string => {
  try {
    parseLabelSelector(s);
  } catch (e) {
    expect(e).toBeInstanceOf(SelectorError);
    return (e as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(s)} to fail`);
};

describe('parseLabelSelector', () => {
  it('parses every operator and sorts requirements by key', () => {
    const sel = parseLabelSelector('z=1, y==2,x!=3,w in (b,a),v notin (c), u, !t');
    expect(sel.requirements).toEqual([
      { key: 't', operator: '!', values: [] },
      { key: 'u', operator: 'exists', values: [] },
      { key: 'v', operator: 'notin', values: ['c'] },
      { key: 'w', operator: 'in', values: ['a', 'b'] },
      { key: 'x', operator: '!=', values: ['3'] },
      { key: 'y', operator: '==', values: ['2'] },
      { key: 'z', operator: '=', values: ['1'] },
    ]);
    expect(selectorToString(sel)).toBe('!t,u,v notin (c),w in (a,b),x!=3,y==2,z=1');
  });

  it('treats empty input as everything', () => {
    expect(parseLabelSelector('').requirements).toEqual([]);
    expect(parseLabelSelector('   ').requirements).toEqual([]);
    expect(matchesLabels(parseLabelSelector(''), undefined)).toBe(true);
  });

  it('handles empty values the way Kubernetes does', () => {
    expect(parseLabelSelector('a=').requirements[0].values).toEqual(['']);
    expect(parseLabelSelector('a in ()').requirements[0].values).toEqual(['']);
    expect(parseLabelSelector('a in (,x)').requirements[0].values).toEqual(['', 'x']);
    expect(parseLabelSelector('a in (in,notin)').requirements[0].values).toEqual(['in', 'notin']);
  });

  it('parses gt and lt', () => {
    const sel = parseLabelSelector('n>3,m<10');
    expect(matchesLabels(sel, { n: '4', m: '9' })).toBe(true);
    expect(matchesLabels(sel, { n: '3', m: '9' })).toBe(false);
    expect(matchesLabels(sel, { n: 'x', m: '9' })).toBe(false);
  });

  it('reports syntax errors with Kubernetes messages', () => {
    expect(parseError('a b')).toBe("unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
    expect(parseError('a=b c')).toBe("found 'c', expected: ',' or 'end of string'");
    expect(parseError('a=b,')).toBe("found '', expected: identifier after ','");
    expect(parseError(',a')).toBe("found ',', expected: !, identifier, or 'end of string'");
    expect(parseError('a in b')).toBe("unable to parse requirement: found 'b' expected: '('");
    expect(parseError('a in (b')).toBe("unable to parse requirement: found '', expected: ',' or ')'");
    expect(parseError('a in (=)')).toBe("unable to parse requirement: found '=', expected: ',', ')' or identifier");
    expect(parseError('a==(')).toBe("unable to parse requirement: found '(', expected: identifier");
    expect(parseError('!a=b')).toBe("found '=', expected: ',' or 'end of string'");
    expect(parseError('a>x')).toBe(
      "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer",
    );
  });

  it('validates keys and values with Kubernetes paths', () => {
    expect(parseError('-a=b')).toBe(
      "unable to parse requirement: <nil>: Invalid value: \"-a\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
    expect(parseError('a=-b')).toBe(
      "unable to parse requirement: values[0][a]: Invalid value: \"-b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  });
});

describe('matchesLabels', () => {
  const labels = { app: 'web', tier: 'front' };
  const m = (s: string, l: Record<string, string> | undefined = labels) => matchesLabels(parseLabelSelector(s), l);

  it('implements each operator', () => {
    expect(m('app=web')).toBe(true);
    expect(m('app==db')).toBe(false);
    expect(m('app!=db')).toBe(true);
    expect(m('missing!=x')).toBe(true);
    expect(m('tier in (front,back)')).toBe(true);
    expect(m('tier notin (front)')).toBe(false);
    expect(m('missing notin (x)')).toBe(true);
    expect(m('missing in (x)')).toBe(false);
    expect(m('app')).toBe(true);
    expect(m('!app')).toBe(false);
    expect(m('!missing')).toBe(true);
    expect(m('app=web,tier=back')).toBe(false);
    expect(matchesLabels(parseLabelSelector('app'), undefined)).toBe(false);
  });
});

describe('labelSelectorFromStruct', () => {
  it('combines matchLabels and matchExpressions', () => {
    const sel = labelSelectorFromStruct({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'dev'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'tier', operator: 'Exists' },
        { key: 'zone', operator: 'NotIn', values: ['b'] },
      ],
    });
    expect(selectorToString(sel)).toBe('app=web,!canary,env in (dev,prod),tier,zone notin (b)');
    expect(matchesLabels(sel, { app: 'web', env: 'prod', tier: 'x', zone: 'a' })).toBe(true);
    expect(matchesLabels(sel, { app: 'web', env: 'prod', tier: 'x', canary: '1' })).toBe(false);
  });

  it('null selects nothing and empty selects everything', () => {
    expect(matchesLabels(labelSelectorFromStruct(null), { a: 'b' })).toBe(false);
    expect(matchesLabels(labelSelectorFromStruct({}), { a: 'b' })).toBe(true);
    expect(selectorToString(labelSelectorFromStruct({}))).toBe('');
  });

  it('rejects bad operators and values', () => {
    expect(() => labelSelectorFromStruct({ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] })).toThrow(
      '"Equals" is not a valid label selector operator',
    );
    expect(() => labelSelectorFromStruct({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).toThrow(
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    );
    expect(() => labelSelectorFromStruct({ matchLabels: { 'bad key': 'x' } })).toThrow(/^key: Invalid value: "bad key": name part/);
  });

  it('labelSelectorFromSet matches exactly the given labels', () => {
    const sel = labelSelectorFromSet({ b: '2', a: '1' });
    expect(selectorToString(sel)).toBe('a=1,b=2');
    expect(matchesLabels(sel, { a: '1', b: '2', c: '3' })).toBe(true);
    expect(matchesLabels(sel, { a: '1' })).toBe(false);
  });
});
