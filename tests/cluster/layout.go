package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// layout names every file of a cluster directory (default <checkout>/.cluster):
//
//	admin.kubeconfig        cluster-admin (CN=system:admin, O=system:masters)
//	server-ca.crt           the bundle nodes trust to verify the API server
//	ready                   written once the control plane is up, removed on exit
//	data/tls/               CAs and leaf certificates, as k3s' server/tls
//	data/cred/              component kubeconfigs
//	data/db/state.db        kine's SQLite database
//	data/kine.sock          kine's etcd-protocol socket
type layout struct {
	Dir, Data, TLS, Cred, DB string
}

func newLayout(dir string) layout {
	data := filepath.Join(dir, "data")
	return layout{
		Dir:  dir,
		Data: data,
		TLS:  filepath.Join(data, "tls"),
		Cred: filepath.Join(data, "cred"),
		DB:   filepath.Join(data, "db"),
	}
}

func (l layout) tls(name string) string  { return filepath.Join(l.TLS, name) }
func (l layout) cred(name string) string { return filepath.Join(l.Cred, name) }
func (l layout) AdminKubeconfig() string { return filepath.Join(l.Dir, "admin.kubeconfig") }
func (l layout) ReadyFile() string       { return filepath.Join(l.Dir, "ready") }

// pki holds what the components need at start.
type pki struct {
	ClientCA, ServerCA, RequestHeaderCA *keyPair
}

// ensurePKI creates (first start) or loads (later starts) every certificate,
// key and kubeconfig. Existing CAs are never replaced.
func ensurePKI(l layout, port int) (*pki, error) {
	for _, d := range []string{l.TLS, l.Cred, l.DB} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	var p pki
	var err error
	if p.ClientCA, err = loadOrCreateCA(l.TLS, "client-ca", "pico-client-ca"); err != nil {
		return nil, err
	}
	if p.ServerCA, err = loadOrCreateCA(l.TLS, "server-ca", "pico-server-ca"); err != nil {
		return nil, err
	}
	if p.RequestHeaderCA, err = loadOrCreateCA(l.TLS, "request-header-ca", "pico-request-header-ca"); err != nil {
		return nil, err
	}

	serving := leafSpec{
		CommonName: "kube-apiserver",
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
		IPs:    []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP("10.43.0.1")},
		Server: true,
	}
	if extra := extraAddress(); extra != nil {
		serving.IPs = append(serving.IPs, extra)
	}
	if _, err := loadOrCreateLeaf(l.TLS, "serving-kube-apiserver", p.ServerCA, serving); err != nil {
		return nil, err
	}

	clients := []struct {
		file string
		cn   string
		orgs []string
		ca   *keyPair
	}{
		{"client-admin", "system:admin", []string{"system:masters"}, p.ClientCA},
		// The API server's identity towards kubelets: least privilege, bound to
		// the system:kubelet-api-admin ClusterRole by manifests/apiserver-kubelet-rbac.yaml.
		{"client-kube-apiserver", "system:kube-apiserver", nil, p.ClientCA},
		{"client-controller", "system:kube-controller-manager", nil, p.ClientCA},
		{"client-scheduler", "system:kube-scheduler", nil, p.ClientCA},
		// Front proxy (aggregation layer) client, from the request-header CA.
		{"client-auth-proxy", "system:auth-proxy", nil, p.RequestHeaderCA},
	}
	for _, c := range clients {
		if _, err := loadOrCreateLeaf(l.TLS, c.file, c.ca, leafSpec{CommonName: c.cn, Organization: c.orgs, Client: true}); err != nil {
			return nil, err
		}
	}
	if err := loadOrCreateKey(l.tls("service.key")); err != nil {
		return nil, err
	}

	server := fmt.Sprintf("https://127.0.0.1:%d", port)
	for _, k := range []struct{ path, client string }{
		{l.cred("controller.kubeconfig"), "client-controller"},
		{l.cred("scheduler.kubeconfig"), "client-scheduler"},
		{l.cred("admin.kubeconfig"), "client-admin"},
	} {
		if err := writeKubeconfig(k.path, server, l.tls("server-ca.crt"), l.tls(k.client+".crt"), l.tls(k.client+".key"), false); err != nil {
			return nil, err
		}
	}
	// The user-facing admin kubeconfig embeds its data so it can be copied.
	if err := writeKubeconfig(l.AdminKubeconfig(), server, l.tls("server-ca.crt"), l.tls("client-admin.crt"), l.tls("client-admin.key"), true); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(l.Dir, "server-ca.crt"), encodeCertPEM(p.ServerCA.Cert), 0o644); err != nil {
		return nil, err
	}
	return &p, nil
}

