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

import { Transform } from "assemblyscript/dist/transform.js";
import { Node, NodeKind, LiteralKind } from "assemblyscript";

/** Name of the marker function (assembly/util/lit.ts). */
const MARKER = "utf8";
/** The length prefix is one byte. */
const LIT_MAX = 255;

function where(node) {
  const r = node.range;
  return r && r.source ? `${r.source.normalizedPath}:${r.source.lineAt(r.start)}` : "?";
}

function rewrite(call) {
  const args = call.args;
  const arg = args && args.length === 1 ? args[0] : null;
  if (!arg || arg.kind !== NodeKind.Literal || arg.literalKind !== LiteralKind.String) {
    throw new Error(`lit-transform: ${where(call)}: ${MARKER}() takes exactly one string literal`);
  }
  const bytes = Buffer.from(arg.value, "utf8");
  if (bytes.length > LIT_MAX) {
    throw new Error(`lit-transform: ${where(call)}: literal is ${bytes.length} bytes, at most ${LIT_MAX}`);
  }
  const range = call.range;
  const elems = [bytes.length, ...bytes].map((b) => Node.createIntegerLiteralExpression(i64_new(b, 0), range));
  call.expression = Node.createPropertyAccessExpression(
    Node.createIdentifierExpression("memory", range),
    Node.createIdentifierExpression("data", range),
    range,
  );
  call.typeArguments = [
    Node.createNamedType(Node.createSimpleTypeName("u8", range), null, false, range),
  ];
  call.args = [Node.createArrayLiteralExpression(elems, range)];
}

/** Visits every AST node reachable from `node` (ranges and sources skipped). */
function walk(node, seen) {
  if (node === null || typeof node !== "object" || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const n of node) walk(n, seen);
    return;
  }
  for (const key of Object.keys(node)) {
    if (key === "range" || key === "source" || key === "parent") continue;
    walk(node[key], seen);
  }
  if (
    node.kind === NodeKind.Call &&
    node.expression &&
    node.expression.kind === NodeKind.Identifier &&
    node.expression.text === MARKER
  ) {
    rewrite(node);
  }
}

export default class LitTransform extends Transform {
  afterParse(parser) {
    const sources = parser.program ? parser.program.sources : parser.sources;
    const seen = new Set();
    for (const source of sources) {
      if (source.normalizedPath.startsWith("~lib/")) continue;
      walk(source.statements, seen);
    }
  }
}
