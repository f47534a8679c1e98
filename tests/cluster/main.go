// Command pico-cluster runs a k3s-like Kubernetes control plane in one
// process: kine (SQLite) as the etcd backend, upstream kube-apiserver,
// kube-controller-manager and kube-scheduler, with k3s' flags and CA layout.
//
//	pico-cluster serve --dir DIR [--port N] --node-rbac FILE [--agent-tunnel-port T]
//	pico-cluster issue-node-cert --dir DIR NAME OUTDIR [DURATION|--expired]
//	pico-cluster issue-cert --dir DIR --ca client|server --cn CN [...] NAME OUTDIR [DURATION]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

func usage() {
	fmt.Fprintf(os.Stderr, `usage:
  pico-cluster serve [--dir DIR] [--port N] --node-rbac FILE [--agent-tunnel-port T]
  pico-cluster issue-node-cert [--dir DIR] NAME OUTDIR [DURATION|--expired]
  pico-cluster issue-cert [--dir DIR] [--port N] --ca client|server --cn CN
      [--org O,...] [--dns NAME,...] [--ip ADDR,...] [--kubeconfig FILE] NAME OUTDIR [DURATION]

DIR defaults to $PICO_CLUSTER_DIR, N to $PICO_CLUSTER_PORT or 6443.
serve applies FILE (the project's manifests/node-bootstrap-rbac.yaml, what
users apply with 'k3s-pico-node rbac apply') and its own API server binding
at every start, before it reports ready. With T (not 0), serve also runs
k3s' agent tunnel on 127.0.0.1:T (nodes connect to /v1-k3s/connect) and the
API server reaches kubelets only through it (egress selector).
serve also reads PICO_CLUSTER_SIGNING_DURATION (default 8760h) and
PICO_CLUSTER_NODE_GRACE (node-monitor-grace-period, default 50s).
issue-cert signs a client certificate with the client CA or a serving
certificate with the server CA (default validity 8760h); --kubeconfig also
writes a kubeconfig for the client identity (API server on port N).
`)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	dir := fs.String("dir", os.Getenv("PICO_CLUSTER_DIR"), "cluster directory")
	defPort := 6443
	if v := os.Getenv("PICO_CLUSTER_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			fatalf("PICO_CLUSTER_PORT=%q is not a port number", v)
		}
		defPort = p
	}
	port := fs.Int("port", defPort, "API server secure port")
	nodeRBAC := fs.String("node-rbac", "", "node bootstrap RBAC manifest applied at start (serve)")
	tunnelPort := fs.Int("agent-tunnel-port", 0, "serve: k3s agent tunnel port (0: none, kubelets dialed directly)")
	ca := fs.String("ca", "", "issue-cert: client or server")
	cn := fs.String("cn", "", "issue-cert: subject common name (the user name of a client)")
	orgs := fs.String("org", "", "issue-cert: comma-separated organizations (the groups of a client)")
	dns := fs.String("dns", "", "issue-cert: comma-separated DNS SANs")
	ips := fs.String("ip", "", "issue-cert: comma-separated IP SANs")
	kubeconfig := fs.String("kubeconfig", "", "issue-cert: also write a kubeconfig for the client certificate")
	expired := false
	// Allow --expired anywhere among the positional arguments.
	var rest []string
	for _, a := range args {
		if a == "--expired" || a == "-expired" {
			expired = true
			continue
		}
		rest = append(rest, a)
	}
	if err := fs.Parse(rest); err != nil {
		usage()
	}
	if *dir == "" {
		fatalf("no cluster directory: pass --dir or set PICO_CLUSTER_DIR")
	}
	absDir, err := filepath.Abs(*dir)
	if err != nil {
		fatalf("%v", err)
	}
	l := newLayout(absDir)

	switch cmd {
	case "serve":
		if fs.NArg() != 0 || *nodeRBAC == "" {
			usage()
		}
		manifest, err := os.ReadFile(*nodeRBAC)
		if err != nil {
			fatalf("--node-rbac: %v", err)
		}
		if *tunnelPort < 0 || *tunnelPort > 65535 || (*tunnelPort != 0 && *tunnelPort == *port) {
			fatalf("--agent-tunnel-port %d: not a port number, or the API server's", *tunnelPort)
		}
		os.Exit(serve(l, *port, *tunnelPort, bytes.Join([][]byte{apiserverKubeletRBAC, manifest}, []byte("\n---\n"))))
	case "issue-node-cert":
		if fs.NArg() < 2 || fs.NArg() > 3 {
			usage()
		}
		validity := 8760 * time.Hour
		if fs.NArg() == 3 {
			if validity, err = time.ParseDuration(fs.Arg(2)); err != nil {
				fatalf("bad duration %q: %v", fs.Arg(2), err)
			}
		}
		if err := issueNodeCert(l, fs.Arg(0), fs.Arg(1), validity, expired); err != nil {
			fatalf("issue-node-cert: %v", err)
		}
	case "issue-cert":
		if fs.NArg() < 2 || fs.NArg() > 3 {
			usage()
		}
		validity := 8760 * time.Hour
		if fs.NArg() == 3 {
			if validity, err = time.ParseDuration(fs.Arg(2)); err != nil || validity <= 0 {
				fatalf("bad duration %q: it must be positive, like 24h", fs.Arg(2))
			}
		}
		spec := leafSpec{CommonName: *cn, Organization: splitList(*orgs), DNSNames: splitList(*dns)}
		for _, s := range splitList(*ips) {
			ip := net.ParseIP(s)
			if ip == nil {
				fatalf("issue-cert: --ip %q is not an IP address", s)
			}
			spec.IPs = append(spec.IPs, ip)
		}
		if err := issueCert(l, *ca, spec, fs.Arg(0), fs.Arg(1), validity, *kubeconfig, *port); err != nil {
			fatalf("issue-cert: %v", err)
		}
	default:
		usage()
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pico-cluster: "+format+"\n", args...)
	os.Exit(1)
}

