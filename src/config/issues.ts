import { z } from 'zod';
import { closestMatch } from './suggest.js';

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** One plain-English line per zod issue, naming the dotted key path, what was expected and what was given. */
export function describeIssues(issues: readonly Issue[], schema: z.ZodType, input: unknown): string[] {
  return issues.flatMap((issue) => describeIssue(issue, schema, input));
}

function describeIssue(issue: Issue, schema: z.ZodType, input: unknown): string[] {
  const at = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const valid = objectKeysAt(schema, issue.path, input);
    return issue.keys.map((key) => `unknown key '${formatPath([...issue.path, key])}'${hint(key, valid)}`);
  }
  const expected = expectation(issue);
  if (expected === undefined) return [`${at}: ${issue.message}`];
  const value = valueAt(input, issue.path);
  return [value === undefined ? `${at}: required (expected ${expected})` : `${at}: expected ${expected}, got ${describeValue(value)}`];
}

// What the schema wanted, phrased to follow "expected"; undefined when the issue's own message says it all.
function expectation(issue: Issue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return noun(issue.expected);
    case 'too_small':
      return bound(issue.origin, issue.inclusive ? '>=' : '>', issue.minimum);
    case 'too_big':
      return bound(issue.origin, issue.inclusive ? '<=' : '<', issue.maximum);
    case 'invalid_value':
      return oneOf(issue.values);
    case 'invalid_union':
      // A defaulted discriminator lists `undefined` among its options; users can only type the named ones.
      return issue.discriminator !== undefined && 'options' in issue && issue.options !== undefined
        ? oneOf(issue.options.filter((option) => option !== undefined))
        : undefined;
    case 'invalid_format':
      // Schemas word their format messages as the expected value (see RunConfig.device).
      return issue.message;
    default:
      return undefined;
  }
}

function formatPath(path: Path): string {
  if (path.length === 0) return '(top level)';
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

function hint(key: string, valid: readonly string[]): string {
  if (valid.length === 0) return '';
  const match = closestMatch(key, valid);
  return match === undefined ? ` (valid keys: ${valid.join(', ')})` : ` (did you mean '${match}'?)`;
}

function noun(expected: string): string {
  const nouns: Record<string, string> = {
    int: 'an integer',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    array: 'a list',
    tuple: 'a list',
    object: 'a mapping',
  };
  return nouns[expected] ?? expected;
}

function bound(origin: string, relation: string, limit: number | bigint): string {
  if (origin === 'array') return `a list with ${relation} ${limit} entries`;
  if (origin === 'string') return `a string with ${relation} ${limit} characters`;
  return `a value ${relation} ${limit}`;
}

function oneOf(values: readonly unknown[]): string {
  const quoted = values.map(describeValue);
  return quoted.length === 1 ? quoted[0]! : `one of ${quoted.join(', ')}`;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'a mapping';
  return String(value);
}

function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

// The keys the schema allows at `path`, following the input to pick discriminated-union variants.
function objectKeysAt(schema: z.ZodType, path: Path, input: unknown): string[] {
  let node: z.ZodType | undefined = schema;
  for (let depth = 0; node !== undefined; depth++) {
    node = resolveVariant(unwrapDefaults(node), valueAt(input, path.slice(0, depth)));
    if (depth === path.length) return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
    const key = path[depth];
    if (node instanceof z.ZodObject && typeof key === 'string') node = node.shape[key] as z.ZodType | undefined;
    else if (node instanceof z.ZodArray && typeof key === 'number') node = node.element as z.ZodType;
    else return [];
  }
  return [];
}

function unwrapDefaults(node: z.ZodType): z.ZodType {
  while (node instanceof z.ZodDefault || node instanceof z.ZodPrefault || node instanceof z.ZodOptional) {
    node = node.unwrap() as z.ZodType;
  }
  return node;
}

function resolveVariant(node: z.ZodType | undefined, value: unknown): z.ZodType | undefined {
  if (!(node instanceof z.ZodDiscriminatedUnion)) return node;
  const discriminator = node.def.discriminator;
  const tag = valueAt(value, [discriminator]);
  return (node.options as z.ZodType[]).find(
    (option) => option instanceof z.ZodObject && option.shape[discriminator]?.safeParse(tag).success,
  );
}