func writeKubeconfig(path, server, caFile, certFile, keyFile string, embed bool) error {
	cluster := &clientcmdapi.Cluster{Server: server, CertificateAuthority: caFile}
	user := &clientcmdapi.AuthInfo{ClientCertificate: certFile, ClientKey: keyFile}
	if embed {
		var err error
		if cluster.CertificateAuthorityData, err = os.ReadFile(caFile); err != nil {
			return err
		}
		if user.ClientCertificateData, err = os.ReadFile(certFile); err != nil {
			return err
		}
		if user.ClientKeyData, err = os.ReadFile(keyFile); err != nil {
			return err
		}
		cluster.CertificateAuthority, user.ClientCertificate, user.ClientKey = "", "", ""
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["pico"] = cluster
	cfg.AuthInfos["pico"] = user
	cfg.Contexts["pico"] = &clientcmdapi.Context{Cluster: "pico", AuthInfo: "pico"}
	cfg.CurrentContext = "pico"
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b, 0o600)
}

// issueNodeCert writes outDir/name.key and outDir/name.crt: a kubelet client
// certificate (CN=system:node:<name>, O=system:nodes) from the client CA.
func issueNodeCert(l layout, name, outDir string, validity time.Duration, expired bool) error {
	now := time.Now()
	spec := leafSpec{CommonName: "system:node:" + name, Organization: []string{"system:nodes"}, Client: true}
	switch {
	case expired:
		spec.NotBefore, spec.NotAfter = now.Add(-48*time.Hour), now.Add(-24*time.Hour)
	case validity < 0:
		spec.NotBefore, spec.NotAfter = now.Add(validity-24*time.Hour), now.Add(validity)
	default:
		spec.NotBefore, spec.NotAfter = now.Add(-5*time.Minute), now.Add(validity)
	}
	return issueLeaf(l, "client-ca", spec, name, outDir)
}

// issueCert writes outDir/name.key and outDir/name.crt for a component that
// runs next to the cluster: a client certificate from the client CA
// (ca "client"), or a serving certificate from the server CA (ca "server",
// at least one DNS or IP SAN). With kubeconfig set (client only), it also
// writes a kubeconfig for that identity, data embedded.
func issueCert(l layout, ca string, spec leafSpec, name, outDir string, validity time.Duration, kubeconfig string, port int) error {
	switch ca {
	case "client":
		spec.Client = true
	case "server":
		if len(spec.DNSNames) == 0 && len(spec.IPs) == 0 {
			return fmt.Errorf("a serving certificate needs at least one --dns or --ip name")
		}
		if kubeconfig != "" {
			return fmt.Errorf("--kubeconfig is only for client certificates")
		}
		spec.Server = true
	default:
		return fmt.Errorf("--ca must be client or server, not %q", ca)
	}
	if spec.CommonName == "" {
		return fmt.Errorf("--cn is required")
	}
	now := time.Now()
	spec.NotBefore, spec.NotAfter = now.Add(-5*time.Minute), now.Add(validity)
	if err := issueLeaf(l, ca+"-ca", spec, name, outDir); err != nil {
		return err
	}
	if kubeconfig == "" {
		return nil
	}
	return writeKubeconfig(kubeconfig, fmt.Sprintf("https://127.0.0.1:%d", port), l.tls("server-ca.crt"),
		filepath.Join(outDir, name+".crt"), filepath.Join(outDir, name+".key"), true)
}

// issueLeaf signs spec with the CA data/tls/<ca>.{crt,key} and writes a new
// EC P-256 key and the certificate as outDir/name.{key,crt}.
func issueLeaf(l layout, ca string, spec leafSpec, name, outDir string) error {
	caPair, err := loadKeyPair(l.tls(ca+".crt"), l.tls(ca+".key"))
	if err != nil {
		return fmt.Errorf("loading %s (has the cluster been started once?): %w", ca, err)
	}
	key, err := newECKey()
	if err != nil {
		return err
	}
	cert, err := signLeaf(caPair, key, spec)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	return writeKeyPair(&keyPair{Cert: cert, Key: key}, filepath.Join(outDir, name+".crt"), filepath.Join(outDir, name+".key"))
}
