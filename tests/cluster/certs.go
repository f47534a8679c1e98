package main

// Certificate authority and leaf certificate handling, laid out like k3s'
// /var/lib/rancher/k3s/server/tls: three EC P-256 CAs (client, server,
// request-header) and the leaf certificates the control plane needs.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// keyPair is a certificate with its private key.
type keyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

const caValidity = 10 * 365 * 24 * time.Hour
const leafValidity = 365 * 24 * time.Hour

func newECKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

// writeFileAtomic writes data to path through a temporary file and rename so a
// crash never leaves a truncated certificate or key behind.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func encodeCertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// encodeKeyPEM encodes an EC key as SEC1 ("EC PRIVATE KEY"), as k3s does.
func encodeKeyPEM(k crypto.Signer) ([]byte, error) {
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("unsupported key type %T", k)
	}
	der, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func loadKeyPair(certPath, keyPath string) (*keyPair, error) {
	cb, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(cb)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no certificate PEM block", certPath)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	key, err := parseKeyPEM(kb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	return &keyPair{Cert: cert, Key: key}, nil
}

func parseKeyPEM(kb []byte) (crypto.Signer, error) {
	kblock, _ := pem.Decode(kb)
	if kblock == nil {
		return nil, errors.New("no key PEM block")
	}
	switch kblock.Type {
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(kblock.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(kblock.Bytes)
		if err != nil {
			return nil, err
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported key type %T", k)
		}
		return s, nil
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(kblock.Bytes)
	}
	return nil, fmt.Errorf("unsupported PEM block %q", kblock.Type)
}

func writeKeyPair(kp *keyPair, certPath, keyPath string) error {
	kb, err := encodeKeyPEM(kp.Key)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(keyPath, kb, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certPath, encodeCertPEM(kp.Cert), 0o644)
}

// loadOrCreateCA returns the CA stored as dir/name.crt + dir/name.key,
// generating a self-signed EC P-256 CA on first use.
func loadOrCreateCA(dir, name, commonName string) (*keyPair, error) {
	certPath, keyPath := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if kp, err := loadKeyPair(certPath, keyPath); err == nil {
		return kp, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key, err := newECKey()
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: fmt.Sprintf("%s@%d", commonName, now.Unix())},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	kp := &keyPair{Cert: cert, Key: key}
	if err := writeKeyPair(kp, certPath, keyPath); err != nil {
		return nil, err
	}
	return kp, nil
}

// leafSpec describes a leaf certificate.
type leafSpec struct {
	CommonName   string
	Organization []string
	DNSNames     []string
	IPs          []net.IP
	Client       bool
	Server       bool
	NotBefore    time.Time
	NotAfter     time.Time
}

func signLeaf(ca *keyPair, key crypto.Signer, spec leafSpec) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	notBefore, notAfter := spec.NotBefore, spec.NotAfter
	if notBefore.IsZero() {
		notBefore = now.Add(-time.Hour)
	}
	if notAfter.IsZero() {
		notAfter = now.Add(leafValidity)
	}
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: spec.CommonName, Organization: spec.Organization},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		DNSNames:              spec.DNSNames,
		IPAddresses:           spec.IPs,
	}
	if spec.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	if spec.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// loadOrCreateLeaf returns dir/name.crt + .key, issuing it from ca when it is
// missing, not signed by ca, expiring within a day, or not naming every
// DNS name and address of spec.
func loadOrCreateLeaf(dir, name string, ca *keyPair, spec leafSpec) (*keyPair, error) {
	certPath, keyPath := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if kp, err := loadKeyPair(certPath, keyPath); err == nil {
		if kp.Cert.CheckSignatureFrom(ca.Cert) == nil && time.Until(kp.Cert.NotAfter) > 24*time.Hour &&
			namesAll(kp.Cert, spec) {
			return kp, nil
		}
	}
	key, err := newECKey()
	if err != nil {
		return nil, err
	}
	cert, err := signLeaf(ca, key, spec)
	if err != nil {
		return nil, err
	}
	kp := &keyPair{Cert: cert, Key: key}
	if err := writeKeyPair(kp, certPath, keyPath); err != nil {
		return nil, err
	}
	return kp, nil
}

// loadOrCreateKey returns the EC private key at path, generating it once.
func loadOrCreateKey(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	key, err := newECKey()
	if err != nil {
		return err
	}
	kb, err := encodeKeyPEM(key)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, kb, 0o600)
}

// namesAll reports whether cert is valid for every DNS name and IP of spec.
func namesAll(cert *x509.Certificate, spec leafSpec) bool {
	for _, n := range spec.DNSNames {
		if cert.VerifyHostname(n) != nil {
			return false
		}
	}
	for _, ip := range spec.IPs {
		if cert.VerifyHostname(ip.String()) != nil {
			return false
		}
	}
	return true
}
