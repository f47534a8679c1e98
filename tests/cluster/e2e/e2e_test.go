// Package e2e checks the control plane started by ../cluster.sh: real
// authentication, Node authorizer, NodeRestriction, CSR signing/approval and
// node lifecycle. Run through ../test.sh, which starts a dedicated cluster
// and sets PICO_CLUSTER_DIR, PICO_CLUSTER_SH and PICO_CLUSTER_NODE_GRACE.
package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func clusterDir(t *testing.T) string {
	d := os.Getenv("PICO_CLUSTER_DIR")
	if d == "" {
		t.Fatal("PICO_CLUSTER_DIR is not set (run tests/cluster/test.sh)")
	}
	return d
}

func adminConfig(t *testing.T) *rest.Config {
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(clusterDir(t), "admin.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func admin(t *testing.T) *kubernetes.Clientset {
	return kubernetes.NewForConfigOrDie(adminConfig(t))
}

// anonConfig is the admin config without credentials (same server and CA).
func anonConfig(t *testing.T) *rest.Config {
	return rest.AnonymousClientConfig(adminConfig(t))
}

// nodeClient issues a node client certificate with cluster.sh issue-node-cert
// (from the client CA, as a real node would hold) and returns a client using it.
func nodeClient(t *testing.T, name string, extra ...string) *kubernetes.Clientset {
	t.Helper()
	out := t.TempDir()
	args := append([]string{"issue-node-cert", name, out}, extra...)
	cmd := exec.Command(os.Getenv("PICO_CLUSTER_SH"), args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("issue-node-cert: %v\n%s", err, b)
	}
	cfg := anonConfig(t)
	cfg.CertFile = filepath.Join(out, name+".crt")
	cfg.KeyFile = filepath.Join(out, name+".key")
	return kubernetes.NewForConfigOrDie(cfg)
}

// newCSR makes a P-256 key on the spot and returns a CSR object for tmpl,
// asking signer for digital signature plus usage.
func newCSR(t *testing.T, name string, tmpl *x509.CertificateRequest, signer string, usage certificatesv1.KeyUsage) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
			SignerName: signer,
			Usages:     []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, usage},
		},
	}
}

// parseIssued parses an issued PEM certificate and returns it with the CA
// bundle caFile (relative to the cluster directory) as a pool.
func parseIssued(t *testing.T, issued []byte, caFile string) (*x509.Certificate, *x509.CertPool) {
	t.Helper()
	block, _ := pem.Decode(issued)
	if block == nil {
		t.Fatalf("issued certificate is not PEM: %q", issued)
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(clusterDir(t), caFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	return leaf, roots
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func deleteNode(cs *kubernetes.Clientset, name string) {
	ctx := context.Background()
	cs.CoordinationV1().Leases("kube-node-lease").Delete(ctx, name, metav1.DeleteOptions{})
	cs.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{})
}

func testNode(name string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "arm",
		}},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{
			{Key: "pico.example/device", Value: "true", Effect: corev1.TaintEffectNoSchedule},
		}},
	}
}

func TestReadyzAndVersion(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	cs := admin(t)
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil || string(body) != "ok" {
		t.Fatalf("/readyz: %q %v", body, err)
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	want := os.Getenv("PICO_K8S_VERSION")
	if want == "" || v.GitVersion != want {
		t.Fatalf("server version %q, want %q (tests/cluster/VERSION)", v.GitVersion, want)
	}
}

func TestAnonymousAndExpiredRejected(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	anon := kubernetes.NewForConfigOrDie(anonConfig(t))
	if _, err := anon.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Fatalf("anonymous list: want 401 (anonymous auth off), got %v", err)
	}
	expired := nodeClient(t, "pico-expired", "--expired")
	if _, err := expired.CoreV1().Nodes().Get(ctx, "pico-expired", metav1.GetOptions{}); !apierrors.IsUnauthorized(err) {
		t.Fatalf("expired certificate: want 401, got %v", err)
	}
}

