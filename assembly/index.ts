// The node agent's entry points, called by the host (firmware-shim/include/
// shim_abi.h "The exports the host calls"). Everything else lives in k8s/.
//
// The agent and all its buffers are created when the module starts (the
// start function), so init/poll/event never allocate: the heap end after the
// start function is the core's whole memory (scripts/shrink-wasm.mjs exports
// it as __heap_base for WAMR).

// The abort handler named in asconfig.json ("use": abort=...) must be part of
// the program, and initialised before any module whose start code may abort.
import "./k8s/panic";
// The allocator named in asconfig.json ("use": __alloc=...), likewise.
import "./rt/bump";
import { Agent } from "./k8s/agent";

const agent = new Agent();
// The heap end after the agent is made: the core's whole linear memory (it
// never allocates again), reported by the kubelet endpoint's /metrics.
agent.kubelet.routes.coreMemory = <i64>heap.alloc(1);

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
