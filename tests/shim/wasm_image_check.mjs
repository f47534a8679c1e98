// The real core through the WAMR adapter's image splitter (wasm_image.c,
// via wasm_image_test): a WebAssembly engine (Node's) instantiates the whole
// module and the copy WAMR would load. Nothing runs at instantiation (no
// start function), so the whole module's memory then holds exactly its data
// segments, and must equal the memory the splitter wrote; the copy must be a
// valid module whose instantiation writes nothing.
// Usage: node wasm_image_check.mjs CORE COPY MEM   (prints ok / not ok lines)
import fs from "node:fs";

const [corePath, copyPath, memPath] = process.argv.slice(2);
let failed = 0;
const check = (cond, what) => {
  console.log(`${cond ? "ok" : "not ok"} - wasm_image: ${what}`);
  if (!cond) failed++;
};
// Every import answers E_INVAL: nothing may call one during instantiation.
const inert = new Proxy({}, { get: () => () => -4 });
const memoryOf = async (bytes) => {
  const { instance } = await WebAssembly.instantiate(bytes, { host: inert });
  return new Uint8Array(instance.exports.memory.buffer);
};
const core = fs.readFileSync(corePath);
const copy = fs.readFileSync(copyPath);
const written = fs.readFileSync(memPath);
check(WebAssembly.validate(copy), "the core's copy is a valid module");
check(copy.length < core.length, `the copy is smaller (${copy.length} of ${core.length} bytes)`);
const whole = await memoryOf(core);
const fromCopy = await memoryOf(copy);
check(fromCopy.every((b) => b === 0), "instantiating the copy writes no data");
check(whole.length >= written.length && Buffer.compare(Buffer.from(whole.subarray(0, written.length)), written) === 0,
  "the segments written equal the whole module's memory after instantiation");
check(whole.subarray(written.length).every((b) => b === 0), "nothing beyond the written memory");
process.exit(failed === 0 ? 0 : 1);
