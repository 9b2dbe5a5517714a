// This file defines isCertError, which tells a TLS failure from others.

package node

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// isCertError reports whether err is a certificate that does not verify.
func isCertError(err error) bool {
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	var ce *tls.CertificateVerificationError
	return errors.As(err, &ue) || errors.As(err, &he) || errors.As(err, &ce)
}