func TestNodeRestriction(t *testing.T) {
	ctx := ctxT(t, 60*time.Second)
	adm := admin(t)
	t.Cleanup(func() {
		deleteNode(adm, "pico-a")
		deleteNode(adm, "pico-b")
		adm.CoreV1().ConfigMaps("default").Delete(context.Background(), "pico-unrelated", metav1.DeleteOptions{})
	})
	node := nodeClient(t, "pico-a")

	if _, err := node.CoreV1().Nodes().Create(ctx, testNode("pico-a"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("system:node:pico-a creating Node pico-a: %v", err)
	}
	if _, err := node.CoreV1().Nodes().Create(ctx, testNode("pico-b"), metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("system:node:pico-a creating Node pico-b: want Forbidden, got %v", err)
	}
	n, err := node.CoreV1().Nodes().Get(ctx, "pico-a", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading own Node: %v", err)
	}
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "pico.example/extra", Effect: corev1.TaintEffectNoExecute})
	if _, err := node.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("changing own taints after creation: want Forbidden, got %v", err)
	}
	// A label outside the allowed prefixes is refused too.
	n, _ = node.CoreV1().Nodes().Get(ctx, "pico-a", metav1.GetOptions{})
	n.Labels["node-role.kubernetes.io/control-plane"] = ""
	if _, err := node.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("setting a node-role label: want Forbidden, got %v", err)
	}

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "pico-unrelated"}, Data: map[string]string{"k": "v"}}
	if _, err := adm.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := node.CoreV1().ConfigMaps("default").Get(ctx, "pico-unrelated", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("reading an unrelated ConfigMap: want Forbidden, got %v", err)
	}
}

func TestBootstrapTokenCSR(t *testing.T) {
	ctx := ctxT(t, 120*time.Second)
	adm := admin(t)
	const id, secret = "picobt", "0123456789abcdef"
	csrName := "pico-boot-csr"
	t.Cleanup(func() {
		bg := context.Background()
		adm.CoreV1().Secrets("kube-system").Delete(bg, "bootstrap-token-"+id, metav1.DeleteOptions{})
		adm.CertificatesV1().CertificateSigningRequests().Delete(bg, csrName, metav1.DeleteOptions{})
	})
	tok := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-" + id, Namespace: "kube-system"},
		Type:       corev1.SecretType("bootstrap.kubernetes.io/token"),
		StringData: map[string]string{
			"token-id":                       id,
			"token-secret":                   secret,
			"usage-bootstrap-authentication": "true",
			"expiration":                     time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		},
	}
	if _, err := adm.CoreV1().Secrets("kube-system").Create(ctx, tok, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := anonConfig(t)
	cfg.BearerToken = id + "." + secret
	boot := kubernetes.NewForConfigOrDie(cfg)

	csr := newCSR(t, csrName, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "system:node:pico-boot", Organization: []string{"system:nodes"}},
	}, certificatesv1.KubeAPIServerClientKubeletSignerName, certificatesv1.UsageClientAuth)
	// Retried briefly: the token authenticator reads Secrets through an informer.
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := boot.CertificatesV1().CertificateSigningRequests().Create(ctx, csr, metav1.CreateOptions{})
		if apierrors.IsUnauthorized(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("creating CSR with the bootstrap token: %v", err)
	}

	var issued []byte
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := boot.CertificatesV1().CertificateSigningRequests().Get(ctx, csrName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range got.Status.Conditions {
			if c.Type == certificatesv1.CertificateDenied || c.Type == certificatesv1.CertificateFailed {
				return false, fmt.Errorf("CSR %s: %s %s", c.Type, c.Reason, c.Message)
			}
		}
		issued = got.Status.Certificate
		return len(issued) > 0, nil
	})
	if err != nil {
		t.Fatalf("waiting for approval and signing: %v", err)
	}
	got, _ := adm.CertificatesV1().CertificateSigningRequests().Get(ctx, csrName, metav1.GetOptions{})
	approved := false
	for _, c := range got.Status.Conditions {
		if c.Type == certificatesv1.CertificateApproved && c.Status == corev1.ConditionTrue {
			approved = true
			if c.Reason != "AutoApproved" {
				t.Errorf("approval reason %q, want AutoApproved (by kube-controller-manager)", c.Reason)
			}
		}
	}
	if !approved {
		t.Fatalf("CSR has a certificate but no Approved condition: %+v", got.Status.Conditions)
	}

	leaf, roots := parseIssued(t, issued, filepath.Join("data", "tls", "client-ca.crt"))
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("issued certificate does not chain to client-ca.crt: %v", err)
	}
	if leaf.Subject.CommonName != "system:node:pico-boot" || strings.Join(leaf.Subject.Organization, ",") != "system:nodes" {
		t.Fatalf("issued subject %v", leaf.Subject)
	}
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Fatalf("issued key type %T", leaf.PublicKey)
	}
}

func readyCondition(n *corev1.Node) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

