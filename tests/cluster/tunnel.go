package main

// The agent tunnel of a k3s server (serve --agent-tunnel-port N), so tests
// can check a node against what k3s really does with kubelet traffic:
//
//   - Nodes open a websocket to /v1-k3s/connect, authenticated by their
//     client certificate; it is a rancher/remotedialer session keyed by the
//     node name (k3s pkg/daemons/control/tunnel.go: setupTunnel, authorizer;
//     pkg/server/handlers/router.go: the path needs group system:nodes).
//   - kube-apiserver reaches the "cluster" network (kubelets, aggregated
//     APIs) through HTTP CONNECT to this listener (egress selector, as k3s
//     writes it in pkg/daemons/control/deps/deps.go genEgressSelectorConfig).
//     A CONNECT to a Node's address and kubelet port goes through that node's
//     session, or fails with 502 when it has none (tunnel.go dialBackend).
//
// k3s serves both on its supervisor port, which is also the API server's;
// here the tunnel has a port of its own (the API server keeps its own
// listener), with the API server's serving certificate.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rancher/remotedialer"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

const (
	// tunnelPath is /v1-{program}/connect with program k3s
	// (pkg/server/handlers/router.go; the agent dials wss://<server>/v1-k3s/connect,
	// pkg/agent/tunnel/tunnel.go connect).
	tunnelPath = "/v1-k3s/connect"
	// streamServerPort is k3s' config.StreamServerPort (the CRI streaming
	// server), the one port besides the kubelet's that always goes through
	// the tunnel (tunnel.go IsReservedPort).
	streamServerPort = "10010"
)

type agentTunnel struct {
	sessions *remotedialer.Server
	authn    *x509request.Authenticator
	nodes    kubernetes.Interface
}

// egressSelectorConfig is the file k3s writes for kube-apiserver's
// --egress-selector-config-file in its default "agent" mode: only the
// "cluster" egress, by HTTP CONNECT over TLS to the supervisor port, the API
// server authenticating with its kubelet client certificate.
func writeEgressSelectorConfig(l layout, tunnelPort int) (string, error) {
	cfg := map[string]any{
		"kind":       "EgressSelectorConfiguration",
		"apiVersion": "apiserver.k8s.io/v1beta1",
		"egressSelections": []any{map[string]any{
			"name": "cluster",
			"connection": map[string]any{
				"proxyProtocol": "HTTPConnect",
				"transport": map[string]any{"tcp": map[string]any{
					"url": fmt.Sprintf("https://127.0.0.1:%d", tunnelPort),
					"tlsConfig": map[string]any{
						"caBundle":   l.tls("server-ca.crt"),
						"clientCert": l.tls("client-kube-apiserver.crt"),
						"clientKey":  l.tls("client-kube-apiserver.key"),
					},
				}},
			},
		}},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(l.Data, "etc", "egress-selector-config.yaml") // k3s' file name; JSON is YAML
	return path, writeFileAtomic(path, append(b, '\n'), 0o600)
}

// startAgentTunnel listens on 127.0.0.1:port before the API server starts
// (it is the API server's egress); nodes are looked up through the API
// server only when a CONNECT comes in.
func startAgentTunnel(l layout, port int, failed chan<- *component) (*component, error) {
	c, ctx := newComponent("agent-tunnel")
	fail := func(err error) (*component, error) { c.cancel(); return nil, err }

	cert, err := tls.LoadX509KeyPair(l.tls("serving-kube-apiserver.crt"), l.tls("serving-kube-apiserver.key"))
	if err != nil {
		return fail(err)
	}
	caPEM, err := os.ReadFile(l.tls("client-ca.crt"))
	if err != nil {
		return fail(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return fail(errors.New("client-ca.crt holds no certificate"))
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", l.cred("admin.kubeconfig"))
	if err != nil {
		return fail(err)
	}
	cfg.Timeout = 5 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fail(err)
	}
	t := &agentTunnel{
		// Client certificates are verified as the API server's authenticator
		// does (client CA, client auth usage; CN is the user, O the groups).
		authn: x509request.New(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
			x509request.CommonNameUserConversion),
		nodes: cs,
	}
	t.sessions = remotedialer.New(nodeAuthorizer, sendError)

	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fail(fmt.Errorf("agent tunnel port %d: %w", port, err))
	}
	srv := &http.Server{
		Handler: t,
		// As k3s' supervisor listener (pkg/cluster/https.go newListener):
		// client certificates requested, verified per request, not by the
		// handshake; ALPN h2 and http/1.1. A client that offers h2 gets it
		// and cannot upgrade to a websocket (an HTTP/1.1 Upgrade).
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{cert},
			ClientAuth:   tls.RequestClientCert,
			NextProtos:   []string{"h2", "http/1.1"},
			MinVersion:   tls.VersionTLS12,
		},
		ReadHeaderTimeout: 10 * time.Second,
	}
	c.start(ctx, failed, func(ctx context.Context) error {
		errc := make(chan error, 1)
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
			// Hijacked connections (sessions, CONNECT pipes) end with the process.
			srv.Close()
			return nil
		}
	})
	klog.Infof("pico-cluster: agent tunnel on https://127.0.0.1:%d%s (API server egress by CONNECT)", port, tunnelPath)
	return c, nil
}

