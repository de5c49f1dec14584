// docs/protocol.md describes the wire protocol byte by byte for people writing clients in other
// languages; this keeps it true to the code. Its tables are parsed and compared row by row with
// the tables the code runs on (FrameType, WIRE_STATUSES, BlockCodec, the rpcs of the .proto
// files), every hex example is re-encoded with the real encoders and compared byte for byte
// (offsets and the values named in the annotations included), and every link into a heading
// must name one that exists. Code comments link to the `##` headings, so those are fixed too.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/common/errors.js';
import { WIRE_STATUSES, type WireStatus } from '../src/common/status-codes.js';
import { crc32 } from '../src/common/wire/crc.js';
import {
  BLOCK_HEADER_BYTES,
  BLOCK_MAGIC,
  BlockCodec,
  FRAME_OVERHEAD_BYTES,
  FrameType,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_PUSH_SLICES,
  encodeBlocksFrame,
  encodeChunkFrame,
  encodeCloseStreamFrame,
  encodeErrorFrame,
  encodeFetchBlocksFrame,
  encodeFetchChunkFrame,
  encodeOpenStreamFrame,
  encodePingFrame,
  encodePongFrame,
  encodePushAckFrame,
  encodePushFrame,
  encodeRegisterOutputFrame,
  encodeRegisteredFrame,
  encodeStreamHandleFrame,
  frameTypeName,
  writeBlock,
} from '../src/common/wire/index.js';
import * as wire from '../src/common/wire/index.js';
import type { AppId, ShuffleId } from '../src/common/ids.js';
import { anchorsOf, lines } from './markdown.js';

const ROOT = join(import.meta.dirname, '..');
const DOCS = join(ROOT, 'docs');
const DOC = readFileSync(join(DOCS, 'protocol.md'), 'utf8');

/** The `##` headings, in order: code comments link to them as docs/protocol.md#<anchor>. */
const REQUIRED_HEADINGS = [
  'Frames',
  'Data-plane messages',
  'Status codes',
  'Block format',
  'gRPC services',
];

// ---------------------------------------------------------------------------------------------
// Markdown helpers

/** The document's lines with a flag telling whether each lies inside a fenced code block. */
function headings(markdown: string, level: number): string[] {
  const prefix = `${'#'.repeat(level)} `;
  return lines(markdown)
    .filter((l) => !l.fenced && l.text.startsWith(prefix))
    .map((l) => l.text.slice(prefix.length).trim());
}

/** The text under a heading, up to the next heading of the same or a higher level. */
function section(markdown: string, title: string, level: number): string {
  const all = lines(markdown);
  const start = all.findIndex((l) => !l.fenced && l.text === `${'#'.repeat(level)} ${title}`);
  if (start < 0) throw new Error(`docs/protocol.md has no heading "${'#'.repeat(level)} ${title}"`);
  const end = all.findIndex(
    (l, i) =>
      i > start && !l.fenced && /^#{1,6} /.test(l.text) && /^#+/.exec(l.text)![0].length <= level,
  );
  return all
    .slice(start + 1, end < 0 ? undefined : end)
    .map((l) => l.text)
    .join('\n');
}

function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());
}

