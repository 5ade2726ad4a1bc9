/**
 * A Markdown reference of a contract, generated from its declaration: every endpoint's wire
 * name, which side carries a byte stream, the members and types of its request and response
 * (from the zod schemas, through their JSON Schema), and the error codes it declares. Schemas
 * given an `id` with zod's `.meta()` become named types, described once and linked.
 *
 * Not used at run time (the RPC layer itself never needs zod): scripts render checked-in docs
 * with it, and a test renders them again to catch drift.
 */
import { z } from 'zod';
import type { Contract, StreamSide } from './contract.js';

export interface ContractReferenceOptions {
  /** The document's title (a level-1 heading). */
  title: string;
  /** Paragraphs (Markdown) after the title. */
  intro?: readonly string[];
  /** What each declared error code means: rendered once as a table, linked from each endpoint. */
  errorCodes?: Readonly<Record<string, string>>;
}

type JsonSchema = {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  description?: string;
  $defs?: Record<string, JsonSchema>;
};

interface Row {
  member: string;
  type: string;
  required: boolean;
  notes: string;
}

const STREAM_SIDES: Record<StreamSide, string> = {
  none: 'none: request and response are one MESSAGE each',
  request: 'request: after its request MESSAGE the caller sends the byte stream (DATA frames, then a trailer)',
  response: 'response: after its response MESSAGE the callee sends the byte stream (DATA frames, then a trailer)',
};