// nodeAuthorizer is k3s' tunnel authorizer: the session key is the node
// name from a system:node:<name> user (tunnel.go authorizer); remotedialer
// answers 401 to anyone else.
func nodeAuthorizer(req *http.Request) (string, bool, error) {
	u, ok := request.UserFrom(req.Context())
	if !ok || !strings.HasPrefix(u.GetName(), "system:node:") {
		return "", false, nil
	}
	return strings.TrimPrefix(u.GetName(), "system:node:"), true, nil
}

// sendError answers with a Kubernetes Status, as k3s' util.SendError
// (pkg/util/api.go) does for the tunnel's errors.
func sendError(w http.ResponseWriter, req *http.Request, code int, err error) {
	var st *apierrors.StatusError
	switch code {
	case http.StatusUnauthorized:
		st = apierrors.NewUnauthorized(err.Error())
	case http.StatusForbidden:
		st = apierrors.NewForbidden(corev1.Resource("nodes"), "", err)
	default:
		st = apierrors.NewGenericServerResponse(code, req.Method, corev1.Resource("nodes"), "", err.Error(), 0, false)
	}
	klog.Infof("pico-cluster: agent tunnel: %d for %s %s from %s: %v", code, req.Method, req.RequestURI, req.RemoteAddr, err)
	b, _ := json.Marshal(st.Status())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

func (t *agentTunnel) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	// k3s' auth.HasRole (pkg/server/auth/auth.go): an authentication error is
	// 401, no identity or none of the roles 403.
	resp, ok, err := t.authn.AuthenticateRequest(req)
	if err != nil {
		sendError(w, req, http.StatusUnauthorized, errors.New("not authorized"))
		return
	}
	var u user.Info
	if ok {
		u = resp.User
	}
	switch {
	case req.Method == http.MethodConnect:
		// k3s lets system:masters CONNECT (its kube-apiserver client
		// certificate is in that group); ours is least-privileged, so its
		// user name is accepted instead.
		if u == nil || !(slices.Contains(u.GetGroups(), user.SystemPrivilegedGroup) || u.GetName() == "system:kube-apiserver") {
			sendError(w, req, http.StatusForbidden, errors.New("forbidden"))
			return
		}
		t.serveConnect(w, req)
	case req.URL.Path == tunnelPath:
		if u == nil || !slices.Contains(u.GetGroups(), user.NodesGroup) {
			sendError(w, req, http.StatusForbidden, errors.New("forbidden"))
			return
		}
		// Returns when the session ends (remotedialer logs its start).
		t.sessions.ServeHTTP(w, req.WithContext(request.WithUser(req.Context(), u)))
		klog.Infof("pico-cluster: agent tunnel: %s (%s) gone", u.GetName(), req.RemoteAddr)
	default:
		sendError(w, req, http.StatusNotFound, errors.New("not found"))
	}
}

