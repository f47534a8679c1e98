package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/k3s-io/kine/pkg/endpoint"
	"github.com/spf13/pflag"

	_ "github.com/k3s-io/kine/pkg/drivers/sqlite" // registers sqlite:// (kine's SQLite backend)

	"k8s.io/apiserver/pkg/server/flagz"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	basecompatibility "k8s.io/component-base/compatibility"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"

	apiserverapp "k8s.io/kubernetes/cmd/kube-apiserver/app"
	apiserveroptions "k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	kcmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	kcmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
	schedapp "k8s.io/kubernetes/cmd/kube-scheduler/app"
	schedoptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"
)

func init() {
	// Three components share one process and one logging setup.
	logsapi.ReapplyHandling = logsapi.ReapplyHandlingIgnoreUnchanged
}

// apiserverKubeletRBAC is the test cluster's own binding (the API server's
// kubelet client); the node bootstrap RBAC comes from the project's
// manifests/ (serve --node-rbac), the one users apply.
//
//go:embed manifests/apiserver-kubelet-rbac.yaml
var apiserverKubeletRBAC []byte

// startKine starts kine with SQLite in data/db/state.db, serving the etcd v3
// protocol on a unix socket (loopback TCP when the socket path is too long).
func startKine(l layout, failed chan<- *component) (string, *component, error) {
	c, ctx := newComponent("kine")
	listener := "unix://" + filepath.Join(l.Data, "kine.sock")
	if len(listener)-len("unix://") > 100 {
		listener = "127.0.0.1:0"
	}
	var wg sync.WaitGroup
	cfg := endpoint.Config{
		WaitGroup: &wg,
		Listener:  listener,
		// As k3s: WAL journal, shared cache, generous busy timeout, immediate tx locks.
		Endpoint:            "sqlite://" + filepath.Join(l.DB, "state.db") + "?_journal=WAL&cache=shared&_busy_timeout=30000&_txlock=immediate",
		NotifyInterval:      5 * time.Second,
		EmulatedETCDVersion: "3.6.11",
		CompactInterval:     5 * time.Minute,
		CompactTimeout:      5 * time.Second,
		CompactMinRetain:    1000,
		CompactBatchSize:    1000,
		PollBatchSize:       500,
		PollInterval:        time.Second,
	}
	cfg.ConnectionPoolConfig.MaxIdle = 20
	cfg.ConnectionPoolConfig.MaxIdleTime = 2 * time.Minute
	etcd, err := endpoint.Listen(ctx, cfg)
	if err != nil {
		c.cancel()
		return "", nil, err
	}
	c.start(ctx, failed, func(ctx context.Context) error {
		<-ctx.Done()
		wg.Wait()
		return nil
	})
	return strings.Join(etcd.Endpoints, ","), c, nil
}

