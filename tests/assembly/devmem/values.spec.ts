// The memory_values parser (assembly/devmem/values.ts): every accepted form
// and every rejection, with the set untouched by nothing but success.
import {
  ValueSet, ValuesParser, VE_ADDRESS, VE_ADDRESS_RANGE, VE_DUPLICATE, VE_NEGATIVE, VE_NONE, VE_SYNTAX, VE_VALUE,
  VE_VALUE_RANGE,
} from "../../../assembly/devmem/values";
import { E_MALFORMED, E_TOOLARGE, OK } from "../../../assembly/util/errors";

const set = new ValueSet();
const p = new ValuesParser();

function parse(s: string, size: i32 = 256): i32 {
  const b = String.UTF8.encode(s);
  return p.parse(changetype<usize>(b), b.byteLength, size, set);
}
function rejects(s: string, kind: i32, size: i32 = 256): void {
  const r = parse(s, size);
  if (r != E_MALFORMED || p.errorKind != kind) log(s);
  expect(r).toBe(E_MALFORMED);
  expect(p.errorKind).toBe(kind);
}

describe("memory_values", () => {
  it("parses the user's example", () => {
    expect(parse("0=0x42,1=0x43,2=0xFF")).toBe(OK);
    expect(set.count).toBe(3);
    expect(set.get(0)).toBe(0x42);
    expect(set.get(1)).toBe(0x43);
    expect(set.get(2)).toBe(0xff);
    expect(set.has(3)).toBe(false);
    expect(p.errorKind).toBe(VE_NONE);
  });
  it("takes decimal and hex in either case, whitespace, empty entries", () => {
    expect(parse(" 0 = 66 ,\t4=0x0a, 3 = 0X01 ,,255=255,")).toBe(OK);
    expect(set.count).toBe(4);
    expect(set.get(0)).toBe(66);
    expect(set.get(4)).toBe(10);
    expect(set.get(3)).toBe(1);
    expect(set.get(255)).toBe(255);
    expect(parse("0x0F=0xfF")).toBe(OK);
    expect(set.get(15)).toBe(255);
    expect(parse("007=000000000001")).toBe(OK); // leading zeros are not digits that count
    expect(set.get(7)).toBe(1);
  });
  it("an empty text names nothing", () => {
    expect(parse("")).toBe(OK);
    expect(set.count).toBe(0);
    expect(parse(" , ")).toBe(OK);
    expect(set.count).toBe(0);
  });
  it("accepts a repeated address with the same value", () => {
    expect(parse("1=2,1=0x02")).toBe(OK);
    expect(set.count).toBe(1);
  });
  it("rejects bad input with the reason and where", () => {
    rejects("0=0xZZ", VE_VALUE);
    rejects("0=0x", VE_VALUE);
    rejects("0=", VE_VALUE);
    rejects("x=1", VE_ADDRESS);
    rejects("=1", VE_ADDRESS);
    rejects("0", VE_SYNTAX);
    rejects("0=1=2", VE_VALUE);
    rejects("0=-1", VE_NEGATIVE);
    rejects("-1=1", VE_NEGATIVE);
    rejects("0=0x100", VE_VALUE_RANGE);
    rejects("0=256", VE_VALUE_RANGE);
    rejects("0=999999999999999999999", VE_VALUE_RANGE);
    rejects("256=1", VE_ADDRESS_RANGE);
    rejects("16=1", VE_ADDRESS_RANGE, 16);
    rejects("0=1,0=2", VE_DUPLICATE);
    rejects("0=1 2", VE_VALUE);
    expect(parse("0=1,1=2,2=0x1FF,3=4")).toBe(E_MALFORMED);
    expect(p.errorAt).toBe(8);
    expect(p.errorLen).toBe(7); // "2=0x1FF"
  });
  it("refuses a region larger than the core handles", () => {
    expect(parse("0=1", 257)).toBe(E_TOOLARGE);
  });
  it("does not allocate while parsing", () => {
    const b = String.UTF8.encode("0=0x42,1=0x43,2=0xFF");
    const before = heap.alloc(16);
    heap.free(before);
    for (let i = 0; i < 1000; i++) p.parse(changetype<usize>(b), b.byteLength, 256, set);
    const after = heap.alloc(16);
    heap.free(after);
    expect(after).toBe(before);
  });
});