/** The JSON Schema of what a validator accepts, or undefined when it is not a zod schema. */
function jsonSchemaOf(validator: unknown): JsonSchema | undefined {
  if (!(validator instanceof z.ZodType)) return undefined;
  // 'input': what the validator accepts, which is what travels (the callee parses requests, the caller responses).
  return z.toJSONSchema(validator, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

function anchor(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

/** Text for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

function refName(ref: string): string {
  return ref.replace(/^#\/\$defs\//, '');
}

/** `X or null` unwrapped: the non-null schema and whether null is allowed. */
function unwrapNull(schema: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const options = schema.anyOf;
  if (options?.length === 2) {
    const other = options.find((option) => option.type !== 'null');
    if (other !== undefined && options.some((option) => option.type === 'null')) {
      // Keep a description given on the wrapper.
      return { schema: schema.description === undefined ? other : { ...other, description: schema.description }, nullable: true };
    }
  }
  return { schema, nullable: false };
}

function isInlineObject(schema: JsonSchema): boolean {
  return schema.type === 'object' && schema.properties !== undefined && Object.keys(schema.properties).length > 0;
}

/** The type, short: a link for a named type, `array of …`, `map of … → …`. */
function typeOf(schema: JsonSchema): string {
  const { schema: inner, nullable } = unwrapNull(schema);
  const base = ((): string => {
    if (inner.$ref !== undefined) {
      const name = refName(inner.$ref);
      return `[${name}](#${anchor(name)})`;
    }
    if (inner.enum !== undefined) return inner.enum.map((value) => code(JSON.stringify(value))).join(' or ');
    if (inner.const !== undefined) return code(JSON.stringify(inner.const));
    if (inner.anyOf !== undefined) return inner.anyOf.map(typeOf).join(' or ');
    switch (inner.type) {
      case 'array':
        return `array of ${inner.items === undefined ? 'any' : isInlineObject(inner.items) ? 'objects' : typeOf(inner.items)}`;
      case 'object':
        if (inner.properties !== undefined) return Object.keys(inner.properties).length === 0 ? 'empty object `{}`' : 'object';
        if (typeof inner.additionalProperties === 'object') {
          return `map of ${inner.propertyNames === undefined ? 'string' : typeOf(inner.propertyNames)} → ${typeOf(inner.additionalProperties)}`;
        }
        return 'object';
      case undefined:
        return 'any';
      default:
        return inner.type;
    }
  })();
  return nullable ? `${base} or \`null\`` : base;
}

/** Constraints that the type alone does not say. */
function constraintsOf(schema: JsonSchema): string[] {
  const { schema: inner } = unwrapNull(schema);
  const notes: string[] = [];
  if (inner.minLength !== undefined && inner.maxLength !== undefined) notes.push(`${inner.minLength}–${inner.maxLength} characters`);
  else if (inner.maxLength !== undefined) notes.push(`at most ${inner.maxLength} characters`);
  else if (inner.minLength !== undefined) notes.push(`at least ${inner.minLength} characters`);
  if (inner.pattern !== undefined) notes.push(`matches ${code(inner.pattern)}`);
  // zod bounds every integer by the safe range: only tighter bounds are worth saying.
  if (inner.minimum !== undefined && inner.minimum > Number.MIN_SAFE_INTEGER) notes.push(`≥ ${inner.minimum}`);
  if (inner.exclusiveMinimum !== undefined) notes.push(`> ${inner.exclusiveMinimum}`);
  if (inner.maximum !== undefined && inner.maximum < Number.MAX_SAFE_INTEGER) notes.push(`≤ ${inner.maximum}`);
  if (inner.exclusiveMaximum !== undefined) notes.push(`< ${inner.exclusiveMaximum}`);
  const items = (n: number): string => `${n} item${n === 1 ? '' : 's'}`;
  if (inner.minItems !== undefined) notes.push(`at least ${items(inner.minItems)}`);
  if (inner.maxItems !== undefined) notes.push(`at most ${items(inner.maxItems)}`);
  if (inner.type === 'array' && inner.items !== undefined && !isInlineObject(inner.items))
    notes.push(...constraintsOf(inner.items).map((note) => `each ${note}`));
  if (inner.type === 'object' && typeof inner.additionalProperties === 'object') {
    notes.push(...constraintsOf(inner.additionalProperties).map((note) => `each value ${note}`));
  }
  if (inner.type === 'object' && inner.additionalProperties === false && inner.properties !== undefined && Object.keys(inner.properties).length > 0) {
    notes.push('no other members');
  }
  return notes;
}

function notesOf(schema: JsonSchema): string {
  const description = schema.description ?? unwrapNull(schema).schema.description;
  return [...(description === undefined ? [] : [description]), ...constraintsOf(schema)].join('; ');
}

/** One row per member, members of inline objects (and of arrays of them) below their parent. */
function rowsOf(schema: JsonSchema, prefix: string): Row[] {
  const rows: Row[] = [];
  const required = new Set(schema.required ?? []);
  for (const [name, member] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`;
    rows.push({ member: path, type: typeOf(member), required: required.has(name), notes: notesOf(member) });
    const { schema: inner } = unwrapNull(member);
    if (isInlineObject(inner)) rows.push(...rowsOf(inner, `${path}.`));
    else if (inner.type === 'array' && inner.items !== undefined && isInlineObject(inner.items)) rows.push(...rowsOf(inner.items, `${path}[].`));
  }
  return rows;
}

function table(rows: readonly Row[]): string[] {
  return [
    '| member | type | required | notes |',
    '|--------|------|----------|-------|',
    ...rows.map((row) => `| ${code(row.member)} | ${cell(row.type)} | ${row.required ? 'yes' : 'no'} | ${cell(row.notes)} |`),
  ];
}

/** A message body: its members, or what it is when it is not an object with members. */
function bodyLines(schema: JsonSchema | undefined): string[] {
  if (schema === undefined) return ['(not described by a zod schema)'];
  const { schema: inner } = unwrapNull(schema);
  if (isInlineObject(inner)) return table(rowsOf(inner, ''));
  const notes = notesOf(schema);
  return [`${typeOf(schema)}${notes === '' ? '' : ` (${notes})`}`];
}

/** Capitalised, with a full stop. */
function sentence(text: string): string {
  const capitalised = `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

export function renderContractReference(contract: Contract, options: ContractReferenceOptions): string {
  const defs = new Map<string, JsonSchema>();
  const endpoints = Object.entries(contract.endpoints).map(([name, def]) => {
    const request = jsonSchemaOf(def.request);
    const response = jsonSchemaOf(def.response);
    for (const schema of [request, response]) {
      for (const [id, defSchema] of Object.entries(schema?.$defs ?? {})) if (!defs.has(id)) defs.set(id, defSchema);
    }
    return { name, wireName: `${contract.name}/${name}`, def, request, response };
  });

  const lines: string[] = [`# ${options.title}`, ''];
  for (const paragraph of options.intro ?? []) lines.push(paragraph, '');

  lines.push('## Endpoints', '', '| endpoint | byte stream |', '|----------|-------------|');
  for (const { wireName, def } of endpoints) lines.push(`| [${code(wireName)}](#${anchor(wireName)}) | ${def.stream} |`);
  lines.push('');

  for (const { wireName, def, request, response } of endpoints) {
    lines.push(`### ${wireName}`, '');
    if (def.description !== '') lines.push(def.description, '');
    lines.push(`Byte stream: ${STREAM_SIDES[def.stream]}.`, '');
    lines.push(`Largest request body: ${def.maxRequestBytes} bytes (larger: \`RPC_REQUEST_TOO_LARGE\`).`, '');
    lines.push('Request:', '', ...bodyLines(request), '');
    lines.push('Response:', '', ...bodyLines(response), '');
    if (def.errors.length > 0) {
      const where = options.errorCodes === undefined ? '' : '; see [Error codes](#error-codes)';
      lines.push(`Errors (the \`remoteCode\` of an \`RPC_REMOTE\` error${where}): ${def.errors.map(code).join(', ')}.`, '');
    }
  }

  if (defs.size > 0) {
    lines.push('## Types', '');
    for (const [id, schema] of [...defs].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`### ${id}`, '');
      if (schema.description !== undefined) lines.push(`${sentence(schema.description)}`, '');
      const notes = constraintsOf(schema);
      if (isInlineObject(schema)) {
        lines.push(...table(rowsOf(schema, '')));
        if (notes.length > 0) lines.push('', sentence(notes.join('; ')));
      } else {
        lines.push(sentence(`${typeOf(schema)}${notes.length > 0 ? `: ${notes.join('; ')}` : ''}`));
      }
      lines.push('');
    }
  }

  const codes = Object.entries(options.errorCodes ?? {});
  if (codes.length > 0) {
    lines.push('## Error codes', '', '| code | meaning |', '|------|---------|');
    for (const [errorCode, meaning] of codes) lines.push(`| ${code(errorCode)} | ${cell(sentence(meaning))} |`);
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