// apiserverArgs mirrors the flags k3s passes to kube-apiserver.
func apiserverArgs(l layout, port int, etcd string) []string {
	t := l.tls
	return []string{
		"--advertise-address=127.0.0.1",
		"--allow-privileged=true",
		"--anonymous-auth=false",
		"--api-audiences=https://kubernetes.default.svc.cluster.local,k3s",
		"--authorization-mode=Node,RBAC",
		"--bind-address=127.0.0.1",
		"--cert-dir=" + t("temporary-certs"),
		"--client-ca-file=" + t("client-ca.crt"),
		"--enable-admission-plugins=NodeRestriction",
		// Cluster routing (upstream's default; k3s turns endpoint routing on
		// for its in-cluster metrics-server): the only aggregated API here is
		// a local metrics-server behind an ExternalName Service (localhost).
		// Endpoint routing accepts only ClusterIP/NodePort/LoadBalancer
		// Services (k8s.io/apiserver pkg/util/proxy ResolveEndpoint), and
		// EndpointSlices may not hold loopback addresses (ValidateEndpointIP).
		"--enable-aggregator-routing=false",
		"--enable-bootstrap-token-auth=true",
		// The advertised address is loopback, which the "kubernetes" Endpoints
		// may not hold; nothing routes service traffic here anyway.
		"--endpoint-reconciler-type=none",
		"--etcd-servers=" + etcd,
		"--kubelet-certificate-authority=" + t("server-ca.crt"),
		"--kubelet-client-certificate=" + t("client-kube-apiserver.crt"),
		"--kubelet-client-key=" + t("client-kube-apiserver.key"),
		"--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
		"--profiling=false",
		"--proxy-client-cert-file=" + t("client-auth-proxy.crt"),
		"--proxy-client-key-file=" + t("client-auth-proxy.key"),
		"--requestheader-allowed-names=system:auth-proxy",
		"--requestheader-client-ca-file=" + t("request-header-ca.crt"),
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-username-headers=X-Remote-User",
		fmt.Sprintf("--secure-port=%d", port),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + t("service.key"),
		"--service-account-signing-key-file=" + t("service.key"),
		"--service-cluster-ip-range=10.43.0.0/16",
		"--service-node-port-range=30000-32767",
		"--storage-backend=etcd3",
		"--tls-cert-file=" + t("serving-kube-apiserver.crt"),
		"--tls-private-key-file=" + t("serving-kube-apiserver.key"),
	}
}

// startAPIServer runs kube-apiserver through the entry points upstream's
// cmd/kube-apiserver/app/testing/testserver.go uses (the cobra command would
// install its own signal handler).
func startAPIServer(args []string, failed chan<- *component) (*component, error) {
	c, ctx := newComponent("kube-apiserver")
	fail := func(err error) (*component, error) { c.cancel(); return nil, err }

	s := apiserveroptions.NewServerRunOptions()
	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	nfs := s.Flags()
	for _, f := range nfs.FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(args); err != nil {
		return fail(err)
	}
	s.Flagz = flagz.NamedFlagSetsReader{FlagSets: nfs}
	if err := s.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		return fail(err)
	}
	// kube-apiserver loopback clients should not log self-issued warnings.
	rest.SetDefaultWarningHandler(rest.NoWarnings{})
	featureGate := s.GenericServerRunOptions.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
	if err := logsapi.ValidateAndApply(s.Logs, featureGate); err != nil {
		return fail(err)
	}
	completed, err := s.Complete(ctx)
	if err != nil {
		return fail(err)
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return fail(errors.Join(errs...))
	}
	c.start(ctx, failed, func(ctx context.Context) error {
		return apiserverapp.Run(ctx, completed)
	})
	return c, nil
}

// waitReadyAndBootstrap polls /readyz as the admin until it answers ok, then
// applies the RBAC manifest.
func waitReadyAndBootstrap(ctx context.Context, l layout, rbac []byte) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", l.cred("admin.kubeconfig"))
	if err != nil {
		return err
	}
	cfg.Timeout = 5 * time.Second
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	last := "no answer yet"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/readyz", nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last /readyz: %s)", ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
	for {
		err := applyManifest(ctx, cfg, rbac)
		if err == nil {
			return nil
		}
		klog.Warningf("pico-cluster: applying bootstrap RBAC: %v (retrying)", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("applying bootstrap RBAC: %w", err)
		case <-time.After(time.Second):
		}
	}
}

// kcmControllers are the controllers k3s-pico-node's tests rely on, by their
// canonical names (aliases: csrsigning, csrapproving, ...).
var kcmControllers = []string{
	"certificatesigningrequest-signing-controller",
	"certificatesigningrequest-approving-controller",
	"certificatesigningrequest-cleaner-controller",
	"node-lifecycle-controller",
	"taint-eviction-controller",
	"token-cleaner-controller",
	"bootstrap-signer-controller",
	"serviceaccount-token-controller",
	"serviceaccount-controller",
	"root-ca-certificate-publisher-controller",
	"namespace-controller",
	"garbage-collector-controller",
	"ttl-after-finished-controller",
	"ttl-controller",
	"clusterrole-aggregation-controller",
}

