package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/store"
)

// Files of a data directory.
const (
	dbFile   = "tagd.db"
	kekFile  = "kek"     // key-encryption key, 0600, hex
	certFile = "tls.crt" // self-signed certificate for HTTPS on the LAN
	keyFile  = "tls.key" // its private key, 0600
	sockFile = "admin.sock"
)

// apiKeyPrefix marks tagd API key ids, so that a leaked key is easy to
// recognise (and to scan for).
const apiKeyPrefix = "tagd_"

// dataDir is an initialised data directory.
type dataDir struct {
	path string
	kek  []byte
}

// initialized reports whether dir holds a key-encryption key.
func initialized(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, kekFile))
	return err == nil
}

// initData creates the data directory, the key-encryption key, the
// database and a self-signed TLS certificate, and creates the first admin
// API key, returned once as "ID.Secret". It refuses an initialised
// directory.
func initData(ctx context.Context, dir string, now func() time.Time) (string, error) {
	if initialized(dir) {
		return "", fmt.Errorf("%s is already initialised (it has a %s file)", dir, kekFile)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	kek := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, kek); err != nil {
		return "", err
	}
	if err := writeFileSync(filepath.Join(dir, kekFile), []byte(hex.EncodeToString(kek)+"\n"), 0o600); err != nil {
		return "", err
	}
	if err := writeSelfSigned(dir, now()); err != nil {
		return "", err
	}
	db, err := store.Open(filepath.Join(dir, dbFile), store.Options{KEK: kek, Now: now})
	if err != nil {
		return "", err
	}
	defer db.Close()
	key, rec, err := newAPIKey("admin", []string{tagd.ScopeAdmin}, now())
	if err != nil {
		return "", err
	}
	if err := db.CreateAPIKey(ctx, rec); err != nil {
		return "", err
	}
	return key, nil
}

// openData reads the key-encryption key of an initialised directory.
func openData(dir string) (*dataDir, error) {
	b, err := os.ReadFile(filepath.Join(dir, kekFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not initialised: run tagd init --data %s", dir, dir)
	}
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(filepath.Join(dir, kekFile)); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v); chmod 600 it", filepath.Join(dir, kekFile), fi.Mode().Perm())
	}
	kek, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(kek) != 32 {
		return nil, fmt.Errorf("%s is not a 32-byte hex key", filepath.Join(dir, kekFile))
	}
	return &dataDir{path: dir, kek: kek}, nil
}

// openStore opens the database of an initialised directory.
func (d *dataDir) openStore(now func() time.Time) (*store.DB, error) {
	return store.Open(filepath.Join(d.path, dbFile), store.Options{KEK: d.kek, Now: now, Timeout: time.Second})
}

// newAPIKey makes a key "tagd_XXXX.SECRET" and its stored record (the
// secret only hashed).
func newAPIKey(name string, scopes []string, now time.Time) (string, tagd.APIKey, error) {
	id := make([]byte, 10)
	secret := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, id); err != nil {
		return "", tagd.APIKey{}, err
	}
	if _, err := io.ReadFull(rand.Reader, secret); err != nil {
		return "", tagd.APIKey{}, err
	}
	keyID := apiKeyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(id))
	sec := base64.RawURLEncoding.EncodeToString(secret)
	h := sha256.Sum256([]byte(sec))
	return keyID + "." + sec, tagd.APIKey{ID: keyID, Name: name, Scopes: scopes, SecretHash: h[:], Created: now}, nil
}

// writeSelfSigned writes a self-signed ECDSA P-256 certificate for the
// host's names and addresses, valid for ten years.
func writeSelfSigned(dir string, now time.Time) error {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "tagd " + host, Organization: []string{"tagd"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if host != "" {
		tmpl.DNSNames = append(tmpl.DNSNames, host, host+".local")
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ipn.IP)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(dir, keyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return writeFileSync(filepath.Join(dir, certFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// writeFileSync writes a new file with the given mode and fsyncs it and
// its directory, so that it survives a power cut.
func writeFileSync(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