/** Strips `code` marks from a cell. */
function plain(cell: string): string {
  return cell.replace(/`/g, '');
}

/**
 * The rows of the table whose header starts with `columns` (extra columns after them are
 * allowed); exactly one such table must exist in `text`.
 */
function table(text: string, columns: readonly string[]): { header: string[]; rows: string[][] } {
  const found: { header: string[]; rows: string[][] }[] = [];
  const all = text.split('\n');
  for (let i = 0; i + 1 < all.length; i++) {
    if (!all[i]!.trim().startsWith('|') || !/^\s*\|[\s:|-]+\|\s*$/.test(all[i + 1]!)) continue;
    const header = cells(all[i]!);
    if (columns.some((c, k) => header[k] !== c)) continue;
    const rows: string[][] = [];
    for (let j = i + 2; j < all.length && all[j]!.trim().startsWith('|'); j++)
      rows.push(cells(all[j]!));
    found.push({ header, rows });
  }
  expect(found.length, `tables with columns | ${columns.join(' | ')} |`).toBe(1);
  return found[0]!;
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

// ---------------------------------------------------------------------------------------------

describe('docs/protocol.md structure', () => {
  it('has the title and exactly the required ## headings, in order', () => {
    expect(DOC.split('\n')[0]).toBe('# Protocol');
    expect(headings(DOC, 1)).toEqual(['Protocol']);
    expect(headings(DOC, 2)).toEqual(REQUIRED_HEADINGS);
    const anchors = anchorsOf(DOC);
    for (const anchor of ['frames', 'data-plane-messages', 'status-codes', 'block-format'])
      expect(anchors.has(anchor), anchor).toBe(true);
    expect(anchors.has('grpc-services')).toBe(true);
  });

  it('every file it names exists', () => {
    const named = [...DOC.matchAll(/`((?:src|proto|test|docs|bench)\/[^`*\s]+)`/g)].map(
      (m) => m[1]!,
    );
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });

  it('every link to a heading names one that exists', () => {
    const own = anchorsOf(DOC);
    const targets = new Set<string>();
    for (const l of lines(DOC)) {
      if (l.fenced) continue;
      for (const m of l.text.matchAll(/\]\(([^)\s]+)\)/g)) targets.add(m[1]!);
      for (const m of l.text.matchAll(/(?:^|[\s(`])(docs\/[\w.-]+\.md#[\w-]+)/g))
        targets.add(m[1]!);
    }
    expect(targets.size).toBeGreaterThan(0);
    const broken: string[] = [];
    for (const target of targets) {
      if (/^[a-z]+:/.test(target)) continue; // http:, https:, mailto:
      const [path, anchor] = target.split('#') as [string, string | undefined];
      let doc = DOC;
      let anchors = own;
      if (path !== '') {
        const file = path.startsWith('docs/') ? join(ROOT, path) : join(DOCS, path);
        if (!existsSync(file)) {
          broken.push(`${target}: no such file`);
          continue;
        }
        doc = readFileSync(file, 'utf8');
        anchors = anchorsOf(doc);
      }
      if (anchor !== undefined && !anchors.has(anchor)) broken.push(`${target}: no such heading`);
    }
    expect(broken).toEqual([]);
  });
});

describe('frame types', () => {
  const { rows } = table(section(DOC, 'Frames', 2), ['value', 'type', 'direction', 'meaning']);

  it('has one row per FrameType value, with its name, and nothing else', () => {
    const documented = rows.map((r) => [Number(r[0]), plain(r[1]!)] as const);
    expect(
      rows.every((r) => /^\d+$/.test(r[0]!)),
      'values are plain integers',
    ).toBe(true);
    const values = documented.map(([v]) => v);
    expect(new Set(values).size, 'every value appears once').toBe(values.length);
    expect(documented).toEqual(
      Object.entries(FrameType)
        .map(([name, value]) => [value, name] as const)
        .sort((a, b) => a[0] - b[0]),
    );
  });

  it('says for every type who sends it and what it means', () => {
    for (const r of rows) {
      expect(r[2], `direction of ${r[1]}`).not.toBe('');
      expect(r[3], `meaning of ${r[1]}`).not.toBe('');
    }
  });

  it('has a subsection for every message type under Data-plane messages', () => {
    const subsections = headings(section(DOC, 'Data-plane messages', 2), 3).join('\n');
    for (const [name, value] of Object.entries(FrameType))
      expect(subsections, name).toMatch(new RegExp(`\\b${name} \\(${value}\\)`));
  });
});

describe('frame flags', () => {
  it('has one row per flag constant of the codec (<TYPE>_FLAG_<NAME>), with its type and bit', () => {
    const { rows } = table(section(DOC, 'Frames', 2), ['type', 'bit', 'name', 'meaning']);
    const flags = Object.entries(wire)
      .filter(([name, value]) => /^[A-Z]+_FLAG_[A-Z_]+$/.test(name) && typeof value === 'number')
      .map(([name, value]) => [
        name.slice(0, name.indexOf('_FLAG_')),
        `0x${(value as number).toString(16).padStart(2, '0')}`,
        name,
      ]);
    expect(flags.length, 'flag constants found in src/common/wire').toBeGreaterThan(0);
    for (const [type] of flags) expect(Object.keys(FrameType)).toContain(type);
    expect(rows.map((r) => [plain(r[0]!), plain(r[1]!), plain(r[2]!)]).sort()).toEqual(
      flags.sort(),
    );
  });
});

describe('status codes', () => {
  /** Table column for each field of WireStatus; `doc` is paraphrased in `meaning`. */
  const COLUMNS: Readonly<Record<string, string>> = {
    value: 'value',
    name: 'name',
    ok: 'ok',
    retriable: 'retriable',
    code: 'error code',
    push: 'push client',
    read: 'reader',
  };
  const { header, rows } = table(section(DOC, 'Status codes', 2), [
    'value',
    'name',
    'ok',
    'retriable',
    'meaning',
    'error code',
    'push client',
    'reader',
  ]);

  it('documents every field of the status table in a column', () => {
    const fields = new Set(WIRE_STATUSES.flatMap((s) => Object.keys(s)));
    const missing = [...fields].filter((f) => f !== 'doc' && !(f in COLUMNS));
    expect(
      missing,
      'status-codes.ts has fields docs/protocol.md has no column for: add the columns to the ' +
        'status table and to COLUMNS in test/docs-protocol.test.ts',
    ).toEqual([]);
    for (const column of Object.values(COLUMNS)) expect(header).toContain(column);
  });

  it('has one row per wire status with the same fields (ok, retriable, error code, actions), and nothing else', () => {
    /** Booleans are yes / no; a missing value (the accepted statuses have no error code) is —. */
    const format = (value: unknown) =>
      typeof value === 'boolean' ? yesNo(value) : value === null ? '—' : String(value);
    const expected = [...WIRE_STATUSES]
      .sort((a, b) => a.value - b.value)
      .map((s) =>
        Object.fromEntries(
          Object.entries(COLUMNS).map(([field, column]) => [
            column,
            format(s[field as keyof WireStatus]),
          ]),
        ),
      );
    const documented = rows.map((r) =>
      Object.fromEntries(
        Object.values(COLUMNS).map((column) => [column, plain(r[header.indexOf(column)] ?? '')]),
      ),
    );
    const values = documented.map((d) => d.value);
    expect(new Set(values).size, 'every value appears once').toBe(values.length);
    expect(documented).toEqual(expected);
  });

  it('explains every status', () => {
    for (const r of rows) expect(r[header.indexOf('meaning')], r[1]).not.toBe('');
  });
});

describe('block format', () => {
  const text = section(DOC, 'Block format', 2);

  it('has one row per codec', () => {
    const { rows } = table(text, ['value', 'codec']);
    expect(rows.map((r) => [Number(r[0]), plain(r[1]!)])).toEqual(
      Object.entries(BlockCodec)
        .map(([name, value]) => [value, name])
        .sort((a, b) => (a[0] as number) - (b[0] as number)),
    );
  });

  it('quotes the constants of the code', () => {
    const hex = `0x${BLOCK_MAGIC.toString(16).toUpperCase()}`;
    expect(text).toContain(`\`${hex}\`, ASCII \`SLB1\``);
    expect(Buffer.from(BLOCK_MAGIC.toString(16), 'hex').toString('latin1')).toBe('SLB1');
    expect(text).toContain(`A ${BLOCK_HEADER_BYTES}-byte header`);
    const n = (x: number) => x.toLocaleString('en-US');
    expect(DOC).toMatch(
      new RegExp(
        `fixed part \\(length field\\s+and 12-byte prefix\\) is ${FRAME_OVERHEAD_BYTES} bytes`,
      ),
    );
    expect(DOC).toMatch(
      new RegExp(`\`messageLength\`\\s*\\|\\s*u16, at most ${n(MAX_ERROR_MESSAGE_BYTES)}`),
    );
    expect(DOC).toMatch(new RegExp(`\`sliceCount\`\\s*\\|\\s*u32, 1 to ${n(MAX_PUSH_SLICES)}`));
  });

  it('states the CRC check value and the coverage example correctly', () => {
    expect(text).toContain('`crc32("123456789") = 0xCBF43926`');
    expect(crc32(Buffer.from('123456789')).toString(16)).toBe('cbf43926');
    const block = EXAMPLE_BLOCKS.p5;
    const stored = block.subarray(BLOCK_HEADER_BYTES);
    const covered = Buffer.concat([block.subarray(4, 28), stored]);
    expect(text).toContain(`\`crc32 = ${hex32(crc32(covered))}\``);
    expect(block.readUInt32BE(28)).toBe(crc32(covered));
    expect(text).toContain(`stored bytes alone would be \`${hex32(crc32(stored))}\``);
  });
});

// ---------------------------------------------------------------------------------------------
// Hex examples: each ```hex <name> block is one frame, one field per line:
//   <offset in the frame>  <bytes in hex>  <field> [= <value>] [(<name>)]

const hex32 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** One record as the client frames it: length:u32 then the bytes. */
function record(text: string): Buffer {
  const b = Buffer.alloc(4 + text.length);
  b.writeUInt32BE(text.length, 0);
  b.write(text, 4, 'latin1');
  return b;
}

function block(text: string): Buffer {
  const raw = record(text);
  const meta = {
    mapId: 7,
    attemptId: 0,
    batchId: 0,
    rawLength: raw.length,
    codec: BlockCodec.NONE,
  };
  return Buffer.concat(writeBlock(meta, raw));
}

const EXAMPLE_BLOCKS = { p5: block('hi'), p6: block('yo') };
const APP = 'app-1' as AppId;
const SHUFFLE = 0 as ShuffleId;

/** The frames of the examples, built with the real encoders. */
function exampleFrames(): Record<string, Buffer> {
  const { p5, p6 } = EXAMPLE_BLOCKS;
  const join = (parts: Buffer[]) => Buffer.concat(parts);
  const ref = { appId: APP, shuffleId: SHUFFLE, mapId: 7, attemptId: 0 };
  return {
    push: join(
      encodePushFrame(
        1n,
        {
          ...ref,
          epoch: 0,
          groupId: 0,
          slices: [
            { partitionId: 5, bodyOffset: 0, length: p5.length },
            { partitionId: 6, bodyOffset: p5.length, length: p6.length },
          ],
        },
        [p5, p6],
      ),
    ),
    push_ack: join(
      encodePushAckFrame(1n, {
        statuses: [
          { partitionId: 5, status: 0 },
          { partitionId: 6, status: 1 },
        ],
      }),
    ),
    open_stream: join(
      encodeOpenStreamFrame(1n, {
        appId: APP,
        shuffleId: SHUFFLE,
        partition: 5,
        epoch: 0,
        startChunk: 0,
      }),
    ),
    stream_handle: join(
      encodeStreamHandleFrame(1n, {
        streamId: 1n,
        fileLength: p5.length,
        fileCrc32: crc32(p5),
        chunkLengths: [p5.length],
      }),
    ),
    fetch_chunk: join(encodeFetchChunkFrame(2n, { streamId: 1n, chunkIndex: 0 })),
    chunk: join(encodeChunkFrame(2n, { streamId: 1n, chunkIndex: 0 }, p5)),
    close_stream: join(encodeCloseStreamFrame(3n, { streamId: 1n })),
    error: join(encodeErrorFrame(4n, { status: 13, message: 'stream 9 is not open' })),
    ping: join(encodePingFrame(5n, Buffer.from('ab'))),
    pong: join(encodePongFrame(5n, Buffer.from('ab'))),
    register_output: join(encodeRegisterOutputFrame(1n, ref)),
    registered: join(
      encodeRegisteredFrame(1n, { partitionCount: 8, dataLength: p5.length + p6.length }),
    ),
    fetch_blocks: join(
      encodeFetchBlocksFrame(2n, {
        ...ref,
        partition: 5,
        offset: 0,
        maxLength: 8 * 1024 * 1024,
        priority: 3,
      }),
    ),
    blocks: join(encodeBlocksFrame(2n, p5.length, p5)),
  };
}

interface ExampleLine {
  readonly offset: number;
  readonly bytes: Buffer;
  readonly label: string;
}

function examples(markdown: string): Map<string, ExampleLine[]> {
  const out = new Map<string, ExampleLine[]>();
  let current: ExampleLine[] | undefined;
  for (const line of markdown.split('\n')) {
    const open = /^```hex (\w+)\s*$/.exec(line);
    if (open) {
      expect(out.has(open[1]!), `example ${open[1]} appears twice`).toBe(false);
      current = [];
      out.set(open[1]!, current);
    } else if (line.startsWith('```')) {
      current = undefined;
    } else if (current) {
      const m = /^\s*(\d+) {2}((?:[0-9a-f]{2} )*[0-9a-f]{2})\s{2,}(\S.*)$/.exec(line);
      expect(m, `example line: ${line}`).not.toBeNull();
      current.push({
        offset: Number(m![1]),
        bytes: Buffer.from(m![2]!.replace(/ /g, ''), 'hex'),
        label: m![3]!,
      });
    }
  }
  return out;
}

