// This file defines the hub's TLS material: its certificate, from the
// profile's files or made with a private CA in security/ for --tls auto.

package hub

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/pirun-dev/pirun/conf"
)

// TLS returns the listener's TLS configuration (nil for plain TCP) and
// the [tls] table for the connection files.
func TLS(h conf.Hub, paths conf.ProfilePaths) (*tls.Config, conf.ConnTLS, error) {
	switch h.TLS {
	case conf.TLSAuto:
		return autoTLS(paths.Security, hubNames(h))
	case conf.TLSFiles:
		return fileTLS(h)
	}
	return nil, conf.ConnTLS{}, nil
}

// fileTLS loads [hub] tls_cert, tls_key and tls_ca.
func fileTLS(h conf.Hub) (*tls.Config, conf.ConnTLS, error) {
	cert, err := tls.LoadX509KeyPair(h.TLSCert, h.TLSKey)
	if err != nil {
		return nil, conf.ConnTLS{}, fmt.Errorf("[hub] tls = \"files\": load tls_cert %s and tls_key %s: %w", h.TLSCert, h.TLSKey, err)
	}
	var ct conf.ConnTLS
	if h.TLSCA != "" {
		ca, err := os.ReadFile(h.TLSCA)
		if err != nil {
			return nil, ct, fmt.Errorf("[hub] tls_ca: %w", err)
		}
		ct.CA = string(ca)
	}
	return serverTLS(cert), ct, nil
}

func serverTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

// hubNames are the names and addresses a hub certificate must cover: the
// advertised host, the listening address, this machine's addresses and
// host name, and localhost.
func hubNames(h conf.Hub) []string {
	names := []string{"localhost", "127.0.0.1", "::1"}
	if host, _, err := net.SplitHostPort(h.Advertise); err == nil {
		names = append(names, host)
	} else if h.Advertise != "" {
		names = append(names, h.Advertise)
	}
	if h.IP != "" && !h.AllInterfaces() {
		names = append(names, h.IP)
	}
	if hn, err := os.Hostname(); err == nil {
		names = append(names, hn)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				names = append(names, ipn.IP.String())
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// autoTLS loads or makes security/ca.pem (a private CA) and
// security/hub-cert.pem, made anew when it does not cover names or is
// near its end.
func autoTLS(dir string, names []string) (*tls.Config, conf.ConnTLS, error) {
	ca, caKey, caPEM, err := loadOrMakeCA(dir)
	if err != nil {
		return nil, conf.ConnTLS{}, fmt.Errorf("--tls auto: %w", err)
	}
	certFile, keyFile := filepath.Join(dir, "hub-cert.pem"), filepath.Join(dir, "hub-key.pem")
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil || !covers(cert, names, ca) {
		if cert, err = makeHubCert(certFile, keyFile, names, ca, caKey); err != nil {
			return nil, conf.ConnTLS{}, fmt.Errorf("--tls auto: %w", err)
		}
	}
	return serverTLS(cert), conf.ConnTLS{CA: string(caPEM)}, nil
}

// covers reports whether cert was signed by ca, names every one of names
// and is valid for another month.
func covers(cert tls.Certificate, names []string, ca *x509.Certificate) bool {
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil || leaf.CheckSignatureFrom(ca) != nil || time.Until(leaf.NotAfter) < 30*24*time.Hour {
		return false
	}
	for _, n := range names {
		if leaf.VerifyHostname(n) != nil {
			return false
		}
	}
	return true
}

// loadOrMakeCA returns the profile's private CA, making it on first use.
func loadOrMakeCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	if pair, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil {
		ca, err := x509.ParseCertificate(pair.Certificate[0])
		key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
		if err == nil && ok {
			caPEM, err := os.ReadFile(certFile)
			return ca, key, caPEM, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("load the private CA %s: %w; delete ca.pem and ca-key.pem to make a new one (then copy the new connection files to every machine)", certFile, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := certTemplate("pirun private CA", 20*365*24*time.Hour)
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	caPEM, err := writePEM(certFile, keyFile, der, key)
	if err != nil {
		return nil, nil, nil, err
	}
	ca, err := x509.ParseCertificate(der)
	return ca, key, caPEM, err
}

// makeHubCert makes and writes the hub's certificate for names.
func makeHubCert(certFile, keyFile string, names []string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := certTemplate("pirun hub", 5*365*24*time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	if _, err := writePEM(certFile, keyFile, der, key); err != nil {
		return tls.Certificate{}, err
	}
	return tls.LoadX509KeyPair(certFile, keyFile)
}

func certTemplate(cn string, life time.Duration) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	now := time.Now()
	return &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn, Organization: []string{"pirun"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(life)}
}

// writePEM writes a certificate (0644) and its key (0600) and returns the
// certificate's PEM.
func writePEM(certFile, keyFile string, der []byte, key *ecdsa.PrivateKey) ([]byte, error) {
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return certPEM, os.WriteFile(certFile, certPEM, 0o644)
}
