// as-pect configuration for the core's unit tests (npm run test:unit).
// Every spec is compiled with as-pect.asconfig.json and instantiated against
// the ONE host fake (tests/fakes/host.js): module "host" is the fake of the
// host ABI (assembly/host/imports.ts), module "fake" lets specs drive it
// (declared for AssemblyScript in tests/fakes/fake.ts).
import { createFakeHost } from "./tests/fakes/host.js";

export default {
  /** Spec files: tests mirror assembly/ (STYLE.md habit 9). */
  entries: ["tests/assembly/**/*.spec.ts"],
  /** Files added to every spec compilation. */
  include: ["tests/assembly/**/*.include.ts"],
  disclude: [/node_modules/],
  /** Instantiates one spec module with a fresh fake host. */
  async instantiate(memory, createImports, instantiate, binary) {
    const fake = createFakeHost();
    const result = await instantiate(
      binary,
      createImports({ env: { memory }, host: fake.hostImports(), fake: fake.controlImports() }),
    );
    // The module exports its memory (as-pect.asconfig.json); the fake reads
    // and writes it only after instantiation (the start function runs later).
    fake.attach(result.exports.memory);
    return result;
  },
  outputBinary: false,
};