/** Checks the value an annotation names (`= 42`, `= 0x…`, `= "text"`) against its bytes. */
function checkLabel(where: string, { bytes, label }: ExampleLine): void {
  const value = /= (0x[0-9a-f]+|\d+|"(?:[^"\\]|\\.)*")/.exec(label)?.[1];
  if (value === undefined) return;
  const n =
    bytes.length <= 6 ? BigInt(bytes.readUIntBE(0, bytes.length)) : bytes.readBigUInt64BE(0);
  if (value.startsWith('"')) expect(bytes.toString('latin1'), where).toBe(JSON.parse(value));
  else if (value.startsWith('0x')) expect(`0x${bytes.toString('hex')}`, where).toBe(value);
  else expect(n, where).toBe(BigInt(value));
  const named = /\(([A-Z_]+)\)/.exec(label)?.[1];
  if (named === undefined) return;
  if (label.startsWith('type ')) expect(frameTypeName(Number(n)), where).toBe(named);
  else if (/status/.test(label))
    expect(WIRE_STATUSES.find((s) => s.value === Number(n))?.name, where).toBe(named);
}

describe('hex examples', () => {
  const frames = exampleFrames();
  const documented = examples(DOC);

  it('cover PUSH and PUSH_ACK and are all known to this test', () => {
    expect(documented.has('push')).toBe(true);
    expect(documented.has('push_ack')).toBe(true);
    expect([...documented.keys()].filter((k) => !(k in frames))).toEqual([]);
  });

  it.each(Object.keys(frames))('%s is what the encoder writes, field by field', (name) => {
    const example = documented.get(name);
    if (example === undefined) return; // an example the document does not show
    let at = 0;
    for (const line of example) {
      expect(line.offset, `${name}: offset of "${line.label}"`).toBe(at);
      checkLabel(`${name}: ${line.label}`, line);
      at += line.bytes.length;
    }
    expect(Buffer.concat(example.map((l) => l.bytes)).toString('hex'), name).toBe(
      frames[name]!.toString('hex'),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('gRPC services', () => {
  const text = section(DOC, 'gRPC services', 2);
  const protoDir = join(ROOT, 'proto/sluice/v1');
  const services = new Map<string, [string, string, string][]>();
  for (const file of readdirSync(protoDir).filter((f) => f.endsWith('.proto'))) {
    const proto = readFileSync(join(protoDir, file), 'utf8').replace(/\/\/.*$/gm, '');
    for (const s of proto.matchAll(/service\s+(\w+)\s*\{([^}]*)\}/g)) {
      const rpcs = [
        ...s[2]!.matchAll(
          /rpc\s+(\w+)\s*\(\s*(stream\s+)?(\w+)\s*\)\s*returns\s*\(\s*(stream\s+)?(\w+)\s*\)/g,
        ),
      ].map(
        (m) =>
          [m[1]!, `${m[2] ? 'stream ' : ''}${m[3]!}`, `${m[4] ? 'stream ' : ''}${m[5]!}`] as [
            string,
            string,
            string,
          ],
      );
      services.set(s[1]!, rpcs);
    }
  }

  it('finds the services of the .proto files (guards against an empty parse)', () => {
    expect([...services.keys()].sort()).toEqual(
      ['AgentService', 'DriverService', 'ManagerService', 'WorkerControlService'].sort(),
    );
  });

  it.each([...services.keys()])('%s: one row per rpc with its request and response', (service) => {
    const { rows } = table(section(text, service, 3), ['method', 'request', 'response', 'meaning']);
    expect(rows.map((r) => [plain(r[0]!), plain(r[1]!), plain(r[2]!)])).toEqual(
      services.get(service),
    );
  });

  it('names every gRPC status an error code maps to, and no other', () => {
    const sentence = /The gRPC statuses Sluice codes map to:([^.]*)\./.exec(text)?.[1];
    expect(sentence).toBeDefined();
    const named = [...sentence!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!);
    expect(named.length, 'each status once').toBe(new Set(named).size);
    expect(new Set(named)).toEqual(new Set(Object.values(ERROR_CODES).map((e) => e.grpc)));
  });

  it('lists every service in the table of servers', () => {
    const { rows } = table(text, ['service', 'served by', 'address']);
    expect(rows.map((r) => plain(r[0]!)).sort()).toEqual([...services.keys()].sort());
  });
});