// serveConnect dials the CONNECT target (req.Host: Go puts the request
// target of a CONNECT there), answers 200 and pipes both ways.
func (t *agentTunnel) serveConnect(w http.ResponseWriter, req *http.Request) {
	backend, err := t.dialBackend(req.Context(), req.Host)
	if err != nil {
		sendError(w, req, http.StatusBadGateway, err)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		backend.Close()
		sendError(w, req, http.StatusInternalServerError, errors.New("hijacking not supported"))
		return
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		backend.Close()
		return
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 OK\r\n\r\n"); err != nil {
		conn.Close()
		backend.Close()
		return
	}
	pipe(conn, rw.Reader, backend)
}

// pipe copies both ways until one side ends, then closes both; the
// client's bytes come from clientReader (which may hold some already read).
func pipe(client net.Conn, clientReader io.Reader, backend net.Conn) {
	var once sync.Once
	closeBoth := func() { client.Close(); backend.Close() }
	done := make(chan struct{}, 2)
	go func() { io.Copy(backend, clientReader); once.Do(closeBoth); done <- struct{}{} }()
	go func() { io.Copy(client, backend); once.Do(closeBoth); done <- struct{}{} }()
	<-done
	<-done
}

// dialBackend routes as k3s' TunnelServer.dialBackend in "agent" mode: an IP
// that is a Node's InternalIP or ExternalIP, with that node's kubelet port
// (or the stream server port), goes through the node's session as
// "127.0.0.1:<port>" (config.Loopback for an IPv4 service range; the agent
// dials its kubelet there, pkg/agent/tunnel/tunnel.go dialContext); no
// session is an error (502). Anything else is dialed directly.
//
// Two departures, both only where k3s would not reach the target either:
// several Nodes may share an address here (simulated nodes on one host),
// so the one whose kubelet port matches wins (k3s keeps one Node per IP);
// and a name is taken for a Node's only when such a Node exists (k3s takes
// every name for one, so the aggregator's ExternalName "localhost" for
// metrics-server would not resolve).
func (t *agentTunnel) dialBackend(ctx context.Context, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	nodeName, toKubelet, err := t.lookup(ctx, host, port)
	if err != nil {
		return nil, err
	}
	if toKubelet {
		via := net.JoinHostPort("127.0.0.1", port)
		conn, err := t.sessions.Dialer(nodeName)(ctx, "tcp", via)
		if err == nil {
			klog.V(2).Infof("pico-cluster: agent tunnel: %s via node %s's session as %s", addr, nodeName, via)
			return conn, nil
		}
		if strings.HasPrefix(err.Error(), "failed to find Session for client") {
			return nil, fmt.Errorf("no agent tunnel for node %s: %w", nodeName, err)
		}
		// k3s ignores other dial errors and dials directly.
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// lookup finds the Node a CONNECT target belongs to, and whether the port is
// one that always goes through its tunnel.
func (t *agentTunnel) lookup(ctx context.Context, host, port string) (string, bool, error) {
	ip := net.ParseIP(host)
	if ip == nil {
		if _, err := t.nodes.CoreV1().Nodes().Get(ctx, host, metav1.GetOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return "", false, nil
			}
			return "", false, err
		}
		return host, true, nil
	}
	list, err := t.nodes.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", false, err
	}
	var match *corev1.Node
	for i := range list.Items {
		n := &list.Items[i]
		if n.DeletionTimestamp != nil || !hasAddress(n, ip) {
			continue
		}
		if match == nil || kubeletPort(n) == port {
			match = n
		}
	}
	if match == nil {
		return "", false, nil
	}
	return match.Name, port == kubeletPort(match) || port == streamServerPort, nil
}

func kubeletPort(n *corev1.Node) string {
	return strconv.Itoa(int(n.Status.DaemonEndpoints.KubeletEndpoint.Port))
}

func hasAddress(n *corev1.Node, ip net.IP) bool {
	for _, a := range n.Status.Addresses {
		if (a.Type == corev1.NodeInternalIP || a.Type == corev1.NodeExternalIP) && ip.Equal(net.ParseIP(a.Address)) {
			return true
		}
	}
	return false
}
