// The node agent's entry points, called by the host (firmware-shim/include/
// shim_abi.h "The exports the host calls"). Everything else lives in k8s/.
//
// The agent and all its buffers are created when the module starts (the
// start function), so init/poll/event never allocate: the heap end after the
// start function is the core's whole memory (scripts/shrink-wasm.mjs exports
// it as __heap_base for WAMR).

import { Agent } from "./k8s/agent";
// The abort handler named in asconfig.json ("use": abort=...) must be part of the program.
import "./k8s/panic";

const agent = new Agent();

/** Reads the configuration and prepares the agent. Returns 0 or a negative
 *  code (E_NOTFOUND: a required config key is missing; logged). */
export function init(): i32 {
  return agent.init();
}

/** Drives the agent. `nowMs` is monotonic, `wallMs` Unix time in ms or 0 while
 *  unknown. Returns the ms until the agent wants the next poll (>= 0). */
export function poll(nowMs: i64, wallMs: i64): i32 {
  return agent.poll(nowMs, wallMs);
}

/** Readiness of a host handle (EV_* flags). */
export function event(handle: i32, flags: i32): void {
  agent.event(handle, flags);
}