func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q is not a positive duration", name, v)
	}
	return d, nil
}

// component is one goroutine of the control plane.
type component struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// newComponent returns a component with its own context. Components are not
// tied to the signal context: serve stops them one by one, in reverse order.
func newComponent(name string) (*component, context.Context) {
	ctx, cancel := context.WithCancel(context.Background())
	return &component{name: name, cancel: cancel, done: make(chan struct{})}, ctx
}

// start runs fn in a goroutine; if fn returns before stop was called, the
// component is reported on failed.
func (c *component) start(ctx context.Context, failed chan<- *component, run func(ctx context.Context) error) {
	go func() {
		defer close(c.done)
		c.err = run(ctx)
		if ctx.Err() == nil {
			// Returned on its own: a crash, whatever it returned.
			if c.err == nil {
				c.err = errors.New("exited unexpectedly")
			}
			failed <- c
		}
	}()
}

// stop cancels the component and waits for it up to timeout.
func (c *component) stop(timeout time.Duration) bool {
	c.cancel()
	select {
	case <-c.done:
		klog.Infof("pico-cluster: %s stopped", c.name)
		return true
	case <-time.After(timeout):
		klog.Errorf("pico-cluster: %s did not stop within %s", c.name, timeout)
		return false
	}
}

// serve runs the control plane; rbac is applied once the API server is ready.
// With tunnelPort, the agent tunnel starts before the API server, its egress.
func serve(l layout, port, tunnelPort int, rbac []byte) int {
	signingDuration, err := envDuration("PICO_CLUSTER_SIGNING_DURATION", 8760*time.Hour)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pico-cluster:", err)
		return 1
	}
	nodeGrace, err := envDuration("PICO_CLUSTER_NODE_GRACE", 50*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pico-cluster:", err)
		return 1
	}
	// Refuse an occupied port before touching anything.
	if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		fmt.Fprintf(os.Stderr, "pico-cluster: port %d is already in use (set PICO_CLUSTER_PORT to use another): %v\n", port, err)
		return 1
	} else {
		ln.Close()
	}
	if tunnelPort != 0 {
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", tunnelPort)); err != nil {
			fmt.Fprintf(os.Stderr, "pico-cluster: agent tunnel port %d is already in use: %v\n", tunnelPort, err)
			return 1
		} else {
			ln.Close()
		}
	}
	os.Remove(l.ReadyFile())
	if _, err := ensurePKI(l, port); err != nil {
		fmt.Fprintln(os.Stderr, "pico-cluster: certificates:", err)
		return 1
	}

	sigCtx, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stopSignals()
	failed := make(chan *component, 8)
	var started []*component // in start order; stopped in reverse
	var mu sync.Mutex
	add := func(c *component) { mu.Lock(); started = append(started, c); mu.Unlock() }

	exit := func(code int) int {
		os.Remove(l.ReadyFile())
		mu.Lock()
		cs := append([]*component(nil), started...)
		mu.Unlock()
		clean := true
		for i := len(cs) - 1; i >= 0; i-- {
			timeout := 20 * time.Second
			if cs[i].name == "kube-apiserver" {
				timeout = 70 * time.Second
			}
			if !cs[i].stop(timeout) {
				clean = false
			}
		}
		if !clean && code == 0 {
			code = 3
		}
		klog.Infof("pico-cluster: shutdown complete, exit %d", code)
		klog.Flush()
		return code
	}
	// fail stops what was started and repeats the reason as the last log line.
	fail := func(format string, args ...any) int {
		msg := fmt.Sprintf(format, args...)
		fmt.Fprintln(os.Stderr, "pico-cluster: "+msg)
		code := exit(1)
		fmt.Fprintln(os.Stderr, "pico-cluster: FAILED: "+msg)
		return code
	}

	// 1. kine on SQLite.
	etcdEndpoint, kineComp, err := startKine(l, failed)
	if err != nil {
		return fail("kine: %v", err)
	}
	add(kineComp)

	// 2. The agent tunnel (the API server's egress to kubelets), then kube-apiserver.
	apiArgs := apiserverArgs(l, port, etcdEndpoint)
	if tunnelPort != 0 {
		egress, err := writeEgressSelectorConfig(l, tunnelPort)
		if err != nil {
			return fail("egress selector configuration: %v", err)
		}
		tunnel, err := startAgentTunnel(l, tunnelPort, failed)
		if err != nil {
			return fail("agent tunnel: %v", err)
		}
		add(tunnel)
		apiArgs = append(apiArgs, "--egress-selector-config-file="+egress)
	}
	apiComp, err := startAPIServer(apiArgs, failed)
	if err != nil {
		return fail("kube-apiserver: %v", err)
	}
	add(apiComp)

	// Wait for the API server to be ready, watching for crashes and signals.
	readyCtx, cancelReady := context.WithTimeout(sigCtx, 150*time.Second)
	readyErr := make(chan error, 1)
	go func() { readyErr <- waitReadyAndBootstrap(readyCtx, l, rbac) }()
	select {
	case err := <-readyErr:
		cancelReady()
		if err != nil {
			if sigCtx.Err() != nil {
				return exit(0)
			}
			return fail("API server did not become ready: %v", err)
		}
	case c := <-failed:
		cancelReady()
		return fail("%s failed: %v", c.name, c.err)
	}

	if extra := extraAddress(); extra != nil {
		for _, p := range []int{port, tunnelPort} {
			if p == 0 {
				continue
			}
			if err := startRelay(extra, p); err != nil {
				return fail("%v", err)
			}
		}
	}

	// 3. kube-controller-manager and kube-scheduler.
	kcm, err := startControllerManager(l, signingDuration, nodeGrace, failed)
	if err != nil {
		return fail("kube-controller-manager: %v", err)
	}
	add(kcm)
	sched, err := startScheduler(l, failed)
	if err != nil {
		return fail("kube-scheduler: %v", err)
	}
	add(sched)

	if err := os.WriteFile(l.ReadyFile(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "pico-cluster:", err)
		return exit(1)
	}
	klog.Infof("pico-cluster: control plane ready on https://127.0.0.1:%d (admin kubeconfig %s)", port, l.AdminKubeconfig())

	select {
	case <-sigCtx.Done():
		klog.Infof("pico-cluster: signal received, shutting down")
		return exit(0)
	case c := <-failed:
		return fail("%s failed: %v", c.name, c.err)
	}
}
