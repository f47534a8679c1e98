// asc transform (asconfig.json and as-pect.asconfig.json "transform"): turns
// every `utf8("literal")` call (marker declared in assembly/util/lit.ts) into
// a compile-time constant `memory.data<u8>([len, b0, b1, ...])`: a usize
// pointer to one length byte followed by the literal's UTF-8 bytes (a "Lit",
// see lit.ts). So message texts, JSON keys and header names are stored as
// UTF-8 bytes in static data instead of AssemblyScript strings (UTF-16 plus a
// 20-byte object header each).
//
// The argument must be one string literal of at most 255 UTF-8 bytes; anything
// else fails the build with the call's source location.
//
// Identical literals share one copy: each distinct text becomes one constant
// `@global const __utf8_lit_<n>: usize = memory.data<u8>([...])` added to
// assembly/util/lit.ts, and every call with that text is replaced by its
// name (the core compares literals by content, never by address). Every
// literal of the program is then in static data, also one whose only use is
// in code that is never compiled (a few bytes: the abort handler's). A
// program without that file keeps one `memory.data` per call.

import { Transform } from "assemblyscript/dist/transform.js";
import { Node, NodeKind, LiteralKind, CommonFlags } from "assemblyscript";

/** Name of the marker function (assembly/util/lit.ts). */
const MARKER = "utf8";
/** The length prefix is one byte. */
const LIT_MAX = 255;

function where(node) {
  const r = node.range;
  return r && r.source ? `${r.source.normalizedPath}:${r.source.lineAt(r.start)}` : "?";
}

/** Source that holds the shared literals (the marker's own file). */
const LIT_SOURCE = "assembly/util/lit.ts";
/** Prefix of the shared literals' global names. */
const LIT_GLOBAL = "__utf8_lit_";

/** The bytes [len, ...UTF-8] of a marker call's literal; throws on misuse. */
function litBytes(call) {
  const args = call.args;
  const arg = args && args.length === 1 ? args[0] : null;
  if (!arg || arg.kind !== NodeKind.Literal || arg.literalKind !== LiteralKind.String) {
    throw new Error(`lit-transform: ${where(call)}: ${MARKER}() takes exactly one string literal`);
  }
  const bytes = Buffer.from(arg.value, "utf8");
  if (bytes.length > LIT_MAX) {
    throw new Error(`lit-transform: ${where(call)}: literal is ${bytes.length} bytes, at most ${LIT_MAX}`);
  }
  return [bytes.length, ...bytes];
}

/** `memory.data<u8>([b0, b1, ...])` at `range`. */
function dataExpression(bytes, range) {
  const elems = bytes.map((b) => Node.createIntegerLiteralExpression(i64_new(b, 0), range));
  return Node.createCallExpression(
    Node.createPropertyAccessExpression(
      Node.createIdentifierExpression("memory", range),
      Node.createIdentifierExpression("data", range),
      range,
    ),
    [Node.createNamedType(Node.createSimpleTypeName("u8", range), null, false, range)],
    [Node.createArrayLiteralExpression(elems, range)],
    range,
  );
}

function isMarker(node) {
  return (
    node !== null &&
    typeof node === "object" &&
    node.kind === NodeKind.Call &&
    node.expression &&
    node.expression.kind === NodeKind.Identifier &&
    node.expression.text === MARKER
  );
}

/** Replaces, below `node`, every marker call with what `replace(call)` returns. */
function walk(node, seen, replace) {
  if (node === null || typeof node !== "object" || seen.has(node)) return;
  seen.add(node);
  const keys = Array.isArray(node) ? node.keys() : Object.keys(node);
  for (const key of keys) {
    if (key === "range" || key === "source" || key === "parent") continue;
    const child = node[key];
    if (isMarker(child)) node[key] = replace(child);
    else walk(child, seen, replace);
  }
}

/** Declares the shared literals in `source`: one `@global const` each. */
function declareShared(source, shared) {
  const range = source.range;
  for (const [key, name] of shared) {
    const bytes = key.split(",").map(Number);
    const decl = Node.createVariableDeclaration(
      Node.createIdentifierExpression(name, range),
      [Node.createDecorator(Node.createIdentifierExpression("global", range), null, range)],
      CommonFlags.Const | CommonFlags.Export,
      Node.createNamedType(Node.createSimpleTypeName("usize", range), null, false, range),
      dataExpression(bytes, range),
      range,
    );
    source.statements.push(Node.createVariableStatement(null, [decl], range));
  }
}

export default class LitTransform extends Transform {
  afterParse(parser) {
    const sources = (parser.program ? parser.program.sources : parser.sources).filter(
      (src) => !src.normalizedPath.startsWith("~lib/"),
    );
    const home = sources.find((src) => src.normalizedPath.endsWith(LIT_SOURCE)) || null;
    /** Literal bytes (joined) -> global name. */
    const shared = new Map();
    const replace = (call) => {
      const bytes = litBytes(call);
      if (home === null) return dataExpression(bytes, call.range);
      const key = bytes.join(",");
      let name = shared.get(key);
      if (name === undefined) {
        name = LIT_GLOBAL + shared.size;
        shared.set(key, name);
      }
      return Node.createIdentifierExpression(name, call.range);
    };
    const seen = new Set();
    for (const source of sources) walk(source.statements, seen, replace);
    if (home !== null) declareShared(home, shared);
  }
}