func TestNodeLeaseGrace(t *testing.T) {
	grace, err := time.ParseDuration(os.Getenv("PICO_CLUSTER_NODE_GRACE"))
	if err != nil {
		t.Fatalf("PICO_CLUSTER_NODE_GRACE: %v", err)
	}
	ctx := ctxT(t, 4*grace+120*time.Second)
	adm := admin(t)
	const name = "pico-lease"
	t.Cleanup(func() { deleteNode(adm, name) })
	node := nodeClient(t, name)

	n, err := node.CoreV1().Nodes().Create(ctx, testNode(name), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dur := int32(40)
	now := metav1.NewMicroTime(time.Now())
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-node-lease", OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "v1", Kind: "Node", Name: name, UID: n.UID},
		}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr(name), LeaseDurationSeconds: &dur, RenewTime: &now},
	}
	lease, err = node.CoordinationV1().Leases("kube-node-lease").Create(ctx, lease, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating own Lease: %v", err)
	}
	// Status-only strategic merge patch by condition type, as a kubelet sends it.
	tnow := time.Now().UTC().Format(time.RFC3339)
	patch := fmt.Sprintf(`{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady",`+
		`"message":"pico test","lastHeartbeatTime":%q,"lastTransitionTime":%q}]}}`, tnow, tnow)
	if _, err := node.CoreV1().Nodes().Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("setting Ready=True: %v", err)
	}

	// Renew for longer than the grace period: the node must stay Ready.
	renewUntil := time.Now().Add(grace + 10*time.Second)
	for time.Now().Before(renewUntil) {
		time.Sleep(3 * time.Second)
		rt := metav1.NewMicroTime(time.Now())
		lease.Spec.RenewTime = &rt
		if lease, err = node.CoordinationV1().Leases("kube-node-lease").Update(ctx, lease, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("renewing Lease: %v", err)
		}
	}
	cur, err := adm.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := readyCondition(cur); c == nil || c.Status != corev1.ConditionTrue {
		t.Fatalf("node with a renewed Lease is not Ready=True after %s: %+v", grace+10*time.Second, c)
	}

	// Stop renewing: Ready must go Unknown after the grace period.
	stopped := time.Now()
	var last *corev1.NodeCondition
	err = wait.PollUntilContextTimeout(ctx, time.Second, 3*grace+60*time.Second, false, func(ctx context.Context) (bool, error) {
		cur, err := adm.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last = readyCondition(cur)
		return last != nil && last.Status == corev1.ConditionUnknown, nil
	})
	if err != nil {
		t.Fatalf("node did not go Ready=Unknown after Lease renewals stopped: %v (last %+v)", err, last)
	}
	after := time.Since(stopped)
	t.Logf("Ready=Unknown (%s) %s after the last renewal (grace %s)", last.Reason, after.Round(time.Second), grace)
	if after < grace-2*time.Second {
		t.Fatalf("went Unknown after %s, before the grace period %s", after, grace)
	}
}

func ptr[T any](v T) *T { return &v }

// TestKubeletServingCSR: a node submits a kubelet-serving CSR with its own
// identity; upstream never auto-approves those, so the test approves it as
// the admin (standing in for an approver) and checks the server CA signed it.
func TestKubeletServingCSR(t *testing.T) {
	ctx := ctxT(t, 90*time.Second)
	adm := admin(t)
	const name, csrName = "pico-serve", "pico-serve-serving"
	t.Cleanup(func() {
		adm.CertificatesV1().CertificateSigningRequests().Delete(context.Background(), csrName, metav1.DeleteOptions{})
	})
	node := nodeClient(t, name)
	csr := newCSR(t, csrName, &x509.CertificateRequest{
		Subject:     pkix.Name{CommonName: "system:node:" + name, Organization: []string{"system:nodes"}},
		DNSNames:    []string{name},
		IPAddresses: []net.IP{net.ParseIP("192.0.2.10")},
	}, certificatesv1.KubeletServingSignerName, certificatesv1.UsageServerAuth)
	created, err := node.CertificatesV1().CertificateSigningRequests().Create(ctx, csr, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("node creating its serving CSR: %v", err)
	}
	created.Status.Conditions = append(created.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
		Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "PicoTest", Message: "approved by the e2e test",
	})
	if _, err := adm.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, csrName, created, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("approving: %v", err)
	}
	var issued []byte
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := node.CertificatesV1().CertificateSigningRequests().Get(ctx, csrName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		issued = got.Status.Certificate
		return len(issued) > 0, nil
	})
	if err != nil {
		t.Fatalf("waiting for the serving certificate: %v", err)
	}
	leaf, roots := parseIssued(t, issued, "server-ca.crt")
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Fatalf("serving certificate does not verify against server-ca.crt for %q: %v", name, err)
	}
	if len(leaf.IPAddresses) != 1 || !leaf.IPAddresses[0].Equal(net.ParseIP("192.0.2.10")) {
		t.Fatalf("serving certificate IP SANs %v", leaf.IPAddresses)
	}
}
