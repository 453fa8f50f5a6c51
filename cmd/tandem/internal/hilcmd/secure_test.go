package hilcmd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/hil/oip"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir and
// returns their paths.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tandem test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// TestServeSecure serves over HTTPS with a bearer token and short read and
// idle timeouts, and checks each: the token is asked for, plain HTTP is
// refused, a client that stalls in its body and one that idles are
// disconnected.
func TestServeSecure(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("  s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := &ServeOptions{TLSCert: certFile, TLSKey: keyFile, AuthTokenFile: tokenFile,
		ReadTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond, MaxConns: 8, Log: io.Discard}
	sec, err := loadSecurity(opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := oip.NewServer(slowModel{gate: closedGate()}, oip.Config{Name: "slow", Input: "x", Output: "y", SampleShape: []int64{4}, Classes: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveOn(ctx, ln, s, opts, sec) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serveOn: %v", err)
		}
	}()

	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tlsCfg := &tls.Config{RootCAs: pool}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}, Timeout: 5 * time.Second}
	if _, err := oip.NewClient(ctx, "https://"+addr, "slow", hc); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("without the token: %v", err)
	}
	c, err := oip.NewClientToken(ctx, "https://"+addr, "slow", hc, "s3cret")
	if err != nil {
		t.Fatalf("with the token: %v", err)
	}
	if y, err := c.Infer(ctx, []float32{1, 2, 3, 4}, 1); err != nil || len(y) != 2 {
		t.Errorf("Infer over HTTPS: %v %v", y, err)
	}
	if resp, err := http.Get("http://" + addr + "/v2/health/live"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on the HTTPS port")
		}
		resp.Body.Close()
	}

	// closedWithin reports whether the server closes conn within d.
	closedWithin := func(conn net.Conn, d time.Duration) bool {
		conn.SetReadDeadline(time.Now().Add(d))
		_, err := io.Copy(io.Discard, conn)
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
	slow, err := tls.Dial("tcp", addr, tlsCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "POST /v2/models/slow/infer HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nContent-Length: 1000\r\n\r\n{\"inputs\": ")
	if !closedWithin(slow, 3*time.Second) {
		t.Error("a client stalled in its body was not disconnected")
	}
	idle, err := tls.Dial("tcp", addr, tlsCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	io.WriteString(idle, "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
	if !closedWithin(idle, 3*time.Second) {
		t.Error("an idle kept-alive connection was not closed")
	}
}

func closedGate() chan struct{} {
	g := make(chan struct{})
	close(g)
	return g
}

func TestServeSecurityBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	spaced := filepath.Join(dir, "spaced")
	os.WriteFile(empty, []byte("\n"), 0o600)
	os.WriteFile(spaced, []byte("two words"), 0o600)
	notPEM := filepath.Join(dir, "cert.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	cases := []struct {
		name string
		opts ServeOptions
		want string
	}{
		{"cert without key", ServeOptions{TLSCert: notPEM}, "give both or neither"},
		{"bad cert", ServeOptions{TLSCert: notPEM, TLSKey: notPEM}, "--tls-cert " + notPEM},
		{"missing token file", ServeOptions{AuthTokenFile: filepath.Join(dir, "nope")}, "--auth-token-file"},
		{"empty token", ServeOptions{AuthTokenFile: empty}, "holds no token"},
		{"token with a space", ServeOptions{AuthTokenFile: spaced}, "one line without spaces"},
		{"metrics auth without a token", ServeOptions{MetricsAuth: true}, "--metrics-auth needs --auth-token-file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Model, tc.opts.MaxBatch, tc.opts.Listen = "m.onnx", 1, "127.0.0.1:0"
			err := Serve(context.Background(), &tc.opts)
			if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Serve: %v (exit %d), want exit 2 and %q", err, cli.ExitCode(err), tc.want)
			}
		})
	}
}
