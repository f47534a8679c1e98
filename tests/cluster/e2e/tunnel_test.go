package e2e

// The agent tunnel (serve --agent-tunnel-port), checked with rancher's own
// remotedialer client standing in for a k3s agent: the API server reaches a
// kubelet only through the node's tunnel session, answers 502 without one,
// and only node certificates may open a session.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rancher/remotedialer"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
)

// tunnelNodeIP is the Node's InternalIP (TEST-NET-1, RFC 5737): routed
// nowhere, so a reply can only have come through the tunnel.
const tunnelNodeIP = "192.0.2.44"

func tunnelURL(t *testing.T) string {
	p := os.Getenv("PICO_CLUSTER_AGENT_TUNNEL_PORT")
	if p == "" || p == "0" {
		t.Fatal("PICO_CLUSTER_AGENT_TUNNEL_PORT is not set (test.sh starts the cluster with the agent tunnel)")
	}
	return "wss://127.0.0.1:" + p + "/v1-k3s/connect"
}

// issueCert runs cluster.sh ARGS... writing name.{crt,key} into a temp dir
// and returns the pair.
func issueCert(t *testing.T, name string, args ...string) tls.Certificate {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command(os.Getenv("PICO_CLUSTER_SH"), append(args, name, out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cluster.sh %v: %v\n%s", args, err, b)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(out, name+".crt"), filepath.Join(out, name+".key"))
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

func certPool(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(clusterDir(t), file))
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		t.Fatalf("%s: no certificate", file)
	}
	return p
}

// fakeKubelet serves /healthz on 127.0.0.1 with a serving certificate from
// the server CA for tunnelNodeIP (what the API server verifies), requiring
// a client certificate from the client CA (the API server's). It records
// the client's CN.
type fakeKubelet struct {
	port int
	mu   sync.Mutex
	cns  []string
}

func startFakeKubelet(t *testing.T, name string) *fakeKubelet {
	t.Helper()
	serving := issueCert(t, "kubelet", "issue-cert", "--ca", "server", "--cn", "system:node:"+name, "--dns", name, "--ip", tunnelNodeIP)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k := &fakeKubelet{port: ln.Addr().(*net.TCPAddr).Port}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k.mu.Lock()
			k.cns = append(k.cns, r.TLS.PeerCertificates[0].Subject.CommonName)
			k.mu.Unlock()
			if r.URL.Path != "/healthz" {
				http.NotFound(w, r)
				return
			}
			fmt.Fprintf(w, "ok from %s", name)
		}),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{serving},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    certPool(t, "data/tls/client-ca.crt"),
		},
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return k
}

func (k *fakeKubelet) clients() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.cns...)
}

// registerTunnelNode creates Node name as the node itself (its certificate
// from issue-node-cert) with InternalIP tunnelNodeIP and the kubelet port.
func registerTunnelNode(t *testing.T, ctx context.Context, name string, kubeletPort int) {
	t.Helper()
	adm := admin(t)
	deleteNode(adm, name)
	t.Cleanup(func() { deleteNode(adm, name) })
	node := nodeClient(t, name)
	if _, err := node.CoreV1().Nodes().Create(ctx, testNode(name), metav1.CreateOptions{}); err != nil {
		t.Fatalf("node creating itself: %v", err)
	}
	// A patch, not an update: the node lifecycle controller may taint the
	// Node meanwhile, and NodeRestriction forbids a node to send other taints.
	patch := fmt.Sprintf(`{"status":{"addresses":[{"type":"InternalIP","address":%q},{"type":"Hostname","address":%q}],`+
		`"daemonEndpoints":{"kubeletEndpoint":{"Port":%d}}}}`, tunnelNodeIP, name, kubeletPort)
	if _, err := node.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("node patching its status: %v", err)
	}
}