func startControllerManager(l layout, signing, nodeGrace time.Duration, failed chan<- *component) (*component, error) {
	c, ctx := newComponent("kube-controller-manager")
	fail := func(err error) (*component, error) { c.cancel(); return nil, err }
	t := l.tls
	args := []string{
		"--kubeconfig=" + l.cred("controller.kubeconfig"),
		"--authentication-kubeconfig=" + l.cred("controller.kubeconfig"),
		"--authorization-kubeconfig=" + l.cred("controller.kubeconfig"),
		"--secure-port=0", // no serving port: several clusters may run side by side
		"--bind-address=127.0.0.1",
		"--leader-elect=false",
		"--controllers=" + strings.Join(kcmControllers, ","),
		"--cluster-signing-kube-apiserver-client-cert-file=" + t("client-ca.crt"),
		"--cluster-signing-kube-apiserver-client-key-file=" + t("client-ca.key"),
		"--cluster-signing-kubelet-client-cert-file=" + t("client-ca.crt"),
		"--cluster-signing-kubelet-client-key-file=" + t("client-ca.key"),
		"--cluster-signing-kubelet-serving-cert-file=" + t("server-ca.crt"),
		"--cluster-signing-kubelet-serving-key-file=" + t("server-ca.key"),
		"--cluster-signing-legacy-unknown-cert-file=" + t("server-ca.crt"),
		"--cluster-signing-legacy-unknown-key-file=" + t("server-ca.key"),
		"--cluster-signing-duration=" + signing.String(),
		"--root-ca-file=" + t("server-ca.crt"),
		"--service-account-private-key-file=" + t("service.key"),
		"--use-service-account-credentials=true",
		"--node-monitor-grace-period=" + nodeGrace.String(),
		"--allocate-node-cidrs=false",
		"--configure-cloud-routes=false",
		"--profiling=false",
	}
	s, err := kcmoptions.NewKubeControllerManagerOptions()
	if err != nil {
		return fail(err)
	}
	all, disabled, aliases := kcmapp.KnownControllers(), kcmapp.ControllersDisabledByDefault(), kcmapp.ControllerAliases()
	nfs := s.Flags(all, disabled, aliases)
	fs := pflag.NewFlagSet("kube-controller-manager", pflag.ContinueOnError)
	for _, f := range nfs.FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(args); err != nil {
		return fail(err)
	}
	s.ParsedFlags = &nfs
	if err := s.ComponentGlobalsRegistry.Set(); err != nil {
		return fail(err)
	}
	config, err := s.Config(ctx, all, disabled, aliases)
	if err != nil {
		return fail(err)
	}
	c.start(ctx, failed, func(ctx context.Context) error {
		return kcmapp.Run(ctx, config.Complete())
	})
	return c, nil
}

func startScheduler(l layout, failed chan<- *component) (*component, error) {
	c, ctx := newComponent("kube-scheduler")
	fail := func(err error) (*component, error) { c.cancel(); return nil, err }
	args := []string{
		"--kubeconfig=" + l.cred("scheduler.kubeconfig"),
		"--authentication-kubeconfig=" + l.cred("scheduler.kubeconfig"),
		"--authorization-kubeconfig=" + l.cred("scheduler.kubeconfig"),
		"--secure-port=0",
		"--bind-address=127.0.0.1",
		"--leader-elect=false",
		"--profiling=false",
	}
	opts := schedoptions.NewOptions()
	fs := pflag.NewFlagSet("kube-scheduler", pflag.ContinueOnError)
	for _, f := range opts.Flags.FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(args); err != nil {
		return fail(err)
	}
	if err := opts.ComponentGlobalsRegistry.Set(); err != nil {
		return fail(err)
	}
	cc, sched, err := schedapp.Setup(ctx, opts)
	if err != nil {
		return fail(err)
	}
	c.start(ctx, failed, func(ctx context.Context) error {
		return schedapp.Run(ctx, cc, sched)
	})
	return c, nil
}
