// Configuration keys the core reads through config_get (host/imports.ts).
// The simulator reads them from its config file (`key = value` lines); the
// device from its flash configuration region. Keys under `platform.` are facts
// the host supplies about itself, not user settings. Keys are UTF-8 literals
// (util/lit.ts): config_get takes them as (ptr, len) without copying.

import { utf8 } from "../util/lit";

/** Node name; the client certificate must be CN=system:node:<name>. Required. */
export const CFG_NODE_NAME = utf8("node.name");
/** API server host name or IP: used for SNI and certificate verification. Required. */
export const CFG_SERVER_HOST = utf8("server.host");
/** API server port, decimal. Default 6443 (k3s). */
export const CFG_SERVER_PORT = utf8("server.port");
/** The node's InternalIP as the cluster should reach it. Required. */
export const CFG_NODE_IP = utf8("node.ip");
/** Hostname address; defaults to the node name. */
export const CFG_NODE_HOSTNAME = utf8("node.hostname");
/** Kubelet port advertised in daemonEndpoints. Default 10250. */
export const CFG_KUBELET_PORT = utf8("kubelet.port");
/** Port of k3s' agent tunnel (wss://server.host:<port>/v1-k3s/connect),
 *  decimal. Default: server.port (k3s serves it next to the API). 0: off. */
export const CFG_TUNNEL_PORT = utf8("tunnel.port");

/** GOARCH-style architecture of the device ("arm" for the RP2040's Cortex-M0+). */
export const CFG_PLATFORM_ARCH = utf8("platform.arch");
/** GOOS-style operating system ("none": bare metal, as in thumbv6m-none-eabi). */
export const CFG_PLATFORM_OS = utf8("platform.os");
/** Human description of the image, shown as OS-IMAGE by kubectl. */
export const CFG_PLATFORM_OS_IMAGE = utf8("platform.os_image");
/** Shown as KERNEL-VERSION: the SDK / host build. */
export const CFG_PLATFORM_KERNEL = utf8("platform.kernel_version");
/** Shown as CONTAINER-RUNTIME: "<runtime>://<version>", e.g. wamr://2.4.0. */
export const CFG_PLATFORM_RUNTIME = utf8("platform.runtime");
/** Total RAM of the device in bytes, decimal (264 KiB on a Pico W). */
export const CFG_PLATFORM_MEMORY = utf8("platform.memory_bytes");
/** RAM left for workloads after the shim, TLS and the core, in bytes. */
export const CFG_PLATFORM_MEMORY_ALLOCATABLE = utf8("platform.memory_allocatable_bytes");
/** CPU cores of the device, decimal (2 on an RP2040). */
export const CFG_PLATFORM_CPUS = utf8("platform.cpu_cores");
/** Machine identity for nodeInfo.machineID / systemUUID (board id). */
export const CFG_PLATFORM_MACHINE_ID = utf8("platform.machine_id");
/** "1" when the host can serve the kubelet endpoint (a TLS server and the
 *  client CA it verifies clients with), "0" when not (then the node asks for
 *  no serving certificate). Default 1. */
export const CFG_PLATFORM_KUBELET_SERVER = utf8("platform.kubelet_server");
/** Kubelet endpoint connections the host holds at once (shim
 *  SHIM_KUBELET_MAX_CONNS), decimal; the core uses at most
 *  KUBELET_CONNS_MAX of them. Default KUBELET_CONNS_MAX. */
export const CFG_PLATFORM_KUBELET_CONNS = utf8("platform.kubelet_connections");
/** Size of the device memory region in bytes, decimal (shim SHIM_DEVMEM_BYTES). */
export const CFG_PLATFORM_DEVMEM_BYTES = utf8("platform.devmem_bytes");
/** Namespace of the ConfigMaps the node follows. Default "default". */
export const CFG_CONFIGMAP_NAMESPACE = utf8("configmap.namespace");
/** ConfigMaps the node follows, comma-separated, lowest precedence first
 *  (a later one wins for an address both name); "{node}" is replaced by the
 *  node name. Default "pico-config". Empty: follow none. */
export const CFG_CONFIGMAP_NAMES = utf8("configmap.names");
/** Bootstrap token "<id>.<secret>" (kubeadm format, [a-z0-9]{6}.[a-z0-9]{16}):
 *  used as a Bearer token to submit the node's CSR when it has no usable
 *  client certificate. A credential: never logged. */
export const CFG_BOOTSTRAP_TOKEN = utf8("bootstrap.token");