// proxyHealthz is GET /api/v1/nodes/<name>/proxy/healthz as the admin:
// the HTTP status and body (0 and the error when there is no answer).
func proxyHealthz(ctx context.Context, t *testing.T, name string) (int, string) {
	cfg := adminConfig(t)
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/api/v1/nodes/"+name+"/proxy/healthz", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// tunnelClient opens a session as k3s' agent does: remotedialer with the
// node's client certificate, allowing only tcp to the kubelet on loopback
// (pkg/agent/tunnel/tunnel.go authorized). It records what the server
// asked to dial; stop ends the session.
type tunnelClient struct {
	mu       sync.Mutex
	dials    []string
	stop     context.CancelFunc
	done     chan struct{}
	connects chan struct{}
}

func startTunnelClient(t *testing.T, name string, kubeletPort int) *tunnelClient {
	t.Helper()
	nodeCert := issueCert(t, name, "issue-node-cert")
	ctx, cancel := context.WithCancel(context.Background())
	c := &tunnelClient{stop: cancel, done: make(chan struct{}), connects: make(chan struct{}, 16)}
	dialer := &websocket.Dialer{
		HandshakeTimeout: 10 * time.Second,
		TLSClientConfig:  &tls.Config{RootCAs: certPool(t, "server-ca.crt"), Certificates: []tls.Certificate{nodeCert}},
	}
	allow := func(proto, address string) bool {
		c.mu.Lock()
		c.dials = append(c.dials, proto+"/"+address)
		c.mu.Unlock()
		return proto == "tcp" && address == net.JoinHostPort("127.0.0.1", strconv.Itoa(kubeletPort))
	}
	onConnect := func(context.Context, *remotedialer.Session) error {
		c.connects <- struct{}{}
		return nil
	}
	url := tunnelURL(t)
	go func() {
		defer close(c.done)
		for ctx.Err() == nil {
			remotedialer.ClientConnect(ctx, url, nil, dialer, allow, onConnect)
		}
	}()
	t.Cleanup(func() { cancel(); <-c.done })
	return c
}

func (c *tunnelClient) dialed() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.dials...)
}

// noTunnelAnswer: the API server's answer when the egress proxy refused
// (the tunnel's 502), as k3s users see it: 503 ServiceUnavailable "error
// trying to reach service: proxy error from <tunnel> while dialing
// <ip>:<port>, code 502: 502 Bad Gateway" (k8s.io/apiserver
// pkg/server/egressselector tunnelHTTPConnect).
func noTunnelAnswer(code int, body string) bool {
	return code == http.StatusServiceUnavailable && strings.Contains(body, "while dialing "+tunnelNodeIP) &&
		strings.Contains(body, "code 502")
}

// TestAgentTunnelNoSession502: with the tunnel on, the API server does not
// dial a kubelet itself; a node without a session gets 502 (k3s "agent"
// egress mode), which the API server reports as 503.
func TestAgentTunnelNoSession502(t *testing.T) {
	ctx := ctxT(t, 60*time.Second)
	const name = "pico-tunnel-none"
	kubelet := startFakeKubelet(t, name)
	registerTunnelNode(t, ctx, name, kubelet.port)
	code, body := proxyHealthz(ctx, t, name)
	if !noTunnelAnswer(code, body) {
		t.Fatalf("node proxy without a tunnel: %d %q, want 503 naming the tunnel's 502", code, body)
	}
	if got := kubelet.clients(); len(got) != 0 {
		t.Errorf("kubelet was reached without a tunnel: %v", got)
	}
	t.Logf("no session: %d %s", code, body)
}

