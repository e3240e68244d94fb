package daemon

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The daemon's own files: its socket, and the host's kernel release for
// /version and /info. Everything about containers and images goes through
// the engine (boundary_test.go holds the other files to that).

// kernel is the host's kernel release.
func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Listen listens on the unix socket path with mode 0660 (group minidocker
// when there is one), as dockerd does. A path another live daemon serves
// is refused (we try to connect first); a socket file a killed daemon left
// is removed.
func Listen(path string) (*net.UnixListener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		if conn, err := net.DialTimeout("unix", path, time.Second); err == nil {
			conn.Close()
			return nil, fmt.Errorf("%s: another daemon is listening there", path)
		}
		os.Remove(path)
	}
	old := syscall.Umask(0o117)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if g, err := user.LookupGroup("minidocker"); err == nil {
		if gid, err := strconv.Atoi(g.Gid); err == nil {
			os.Chown(path, 0, gid)
		}
	} else if !errors.As(err, new(user.UnknownGroupError)) {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// InsecureTCPWarning is what dockerd prints when it serves TCP without TLS,
// and so does minidocker: whoever reaches the port is root on this host.
const InsecureTCPWarning = "Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network."

// ListenHost listens where -H says: unix:///path (Listen), or, only when
// asked for, tcp://HOST:PORT, with dockerd's loud warning (there is no TLS
// here: keep it on 127.0.0.1).
func ListenHost(host string, logger *log.Logger) (net.Listener, error) {
	if path, ok := strings.CutPrefix(host, "unix://"); ok && path != "" {
		return Listen(path)
	}
	if addr, ok := strings.CutPrefix(host, "tcp://"); ok && addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", host, err)
		}
		logger.Printf("WARNING: %s", InsecureTCPWarning)
		logger.Printf("WARNING: API is accessible on %s without encryption.", host)
		return ln, nil
	}
	return nil, fmt.Errorf("-H %s: want unix:///path or tcp://HOST:PORT", host)
}

// Serve serves s on ln until ctx ends, then stops: the listener closes
// (and a unix socket's file goes), requests in flight get 2 s. Containers
// are not touched: they belong to their monitors.
func Serve(ctx context.Context, ln net.Listener, s *Server, logger *log.Logger) error {
	path := ""
	if u, ok := ln.(*net.UnixListener); ok {
		path = u.Addr().String()
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second, ErrorLog: logger}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Printf("stopping: the listener closes; containers go on with their monitors")
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if path != "" {
		os.Remove(path) // closing the listener unlinks it; be sure
	}
	return nil
}
