package main

// The API server on one more address of this machine, for clients that
// cannot reach 127.0.0.1: the hosted board (firmware-shim/port/pico/hosted),
// whose lwIP sits behind a TAP device and reaches the host at its gateway
// address. PICO_CLUSTER_EXTRA_ADDRESS names it; the API server's serving
// certificate names it too (layout.go), and connections to it on the API
// server's port (and the agent tunnel's) are relayed byte for byte to
// 127.0.0.1 (TLS end to end).

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"k8s.io/klog/v2"
)

// extraAddress is PICO_CLUSTER_EXTRA_ADDRESS as an IP, or nil when unset.
func extraAddress() net.IP {
	v := os.Getenv("PICO_CLUSTER_EXTRA_ADDRESS")
	if v == "" {
		return nil
	}
	ip := net.ParseIP(v)
	if ip == nil {
		fatalf("PICO_CLUSTER_EXTRA_ADDRESS=%q is not an IP address", v)
	}
	return ip
}

// startRelay listens on the extra address at port and relays each
// connection to 127.0.0.1:port; the listener lives as long as the process.
func startRelay(ip net.IP, port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("relay on %s: %w", ip, err)
	}
	target := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	klog.Infof("pico-cluster: also at %s (relayed to %s)", ln.Addr(), target)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go relay(c, target)
		}
	}()
	return nil
}

func relay(c net.Conn, target string) {
	s, err := net.Dial("tcp", target)
	if err != nil {
		c.Close()
		return
	}
	pipe(c, c, s)
}