// TestAgentTunnelProxiesToKubelet: with a session open, node proxy reaches
// the kubelet through it; the server asks the node to dial
// 127.0.0.1:<kubelet port>, and the kubelet TLS (API server's client
// certificate) runs inside the tunnel. When the session ends, 502 again.
func TestAgentTunnelProxiesToKubelet(t *testing.T) {
	ctx := ctxT(t, 90*time.Second)
	const name = "pico-tunnel-a"
	kubelet := startFakeKubelet(t, name)
	registerTunnelNode(t, ctx, name, kubelet.port)
	client := startTunnelClient(t, name, kubelet.port)
	select {
	case <-client.connects:
	case <-ctx.Done():
		t.Fatal("the remotedialer client did not connect")
	}
	want := "ok from " + name
	var code int
	var body string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 15*time.Second, true, func(ctx context.Context) (bool, error) {
		code, body = proxyHealthz(ctx, t, name)
		return code == http.StatusOK, nil
	})
	if err != nil || body != want {
		t.Fatalf("node proxy through the tunnel: %d %q (want 200 %q); client was asked to dial %v", code, body, want, client.dialed())
	}
	wantDial := "tcp/127.0.0.1:" + strconv.Itoa(kubelet.port)
	for _, d := range client.dialed() {
		if d != wantDial {
			t.Errorf("server asked the node to dial %q, want %q", d, wantDial)
		}
	}
	if cns := kubelet.clients(); len(cns) == 0 || cns[0] != "system:kube-apiserver" {
		t.Errorf("kubelet clients %v, want the API server's certificate (system:kube-apiserver)", cns)
	}

	client.stop()
	<-client.done
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 15*time.Second, true, func(ctx context.Context) (bool, error) {
		code, body = proxyHealthz(ctx, t, name)
		return noTunnelAnswer(code, body), nil
	})
	if err != nil {
		t.Fatalf("after the session ended: %d %q, want 503 naming the tunnel's 502", code, body)
	}
}

// selfSignedNodeCert is a node-looking certificate from a CA the cluster
// does not know.
func selfSignedNodeCert(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "system:node:" + name, Organization: []string{"system:nodes"}},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	pair, err := tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

// TestAgentTunnelRefusesNonNodeCertificates: only a system:node:<name>
// certificate in group system:nodes from the client CA opens a session
// (401 for a failed verification or a non-node user, 403 without the
// group or without a certificate); a node may not use the API server's
// CONNECT; the node certificate itself gets its websocket.
func TestAgentTunnelRefusesNonNodeCertificates(t *testing.T) {
	url := tunnelURL(t)
	roots := certPool(t, "server-ca.crt")
	adm := adminConfig(t) // its data is embedded
	adminTLS, err := tls.X509KeyPair(adm.CertData, adm.KeyData)
	if err != nil {
		t.Fatal(err)
	}
	nodeCert := issueCert(t, "pico-tunnel-b", "issue-node-cert")
	cases := []struct {
		what  string
		certs []tls.Certificate
		want  int
	}{
		{"no client certificate", nil, http.StatusForbidden},
		{"admin (system:masters, not system:nodes)", []tls.Certificate{adminTLS}, http.StatusForbidden},
		{"group system:nodes but CN not system:node:*", []tls.Certificate{
			issueCert(t, "impostor", "issue-cert", "--ca", "client", "--cn", "pico-impostor", "--org", "system:nodes")}, http.StatusUnauthorized},
		{"system:node:* from an unknown CA", []tls.Certificate{selfSignedNodeCert(t, "pico-tunnel-b")}, http.StatusUnauthorized},
		{"node certificate", []tls.Certificate{nodeCert}, http.StatusSwitchingProtocols},
	}
	for _, c := range cases {
		d := &websocket.Dialer{HandshakeTimeout: 10 * time.Second, TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: c.certs}}
		ws, resp, err := d.Dial(url, nil)
		if ws != nil {
			ws.Close()
		}
		if resp == nil {
			t.Errorf("%s: no HTTP answer: %v", c.what, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.what, resp.StatusCode, body, c.want)
		}
	}

	// CONNECT is the API server's: a node must not reach other nodes with it.
	conn, err := tls.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "wss://"), "/v1-k3s/connect"),
		&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{nodeCert}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", net.JoinHostPort(tunnelNodeIP, "10250"))
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line := make([]byte, 12)
	if _, err := io.ReadFull(conn, line); err != nil || string(line) != "HTTP/1.1 403" {
		t.Errorf("CONNECT with a node certificate: %q %v, want HTTP/1.1 403", line, err)
	}
}
