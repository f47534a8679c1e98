// Entry point of the compiler transform for asconfig.json and
// as-pect.asconfig.json. It sits at the top level because asc 0.27 resolves a
// config's "transform" path by joining it to the config's folder and drops the
// leading "./" when the result has a folder ("scripts/x.mjs"), which Node then
// takes for a package name; a top-level file keeps "./lit-transform.mjs".
export { default } from "./scripts/lit-transform.mjs";
