// This file defines the client side's TLS configuration, from a
// connection file's [tls] table (engines connect with it too).

package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/pirun-dev/pirun/conf"
)

// TLSConfig returns the TLS configuration a connection file asks for, or
// nil when it asks for none and its URLs are nats://.
func TLSConfig(cf conf.ConnFile) (*tls.Config, error) {
	t := cf.TLS
	if !t.Enabled() {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: t.ServerName, MinVersion: tls.VersionTLS12}
	ca := []byte(t.CA)
	if t.CAFile != "" {
		var err error
		if ca, err = os.ReadFile(t.CAFile); err != nil {
			return nil, fmt.Errorf("connection file [tls] ca_file: %w", err)
		}
	}
	if len(ca) > 0 {
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(ca) {
			return nil, errors.New("connection file [tls] ca: no PEM certificate in it; copy the file again from the hub's security/ folder")
		}
	}
	if t.Cert != "" {
		pair, err := tls.X509KeyPair([]byte(t.Cert), []byte(t.Key))
		if err != nil {
			return nil, fmt.Errorf("connection file [tls] cert and key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
